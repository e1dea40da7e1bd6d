package verifier_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/verifier"
	"github.com/civitas-net/civitas/wallet"
)

func TestVerifyEachFormat(t *testing.T) {
	f := newFixture(t)
	for _, format := range issuer.Formats {
		t.Run(string(format), func(t *testing.T) {
			raw := f.issue(format, nil)
			res := f.expect(raw, f.policy(), "")
			want := verifier.FormatLDPVC
			if format == issuer.FormatJWT {
				want = verifier.FormatVCJWT
			}
			if res.Format != want || len(res.Credentials) != 1 {
				t.Fatalf("format %s, %d credentials", res.Format, len(res.Credentials))
			}
			cr := res.Credentials[0]
			if cr.Issuer == "" || cr.Subject["id"] != f.holder.DID {
				t.Fatalf("result does not describe the credential: %+v", cr)
			}
			var names []string
			for _, c := range cr.Checks {
				names = append(names, c.Name)
			}
			if got := strings.Join(names, ","); got != "format,contexts,trust,signature,validity,schema,status" {
				t.Fatalf("checks %s", got)
			}
		})
	}
}

func TestVerifyEnvelopedForms(t *testing.T) {
	f := newFixture(t)
	token := f.issue(issuer.FormatJWT, nil)
	dataURL := credential.DataURL("application/vc+jwt", string(token))
	f.expect([]byte(dataURL), f.policy(), "")
	env, _ := json.Marshal(map[string]any{"@context": []string{credential.ContextV2}, "type": "EnvelopedVerifiableCredential", "id": dataURL})
	f.expect(env, f.policy(), "")
	f.expect([]byte("data:application/x-unknown,abc"), f.policy(), verifier.UnsupportedFormat)
}

