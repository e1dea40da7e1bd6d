package jsonld

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkCanonicalize measures Canonicalize on the eddsa-rdfc-2022 vector documents next
// to json-gold's own Normalize (expansion with the context parsed on every call, ToRDF,
// URDNA2015) of the same documents, and next to one crypto/ed25519 Verify, the unit of the
// downstream goal (a whole eddsa-rdfc-2022 verification under ten of them). The
// "x-ed25519" metric is the time of one operation divided by one Verify.
func BenchmarkCanonicalize(b *testing.B) {
	dir := filepath.Join(vectorsDir(b), "eddsa-rdfc-2022")
	r := testRegistry(b)
	docs := []struct {
		name string
		doc  map[string]any
	}{
		{"unsigned", readJSON(b, filepath.Join(dir, "unsigned.json"))},
		{"proofConfig", readJSON(b, filepath.Join(dir, "proofConfigDataInt.json"))},
	}
	ctx := context.Background()

	// One ed25519 verification of a 64-byte message, the unit of comparison.
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 64)
	sig := ed25519.Sign(priv, msg)
	verifyNs := func() float64 {
		// Measured in the same run (testing.Benchmark cannot nest inside a benchmark).
		const n = 2000
		start := time.Now()
		for range n {
			ed25519.Verify(pub, msg, sig)
		}
		return float64(time.Since(start).Nanoseconds()) / n
	}()

	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/verifyNs, "x-ed25519")
	}
	for _, d := range docs {
		b.Run("civitas/"+d.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Canonicalize(ctx, d.doc, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
		b.Run("jsongold/"+d.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := goldNormalize(r, d.doc); err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
	}
	b.Run("civitas/unsigned+proofConfig", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, d := range docs {
				if _, err := r.Canonicalize(ctx, d.doc, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b)
	})
	b.Run("ed25519.Verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ed25519.Verify(pub, msg, sig)
		}
	})
}
