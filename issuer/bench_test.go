package issuer_test

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
)

// BenchmarkIssue issues one membership credential per format; x-ed25519 is the time per
// issuance over a raw crypto/ed25519 signature of the same size, both timed in one loop.
//
//	go test ./issuer -run '^$' -bench Issue -benchtime 5000x -count 5
func BenchmarkIssue(b *testing.B) {
	key, _ := keys.Generate(keys.Ed25519)
	kid, _ := did.KeyURL(key.Public())
	iss, err := issuer.New(issuer.Key{Signer: key, KeyID: kid})
	if err != nil {
		b.Fatal(err)
	}
	subject := example(b, schemas.Membership)
	subject["id"] = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	req := issuer.Request{Type: schemas.Membership, Subject: subject, ValidUntil: time.Now().AddDate(1, 0, 0)}
	msg := make([]byte, 600)
	ctx := context.Background()
	for _, f := range []issuer.Format{issuer.FormatJWT, issuer.FormatEdDSARDFC, issuer.FormatEdDSAJCS} {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			var spent, raw time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := iss.Issue(ctx, req, f); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				ed25519.Sign(key.(ed25519.PrivateKey), msg)
				raw += time.Since(t1)
				spent += t1.Sub(t0)
			}
			b.ReportMetric(float64(spent)/float64(raw), "x-ed25519")
		})
	}
}
