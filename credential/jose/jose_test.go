package jose_test

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/keys"
)

func credentialFor(issuer string) map[string]any {
	return map[string]any{
		"@context":          []any{credential.ContextV2},
		"type":              []any{"VerifiableCredential"},
		"issuer":            issuer,
		"credentialSubject": map[string]any{"id": "did:example:subject"},
	}
}

func TestSignVerify(t *testing.T) {
	r := did.NewResolver()
	for _, alg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
		t.Run(string(alg), func(t *testing.T) {
			key, _ := keys.Generate(alg)
			kid, _ := did.KeyURL(key.Public())
			issuer, _, _ := strings.Cut(kid, "#")
			token, err := jose.SignCredential(credentialFor(issuer), key, kid)
			if err != nil {
				t.Fatal(err)
			}
			c, tok, err := jose.VerifyCredential(context.Background(), []byte(token), r)
			if err != nil {
				t.Fatal(err)
			}
			wantAlg, _ := keys.JWSAlgorithm(key.Public())
			if c.Issuer != issuer || tok.Alg != wantAlg || tok.Typ != jose.TypCredential || tok.Kid != kid {
				t.Fatalf("credential %+v token %+v", c, tok)
			}
			if _, err := jose.SignCredential(credentialFor("did:example:someone-else"), key, kid); !errors.Is(err, jose.ErrKeyID) {
				t.Fatalf("signing another issuer's credential: %v", err)
			}
		})
	}
}

