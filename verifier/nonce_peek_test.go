package verifier_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/dataintegrity"
	"github.com/civitas-net/civitas/credential/sdjwt"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/verifier"
	"github.com/civitas-net/civitas/wallet"
)

// issueSDJWT issues an SD-JWT VC membership to the fixture's member, as the issuer
// service does: the subject's id becomes the disclosable sub, the type's always
// disclosed claims are in clear, the others disclosable.
func (f *fixture) issueSDJWT() []byte {
	f.t.Helper()
	typ, _ := schemas.Lookup(schemas.Membership)
	visible, disclosable := map[string]any{}, map[string]any{}
	for k, v := range f.subject(schemas.Membership) {
		switch {
		case k == "id":
			disclosable["sub"] = v
		case slices.Contains(typ.AlwaysDisclosed, k):
			visible[k] = v
		default:
			disclosable[k] = v
		}
	}
	jwk, err := keys.PublicJWK(f.holder.Key.Public())
	if err != nil {
		f.t.Fatal(err)
	}
	raw, err := sdjwt.Issue(sdjwt.Claims{
		Issuer: f.issuerDID, VCT: typ.VCT, IssuedAt: f.now.Add(-time.Hour), HolderJWK: jwk,
		Visible: visible, Disclosable: disclosable,
	}, f.issuerKey, f.issuerKID)
	if err != nil {
		f.t.Fatal(err)
	}
	return []byte(raw)
}

// presentSDJWT presents an SD-JWT VC with a Key Binding JWT answering challenge at
// audience, disclosing the holder's DID.
func (f *fixture) presentSDJWT(sd []byte, challenge, audience string) []byte {
	f.t.Helper()
	vp, err := f.holder.PresentSDJWT(sd, []string{"sub"}, wallet.Request{Challenge: challenge, Audience: audience, Now: f.now})
	if err != nil {
		f.t.Fatal(err)
	}
	return vp
}

