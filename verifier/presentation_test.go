package verifier_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/dataintegrity"
	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/verifier"
	"github.com/civitas-net/civitas/wallet"
)

const door = "did:web:alfama-house.example"

// TestPresentations presents each credential format in each presentation format.
func TestPresentations(t *testing.T) {
	f := newFixture(t)
	for _, vpFormat := range []string{wallet.FormatJWT, wallet.FormatEdDSARDFC, wallet.FormatEdDSAJCS} {
		for _, vcFormat := range issuer.Formats {
			t.Run(vpFormat+"/"+string(vcFormat), func(t *testing.T) {
				cred := f.issue(vcFormat, nil)
				nonce := randomNonce()
				vp := f.present(vpFormat, [][]byte{cred}, nonce, door)
				res := f.expect(vp, f.presentPolicy(nonce, door), "")
				if res.Holder != f.holder.DID || len(res.Credentials) != 1 || !res.Credentials[0].Verified {
					t.Fatalf("result %s", dump(res))
				}
				if got := checkNames(res.Credentials[0].Checks); !strings.Contains(got, "holder") {
					t.Fatalf("credential checks lack holder binding: %s", got)
				}
				// The same presentation, again: a replay.
				f.expect(vp, f.presentPolicy(nonce, door), verifier.Replayed)
			})
		}
	}
}

func (f *fixture) present(format string, creds [][]byte, challenge, audience string) []byte {
	f.t.Helper()
	vp, err := f.holder.Present(context.Background(), creds, wallet.Request{Challenge: challenge, Audience: audience, Format: format, Now: f.now})
	if err != nil {
		f.t.Fatal(err)
	}
	return vp
}

