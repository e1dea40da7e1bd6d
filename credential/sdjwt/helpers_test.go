package sdjwt

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/statuslist"
)

// t0 is the issuance time of every test credential; tests never read the wall clock.
var t0 = time.Unix(1_800_000_000, 0).UTC()

const (
	testNonce    = "n-0f3a9c"
	testAudience = "did:web:door.harbourcommons.example"
)

// party is an issuer or holder: a key, its did:key DID and verification method URL.
type party struct {
	key      crypto.Signer
	did, kid string
	jwk      map[string]any
}

func newParty(tb testing.TB, alg keys.Algorithm) party {
	tb.Helper()
	key, err := keys.Generate(alg)
	if err != nil {
		tb.Fatal(err)
	}
	return partyFor(tb, key)
}

func partyFor(tb testing.TB, key crypto.Signer) party {
	tb.Helper()
	kid, err := did.KeyURL(key.Public())
	if err != nil {
		tb.Fatal(err)
	}
	jwk, err := keys.PublicJWK(key.Public())
	if err != nil {
		tb.Fatal(err)
	}
	d, _, _ := strings.Cut(kid, "#")
	return party{key: key, did: d, kid: kid, jwk: jwk}
}

// resolver resolves did:key and did:jwk only: no test touches the network.
func resolver() *did.Resolver { return did.NewResolver(did.WithMethod("web", nil)) }

func statusEntry(tb testing.TB) map[string]any {
	tb.Helper()
	e, err := statuslist.NewEntry("https://harbourcommons.example/status/1", statuslist.PurposeRevocation, 94567)
	if err != nil {
		tb.Fatal(err)
	}
	return e.Map()
}

// membership returns the claims of a membership credential from iss to holder.
func membership(tb testing.TB, iss, holder party) Claims {
	tb.Helper()
	typ, ok := schemas.Lookup(schemas.Membership)
	if !ok {
		tb.Fatal("no membership type")
	}
	return Claims{
		Issuer:    iss.did,
		VCT:       typ.VCT,
		IssuedAt:  t0,
		NotBefore: t0,
		Expires:   t0.Add(365 * 24 * time.Hour),
		HolderJWK: holder.jwk,
		Status:    []map[string]any{statusEntry(tb)},
		Visible: map[string]any{
			"type":      "Member",
			"community": map[string]any{"id": "https://harbourcommons.example/", "name": "Harbour Commons"},
		},
		Disclosable: map[string]any{
			"sub":             holder.did,
			"role":            "steward",
			"membershipLevel": "full",
			"memberSince":     "2024-03-01",
		},
	}
}

