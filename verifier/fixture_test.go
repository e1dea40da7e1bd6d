package verifier_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/verifier"
	"github.com/civitas-net/civitas/wallet"
)

// fixture is a small world: an issuer (Ed25519 and P-256 keys), a member with a wallet,
// an attacker with their own key, a fixed clock and a verifier wired to all of them.
type fixture struct {
	t   testing.TB
	now time.Time

	issuerKey crypto.Signer
	issuerDID string
	issuerKID string
	iss       *issuer.Issuer

	p256Key crypto.Signer
	p256DID string
	p256    *issuer.Issuer

	attackerKey crypto.Signer
	attackerKID string

	holder *wallet.Holder
	status *fakeStatus
	v      *verifier.Verifier
}

func newFixture(t testing.TB, opts ...verifier.Option) *fixture {
	t.Helper()
	f := &fixture{t: t, now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), status: &fakeStatus{}}
	clock := func() time.Time { return f.now }
	newIssuer := func(alg keys.Algorithm) (crypto.Signer, string, *issuer.Issuer) {
		key, err := keys.Generate(alg)
		if err != nil {
			t.Fatal(err)
		}
		kid, err := did.KeyURL(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		iss, err := issuer.New(issuer.Key{Signer: key, KeyID: kid}, issuer.WithClock(func() time.Time { return f.now.Add(-24 * time.Hour) }))
		if err != nil {
			t.Fatal(err)
		}
		return key, kid, iss
	}
	f.issuerKey, f.issuerKID, f.iss = newIssuer(keys.Ed25519)
	f.issuerDID = f.iss.DID()
	f.p256Key, _, f.p256 = newIssuer(keys.P256)
	f.p256DID = f.p256.DID()
	f.attackerKey, f.attackerKID, _ = newIssuer(keys.Ed25519)

	memberKey, err := keys.Generate(keys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	if f.holder, err = wallet.NewKeyHolder(memberKey); err != nil {
		t.Fatal(err)
	}
	all := append([]verifier.Option{verifier.WithClock(clock), verifier.WithStatusChecker(f.status)}, opts...)
	if f.v, err = verifier.New(all...); err != nil {
		t.Fatal(err)
	}
	return f
}

// subject returns the example membership subject, naming the fixture's member.
func (f *fixture) subject(typ string) map[string]any {
	var s map[string]any
	if err := json.Unmarshal(schemas.ExampleSubject(typ), &s); err != nil {
		f.t.Fatal(err)
	}
	s["id"] = f.holder.DID
	return s
}

// issue issues a membership credential in format, letting mod adjust the request.
func (f *fixture) issue(format issuer.Format, mod func(*issuer.Request)) []byte {
	f.t.Helper()
	iss := f.iss
	if format == issuer.FormatECDSARDFC {
		iss = f.p256
	}
	req := issuer.Request{Type: "MembershipCredential", Subject: f.subject("MembershipCredential")}
	if mod != nil {
		mod(&req)
	}
	sec, err := iss.Issue(context.Background(), req, format)
	if err != nil {
		f.t.Fatal(err)
	}
	out, err := sec.Bytes()
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fixture) policy() verifier.Policy {
	return verifier.DefaultPolicy(f.issuerDID, f.p256DID)
}

// presentPolicy is the policy of a door that asked for challenge at audience.
func (f *fixture) presentPolicy(challenge, audience string) verifier.Policy {
	p := f.policy()
	p.Challenge, p.Audience = challenge, audience
	return p
}

// expect verifies raw under p and checks the outcome: verified when want is "", else
// not verified with want among the result's codes and as the error's code.
func (f *fixture) expect(raw []byte, p verifier.Policy, want verifier.Code) verifier.Result {
	f.t.Helper()
	res, err := f.v.Verify(context.Background(), raw, p)
	if want == "" {
		if err != nil || !res.Verified {
			f.t.Fatalf("want verified, got %v\n%s", err, dump(res))
		}
		return res
	}
	if err == nil || res.Verified {
		f.t.Fatalf("want %s, got verified\n%s", want, dump(res))
	}
	var ve *verifier.Error
	if !errors.As(err, &ve) || ve.Code != want || !errors.Is(err, &verifier.Error{Code: want}) {
		f.t.Fatalf("want error code %s, got %v\n%s", want, err, dump(res))
	}
	return res
}

func dump(res verifier.Result) string {
	b, _ := json.MarshalIndent(res, "", "  ")
	return string(b)
}

// fakeStatus is a StatusChecker with a fixed answer per purpose.
type fakeStatus struct {
	mu      sync.Mutex
	set     map[string]bool
	err     error
	queries []verifier.StatusQuery
}

func (s *fakeStatus) CheckStatus(_ context.Context, q verifier.StatusQuery) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, q)
	if s.err != nil {
		return false, s.err
	}
	return s.set[q.Entry.StatusPurpose], nil
}

// statusEntry is a credentialStatus entry for purpose.
func statusEntry(purpose string, index int) map[string]any {
	list := "https://issuer.example/status/" + purpose
	return map[string]any{
		"id":                   fmt.Sprintf("%s#%d", list, index),
		"type":                 "BitstringStatusListEntry",
		"statusPurpose":        purpose,
		"statusListIndex":      fmt.Sprint(index),
		"statusListCredential": list,
	}
}

// jwtParts splits a compact JWS and decodes header and payload.
func jwtParts(t *testing.T, token []byte) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(string(token), ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %s", token)
	}
	var h, p map[string]any
	for i, dst := range []*map[string]any{&h, &p} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(dst); err != nil {
			t.Fatal(err)
		}
	}
	return h, p
}

// craftJWT assembles a compact JWS from a header and a raw payload, signing the signing
// input with sign (nil: a fixed non-empty junk signature).
func craftJWT(t testing.TB, header map[string]any, payload []byte, sign func([]byte) []byte) []byte {
	t.Helper()
	hb, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig := []byte("junk-signature")
	if sign != nil {
		sig = sign([]byte(input))
	}
	return []byte(input + "." + base64.RawURLEncoding.EncodeToString(sig))
}

func edSigner(key crypto.Signer) func([]byte) []byte {
	return func(in []byte) []byte { return ed25519.Sign(key.(ed25519.PrivateKey), in) }
}

func hmacSigner(secret []byte) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(in)
		return m.Sum(nil)
	}
}

// signedPayload returns a JWT over payload signed by key with the issuer's usual header
// modified by mod.
func (f *fixture) signedPayload(payload map[string]any, key crypto.Signer, mod func(h map[string]any)) []byte {
	f.t.Helper()
	h := map[string]any{"alg": "EdDSA", "typ": "vc+jwt", "kid": f.issuerKID}
	if mod != nil {
		mod(h)
	}
	raw, err := credential.Marshal(payload)
	if err != nil {
		f.t.Fatal(err)
	}
	return craftJWT(f.t, h, raw, edSigner(key))
}

func randomNonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// cryptoHashNone is the SignerOpts for Ed25519 over a whole message.
var cryptoHashNone = crypto.Hash(0)
