package verifier_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/issuer"
)

// pair times ours and raw back to back in each iteration, so that both see the same
// machine load, and reports each per-operation time and their ratio as x-ed25519.
func pair(b *testing.B, ours, raw func()) {
	b.ReportAllocs()
	var tOurs, tRaw time.Duration
	for b.Loop() {
		t0 := time.Now()
		ours()
		t1 := time.Now()
		raw()
		tRaw += time.Since(t1)
		tOurs += t1.Sub(t0)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tOurs.Nanoseconds())/n, "civitas-ns/op")
	b.ReportMetric(float64(tRaw.Nanoseconds())/n, "ed25519-ns/op")
	b.ReportMetric(float64(tOurs)/float64(tRaw), "x-ed25519")
}

// BenchmarkVerify verifies a membership credential (did:key issuer, every check; the
// credential has no status entry) next to a raw Ed25519 verification of the same
// signature input.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	pub := f.issuerKey.Public().(ed25519.PublicKey)
	for _, format := range []issuer.Format{issuer.FormatJWT, issuer.FormatEdDSARDFC, issuer.FormatEdDSAJCS} {
		raw := f.issue(format, nil)
		input := raw
		if format == issuer.FormatJWT {
			input = raw[:strings.LastIndexByte(string(raw), '.')]
		}
		sig := ed25519.Sign(f.issuerKey.(ed25519.PrivateKey), input)
		b.Run(string(format), func(b *testing.B) {
			ctx := context.Background()
			p := f.policy()
			pair(b, func() {
				if res, err := f.v.Verify(ctx, raw, p); err != nil || !res.Verified {
					b.Fatal(err)
				}
			}, func() {
				if !ed25519.Verify(pub, input, sig) {
					b.Fatal("raw verify failed")
				}
			})
		})
	}
}

// BenchmarkIssue issues (builds, schema-checks and signs) a membership credential next
// to a raw Ed25519 signature over a message of the same size.
func BenchmarkIssue(b *testing.B) {
	f := newFixture(b)
	priv := f.issuerKey.(ed25519.PrivateKey)
	msg := make([]byte, 700)
	rand.Read(msg)
	for _, format := range []issuer.Format{issuer.FormatJWT, issuer.FormatEdDSARDFC, issuer.FormatEdDSAJCS} {
		b.Run(string(format), func(b *testing.B) {
			ctx := context.Background()
			req := issuer.Request{Type: "MembershipCredential", Subject: f.subject("MembershipCredential")}
			pair(b, func() {
				if _, err := f.iss.Issue(ctx, req, format); err != nil {
					b.Fatal(err)
				}
			}, func() { ed25519.Sign(priv, msg) })
		})
	}
}