// TestJWTAttacks is DESIGN.md §5 for vc+jwt: each bad input is refused with its code.
func TestJWTAttacks(t *testing.T) {
	f := newFixture(t)
	good := f.issue(issuer.FormatJWT, nil)
	header, payload := jwtParts(t, good)
	rawPayload, _ := credential.Marshal(payload)
	pub := []byte(f.issuerKey.Public().(ed25519.PublicKey))
	withHeader := func(mod func(h map[string]any)) map[string]any {
		h := maps.Clone(header)
		mod(h)
		return h
	}
	withPayload := func(mod func(p map[string]any)) map[string]any {
		var p map[string]any
		_ = json.Unmarshal(rawPayload, &p)
		mod(p)
		return p
	}
	parts := strings.Split(string(good), ".")

	for _, tc := range []struct {
		name string
		raw  []byte
		want verifier.Code
	}{
		{"alg none", craftJWT(t, withHeader(func(h map[string]any) { h["alg"] = "none" }), rawPayload, nil), verifier.AlgorithmNotAllowed},
		{"alg none, empty signature", []byte(parts[0] + "." + parts[1] + "."), verifier.Malformed},
		{"HS256 keyed with the public key", craftJWT(t, withHeader(func(h map[string]any) { h["alg"] = "HS256" }), rawPayload, hmacSigner(pub)), verifier.AlgorithmNotAllowed},
		{"unknown alg", craftJWT(t, withHeader(func(h map[string]any) { h["alg"] = "EdDSA2" }), rawPayload, edSigner(f.issuerKey)), verifier.AlgorithmNotAllowed},
		{"ES256 claimed for an Ed25519 key", craftJWT(t, withHeader(func(h map[string]any) { h["alg"] = "ES256" }), rawPayload, edSigner(f.issuerKey)), verifier.AlgorithmNotAllowed},
		{"attacker key in jwk header", f.signedPayload(payload, f.attackerKey, func(h map[string]any) {
			h["jwk"] = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
		}), verifier.SignatureInvalid},
		{"jku and x5u headers", f.signedPayload(payload, f.attackerKey, func(h map[string]any) {
			h["jku"] = "https://attacker.example/jwks.json"
			h["x5u"] = "https://attacker.example/cert.pem"
		}), verifier.SignatureInvalid},
		{"x5c header", f.signedPayload(payload, f.attackerKey, func(h map[string]any) { h["x5c"] = []string{"MIIB"} }), verifier.SignatureInvalid},
		{"kid not a DID URL", f.signedPayload(payload, f.issuerKey, func(h map[string]any) { h["kid"] = "key-1" }), verifier.KeyMismatch},
		{"kid without fragment", f.signedPayload(payload, f.issuerKey, func(h map[string]any) { h["kid"] = f.issuerDID }), verifier.KeyMismatch},
		{"kid of a foreign DID", f.signedPayload(payload, f.attackerKey, func(h map[string]any) { h["kid"] = f.attackerKID }), verifier.KeyMismatch},
		{"kid with a path", f.signedPayload(payload, f.issuerKey, func(h map[string]any) {
			h["kid"] = f.issuerDID + "/../" + strings.TrimPrefix(f.attackerKID, "did:key:")
		}), verifier.KeyMismatch},
		{"kid fragment not in the document", f.signedPayload(payload, f.issuerKey, func(h map[string]any) { h["kid"] = f.issuerDID + "#key-2" }), verifier.KeyMismatch},
		{"iss claim differs from issuer", f.signedPayload(withPayload(func(p map[string]any) { p["iss"] = f.attackerKID }), f.issuerKey, nil), verifier.KeyMismatch},
		{"issuer swapped, signed by attacker", f.signedPayload(withPayload(func(p map[string]any) { p["issuer"] = strings.Split(f.attackerKID, "#")[0] }), f.attackerKey, func(h map[string]any) { h["kid"] = f.attackerKID }), verifier.IssuerUntrusted},
		{"crit header", craftJWT(t, withHeader(func(h map[string]any) { h["crit"] = []string{"exp"} }), rawPayload, edSigner(f.issuerKey)), verifier.Malformed},
		{"b64 false", craftJWT(t, withHeader(func(h map[string]any) { h["b64"] = false }), rawPayload, edSigner(f.issuerKey)), verifier.Malformed},
		{"wrong typ", craftJWT(t, withHeader(func(h map[string]any) { h["typ"] = "JWT" }), rawPayload, edSigner(f.issuerKey)), verifier.Malformed},
		{"two signatures (JSON serialization)", mustJSON(t, map[string]any{"payload": parts[1], "signatures": []any{
			map[string]any{"protected": parts[0], "signature": parts[2]},
			map[string]any{"protected": parts[0], "signature": parts[2]},
		}}), verifier.UnsupportedFormat},
		{"unprotected header (flattened JSON)", mustJSON(t, map[string]any{"payload": parts[1], "protected": parts[0], "header": map[string]any{"kid": f.attackerKID}, "signature": parts[2]}), verifier.UnsupportedFormat},
		{"four parts", []byte(string(good) + ".AAAA"), verifier.Malformed},
		{"padding", []byte(parts[0] + "=." + parts[1] + "." + parts[2]), verifier.Malformed},
		{"duplicate key in payload", craftJWT(t, header, []byte(strings.Replace(string(rawPayload), `"type"`, `"issuer":"did:example:x","type"`, 1)), edSigner(f.issuerKey)), verifier.Malformed},
		{"case-variant key in payload", craftJWT(t, header, []byte(strings.Replace(string(rawPayload), `"type"`, `"Issuer":"did:example:x","type"`, 1)), edSigner(f.issuerKey)), verifier.Malformed},
		{"duplicate key in header", craftJWT(t, nil, rawPayload, edSigner(f.issuerKey)), verifier.Malformed},
		{"context added", f.signedPayload(withPayload(func(p map[string]any) {
			p["@context"] = append(p["@context"].([]any), "https://attacker.example/context")
		}), f.issuerKey, nil), verifier.UnknownContext},
		{"context swapped", f.signedPayload(withPayload(func(p map[string]any) {
			p["@context"] = []any{credential.ContextV2, "https://www.w3.org/ns/credentials/examples/v2"}
		}), f.issuerKey, nil), verifier.UnknownContext},
		{"inline context", f.signedPayload(withPayload(func(p map[string]any) {
			p["@context"] = []any{credential.ContextV2, map[string]any{"role": "https://attacker.example/role"}}
		}), f.issuerKey, nil), verifier.UnknownContext},
		{"payload tampered", tamperPayload(t, good, `"member"`, `"steward"`), verifier.SignatureInvalid},
		{"signature tampered", []byte(parts[0] + "." + parts[1] + "." + flip(parts[2])), verifier.SignatureInvalid},
		{"oversized", append(bytes.Repeat([]byte("A"), credential.MaxPresentationSize), good...), verifier.LimitExceeded},
		{"garbage", []byte("hello"), verifier.Malformed},
		{"empty", []byte("  "), verifier.Malformed},
		{"JSON that is no credential", []byte(`{"hello":"world"}`), verifier.UnsupportedFormat},
		{"DI credential without proof", mustJSON(t, payload), verifier.UnsupportedFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "duplicate key in header" {
				// json.Marshal cannot write a duplicate member; splice one in by hand.
				hb := `{"alg":"EdDSA","typ":"vc+jwt","kid":"` + f.issuerKID + `","kid":"` + f.attackerKID + `"}`
				tc.raw = []byte(b64(hb) + "." + strings.SplitN(string(tc.raw), ".", 3)[1] + "." + parts[2])
			}
			f.expect(tc.raw, f.policy(), tc.want)
		})
	}
}

