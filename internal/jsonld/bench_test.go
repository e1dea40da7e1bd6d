package jsonld

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/civitas-net/civitas/internal/testvectors"
)

// pairWithVerify runs op and one crypto/ed25519 Verify of a 64-byte message back to back
// in every iteration, so that both see the same machine load, and reports op's time per
// operation and the ratio of the two as "x-ed25519" (the unit of the downstream goal: a
// whole eddsa-rdfc-2022 verification under five Verify calls).
func pairWithVerify(b *testing.B, op func() error) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 64)
	sig := ed25519.Sign(priv, msg)
	b.ReportAllocs()
	var tOp, tVerify time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("verify failed")
		}
		tVerify += time.Since(t1)
		tOp += t1.Sub(t0)
	}
	b.ReportMetric(float64(tOp.Nanoseconds())/float64(b.N), "op-ns/op")
	b.ReportMetric(float64(tOp)/float64(tVerify), "x-ed25519")
}

// BenchmarkCanonicalize measures Canonicalize (the fast path: "civitas"), the general
// path alone (json-gold expansion with the cached top-level context: "general") and
// json-gold's own Normalize (context parsed on every call, its ToRDF and URDNA2015:
// "jsongold") on the eddsa-rdfc-2022 vector documents and on a Civitas membership
// credential with its proof configuration, the two documents an eddsa-rdfc-2022
// verification canonicalizes ("+" names such a pair), and on a presentation holding
// three credentials.
func BenchmarkCanonicalize(b *testing.B) {
	dir := testvectors.Dir(b, "eddsa-rdfc-2022")
	r := testRegistry(b)
	var member, memberConfig, vp map[string]any
	for _, d := range civitasDocuments(b) {
		var m map[string]any
		if err := json.Unmarshal(d.data, &m); err != nil {
			b.Fatal(err)
		}
		switch d.name {
		case "MembershipCredential/unsigned":
			member = m
		case "MembershipCredential/proofConfig-eddsa-rdfc-2022":
			memberConfig = m
		case "presentation/signed":
			vp = m
		}
	}
	type doc struct {
		name string
		docs []map[string]any
	}
	unsigned := readJSON(b, filepath.Join(dir, "unsigned.json"))
	config := readJSON(b, filepath.Join(dir, "proofConfigDataInt.json"))
	docs := []doc{
		{"unsigned", []map[string]any{unsigned}},
		{"proofConfig", []map[string]any{config}},
		{"unsigned+proofConfig", []map[string]any{unsigned, config}},
		{"membership+proofConfig", []map[string]any{member, memberConfig}},
		{"presentation", []map[string]any{vp}},
	}
	ctx := context.Background()
	for _, d := range docs {
		for _, v := range []struct {
			name string
			run  func(map[string]any) error
		}{
			{"civitas", func(m map[string]any) error { _, err := r.Canonicalize(ctx, m, Limits{}); return err }},
			{"general", func(m map[string]any) error {
				_, err := r.canonicalize(ctx, m, Limits{}, pathGeneral)
				return err
			}},
			{"jsongold", func(m map[string]any) error { _, err := goldNormalize(r, m); return err }},
		} {
			b.Run(v.name+"/"+d.name, func(b *testing.B) {
				pairWithVerify(b, func() error {
					for _, m := range d.docs {
						if err := v.run(m); err != nil {
							return err
						}
					}
					return nil
				})
			})
		}
	}
}

// BenchmarkExpand measures the expansion step alone on the Civitas membership credential:
// the fast path and json-gold with the cached top-level context.
func BenchmarkExpand(b *testing.B) {
	r := testRegistry(b)
	var doc map[string]any
	for _, d := range civitasDocuments(b) {
		if d.name == "MembershipCredential/signed-eddsa-rdfc-2022" {
			if err := json.Unmarshal(d.data, &doc); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.expandFast(r.fastSnapshot(), doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("general", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.expand(r.fastSnapshot(), doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
