package sdjwt

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
)

// fixture holds the parties and tokens of the negative table.
type fixture struct {
	iss, issP256, holder, mallory, malloryP256 party
	// issued is an Ed25519 issuer's SD-JWT for the Ed25519 holder; presented discloses
	// role and memberSince with a valid key binding.
	issued, presented string
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{
		iss:         newParty(t, keys.Ed25519),
		issP256:     newParty(t, keys.P256),
		holder:      newParty(t, keys.Ed25519),
		mallory:     newParty(t, keys.Ed25519),
		malloryP256: newParty(t, keys.P256),
	}
	f.issued = mustIssue(t, membership(t, f.iss, f.holder), f.iss)
	f.presented = mustPresent(t, f.issued, []string{"role", "memberSince"}, f.holder)
	return f
}

// prefix returns the presentation without its KB-JWT.
func prefix(s string) string { return s[:strings.LastIndexByte(s, '~')+1] }

// replacePayload re-encodes the issuer JWT's payload after mutate, keeping its header
// and signature.
func replacePayload(t *testing.T, s string, mutate func(map[string]any)) string {
	jwt, rest, _ := strings.Cut(s, "~")
	parts := strings.Split(jwt, ".")
	raw, _ := b64.DecodeString(parts[1])
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	mutate(p)
	out, _ := json.Marshal(p)
	return parts[0] + "." + b64.EncodeToString(out) + "." + parts[2] + "~" + rest
}

// forged signs a membership SD-JWT by signer under kid with the given header and
// payload changes, disclosing discs (each referenced in _sd unless unreferenced).
func forged(t *testing.T, f *fixture, hdr func(map[string]any), payload func(map[string]any), discs ...string) string {
	h := baseHeader(f.iss)
	p := basePayload(f.iss, f.holder, discs...)
	if hdr != nil {
		hdr(h)
	}
	if payload != nil {
		payload(p)
	}
	return sdjwtOf(forge(t, h, p, f.iss.key, h["alg"].(string)), discs...)
}