// TestDataIntegrityAttacks covers the Data Integrity side of DESIGN.md §5.
func TestDataIntegrityAttacks(t *testing.T) {
	f := newFixture(t)
	good := f.issue(issuer.FormatEdDSARDFC, nil)
	mod := func(fn func(doc, proof map[string]any)) []byte {
		var doc map[string]any
		if err := json.Unmarshal(good, &doc); err != nil {
			t.Fatal(err)
		}
		fn(doc, doc["proof"].(map[string]any))
		return mustJSON(t, doc)
	}
	// A credential of the issuer re-signed by the attacker with the attacker's key.
	attackerSigned := func(fn func(doc map[string]any)) []byte {
		var doc map[string]any
		_ = json.Unmarshal(good, &doc)
		delete(doc, "proof")
		fn(doc)
		return f.resign(doc)
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want verifier.Code
	}{
		{"subject tampered", mod(func(d, _ map[string]any) { d["credentialSubject"].(map[string]any)["role"] = "steward" }), verifier.SignatureInvalid},
		{"validUntil added", mod(func(d, _ map[string]any) { d["validUntil"] = "2099-01-01T00:00:00Z" }), verifier.SignatureInvalid},
		{"proof created tampered", mod(func(_, p map[string]any) { p["created"] = "2020-01-01T00:00:00Z" }), verifier.SignatureInvalid},
		{"proofValue tampered", mod(func(_, p map[string]any) { p["proofValue"] = flipMultibase(p["proofValue"].(string)) }), verifier.SignatureInvalid},
		{"proofValue not multibase", mod(func(_, p map[string]any) { p["proofValue"] = "abc" }), verifier.Malformed},
		{"unknown cryptosuite", mod(func(_, p map[string]any) { p["cryptosuite"] = "eddsa-2099" }), verifier.AlgorithmNotAllowed},
		{"suite for another key type", mod(func(_, p map[string]any) { p["cryptosuite"] = "ecdsa-rdfc-2019" }), verifier.AlgorithmNotAllowed},
		{"legacy proof type", mod(func(_, p map[string]any) { p["type"] = "Ed25519Signature2020" }), verifier.AlgorithmNotAllowed},
		{"authentication purpose on a credential", mod(func(_, p map[string]any) { p["proofPurpose"] = "authentication" }), verifier.KeyMismatch},
		{"verification method of the attacker", mod(func(_, p map[string]any) { p["verificationMethod"] = f.attackerKID }), verifier.KeyMismatch},
		{"two proofs", mod(func(d, p map[string]any) { d["proof"] = []any{p, p} }), verifier.Malformed},
		{"context added", mod(func(d, _ map[string]any) {
			d["@context"] = append(d["@context"].([]any), "https://attacker.example/context")
		}), verifier.UnknownContext},
		{"remote context in a nested object", mod(func(d, _ map[string]any) {
			d["credentialSubject"].(map[string]any)["@context"] = "https://attacker.example/context"
		}), verifier.UnknownContext},
		{"inline context", mod(func(d, _ map[string]any) {
			d["@context"] = []any{credential.ContextV2, map[string]any{"@vocab": "https://attacker.example/"}}
		}), verifier.UnknownContext},
		{"proof @context on an rdfc proof", mod(func(d, p map[string]any) { p["@context"] = d["@context"] }), verifier.Malformed},
		{"issuer swapped, re-signed by the attacker", attackerSigned(func(d map[string]any) { d["issuer"] = strings.Split(f.attackerKID, "#")[0] }), verifier.IssuerUntrusted},
		{"issuer kept, re-signed by the attacker", attackerSigned(func(map[string]any) {}), verifier.KeyMismatch},
		{"blank-node bomb", mod(func(d, _ map[string]any) { d["credentialSubject"] = bomb(f.holder.DID, 400) }), verifier.LimitExceeded},
		{"deep nesting", mod(func(d, _ map[string]any) { d["credentialSubject"] = deep(f.holder.DID, 200) }), verifier.LimitExceeded},
		{"duplicate keys", []byte(strings.Replace(string(good), `"type"`, `"issuer":"did:example:x","type"`, 1)), verifier.Malformed},
	} {
		t.Run(tc.name, func(t *testing.T) { f.expect(tc.raw, f.policy(), tc.want) })
	}
}

