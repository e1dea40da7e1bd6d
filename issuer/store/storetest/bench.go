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