func TestVerifyRejects(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	role := discNamed(t, f.issued, "role")
	since := discNamed(t, f.issued, "memberSince")
	otherIssued := mustIssue(t, membership(t, f.iss, f.holder), f.iss)
	hmacKey := []byte(f.iss.key.Public().(ed25519.PublicKey))
	kbHeader := func(t *testing.T, alg string, key any) string {
		// A KB-JWT with the given alg over the presentation prefix.
		pre := prefix(f.presented)
		kbPayload, _ := json.Marshal(map[string]any{"iat": presentAt.Unix(), "aud": testAudience, "nonce": testNonce, "sd_hash": digestOf(pre)})
		h, _ := json.Marshal(map[string]any{"alg": alg, "typ": TypKeyBinding})
		return pre + forgeRaw(t, h, kbPayload, key, alg)
	}
	kbWithHeader := func(t *testing.T, hdr map[string]any, key any, alg string) string {
		// A KB-JWT with the given header over the presentation prefix, signed with alg.
		pre := prefix(f.presented)
		kbPayload, _ := json.Marshal(map[string]any{"iat": presentAt.Unix(), "aud": testAudience, "nonce": testNonce, "sd_hash": digestOf(pre)})
		h, _ := json.Marshal(hdr)
		return pre + forgeRaw(t, h, kbPayload, key, alg)
	}

	type tcase struct {
		name  string
		input func(*testing.T) string
		opts  func(*Options)
		want  []error // nil: must verify
	}
	cases := []tcase{
		// Controls: the forging helpers produce tokens that do verify.
		{name: "control presented", input: func(t *testing.T) string { return f.presented }},
		{name: "control forged", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, nil, nil, role), f.holder.key, nil)
		}},
		{name: "control kb with forged header", input: func(t *testing.T) string { return kbHeader(t, "EdDSA", f.holder.key) }},

		// Issuer JWT integrity.
		{name: "tampered issuer payload", input: func(t *testing.T) string {
			return replacePayload(t, f.presented, func(p map[string]any) { p["community"] = map[string]any{"id": "https://evil.example/"} })
		}, want: []error{ErrSignature}},
		{name: "tampered issuer exp", input: func(t *testing.T) string {
			return replacePayload(t, f.presented, func(p map[string]any) { p["exp"] = t0.Add(1000 * 24 * time.Hour).Unix() })
		}, want: []error{ErrSignature}},
		{name: "signature of another jwt", input: func(t *testing.T) string {
			jwt, rest, _ := strings.Cut(f.presented, "~")
			other, _, _ := strings.Cut(otherIssued, "~")
			return jwt[:strings.LastIndexByte(jwt, '.')] + other[strings.LastIndexByte(other, '.'):] + "~" + rest
		}, want: []error{ErrSignature}},

		// Disclosures.
		{name: "tampered disclosure", input: func(t *testing.T) string {
			var arr []any
			raw, _ := b64.DecodeString(role)
			_ = json.Unmarshal(raw, &arr)
			arr[2] = "admin"
			return withKB(t, sdjwtOf(strings.Split(f.issued, "~")[0], encodeRaw(t, arr...)), f.holder.key, nil)
		}, want: []error{ErrDisclosure}},
		{name: "disclosure from another sd-jwt", input: func(t *testing.T) string {
			return withKB(t, prefix(f.presented)+discNamed(t, otherIssued, "membershipLevel")+"~", f.holder.key, nil)
		}, want: []error{ErrDisclosure}},
		{name: "duplicated disclosure", input: func(t *testing.T) string {
			return withKB(t, prefix(f.presented)+role+"~", f.holder.key, nil)
		}, want: []error{ErrDisclosure}},
		{name: "disclosure named _sd", input: func(t *testing.T) string {
			d := encodeRaw(t, "c2FsdHNhbHRzYWx0c2FsdA", "_sd", []any{})
			return withKB(t, forged(t, f, nil, nil, d), f.holder.key, nil)
		}, want: []error{ErrDisclosure}},
		{name: "disclosure named ...", input: func(t *testing.T) string {
			d := encodeRaw(t, "c2FsdHNhbHRzYWx0c2FsdA", "...", "x")
			return withKB(t, forged(t, f, nil, nil, d), f.holder.key, nil)
		}, want: []error{ErrDisclosure}},
		{name: "disclosure named iss", input: func(t *testing.T) string {
			d := encodeRaw(t, "c2FsdHNhbHRzYWx0c2FsdA", "iss", f.mallory.did)
			return withKB(t, forged(t, f, nil, nil, d), f.holder.key, nil)
		}, want: []error{ErrDisclosure}},
		{name: "disclosure named credentialStatus", input: func(t *testing.T) string {
			d := encodeRaw(t, "c2FsdHNhbHRzYWx0c2FsdA", "credentialStatus", map[string]any{"type": "X"})
			return withKB(t, forged(t, f, nil, nil, d), f.holder.key, nil)
		}, want: []error{ErrDisclosure}},
		{name: "disclosure named cnf", input: func(t *testing.T) string {
			d := encodeRaw(t, "c2FsdHNhbHRzYWx0c2FsdA", "cnf", map[string]any{"jwk": f.mallory.jwk})
			return withKB(t, forged(t, f, nil, nil, d), f.holder.key, nil)
		}, want: []error{ErrDisclosure}},
		{name: "disclosure named exp", input: func(t *testing.T) string {
			d := encodeRaw(t, "c2FsdHNhbHRzYWx0c2FsdA", "exp", 1)
			return withKB(t, forged(t, f, nil, func(p map[string]any) { delete(p, "exp") }, d), f.holder.key, nil)
		}, want: []error{ErrDisclosure}},
		{name: "disclosure overriding a clear claim", input: func(t *testing.T) string {
			d := encodeRaw(t, "c2FsdHNhbHRzYWx0c2FsdA", "community", "Evil Commons")
			return withKB(t, forged(t, f, nil, nil, d), f.holder.key, nil)
		}, want: []error{ErrDisclosure}},
		{name: "two disclosures of one name", input: func(t *testing.T) string {
			d1 := encodeRaw(t, "c2FsdHNhbHRzYWx0c2FsdA", "role", "member")
			d2 := encodeRaw(t, "b3RoZXJzYWx0b3RoZXJzYQ", "role", "steward")
			return withKB(t, forged(t, f, nil, nil, d1, d2), f.holder.key, nil)
		}, want: []error{ErrDisclosure}},
		{name: "array element disclosure", input: func(t *testing.T) string {
			d := encodeRaw(t, "c2FsdHNhbHRzYWx0c2FsdA", "FR")
			return withKB(t, forged(t, f, nil, nil, d), f.holder.key, nil)
		}, want: []error{ErrMalformed}},
		{name: "recursive disclosure in a value", input: func(t *testing.T) string {
			d := encodeRaw(t, "c2FsdHNhbHRzYWx0c2FsdA", "role", map[string]any{"_sd": []any{}})
			return withKB(t, forged(t, f, nil, nil, d), f.holder.key, nil)
		}, want: []error{ErrMalformed}},
		{name: "recursive disclosure in a clear claim", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, nil, func(p map[string]any) { p["community"] = map[string]any{"_sd": []any{}} }), f.holder.key, nil)
		}, want: []error{ErrMalformed}},
		{name: "array placeholder in a clear claim", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, nil, func(p map[string]any) { p["community"] = []any{map[string]any{"...": "x"}} }), f.holder.key, nil)
		}, want: []error{ErrMalformed}},
		{name: "disclosure not json", input: func(t *testing.T) string {
			return withKB(t, prefix(f.presented)+b64.EncodeToString([]byte("nope"))+"~", f.holder.key, nil)
		}, want: []error{ErrMalformed}},
		{name: "disclosure with duplicate keys in value", input: func(t *testing.T) string {
			d := b64.EncodeToString([]byte(`["c2FsdHNhbHRzYWx0c2FsdA","role",{"a":1,"a":2}]`))
			return withKB(t, forged(t, f, nil, nil, d), f.holder.key, nil)
		}, want: []error{ErrMalformed, jsonstrict.ErrDuplicateKey}},
		{name: "_sd digest listed twice", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, nil, func(p map[string]any) { p["_sd"] = []any{digestOf(role), digestOf(role)} }, role), f.holder.key, nil)
		}, want: []error{ErrMalformed}},
		{name: "_sd_alg sha-512", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, nil, func(p map[string]any) { p["_sd_alg"] = "sha-512" }, role), f.holder.key, nil)
		}, want: []error{ErrAlgorithm}},

		// Key binding.
		{name: "kb signed by another key", input: func(t *testing.T) string {
			return withKB(t, prefix(f.presented), f.mallory.key, nil)
		}, want: []error{ErrKeyBinding, ErrSignature}},
		{name: "kb wrong nonce", input: func(t *testing.T) string { return f.presented },
			opts: func(o *Options) { o.Nonce = "n-other" }, want: []error{ErrKeyBinding, ErrNonce}},
		{name: "kb wrong audience", input: func(t *testing.T) string { return f.presented },
			opts: func(o *Options) { o.Audience = "did:web:other.example" }, want: []error{ErrKeyBinding, ErrAudience}},
		{name: "kb stale iat", input: func(t *testing.T) string { return f.presented },
			opts: func(o *Options) { o.Now = presentAt.Add(10 * time.Minute) }, want: []error{ErrKeyBinding, ErrExpired}},
		{name: "kb stale iat with default age", input: func(t *testing.T) string { return f.presented },
			opts: func(o *Options) { o.Now, o.MaxKeyBindingAge = presentAt.Add(DefaultMaxKeyBindingAge+time.Minute), 0 }, want: []error{ErrKeyBinding, ErrExpired}},
		{name: "kb future iat", input: func(t *testing.T) string {
			return withKB(t, prefix(f.presented), f.holder.key, func(kb *KeyBinding) { kb.IssuedAt = presentAt.Add(5 * time.Minute) })
		}, want: []error{ErrKeyBinding, ErrNotYetValid}},
		{name: "kb sd_hash mismatch: disclosure removed after signing", input: func(t *testing.T) string {
			return strings.Replace(f.presented, "~"+since+"~", "~", 1)
		}, want: []error{ErrKeyBinding, ErrSignature}},
		{name: "kb sd_hash mismatch: disclosure added after signing", input: func(t *testing.T) string {
			p := prefix(f.presented)
			return p + discNamed(t, f.issued, "sub") + "~" + f.presented[len(p):]
		}, want: []error{ErrKeyBinding, ErrSignature}},
		{name: "kb sd_hash of another presentation", input: func(t *testing.T) string {
			kb := withKB(t, prefix(mustPresent(t, f.issued, []string{"role"}, f.holder)), f.holder.key, nil)
			return prefix(f.presented) + kb[strings.LastIndexByte(kb, '~')+1:]
		}, want: []error{ErrKeyBinding, ErrSignature}},
		{name: "missing kb when required", input: func(t *testing.T) string { return f.issued },
			want: []error{ErrKeyBinding, ErrNonce}},
		{name: "kb stripped", input: func(t *testing.T) string { return prefix(f.presented) },
			want: []error{ErrKeyBinding, ErrNonce}},
		{name: "kb present but no nonce expected", input: func(t *testing.T) string { return f.presented },
			opts: func(o *Options) { o.Nonce, o.RequireKeyBinding = "", false }, want: []error{ErrKeyBinding, ErrNonce}},
		{name: "kb present but no audience expected", input: func(t *testing.T) string { return f.presented },
			opts: func(o *Options) { o.Audience, o.RequireKeyBinding = "", false }, want: []error{ErrKeyBinding, ErrAudience}},
		{name: "kb required but no nonce expected", input: func(t *testing.T) string { return f.issued },
			opts: func(o *Options) { o.Nonce = "" }, want: []error{ErrKeyBinding, ErrNonce}},
		{name: "kb alg none", input: func(t *testing.T) string { return kbHeader(t, "none", nil) }, want: []error{ErrAlgorithm}},
		{name: "kb HS256 with the holder's public key", input: func(t *testing.T) string {
			return kbHeader(t, "HS256", []byte(f.holder.key.Public().(ed25519.PublicKey)))
		}, want: []error{ErrAlgorithm}},
		{name: "kb ES256 for an Ed25519 holder", input: func(t *testing.T) string { return kbHeader(t, "ES256", f.malloryP256.key) },
			want: []error{ErrKeyBinding, ErrAlgorithm}},
		{name: "kb alg RS256", input: func(t *testing.T) string {
			return kbWithHeader(t, map[string]any{"alg": "RS256", "typ": TypKeyBinding}, nil, "none") + "c2lnbmF0dXJl"
		}, want: []error{ErrAlgorithm}},
		{name: "kb header jwk of an attacker", input: func(t *testing.T) string {
			// Mallory signs the key binding and names her key; only cnf counts.
			return kbWithHeader(t, map[string]any{"alg": "EdDSA", "typ": TypKeyBinding, "jwk": f.mallory.jwk}, f.mallory.key, "EdDSA")
		}, want: []error{ErrKeyBinding, ErrSignature}},
		{name: "kb header kid of an attacker", input: func(t *testing.T) string {
			return kbWithHeader(t, map[string]any{"alg": "EdDSA", "typ": TypKeyBinding, "kid": f.mallory.kid}, f.mallory.key, "EdDSA")
		}, want: []error{ErrKeyBinding, ErrSignature}},
		{name: "kb two signatures", input: func(t *testing.T) string {
			return f.presented + "." + f.presented[strings.LastIndexByte(f.presented, '.')+1:]
		}, want: []error{ErrMalformed}},
		{name: "kb typ JWT", input: func(t *testing.T) string {
			pre := prefix(f.presented)
			h, _ := json.Marshal(map[string]any{"alg": "EdDSA", "typ": "JWT"})
			p, _ := json.Marshal(map[string]any{"iat": presentAt.Unix(), "aud": testAudience, "nonce": testNonce, "sd_hash": digestOf(pre)})
			return pre + forgeRaw(t, h, p, f.holder.key, "EdDSA")
		}, want: []error{ErrMalformed}},
		{name: "kb without sd_hash", input: func(t *testing.T) string {
			pre := prefix(f.presented)
			h, _ := json.Marshal(map[string]any{"alg": "EdDSA", "typ": TypKeyBinding})
			p, _ := json.Marshal(map[string]any{"iat": presentAt.Unix(), "aud": testAudience, "nonce": testNonce})
			return pre + forgeRaw(t, h, p, f.holder.key, "EdDSA")
		}, want: []error{ErrMalformed}},
		{name: "kb aud array", input: func(t *testing.T) string {
			pre := prefix(f.presented)
			h, _ := json.Marshal(map[string]any{"alg": "EdDSA", "typ": TypKeyBinding})
			p, _ := json.Marshal(map[string]any{"iat": presentAt.Unix(), "aud": []string{testAudience}, "nonce": testNonce, "sd_hash": digestOf(pre)})
			return pre + forgeRaw(t, h, p, f.holder.key, "EdDSA")
		}, want: []error{ErrMalformed}},
		{name: "kb two parts", input: func(t *testing.T) string {
			kb := f.presented[strings.LastIndexByte(f.presented, '~')+1:]
			return prefix(f.presented) + kb[:strings.LastIndexByte(kb, '.')]
		}, want: []error{ErrMalformed}},

		// Issuer JWT algorithm and header.
		{name: "issuer alg none", input: func(t *testing.T) string {
			return forged(t, f, func(h map[string]any) { h["alg"] = "none" }, nil)
		}, opts: func(o *Options) { o.RequireKeyBinding = false }, want: []error{ErrAlgorithm}},
		{name: "issuer HS256 with the issuer's public key", input: func(t *testing.T) string {
			h := baseHeader(f.iss)
			h["alg"] = "HS256"
			return withKB(t, sdjwtOf(forge(t, h, basePayload(f.iss, f.holder), hmacKey, "HS256")), f.holder.key, nil)
		}, want: []error{ErrAlgorithm}},
		{name: "issuer ES256 header for an Ed25519 issuer", input: func(t *testing.T) string {
			h := baseHeader(f.iss)
			h["alg"] = "ES256"
			return withKB(t, sdjwtOf(forge(t, h, basePayload(f.iss, f.holder), f.malloryP256.key, "ES256")), f.holder.key, nil)
		}, want: []error{ErrAlgorithm}},
		{name: "issuer EdDSA header for a P-256 issuer", input: func(t *testing.T) string {
			h := baseHeader(f.issP256)
			h["alg"] = "EdDSA"
			return withKB(t, sdjwtOf(forge(t, h, basePayload(f.issP256, f.holder), f.mallory.key, "EdDSA")), f.holder.key, nil)
		}, want: []error{ErrAlgorithm}},
		{name: "issuer alg RS256", input: func(t *testing.T) string {
			h := baseHeader(f.iss)
			h["alg"] = "RS256"
			return sdjwtOf(forge(t, h, basePayload(f.iss, f.holder), nil, "none") + "c2lnbmF0dXJl")
		}, opts: func(o *Options) { o.RequireKeyBinding = false }, want: []error{ErrAlgorithm}},
		{name: "issuer alg in another case", input: func(t *testing.T) string {
			h := baseHeader(f.iss)
			h["alg"] = "eddsa"
			p, _ := json.Marshal(basePayload(f.iss, f.holder))
			hj, _ := json.Marshal(h)
			jwt := forgeRaw(t, hj, p, f.iss.key, "EdDSA")
			return withKB(t, sdjwtOf(jwt), f.holder.key, nil)
		}, want: []error{ErrAlgorithm}},
		{name: "issuer jwt with two signatures", input: func(t *testing.T) string {
			jwt, rest, _ := strings.Cut(f.presented, "~")
			return jwt + jwt[strings.LastIndexByte(jwt, '.'):] + "~" + rest
		}, want: []error{ErrMalformed}},
		{name: "issuer typ JWT", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, func(h map[string]any) { h["typ"] = "JWT" }, nil, role), f.holder.key, nil)
		}, want: []error{ErrMalformed}},
		{name: "issuer typ vc+sd-jwt", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, func(h map[string]any) { h["typ"] = "vc+sd-jwt" }, nil, role), f.holder.key, nil)
		}, want: []error{ErrMalformed}},
		{name: "issuer typ missing", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, func(h map[string]any) { delete(h, "typ") }, nil, role), f.holder.key, nil)
		}, want: []error{ErrMalformed}},
		{name: "issuer crit header", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, func(h map[string]any) { h["crit"] = []string{"x"}; h["x"] = 1 }, nil, role), f.holder.key, nil)
		}, want: []error{ErrMalformed}},
		{name: "issuer b64 header", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, func(h map[string]any) { h["b64"] = true }, nil, role), f.holder.key, nil)
		}, want: []error{ErrMalformed}},
		{name: "issuer header jwk of an attacker", input: func(t *testing.T) string {
			// Mallory signs and puts her key in the header; only the DID's key counts.
			h := baseHeader(f.iss)
			h["jwk"] = f.mallory.jwk
			return withKB(t, sdjwtOf(forge(t, h, basePayload(f.iss, f.holder), f.mallory.key, "EdDSA")), f.holder.key, nil)
		}, want: []error{ErrSignature}},
		{name: "issuer header jku, x5u and x5c of an attacker", input: func(t *testing.T) string {
			h := baseHeader(f.iss)
			h["jku"] = "https://attacker.example/jwks.json"
			h["x5u"] = "https://attacker.example/cert.pem"
			h["x5c"] = []string{"MIIB"}
			return withKB(t, sdjwtOf(forge(t, h, basePayload(f.iss, f.holder), f.mallory.key, "EdDSA")), f.holder.key, nil)
		}, want: []error{ErrSignature}},
		{name: "duplicate alg in issuer header", input: func(t *testing.T) string {
			h := []byte(`{"alg":"EdDSA","alg":"none","typ":"dc+sd-jwt","kid":"` + f.iss.kid + `"}`)
			p, _ := json.Marshal(basePayload(f.iss, f.holder))
			return withKB(t, sdjwtOf(forgeRaw(t, h, p, f.iss.key, "EdDSA")), f.holder.key, nil)
		}, want: []error{ErrMalformed, jsonstrict.ErrDuplicateKey}},
		{name: "duplicate iss in payload", input: func(t *testing.T) string {
			p, _ := json.Marshal(basePayload(f.iss, f.holder))
			p = append([]byte(`{"iss":"`+f.mallory.did+`",`), p[1:]...)
			h, _ := json.Marshal(baseHeader(f.iss))
			return withKB(t, sdjwtOf(forgeRaw(t, h, p, f.iss.key, "EdDSA")), f.holder.key, nil)
		}, want: []error{ErrMalformed, jsonstrict.ErrDuplicateKey}},

		// kid.
		{name: "kid of a foreign did", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, func(h map[string]any) { h["kid"] = f.mallory.kid }, nil, role), f.holder.key, nil)
		}, want: []error{ErrKeyID}},
		{name: "attacker signs with own kid for the issuer's iss", input: func(t *testing.T) string {
			h := baseHeader(f.mallory)
			return withKB(t, sdjwtOf(forge(t, h, basePayload(f.iss, f.holder), f.mallory.key, "EdDSA")), f.holder.key, nil)
		}, want: []error{ErrKeyID}},
		{name: "kid with a path", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, func(h map[string]any) { h["kid"] = f.iss.did + "/../" + f.mallory.did + "#k" }, nil), f.holder.key, nil)
		}, want: []error{ErrKeyID}},
		{name: "kid with a query", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, func(h map[string]any) { h["kid"] = f.iss.did + "?versionId=1#" + strings.SplitN(f.iss.kid, "#", 2)[1] }, nil), f.holder.key, nil)
		}, want: []error{ErrKeyID}},
		{name: "kid not a did url", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, func(h map[string]any) { h["kid"] = "https://issuer.example/keys#1" }, nil), f.holder.key, nil)
		}, want: []error{ErrKeyID}},
		{name: "relative kid", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, func(h map[string]any) { h["kid"] = "#" + strings.SplitN(f.iss.kid, "#", 2)[1] }, nil), f.holder.key, nil)
		}, want: []error{ErrKeyID}},
		{name: "kid without fragment", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, func(h map[string]any) { h["kid"] = f.iss.did }, nil), f.holder.key, nil)
		}, want: []error{ErrKeyID}},
		{name: "kid missing", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, func(h map[string]any) { delete(h, "kid") }, nil), f.holder.key, nil)
		}, want: []error{ErrMalformed}},

		// Time.
		{name: "expired", input: func(t *testing.T) string { return f.issued },
			opts: func(o *Options) { o.Now, o.RequireKeyBinding = t0.Add(366*24*time.Hour), false }, want: []error{ErrExpired}},
		{name: "not yet valid", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, nil, func(p map[string]any) { p["nbf"] = presentAt.Add(time.Hour).Unix() }), f.holder.key, nil)
		}, want: []error{ErrNotYetValid}},
		{name: "issued in the future", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, nil, func(p map[string]any) { p["iat"] = presentAt.Add(time.Hour).Unix() }), f.holder.key, nil)
		}, want: []error{ErrNotYetValid}},
		{name: "iat missing", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, nil, func(p map[string]any) { delete(p, "iat") }), f.holder.key, nil)
		}, want: []error{ErrMalformed}},
		{name: "iat negative", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, nil, func(p map[string]any) { p["iat"] = -1.5 }), f.holder.key, nil)
		}, want: []error{ErrMalformed}},
		{name: "iat a string", input: func(t *testing.T) string {
			return withKB(t, forged(t, f, nil, func(p map[string]any) { p["iat"] = "1700000000" }), f.holder.key, nil)
		}, want: []error{ErrMalformed}},

		// Claims.
		{name: "no cnf", input: func(t *testing.T) string {
			return forged(t, f, nil, func(p map[string]any) { delete(p, "cnf") })
		}, opts: func(o *Options) { o.RequireKeyBinding = false }, want: []error{ErrMalformed}},
		{name: "cnf with a private key", input: func(t *testing.T) string {
			priv, _ := keys.MarshalPrivateJWK(f.holder.key)
			var m map[string]any
			_ = json.Unmarshal(priv, &m)
			return forged(t, f, nil, func(p map[string]any) { p["cnf"] = map[string]any{"jwk": m} })
		}, opts: func(o *Options) { o.RequireKeyBinding = false }, want: []error{ErrMalformed}},
		{name: "cnf with a kid besides the jwk", input: func(t *testing.T) string {
			return forged(t, f, nil, func(p map[string]any) { p["cnf"] = map[string]any{"jwk": f.holder.jwk, "kid": "x"} })
		}, opts: func(o *Options) { o.RequireKeyBinding = false }, want: []error{ErrMalformed}},
		{name: "iss not a did", input: func(t *testing.T) string {
			return forged(t, f, nil, func(p map[string]any) { p["iss"] = "https://issuer.example" })
		}, opts: func(o *Options) { o.RequireKeyBinding = false }, want: []error{ErrMalformed}},
		{name: "no vct", input: func(t *testing.T) string {
			return forged(t, f, nil, func(p map[string]any) { delete(p, "vct") })
		}, opts: func(o *Options) { o.RequireKeyBinding = false }, want: []error{ErrMalformed}},
		{name: "token status list claim", input: func(t *testing.T) string {
			return forged(t, f, nil, func(p map[string]any) {
				p["status"] = map[string]any{"status_list": map[string]any{"idx": 1, "uri": "https://x.example/sl"}}
			})
		}, opts: func(o *Options) { o.RequireKeyBinding = false }, want: []error{ErrMalformed}},
		{name: "credentialStatus without type", input: func(t *testing.T) string {
			return forged(t, f, nil, func(p map[string]any) { p["credentialStatus"] = []any{map[string]any{"id": "x"}} })
		}, opts: func(o *Options) { o.RequireKeyBinding = false }, want: []error{ErrMalformed}},
		{name: "_sd not an array", input: func(t *testing.T) string {
			return forged(t, f, nil, func(p map[string]any) { p["_sd"] = "x" })
		}, opts: func(o *Options) { o.RequireKeyBinding = false }, want: []error{ErrMalformed}},
		{name: "_sd entry not a digest", input: func(t *testing.T) string {
			return forged(t, f, nil, func(p map[string]any) { p["_sd"] = []any{"short"} })
		}, opts: func(o *Options) { o.RequireKeyBinding = false }, want: []error{ErrMalformed}},

		// Structure and size.
		{name: "oversized", input: func(t *testing.T) string { return f.presented + strings.Repeat("A", MaxLength) },
			want: []error{ErrMalformed, jsonstrict.ErrTooLarge}},
		{name: "too many disclosures", input: func(t *testing.T) string { return prefix(f.presented) + strings.Repeat(role+"~", MaxDisclosures) },
			want: []error{ErrMalformed, jsonstrict.ErrTooLarge}},
		{name: "empty", input: func(t *testing.T) string { return "" }, want: []error{ErrMalformed}},
		{name: "only tildes", input: func(t *testing.T) string { return "~~" }, want: []error{ErrMalformed}},
		{name: "plain jwt", input: func(t *testing.T) string { return strings.Split(f.issued, "~")[0] }, want: []error{ErrMalformed}},
		{name: "empty disclosure", input: func(t *testing.T) string { return strings.Replace(f.presented, "~", "~~", 1) }, want: []error{ErrMalformed}},
		{name: "empty disclosure at the end", input: func(t *testing.T) string { return withKB(t, f.issued+"~", f.holder.key, nil) }, want: []error{ErrMalformed}},
		{name: "empty issuer payload", input: func(t *testing.T) string {
			parts := strings.SplitN(f.presented, ".", 3)
			return parts[0] + ".." + parts[2]
		}, want: []error{ErrMalformed}},
		{name: "empty issuer signature", input: func(t *testing.T) string {
			jwt, rest, _ := strings.Cut(f.issued, "~")
			return jwt[:strings.LastIndexByte(jwt, '.')+1] + "~" + rest
		}, opts: func(o *Options) { o.RequireKeyBinding = false }, want: []error{ErrMalformed}},
		{name: "trailing newline", input: func(t *testing.T) string { return f.presented + "\n" }, want: []error{ErrMalformed}},
		{name: "padded disclosure", input: func(t *testing.T) string { return strings.Replace(f.presented, role, role+"=", 1) }, want: []error{ErrMalformed}},
		{name: "json serialization", input: func(t *testing.T) string { return `{"payload":"e30","signatures":[]}~` }, want: []error{ErrMalformed}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := verifyOptions()
			if tc.opts != nil {
				tc.opts(&o)
			}
			v, err := Verify(ctx, tc.input(t), resolver(), o)
			if tc.want == nil {
				if err != nil || v == nil {
					t.Fatalf("control failed: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("verified")
			}
			t.Log(err)
			keyBinding := false
			for _, want := range tc.want {
				if !errors.Is(err, want) {
					t.Errorf("Verify = %v, want %v", err, want)
				}
				keyBinding = keyBinding || want == ErrKeyBinding
			}
			if !keyBinding && errors.Is(err, ErrKeyBinding) {
				t.Errorf("Verify = %v, blames the key binding", err)
			}
		})
	}
}