// TestPolicyChecks covers trust, validity, schema and status.
func TestPolicyChecks(t *testing.T) {
	f := newFixture(t)
	day := 24 * time.Hour
	for _, format := range []issuer.Format{issuer.FormatJWT, issuer.FormatEdDSAJCS} {
		t.Run(string(format), func(t *testing.T) {
			good := f.issue(format, nil)
			f.expect(good, verifier.DefaultPolicy(), verifier.IssuerUntrusted)
			onlyResidency := f.policy()
			onlyResidency.Trust = []verifier.TrustedIssuer{{DID: f.issuerDID, Types: []string{"ResidencyCredential"}}}
			f.expect(good, onlyResidency, verifier.IssuerUntrusted)
			onlyMembership := f.policy()
			onlyMembership.Trust = []verifier.TrustedIssuer{{DID: f.issuerDID, Types: []string{"MembershipCredential"}}}
			f.expect(good, onlyMembership, "")

			expired := f.issue(format, func(r *issuer.Request) { r.ValidUntil = f.now.Add(-2 * time.Minute) })
			f.expect(expired, f.policy(), verifier.Expired)
			strict := f.policy()
			strict.Leeway = 3 * time.Minute
			f.expect(expired, strict, "") // within the leeway
			future := f.issue(format, func(r *issuer.Request) { r.ValidFrom = f.now.Add(day) })
			f.expect(future, f.policy(), verifier.NotYetValid)

			revocable := f.issue(format, func(r *issuer.Request) {
				r.Status = []map[string]any{statusEntry("revocation", 17), statusEntry("suspension", 18)}
			})
			f.status.set, f.status.err = nil, nil
			f.expect(revocable, f.policy(), "")
			f.status.set = map[string]bool{"revocation": true}
			f.expect(revocable, f.policy(), verifier.Revoked)
			f.status.set = map[string]bool{"suspension": true}
			f.expect(revocable, f.policy(), verifier.Suspended)
			f.status.set, f.status.err = nil, errors.New("list unreachable")
			f.expect(revocable, f.policy(), verifier.StatusUnavailable)
			skip := f.policy()
			skip.Status = verifier.StatusSkip
			f.expect(revocable, skip, "")
			f.status.err = nil
			last := f.status.queries[len(f.status.queries)-1]
			if last.Issuer != f.issuerDID || last.Entry.StatusListCredential == "" {
				t.Fatalf("status query %+v", last)
			}
			noChecker, err := verifier.New(verifier.WithClock(func() time.Time { return f.now }))
			if err != nil {
				t.Fatal(err)
			}
			res, err := noChecker.Verify(context.Background(), revocable, f.policy())
			if !errors.Is(err, verifier.ErrStatusUnavailable) || res.Verified {
				t.Fatalf("without a status checker: %v", err)
			}
		})
	}
}

