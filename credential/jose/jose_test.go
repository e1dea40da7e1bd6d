package jose_test

import (
	"context"
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