// TestPresentationChallenge reads the challenge of a presentation in each format
// without verifying it, and refuses what carries none (ErrNoChallenge) apart from what
// cannot be read at all (credential.ErrMalformed).
func TestPresentationChallenge(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(issuer.FormatJWT, nil)
	sd := f.issueSDJWT()
	jwtVP := f.present(wallet.FormatJWT, [][]byte{cred}, "jwt-nonce", door)
	diVP := f.present(wallet.FormatEdDSARDFC, [][]byte{cred}, "di-challenge", door)

	// A Data Integrity presentation signed without a challenge.
	suite, err := dataintegrity.New()
	if err != nil {
		t.Fatal(err)
	}
	unsigned := map[string]any{"@context": []any{credential.ContextV2}, "type": "VerifiablePresentation", "holder": f.holder.DID}
	noChallenge, err := suite.Sign(context.Background(), unsigned, f.holder.Key, dataintegrity.Options{
		Cryptosuite: dataintegrity.EdDSARDFC2022, VerificationMethod: f.holder.KeyID,
		Purpose: dataintegrity.PurposeAuthentication, Domain: door, Created: f.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	diDoc := func(mod func(doc map[string]any)) []byte {
		var doc map[string]any
		if err := json.Unmarshal(diVP, &doc); err != nil {
			t.Fatal(err)
		}
		mod(doc)
		return mustJSON(t, doc)
	}
	ldpCred := f.issue(issuer.FormatEdDSARDFC, nil)

	for _, tc := range []struct {
		name string
		raw  []byte
		want string // the challenge; empty when err is set
		err  error
	}{
		{name: "vp+jwt", raw: jwtVP, want: "jwt-nonce"},
		{name: "vp+jwt with a scanner's line end", raw: append(append([]byte(" "), jwtVP...), "\r\n"...), want: "jwt-nonce"},
		{name: "data integrity presentation", raw: diVP, want: "di-challenge"},
		{name: "data integrity, jcs", raw: f.present(wallet.FormatEdDSAJCS, [][]byte{cred}, "jcs-challenge", door), want: "jcs-challenge"},
		{name: "sd-jwt with key binding", raw: f.presentSDJWT(sd, "kb-nonce", door), want: "kb-nonce"},

		{name: "sd-jwt without key binding", raw: sd, err: verifier.ErrNoChallenge},
		{name: "vp+jwt without nonce", raw: rewriteVP(t, f, jwtVP, func(p map[string]any) { delete(p, "nonce") }), err: verifier.ErrNoChallenge},
		{name: "vp+jwt with an empty nonce", raw: rewriteVP(t, f, jwtVP, func(p map[string]any) { p["nonce"] = "" }), err: verifier.ErrNoChallenge},
		{name: "data integrity without challenge", raw: mustJSON(t, noChallenge), err: verifier.ErrNoChallenge},
		{name: "data integrity without proof", raw: diDoc(func(d map[string]any) { delete(d, "proof") }), err: verifier.ErrNoChallenge},
		{name: "data integrity with two proofs", raw: diDoc(func(d map[string]any) { d["proof"] = []any{d["proof"], d["proof"]} }), err: verifier.ErrNoChallenge},
		{name: "data integrity challenge not a string", raw: diDoc(func(d map[string]any) { d["proof"].(map[string]any)["challenge"] = 7 }), err: verifier.ErrNoChallenge},

		{name: "garbage", raw: []byte("not a presentation"), err: credential.ErrMalformed},
		{name: "empty", raw: nil, err: credential.ErrMalformed},
		{name: "white space", raw: []byte(" \n\t"), err: credential.ErrMalformed},
		{name: "a vc+jwt, not a presentation", raw: cred, err: credential.ErrMalformed},
		{name: "a data integrity credential, not a presentation", raw: ldpCred, err: credential.ErrMalformed},
		{name: "broken json", raw: diVP[:len(diVP)/2], err: credential.ErrMalformed},
		{name: "duplicate key", raw: []byte(`{"type":"VerifiablePresentation","type":"VerifiablePresentation"}`), err: credential.ErrMalformed},
		{name: "json array", raw: []byte(`[{"proof":{"challenge":"x"}}]`), err: credential.ErrMalformed},
		{name: "vp+jwt payload truncated", raw: jwtVP[:bytes.IndexByte(jwtVP, '.')+20], err: credential.ErrMalformed},
		{name: "sd-jwt garbage", raw: []byte("a.b.c~d~"), err: credential.ErrMalformed},
		{name: "sd-jwt with a forged key binding", raw: append(slices.Clone(sd), "a.b.c"...), err: credential.ErrMalformed},
		{name: "data: url", raw: []byte(credential.DataURL("application/vp+jwt", string(jwtVP))), err: credential.ErrMalformed},
		{name: "larger than a presentation may be", raw: append(slices.Clone(jwtVP), bytes.Repeat([]byte("A"), credential.MaxPresentationSize)...), err: credential.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := verifier.PresentationChallenge(tc.raw)
			if tc.err == nil {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.err) || got != "" {
				t.Fatalf("got %q, %v; want %v", got, err, tc.err)
			}
			// The two outcomes stay apart: a door tells a member "no challenge" and
			// "unreadable" differently.
			other := verifier.ErrNoChallenge
			if tc.err == verifier.ErrNoChallenge {
				other = credential.ErrMalformed
			}
			if errors.Is(err, other) {
				t.Fatalf("%v is also %v", err, other)
			}
		})
	}
}

// FuzzPresentationChallenge feeds arbitrary bytes, seeded with a presentation in each
// format, to PresentationChallenge: it must never panic, and it either reads a non-empty
// challenge or says which of its two errors applies, the same with surrounding white
// space.
func FuzzPresentationChallenge(f *testing.F) {
	fx := newFixture(f)
	cred := fx.issue(issuer.FormatJWT, nil)
	for _, format := range []string{wallet.FormatJWT, wallet.FormatEdDSARDFC, wallet.FormatEdDSAJCS} {
		f.Add(fx.present(format, [][]byte{cred}, "fuzz-nonce", door))
	}
	sd := fx.issueSDJWT()
	f.Add(sd)
	f.Add(fx.presentSDJWT(sd, "fuzz-nonce", door))
	f.Add(cred)
	f.Add([]byte(`{"type":"VerifiablePresentation","proof":{"challenge":"c"}}`))
	f.Add([]byte("a.b.c~d~e.f.g"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := verifier.PresentationChallenge(raw)
		switch {
		case err == nil && got == "":
			t.Fatal("an empty challenge without an error")
		case err != nil && got != "":
			t.Fatalf("challenge %q with error %v", got, err)
		case err != nil && errors.Is(err, verifier.ErrNoChallenge) == errors.Is(err, credential.ErrMalformed):
			t.Fatalf("error %v is not exactly one of ErrNoChallenge and ErrMalformed", err)
		}
		if len(raw) > credential.MaxPresentationSize-4 {
			return
		}
		again, err2 := verifier.PresentationChallenge([]byte(" " + string(raw) + "\r\n"))
		if again != got || errors.Is(err2, verifier.ErrNoChallenge) != errors.Is(err, verifier.ErrNoChallenge) {
			t.Fatalf("white space changed the outcome: %q %v, then %q %v", got, err, again, err2)
		}
	})
}

// TestSDJWTPresentationAttacks is DESIGN.md §5 for SD-JWT VC presentations through
// Verify: the Key Binding JWT must answer the policy's challenge and audience, the
// policy must name both, and a challenge is accepted once.
func TestSDJWTPresentationAttacks(t *testing.T) {
	f := newFixture(t)
	sd := f.issueSDJWT()
	nonce := randomNonce()
	vp := f.presentSDJWT(sd, nonce, door)
	untrusted := verifier.DefaultPolicy()
	untrusted.Challenge, untrusted.Audience = nonce, door
	for _, tc := range []struct {
		name string
		raw  []byte
		p    verifier.Policy
		want verifier.Code
	}{
		{"wrong challenge", vp, f.presentPolicy("another-nonce", door), verifier.ChallengeMismatch},
		{"wrong audience", vp, f.presentPolicy(nonce, "did:web:other-node.example"), verifier.AudienceMismatch},
		{"policy without challenge", vp, f.presentPolicy("", door), verifier.ChallengeMismatch},
		{"policy without audience", vp, f.presentPolicy(nonce, ""), verifier.AudienceMismatch},
		{"issuer not trusted", vp, untrusted, verifier.IssuerUntrusted},
		{"key binding signature forged", flipSignature(vp), f.presentPolicy(nonce, door), verifier.SignatureInvalid},
		{"garbage", []byte("a.b.c~d~"), f.presentPolicy(nonce, door), verifier.Malformed},
	} {
		t.Run(tc.name, func(t *testing.T) { f.expect(tc.raw, tc.p, tc.want) })
	}
	// None of the failures above used up the nonce.
	res := f.expect(vp, f.presentPolicy(nonce, door), "")
	if res.Format != verifier.FormatSDJWT || res.Holder != f.holder.DID {
		t.Fatalf("result %s", dump(res))
	}
	f.expect(vp, f.presentPolicy(nonce, door), verifier.Replayed)
	// Without a key binding it is a credential: verified with no challenge at all.
	f.expect(sd, f.policy(), "")
}

// flipSignature changes the first character of the last signature in a compact
// SD-JWT (its Key Binding JWT's), keeping it base64url.
func flipSignature(vp []byte) []byte {
	s := string(vp)
	i := strings.LastIndexByte(s, '.') + 1
	return []byte(s[:i] + flip(s[i:]))
}