func TestSchemaChecks(t *testing.T) {
	f := newFixture(t)
	good := f.issue(issuer.FormatJWT, nil)
	_, payload := jwtParts(t, good)
	resign := func(mod func(p map[string]any)) []byte {
		p := maps.Clone(payload)
		mod(p)
		return f.signedPayload(p, f.issuerKey, nil)
	}
	f.expect(resign(func(map[string]any) {}), f.policy(), "")
	f.expect(resign(func(p map[string]any) {
		s := maps.Clone(p["credentialSubject"].(map[string]any))
		delete(s, "memberSince")
		p["credentialSubject"] = s
	}), f.policy(), verifier.SchemaInvalid)
	f.expect(resign(func(p map[string]any) {
		p["credentialSchema"] = map[string]any{"id": "https://attacker.example/schema.json", "type": "JsonSchema"}
	}), f.policy(), verifier.SchemaUnavailable)
	f.expect(resign(func(p map[string]any) {
		p["credentialSchema"] = map[string]any{"id": "https://civitas.network/schemas/v1/ResidencyCredential.json", "type": "JsonSchema"}
	}), f.policy(), verifier.SchemaInvalid)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tamperPayload replaces old with new in a JWT's payload, keeping its signature.
func tamperPayload(t *testing.T, token []byte, old, new string) []byte {
	t.Helper()
	parts := strings.Split(string(token), ".")
	_, p := jwtParts(t, token)
	raw, _ := credential.Marshal(p)
	if !bytes.Contains(raw, []byte(old)) {
		t.Fatalf("payload has no %s", old)
	}
	parts[1] = b64(strings.Replace(string(raw), old, new, 1))
	return []byte(strings.Join(parts, "."))
}

// flip changes the first character of a base64url string to another valid one.
func flip(s string) string {
	c := byte('A')
	if s[0] == 'A' {
		c = 'B'
	}
	return string(c) + s[1:]
}

// flipMultibase changes a character in the middle of a base58btc string.
func flipMultibase(s string) string {
	i := len(s) / 2
	c := byte('2')
	if s[i] == '2' {
		c = '3'
	}
	return s[:i] + string(c) + s[i+1:]
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// resign signs doc with the attacker's key as a Data Integrity credential.
func (f *fixture) resign(doc map[string]any) []byte {
	f.t.Helper()
	att, err := issuer.New(issuer.Key{Signer: f.attackerKey, KeyID: f.attackerKID})
	if err != nil {
		f.t.Fatal(err)
	}
	sec, err := att.Sign(context.Background(), doc, issuer.FormatEdDSARDFC)
	if err != nil {
		f.t.Fatal(err)
	}
	out, err := sec.Bytes()
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// bomb is a subject with n sibling blank nodes of identical shape, which makes RDF
// canonicalization work hard.
func bomb(id string, n int) map[string]any {
	items := make([]any, n)
	for i := range items {
		items[i] = map[string]any{"name": "x"}
	}
	return map[string]any{"id": id, "community": items}
}

// deep is a subject nested n objects deep.
func deep(id string, n int) map[string]any {
	var v any = "bottom"
	for range n {
		v = map[string]any{"inner": v}
	}
	return map[string]any{"id": id, "inner": v}
}

func TestCanceledContext(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := f.v.Verify(ctx, f.issue(issuer.FormatEdDSARDFC, nil), f.policy())
	if err == nil || res.Verified {
		t.Fatalf("verified under a canceled context: %s", dump(res))
	}
}

// FuzzVerify feeds arbitrary bytes, seeded with a credential and a presentation in each
// format, through the whole verifier: it must never panic, and whatever it accepts must
// carry every check of its kind.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	nonce := "fuzz-nonce"
	for _, format := range issuer.Formats {
		cred := fx.issue(format, nil)
		f.Add(cred)
		f.Add(fx.present(wallet.FormatJWT, [][]byte{cred}, nonce, door))
	}
	f.Add(fx.present(wallet.FormatEdDSARDFC, [][]byte{fx.issue(issuer.FormatJWT, nil)}, nonce, door))
	p := fx.presentPolicy(nonce, door)
	// A fresh nonce store each time, so that a seed presentation stays acceptable.
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := verifier.New(verifier.WithClock(func() time.Time { return fx.now }), verifier.WithStatusChecker(fx.status))
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.Verify(context.Background(), raw, p)
		if (err == nil) != res.Verified {
			t.Fatalf("err %v but verified %v", err, res.Verified)
		}
		if !res.Verified {
			return
		}
		for _, c := range res.Credentials {
			if got := checkNames(c.Checks); !strings.Contains(got, "signature") || !strings.Contains(got, "trust") || !strings.Contains(got, "status") {
				t.Fatalf("verified with checks %s", got)
			}
		}
	})
}