func mustIssue(tb testing.TB, c Claims, iss party) string {
	tb.Helper()
	s, err := Issue(c, iss.key, iss.kid)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func mustParse(tb testing.TB, s string) *SDJWT {
	tb.Helper()
	sd, err := Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return sd
}

// presentAt is the time of every test presentation; verifyOptions checks a minute later.
var presentAt = t0.Add(time.Hour)

func keyBinding(holder party) KeyBinding {
	return KeyBinding{Signer: holder.key, Nonce: testNonce, Audience: testAudience, IssuedAt: presentAt}
}

func verifyOptions() Options {
	return Options{
		Nonce:             testNonce,
		Audience:          testAudience,
		Now:               presentAt.Add(time.Minute),
		Leeway:            30 * time.Second,
		MaxKeyBindingAge:  5 * time.Minute,
		RequireKeyBinding: true,
	}
}

func mustPresent(tb testing.TB, s string, names []string, holder party) string {
	tb.Helper()
	out, err := mustParse(tb, s).Present(names, keyBinding(holder))
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// encodeRaw returns the disclosure of [salt, name, value] exactly as encoded here.
func encodeRaw(tb testing.TB, parts ...any) string {
	tb.Helper()
	raw, err := json.Marshal(parts)
	if err != nil {
		tb.Fatal(err)
	}
	return b64.EncodeToString(raw)
}

// jsonValue decodes JSON text the way Parse does, for comparisons with parsed values.
func jsonValue(tb testing.TB, v any) any {
	tb.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var out any
	if err := jsonstrict.Unmarshal(raw, &out, jsonstrict.Limits{}); err != nil {
		tb.Fatal(err)
	}
	return out
}

// forge builds an issuer-signed JWT from a raw header and payload, signed by key with
// the JWS algorithm alg: "none" (no signature), "HS256" (key is the HMAC secret), or the
// algorithm of key's type (key is a crypto.Signer).
func forge(tb testing.TB, hdr map[string]any, payload map[string]any, key any, alg string) string {
	tb.Helper()
	h, err := json.Marshal(hdr)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := json.Marshal(payload)
	if err != nil {
		tb.Fatal(err)
	}
	return forgeRaw(tb, h, p, key, alg)
}

func forgeRaw(tb testing.TB, h, p []byte, key any, alg string) string {
	tb.Helper()
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(p)
	switch alg {
	case "none":
		return input + "."
	case "HS256":
		mac := hmac.New(sha256.New, key.([]byte))
		mac.Write([]byte(input))
		return input + "." + b64.EncodeToString(mac.Sum(nil))
	}
	signer := key.(crypto.Signer)
	if own, err := jose.AlgorithmFor(signer.Public()); err != nil || own.String() != alg {
		tb.Fatalf("forge: a %T key does not sign %s", signer, alg)
	}
	out, err := signCompact(h, p, signer)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// basePayload is the payload Issue would write for a membership credential whose
// disclosures are discs (without decoys).
func basePayload(iss, holder party, discs ...string) map[string]any {
	sd := make([]any, len(discs))
	for i, d := range discs {
		sd[i] = digestOf(d)
	}
	return map[string]any{
		"iss":       iss.did,
		"iat":       t0.Unix(),
		"exp":       t0.Add(365 * 24 * time.Hour).Unix(),
		"vct":       schemas.VCTBaseURL + schemas.Membership,
		"cnf":       map[string]any{"jwk": holder.jwk},
		"_sd_alg":   HashAlgorithm,
		"_sd":       sd,
		"type":      "Member",
		"community": map[string]any{"id": "https://harbourcommons.example/", "name": "Harbour Commons"},
	}
}

func baseHeader(iss party) map[string]any {
	alg, _ := keys.JWSAlgorithm(iss.key.Public())
	return map[string]any{"alg": alg, "typ": Typ, "kid": iss.kid}
}

// sdjwtOf joins an issuer-signed JWT and disclosures into the issuance form.
func sdjwtOf(jwt string, discs ...string) string {
	var b strings.Builder
	b.WriteString(jwt)
	b.WriteByte('~')
	for _, d := range discs {
		b.WriteString(d)
		b.WriteByte('~')
	}
	return b.String()
}

// withKB appends a Key Binding JWT signed by signer (not checked against cnf).
func withKB(tb testing.TB, prefix string, signer crypto.Signer, mutate func(*KeyBinding)) string {
	tb.Helper()
	kb := KeyBinding{Signer: signer, Nonce: testNonce, Audience: testAudience, IssuedAt: presentAt}
	if mutate != nil {
		mutate(&kb)
	}
	jwt, err := signKeyBinding(prefix, kb)
	if err != nil {
		tb.Fatal(err)
	}
	return prefix + jwt
}

// splitCompact returns the issuer JWT, the disclosures and the KB-JWT of s.
func splitCompact(s string) (jwt string, discs []string, kb string) {
	parts := strings.Split(s, "~")
	return parts[0], parts[1 : len(parts)-1], parts[len(parts)-1]
}

// discNamed returns the disclosure of s naming name.
func discNamed(tb testing.TB, s, name string) string {
	tb.Helper()
	for _, d := range mustParse(tb, s).Disclosures() {
		if d.Name == name {
			return d.Encoded
		}
	}
	tb.Fatalf("no disclosure %q", name)
	return ""
}
