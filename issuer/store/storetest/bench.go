package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

// benchListSize is the Bitstring Status List's minimum size (16 KiB of bits).
const benchListSize = 131072

// Bench runs the store benchmarks on a store from open (a new, empty database; Bench
// migrates it):
//
//   - CommitIssuance/batch=1 and batch=64: batches of credentials of about 1.2 KB,
//     each with a revocation and a suspension slot and one audit entry, reporting
//     credentials per second (creds/s). Slots are reserved outside the timer.
//   - ReserveSlots/n=2: one call reserving two slots.
//   - Nonce/create+consume: CreateNonce then ConsumeNonce of one nonce, as one
//     credential request of the pre-authorized code flow does.
//   - AddCheckIns/batch=100: one node's sync upload of 100 new ledger entries (90
//     admissions, each looked up for double check-ins among the admissions of four
//     other nodes, which grow as the benchmark runs), reporting entries per second.
func Bench(b *testing.B, open func(tb testing.TB) store.Store) {
	for _, n := range []int{1, 64} {
		b.Run(fmt.Sprintf("CommitIssuance/batch=%d", n), func(b *testing.B) {
			s := open(b)
			ctx := b.Context()
			if err := s.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			seq := 0
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				rev, err := s.ReserveSlots(ctx, store.PurposeRevocation, n, benchListSize)
				if err != nil {
					b.Fatal(err)
				}
				sus, err := s.ReserveSlots(ctx, store.PurposeSuspension, n, benchListSize)
				if err != nil {
					b.Fatal(err)
				}
				batch := make([]store.Issuance, n)
				for i := range batch {
					seq++
					id := fmt.Sprintf("urn:uuid:bench-%d", seq)
					batch[i] = store.Issuance{
						Credential: cred(id, "MembershipCredential", fmt.Sprintf("did:key:z6bench%d", seq), "", base),
						Slots:      []store.Slot{rev[i], sus[i]},
						Audit:      []store.AuditEntry{entry("credential.issue", id)},
					}
				}
				b.StartTimer()
				if err := s.CommitIssuance(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "creds/s")
		})
	}
	b.Run("Nonce/create+consume", func(b *testing.B) {
		s := open(b)
		ctx := b.Context()
		if err := s.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			i++
			h := tokenHash(fmt.Sprint("bench-nonce:", i))
			if err := s.CreateNonce(ctx, h, at(time.Hour)); err != nil {
				b.Fatal(err)
			}
			if err := s.ConsumeNonce(ctx, h, base); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AddCheckIns/batch=100", func(b *testing.B) {
		const batch, others = 100, 4
		s := open(b)
		ctx := b.Context()
		if err := s.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		chains := make([]*chain, others+1)
		for i := range chains {
			chains[i] = newChain(fmt.Sprint("node-", i), "bench")
			if err := s.CreateNode(ctx, node(chains[i].node)); err != nil {
				b.Fatal(err)
			}
		}
		// fill appends batch entries to chain i: one in ten a refusal, the others
		// admissions of the subjects every node sees, each node and round two hours
		// after the one before (so nothing is flagged).
		fill := func(i, round int) {
			start := base.Add(time.Duration(round*len(chains)+i) * 2 * time.Hour)
			for j := range batch {
				decision := store.DecisionAdmitted
				if j%10 == 9 {
					decision = store.DecisionRefused
				}
				chains[i].add(decision, fmt.Sprint("ref-", j), start.Add(time.Duration(j)*time.Second))
			}
		}
		upload := func(c *chain) error {
			n, flagged, err := s.AddCheckIns(ctx, c.node, c.entries[len(c.entries)-batch:], time.Hour, entry("checkin.sync", c.node))
			if err == nil && (n != batch || len(flagged) != 0) {
				err = fmt.Errorf("stored %d entries and flagged %d, want %d and none", n, len(flagged), batch)
			}
			return err
		}
		round := 0
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			round++
			for i := range chains[1:] {
				fill(i+1, round)
				if err := upload(chains[i+1]); err != nil {
					b.Fatal(err)
				}
			}
			fill(0, round)
			b.StartTimer()
			if err := upload(chains[0]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("ReserveSlots/n=2", func(b *testing.B) {
		s := open(b)
		ctx := b.Context()
		if err := s.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.ReserveSlots(ctx, store.PurposeRevocation, 2, benchListSize); err != nil {
				b.Fatal(err)
			}
		}
	})
}