// TestIssuedInTheFuture: a credential whose JWT iat or Data Integrity proof creation
// lies in the future (beyond the leeway) is not yet valid, even if validFrom has begun.
func TestIssuedInTheFuture(t *testing.T) {
	f := newFixture(t)
	good := f.issue(issuer.FormatJWT, nil)
	_, payload := jwtParts(t, good)
	payload["iat"] = json.Number(fmt.Sprint(f.now.Add(time.Hour).Unix()))
	f.expect(f.signedPayload(payload, f.issuerKey, nil), f.policy(), verifier.NotYetValid)
	payload["iat"] = json.Number(fmt.Sprint(f.now.Add(30 * time.Second).Unix()))
	f.expect(f.signedPayload(payload, f.issuerKey, nil), f.policy(), "") // within the leeway
	delete(payload, "iat")
	payload["nbf"] = json.Number(fmt.Sprint(f.now.Add(time.Hour).Unix()))
	f.expect(f.signedPayload(payload, f.issuerKey, nil), f.policy(), verifier.NotYetValid)
	delete(payload, "nbf")
	payload["exp"] = json.Number(fmt.Sprint(f.now.Add(-time.Hour).Unix()))
	f.expect(f.signedPayload(payload, f.issuerKey, nil), f.policy(), verifier.Expired)

	future, err := issuer.New(issuer.Key{Signer: f.issuerKey, KeyID: f.issuerKID}, issuer.WithClock(func() time.Time { return f.now.Add(48 * time.Hour) }))
	if err != nil {
		t.Fatal(err)
	}
	sec, err := future.Issue(context.Background(), issuer.Request{Type: "MembershipCredential", Subject: f.subject("MembershipCredential"), ValidFrom: f.now.Add(-time.Hour)}, issuer.FormatEdDSARDFC)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := sec.Bytes()
	f.expect(raw, f.policy(), verifier.NotYetValid)
}
