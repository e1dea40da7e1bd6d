package node

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/wallet"
)

// BenchmarkCheckIn measures a door's check-in of a vp+jwt presentation wrapping a
// vc+jwt membership, offline against the bundle, status looked up in the bundle's
// list snapshot. "decision" is the decision alone (targets: p99 under 1 ms);
// "durable" adds the ledger append, synced to disk (p99 under 10 ms). Each reports its
// p50 and p99 latency over b.N check-ins.
//
//	go test ./verifier/node -run '^$' -bench CheckIn -benchtime 2000x
func BenchmarkCheckIn(b *testing.B) {
	for _, name := range []string{"decision", "durable"} {
		b.Run(name, func(b *testing.B) {
			c := newCommunity(b)
			ada := c.member()
			member, _ := c.issue(schemas.Membership, ada, nil)
			n := c.door(c.sign(c.bundleFor(hereID)))
			vps := make([][]byte, b.N)
			for i := range vps {
				vps[i] = benchPresentation(b, c, n, ada, member)
			}
			ctx := context.Background()
			lat := make([]time.Duration, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				var decision string
				if name == "decision" {
					decision = n.decide(ctx, vps[i], c.clock.now()).decision
				} else {
					d, err := n.CheckIn(ctx, vps[i])
					if err != nil {
						b.Fatal(err)
					}
					decision = d.Decision
				}
				lat[i] = time.Since(start)
				if decision != Admitted {
					b.Fatalf("check-in %d: %s", i, decision)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds()), "p99-µs")
		})
	}
}

// benchPresentation answers a new challenge of n, opened in memory only (making
// challenges is not what is measured).
func benchPresentation(b *testing.B, c *community, n *Node, h *wallet.Holder, cred []byte) []byte {
	nonce := randomID()
	n.challenges.mu.Lock()
	n.challenges.open[challengeHash(nonce)] = c.clock.now().Add(time.Hour).Unix()
	n.challenges.mu.Unlock()
	vp, err := h.Present(context.Background(), [][]byte{cred}, wallet.Request{Challenge: nonce, Audience: n.DID(), Now: c.clock.now()})
	if err != nil {
		b.Fatal(err)
	}
	return vp
}
