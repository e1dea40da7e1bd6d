package sdjwt

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/keys"
)

var benchAlgs = []keys.Algorithm{keys.Ed25519, keys.P256}

// run times ours in every iteration and, for Ed25519, raw (the bare crypto/ed25519 work
// of the same operation on the same bytes) right after it, so both see the same machine
// load; it reports their ratio as x-ed25519 (DESIGN §7). The allocations reported
// include raw's (Ed25519 signing allocates its 64-byte signature).
func run(b *testing.B, ours func(), raw func()) {
	b.ReportAllocs()
	var tOurs, tRaw time.Duration
	for b.Loop() {
		start := time.Now()
		ours()
		mid := time.Now()
		tOurs += mid.Sub(start)
		if raw != nil {
			raw()
			tRaw += time.Since(mid)
		}
	}
	if raw != nil && tRaw > 0 {
		b.ReportMetric(float64(tOurs.Nanoseconds())/float64(b.N), "sdjwt-ns/op")
		b.ReportMetric(float64(tRaw.Nanoseconds())/float64(b.N), "ed25519-ns/op")
		b.ReportMetric(float64(tOurs)/float64(tRaw), "x-ed25519")
	}
}

// signingInputs returns the signing inputs of the issuer JWT and of the KB-JWT of s.
func signingInputs(s string) []string {
	jwt, _, kb := splitCompact(s)
	var out []string
	for _, t := range []string{jwt, kb} {
		if t != "" {
			out = append(out, t[:strings.LastIndexByte(t, '.')])
		}
	}
	return out
}

func BenchmarkIssue(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			iss, holder := newParty(b, alg), newParty(b, alg)
			c := membership(b, iss, holder)
			var raw func()
			if priv, ok := iss.key.(ed25519.PrivateKey); ok {
				in := []byte(signingInputs(mustIssue(b, c, iss))[0])
				raw = func() { ed25519.Sign(priv, in) }
			}
			run(b, func() {
				if _, err := Issue(c, iss.key, iss.kid); err != nil {
					b.Fatal(err)
				}
			}, raw)
		})
	}
}

// BenchmarkPresent parses the issued SD-JWT and presents two claims with a key binding.
func BenchmarkPresent(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			iss, holder := newParty(b, alg), newParty(b, alg)
			issued := mustIssue(b, membership(b, iss, holder), iss)
			kb := keyBinding(holder)
			var raw func()
			if priv, ok := holder.key.(ed25519.PrivateKey); ok {
				in := []byte(signingInputs(mustPresent(b, issued, []string{"role", "sub"}, holder))[1])
				raw = func() { ed25519.Sign(priv, in) }
			}
			run(b, func() {
				sd, err := Parse(issued)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := sd.Present([]string{"role", "sub"}, kb); err != nil {
					b.Fatal(err)
				}
			}, raw)
		})
	}
}

// BenchmarkVerify verifies a key-bound presentation of two claims; the did:key issuer
// key comes from the resolver's cache after the first round. The raw side is the two
// Ed25519 verifications (issuer JWT, KB-JWT) of the same bytes.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			iss, holder := newParty(b, alg), newParty(b, alg)
			presented := mustPresent(b, mustIssue(b, membership(b, iss, holder), iss), []string{"role", "sub"}, holder)
			r, o, ctx := resolver(), verifyOptions(), context.Background()
			var raw func()
			if _, ok := iss.key.(ed25519.PrivateKey); ok {
				privs := []ed25519.PrivateKey{iss.key.(ed25519.PrivateKey), holder.key.(ed25519.PrivateKey)}
				pubs := []ed25519.PublicKey{iss.key.Public().(ed25519.PublicKey), holder.key.Public().(ed25519.PublicKey)}
				var inputs, sigs [][]byte
				for i, in := range signingInputs(presented) {
					inputs = append(inputs, []byte(in))
					sigs = append(sigs, ed25519.Sign(privs[i], inputs[i]))
				}
				raw = func() {
					for i, in := range inputs {
						if !ed25519.Verify(pubs[i], in, sigs[i]) {
							b.Fatal("raw verify failed")
						}
					}
				}
			}
			run(b, func() {
				if _, err := Verify(ctx, presented, r, o); err != nil {
					b.Fatal(err)
				}
			}, raw)
		})
	}
}