func TestVerifyOptions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for name, o := range map[string]Options{
		"negative leeway": {Nonce: testNonce, Audience: testAudience, Now: presentAt, Leeway: -time.Second},
		"negative age":    {Nonce: testNonce, Audience: testAudience, Now: presentAt, MaxKeyBindingAge: -time.Second},
	} {
		if _, err := Verify(ctx, f.presented, resolver(), o); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	if _, err := Verify(ctx, f.presented, nil, verifyOptions()); err == nil {
		t.Error("verified without a resolver")
	}
	// Leeway is applied: a key binding 30s too old passes with 1m of leeway only.
	o := verifyOptions()
	o.Now, o.Leeway = presentAt.Add(5*time.Minute+30*time.Second), 0
	if _, err := Verify(ctx, f.presented, resolver(), o); !errors.Is(err, ErrExpired) {
		t.Errorf("without leeway: %v", err)
	}
	o.Leeway = time.Minute
	if _, err := Verify(ctx, f.presented, resolver(), o); err != nil {
		t.Errorf("with leeway: %v", err)
	}
	// exp is exclusive: at exp exactly the credential is expired.
	exp := t0.Add(365 * 24 * time.Hour)
	o = verifyOptions()
	o.RequireKeyBinding, o.Leeway, o.Now = false, 0, exp
	if _, err := Verify(ctx, f.issued, resolver(), o); !errors.Is(err, ErrExpired) {
		t.Errorf("at exp: %v", err)
	}
	o.Now = exp.Add(-time.Second)
	if _, err := Verify(ctx, f.issued, resolver(), o); err != nil {
		t.Errorf("a second before exp: %v", err)
	}
}

// TestNumericDateForms: RFC 7519 NumericDates may carry a fraction or an exponent (as
// trustbloc/vc-go writes them); they are accepted.
func TestNumericDateForms(t *testing.T) {
	for _, v := range []any{json.Number("1.795244546e+09"), json.Number("1795244546.25"), 1795244546.0} {
		got, err := numericDate(map[string]any{"iat": v}, "iat", "test")
		if err != nil || got.Unix() != 1795244546 {
			t.Errorf("numericDate(%v) = %v, %v", v, got, err)
		}
	}
}