// TestPresentationAttacks is DESIGN.md §5 for presentations.
func TestPresentationAttacks(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(issuer.FormatJWT, nil)
	other, err := keys.Generate(keys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := wallet.NewKeyHolder(other)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{wallet.FormatJWT, wallet.FormatEdDSARDFC} {
		t.Run(format, func(t *testing.T) {
			nonce := randomNonce()
			vp := f.present(format, [][]byte{cred}, nonce, door)
			for _, tc := range []struct {
				name string
				raw  []byte
				p    verifier.Policy
				want verifier.Code
			}{
				{"wrong audience", vp, f.presentPolicy(nonce, "did:web:other-node.example"), verifier.AudienceMismatch},
				{"wrong challenge", vp, f.presentPolicy("another-nonce", door), verifier.ChallengeMismatch},
				{"policy without challenge", vp, f.presentPolicy("", door), verifier.ChallengeMismatch},
				{"policy without audience", vp, f.presentPolicy(nonce, ""), verifier.AudienceMismatch},
				{"issuer not trusted", vp, func() verifier.Policy { p := verifier.DefaultPolicy(); p.Challenge, p.Audience = nonce, door; return p }(), verifier.IssuerUntrusted},
				{"stranger presents the member's credential", presentAs(t, stranger, format, cred, nonce, f.now), f.presentPolicy(nonce, door), verifier.HolderMismatch},
			} {
				t.Run(tc.name, func(t *testing.T) { f.expect(tc.raw, tc.p, tc.want) })
			}
			// None of the failures above used up the nonce: the genuine presentation passes.
			f.expect(vp, f.presentPolicy(nonce, door), "")
		})
	}

	t.Run("jwt without nonce", func(t *testing.T) {
		vp := f.present(wallet.FormatJWT, [][]byte{cred}, "n", door)
		f.expect(rewriteVP(t, f, vp, func(p map[string]any) { delete(p, "nonce") }), f.presentPolicy("n", door), verifier.ChallengeMismatch)
	})
	t.Run("jwt without audience", func(t *testing.T) {
		vp := f.present(wallet.FormatJWT, [][]byte{cred}, "n2", door)
		f.expect(rewriteVP(t, f, vp, func(p map[string]any) { delete(p, "aud") }), f.presentPolicy("n2", door), verifier.AudienceMismatch)
	})
	t.Run("jwt expired", func(t *testing.T) {
		vp := f.present(wallet.FormatJWT, [][]byte{cred}, "n3", door)
		f.expect(rewriteVP(t, f, vp, func(p map[string]any) { p["exp"] = f.now.Add(-time.Hour).Unix() }), f.presentPolicy("n3", door), verifier.Expired)
	})
	t.Run("jwt made too long ago", func(t *testing.T) {
		vp := f.present(wallet.FormatJWT, [][]byte{cred}, "n4", door)
		p := f.presentPolicy("n4", door)
		p.MaxPresentationAge = 5 * time.Minute
		f.now = f.now.Add(time.Hour)
		defer func() { f.now = f.now.Add(-time.Hour) }()
		f.expect(vp, p, verifier.Expired)
	})
	t.Run("jwt signed by another key than the holder's", func(t *testing.T) {
		vp := f.present(wallet.FormatJWT, [][]byte{cred}, "n5", door)
		_, payload := jwtParts(t, vp)
		raw, _ := credential.Marshal(payload)
		forged := craftJWT(t, map[string]any{"alg": "EdDSA", "typ": "vp+jwt", "kid": stranger.KeyID}, raw, edSigner(other))
		f.expect(forged, f.presentPolicy("n5", door), verifier.KeyMismatch)
	})
	t.Run("jwt inner credential tampered", func(t *testing.T) {
		bad := tamperPayload(t, cred, `"member"`, `"founder"`)
		vp := f.present(wallet.FormatJWT, [][]byte{bad}, "n6", door)
		f.expect(vp, f.presentPolicy("n6", door), verifier.SignatureInvalid)
	})
	t.Run("data integrity challenge tampered", func(t *testing.T) {
		vp := f.present(wallet.FormatEdDSARDFC, [][]byte{cred}, "n7", door)
		var doc map[string]any
		if err := json.Unmarshal(vp, &doc); err != nil {
			t.Fatal(err)
		}
		doc["proof"].(map[string]any)["challenge"] = "n8"
		f.expect(mustJSON(t, doc), f.presentPolicy("n8", door), verifier.SignatureInvalid)
	})
	t.Run("data integrity without challenge", func(t *testing.T) {
		// A holder that signs no challenge at all.
		suite, err := dataintegrity.New()
		if err != nil {
			t.Fatal(err)
		}
		vp := map[string]any{"@context": []any{credential.ContextV2}, "type": "VerifiablePresentation", "holder": f.holder.DID}
		signed, err := suite.Sign(context.Background(), vp, f.holder.Key, dataintegrity.Options{
			Cryptosuite: dataintegrity.EdDSARDFC2022, VerificationMethod: f.holder.KeyID,
			Purpose: dataintegrity.PurposeAuthentication, Domain: door, Created: f.now,
		})
		if err != nil {
			t.Fatal(err)
		}
		f.expect(mustJSON(t, signed), f.presentPolicy("n9", door), verifier.ChallengeMismatch)
	})
	t.Run("credential proof purpose used as presentation", func(t *testing.T) {
		// An issuer's assertion proof is not a holder's authentication proof.
		vp := f.present(wallet.FormatEdDSARDFC, [][]byte{cred}, "n10", door)
		var doc map[string]any
		_ = json.Unmarshal(vp, &doc)
		doc["proof"].(map[string]any)["proofPurpose"] = "assertionMethod"
		f.expect(mustJSON(t, doc), f.presentPolicy("n10", door), verifier.KeyMismatch)
	})
}

// presentAs makes holder present cred, claiming to be its subject.
func presentAs(t *testing.T, holder *wallet.Holder, format string, cred []byte, nonce string, now time.Time) []byte {
	t.Helper()
	vp, err := holder.Present(context.Background(), [][]byte{cred}, wallet.Request{Challenge: nonce, Audience: door, Format: format, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return vp
}

// rewriteVP changes a vp+jwt's payload and re-signs it with the holder's key, so that
// only the change is under test.
func rewriteVP(t *testing.T, f *fixture, vp []byte, mod func(map[string]any)) []byte {
	t.Helper()
	_, payload := jwtParts(t, vp)
	mod(payload)
	raw, err := credential.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]any{"alg": "EdDSA", "typ": jose.TypPresentation, "kid": f.holder.KeyID}
	return craftJWT(t, h, raw, func(in []byte) []byte {
		sig, err := f.holder.Key.Sign(nil, in, cryptoHashNone)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	})
}

func checkNames(cs []verifier.Check) string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}