func TestPresentationClaims(t *testing.T) {
	key, _ := keys.Generate(keys.Ed25519)
	kid, _ := did.KeyURL(key.Public())
	holder, _, _ := strings.Cut(kid, "#")
	vp := map[string]any{"@context": []any{credential.ContextV2}, "type": "VerifiablePresentation", "holder": holder}
	iat := time.Unix(1_800_000_000, 0).UTC()
	token, err := jose.SignPresentation(vp, jose.Claims{Nonce: "n-1", Audience: []string{"did:web:door.example"}, IssuedAt: iat, Expires: iat.Add(time.Minute)}, key, kid)
	if err != nil {
		t.Fatal(err)
	}
	p, claims, err := jose.VerifyPresentation(context.Background(), []byte(token), did.NewResolver())
	if err != nil {
		t.Fatal(err)
	}
	if p.Holder != holder || claims.Nonce != "n-1" || claims.Audience[0] != "did:web:door.example" || !claims.IssuedAt.Equal(iat) || !claims.Expires.Equal(iat.Add(time.Minute)) {
		t.Fatalf("claims %+v", claims)
	}
	// A presentation token is not a credential token, and the reverse.
	if _, _, err := jose.VerifyCredential(context.Background(), []byte(token), did.NewResolver()); !errors.Is(err, jose.ErrMalformed) {
		t.Fatalf("vp+jwt accepted as vc+jwt: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	payload := enc(`{}`)
	for name, tok := range map[string]string{
		"two parts":          enc(`{"alg":"EdDSA","kid":"did:x:y#k","typ":"vc+jwt"}`) + "." + payload,
		"empty signature":    enc(`{"alg":"EdDSA","kid":"did:x:y#k","typ":"vc+jwt"}`) + "." + payload + ".",
		"json serialization": `{"payload":"e30","signatures":[]}`,
		"header not json":    enc(`nope`) + "." + payload + ".c2ln",
		"header array":       enc(`[]`) + "." + payload + ".c2ln",
		"no alg":             enc(`{"kid":"did:x:y#k","typ":"vc+jwt"}`) + "." + payload + ".c2ln",
		"no kid":             enc(`{"alg":"EdDSA","typ":"vc+jwt"}`) + "." + payload + ".c2ln",
		"no typ":             enc(`{"alg":"EdDSA","kid":"did:x:y#k"}`) + "." + payload + ".c2ln",
		"typ JWT":            enc(`{"alg":"EdDSA","kid":"did:x:y#k","typ":"JWT"}`) + "." + payload + ".c2ln",
		"duplicate alg":      enc(`{"alg":"EdDSA","alg":"none","kid":"did:x:y#k","typ":"vc+jwt"}`) + "." + payload + ".c2ln",
		"crit":               enc(`{"alg":"EdDSA","kid":"did:x:y#k","typ":"vc+jwt","crit":["x"],"x":1}`) + "." + payload + ".c2ln",
		"padded":             enc(`{"alg":"EdDSA","kid":"did:x:y#k","typ":"vc+jwt"}`) + "==." + payload + ".c2ln",
		"standard base64":    enc(`{"alg":"EdDSA","kid":"did:x:y#k","typ":"vc+jwt"}`) + "." + payload + ".c2/+",
		"whitespace inside":  enc(`{"alg":"EdDSA","kid":"did:x:y#k","typ":"vc+jwt"}`) + ". " + payload + ".c2ln",
		// Exactly one signature, protected header only: every form that could carry a
		// second signature or an unprotected header is refused.
		"two signatures appended": enc(`{"alg":"EdDSA","kid":"did:x:y#k","typ":"vc+jwt"}`) + "." + payload + ".c2ln.c2ln",
		"five parts (JWE shape)":  enc(`{"alg":"EdDSA","kid":"did:x:y#k","typ":"vc+jwt"}`) + "." + payload + ".c2ln.c2ln.c2ln",
		"general json, two signatures": `{"payload":"e30","signatures":[{"protected":"` + enc(`{"alg":"EdDSA","kid":"did:x:y#k","typ":"vc+jwt"}`) + `","signature":"c2ln"},` +
			`{"protected":"` + enc(`{"alg":"ES256","kid":"did:x:z#k","typ":"vc+jwt"}`) + `","signature":"c2ln"}]}`,
		"flattened json, unprotected header": `{"payload":"e30","protected":"` + enc(`{"typ":"vc+jwt"}`) + `","header":{"alg":"EdDSA","kid":"did:x:y#k"},"signature":"c2ln"}`,
		"json after white space":             ` {"payload":"e30","protected":"` + enc(`{"alg":"EdDSA","kid":"did:x:y#k","typ":"vc+jwt"}`) + `","signature":"c2ln"}`,
	} {
		if _, err := jose.Parse([]byte(tok), jose.TypCredential); !errors.Is(err, jose.ErrMalformed) {
			t.Errorf("%s: Parse = %v, want ErrMalformed", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	key, _ := keys.Generate(keys.Ed25519)
	kid, _ := did.KeyURL(key.Public())
	issuer, _, _ := strings.Cut(kid, "#")
	token, _ := jose.SignCredential(credentialFor(issuer), key, kid)
	f.Add([]byte(token))
	f.Add([]byte("a.b.c"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := jose.Parse(data, "")
		if err != nil {
			return
		}
		if tok.Alg == "" || tok.Kid == "" || (tok.Typ != jose.TypCredential && tok.Typ != jose.TypPresentation) {
			t.Fatalf("accepted token with header %+v", tok)
		}
		_, _ = tok.Credential()
		_, _, _ = tok.Presentation()
	})
}

func TestNumericDate(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1795244546": 1795244546, "1.795244546e+09": 1795244546, "1795244546.5": 1795244546, "1E9": 1_000_000_000,
	} {
		got, err := jose.NumericDate(json.Number(in))
		if err != nil || got.Unix() != want {
			t.Errorf("NumericDate(%s) = %v, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []any{json.Number("-1"), json.Number("1e20"), json.Number("253402300800"), json.Number("NaN"), json.Number("x"), "1795244546", true, nil} {
		if _, err := jose.NumericDate(bad); err == nil {
			t.Errorf("NumericDate(%v) accepted", bad)
		}
	}
}

// signHeader signs payload under an arbitrary protected header with key, as an
// attacker's tooling would.
func signHeader(t *testing.T, header map[string]any, payload []byte, key crypto.Signer) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(payload)
	sig, err := keys.SignRaw(key, []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + enc.EncodeToString(sig)
}

// TestVerifyCredentialRejects: keys come only from resolving the issuer's DID (key
// material in the header is ignored), and the kid must be a DID URL of the issuer.
func TestVerifyCredentialRejects(t *testing.T) {
	ctx := context.Background()
	r := did.NewResolver(did.WithMethod("web", nil))
	victim, _ := keys.Generate(keys.Ed25519)
	victimKid, _ := did.KeyURL(victim.Public())
	victimDID, frag, _ := strings.Cut(victimKid, "#")
	mallory, _ := keys.Generate(keys.Ed25519)
	malloryKid, _ := did.KeyURL(mallory.Public())
	malloryDID, malloryFrag, _ := strings.Cut(malloryKid, "#")
	malloryJWK, _ := keys.PublicJWK(mallory.Public())
	payload, err := credential.Marshal(credentialFor(victimDID))
	if err != nil {
		t.Fatal(err)
	}
	withIss, _ := credential.Marshal(map[string]any{
		"@context": []any{credential.ContextV2}, "type": []any{"VerifiableCredential"}, "issuer": victimDID,
		"iss": malloryDID, "credentialSubject": map[string]any{"id": "did:example:subject"},
	})
	header := func(kid string, extra ...any) map[string]any {
		h := map[string]any{"alg": "EdDSA", "typ": jose.TypCredential, "kid": kid}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i].(string)] = extra[i+1]
		}
		return h
	}
	for _, c := range []struct {
		name  string
		token string
		want  error
	}{
		{"control", signHeader(t, header(victimKid), payload, victim), nil},
		// Mallory signs and names her own key in the header; only the DID's key counts.
		{"jwk header", signHeader(t, header(victimKid, "jwk", malloryJWK), payload, mallory), jose.ErrSignature},
		{"jku header", signHeader(t, header(victimKid, "jku", "https://attacker.example/jwks.json"), payload, mallory), jose.ErrSignature},
		{"x5u header", signHeader(t, header(victimKid, "x5u", "https://attacker.example/cert.pem"), payload, mallory), jose.ErrSignature},
		{"x5c header", signHeader(t, header(victimKid, "x5c", []any{"MIIB"}), payload, mallory), jose.ErrSignature},
		{"kid of a foreign did", signHeader(t, header(malloryKid), payload, mallory), jose.ErrKeyID},
		{"kid with a path to a foreign did", signHeader(t, header(victimDID+"/../"+malloryDID+"#"+malloryFrag), payload, mallory), jose.ErrKeyID},
		{"kid with a path", signHeader(t, header(victimDID+"/keys#"+frag), payload, victim), jose.ErrKeyID},
		{"kid with a query", signHeader(t, header(victimDID+"?versionId=1#"+frag), payload, victim), jose.ErrKeyID},
		{"kid without fragment", signHeader(t, header(victimDID), payload, victim), jose.ErrKeyID},
		{"kid with an empty fragment", signHeader(t, header(victimDID+"#"), payload, victim), jose.ErrKeyID},
		{"relative kid", signHeader(t, header("#"+frag), payload, victim), jose.ErrKeyID},
		{"kid not a did", signHeader(t, header("https://issuer.example/keys#"+frag), payload, victim), jose.ErrKeyID},
		{"kid of the issuer in another case", signHeader(t, header(strings.ToUpper(victimDID[:3])+victimDID[3:]+"#"+frag), payload, victim), jose.ErrKeyID},
		{"iss claim naming another party", signHeader(t, header(victimKid), withIss, victim), jose.ErrKeyID},
	} {
		_, _, err := jose.VerifyCredential(ctx, []byte(c.token), r)
		if c.want == nil {
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			continue
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: VerifyCredential = %v, want %v", c.name, err, c.want)
		}
	}
}

// TestVerifyPresentationKeyID: a presentation's kid must be a DID URL of its holder.
func TestVerifyPresentationKeyID(t *testing.T) {
	holder, _ := keys.Generate(keys.Ed25519)
	holderKid, _ := did.KeyURL(holder.Public())
	holderDID, frag, _ := strings.Cut(holderKid, "#")
	mallory, _ := keys.Generate(keys.Ed25519)
	malloryKid, _ := did.KeyURL(mallory.Public())
	vp, _ := credential.Marshal(map[string]any{"@context": []any{credential.ContextV2}, "type": "VerifiablePresentation", "holder": holderDID, "nonce": "n-1"})
	for name, c := range map[string]struct {
		kid string
		key crypto.Signer
	}{
		"kid of a foreign did": {malloryKid, mallory},
		"kid with a path":      {holderDID + "/x#" + frag, holder},
		"kid without fragment": {holderDID, holder},
	} {
		token := signHeader(t, map[string]any{"alg": "EdDSA", "typ": jose.TypPresentation, "kid": c.kid}, vp, c.key)
		if _, _, err := jose.VerifyPresentation(context.Background(), []byte(token), did.NewResolver()); !errors.Is(err, jose.ErrKeyID) {
			t.Errorf("%s: VerifyPresentation = %v, want ErrKeyID", name, err)
		}
	}
	token := signHeader(t, map[string]any{"alg": "EdDSA", "typ": jose.TypPresentation, "kid": holderKid}, vp, holder)
	if _, _, err := jose.VerifyPresentation(context.Background(), []byte(token), did.NewResolver()); err != nil {
		t.Fatalf("control: %v", err)
	}
}
