package did

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
)

func TestJWKDIDRoundTrip(t *testing.T) {
	for _, alg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
		t.Run(string(alg), func(t *testing.T) {
			key, err := keys.Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			did, err := JWKDID(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			again, err := JWKDID(key.Public())
			if err != nil || again != did {
				t.Fatalf("JWKDID is not deterministic: %q then %q", did, again)
			}
			raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(did, "did:jwk:"))
			if err != nil {
				t.Fatal(err)
			}
			wantPrefix := `{"crv":"Ed25519","kty":"OKP","x":"`
			if alg == keys.P256 {
				wantPrefix = `{"crv":"P-256","kty":"EC","x":"`
			}
			if !strings.HasPrefix(string(raw), wantPrefix) {
				t.Fatalf("jwk %s is not in sorted member order", raw)
			}
			r := NewResolver()
			doc, err := r.Resolve(context.Background(), did)
			if err != nil {
				t.Fatal(err)
			}
			if err := doc.Validate(); err != nil {
				t.Fatal(err)
			}
			vm := doc.VerificationMethod[0]
			if vm.ID != did+"#0" || vm.Type != TypeJSONWebKey || vm.Controller != did {
				t.Fatalf("unexpected method %+v", vm)
			}
			for _, rel := range []Relationship{Authentication, AssertionMethod, CapabilityInvocation, CapabilityDelegation} {
				_, pub, err := r.ResolveVerificationMethod(context.Background(), did+"#0", rel)
				if err != nil {
					t.Fatalf("%s: %v", rel, err)
				}
				if !keyEqual(key.Public(), pub) {
					t.Fatalf("%s: key differs", rel)
				}
			}
			// No "use": P-256 may also agree keys; Ed25519 never does.
			_, _, err = r.ResolveVerificationMethod(context.Background(), did+"#0", KeyAgreement)
			if alg == keys.P256 && err != nil {
				t.Fatalf("p-256 keyAgreement: %v", err)
			}
			if alg == keys.Ed25519 && !errors.Is(err, ErrRelationship) {
				t.Fatalf("ed25519 keyAgreement: error = %v, want ErrRelationship", err)
			}
		})
	}
}

func jwkDIDOf(s string) string {
	return "did:jwk:" + base64.RawURLEncoding.EncodeToString([]byte(s))
}

func TestJWKUse(t *testing.T) {
	const x = `"x":"igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns","y":"efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM"`
	tests := []struct {
		jwk  string
		want map[Relationship]bool
	}{
		{`{"kty":"EC","crv":"P-256",` + x + `,"use":"sig"}`, map[Relationship]bool{Authentication: true, AssertionMethod: true, CapabilityInvocation: true, CapabilityDelegation: true}},
		{`{"kty":"EC","crv":"P-256",` + x + `,"use":"enc"}`, map[Relationship]bool{KeyAgreement: true}},
		{`{"kty":"EC","crv":"P-256",` + x + `}`, map[Relationship]bool{Authentication: true, AssertionMethod: true, CapabilityInvocation: true, CapabilityDelegation: true, KeyAgreement: true}},
	}
	for _, tt := range tests {
		doc, err := (JWKMethod{}).Resolve(context.Background(), mustParse(t, jwkDIDOf(tt.jwk)))
		if err != nil {
			t.Fatal(err)
		}
		for _, rel := range relationships {
			if got := len(doc.Relation(rel)) == 1; got != tt.want[rel] {
				t.Errorf("%s: %s listed = %v, want %v", tt.jwk, rel, got, tt.want[rel])
			}
		}
	}
}

// nonCanonicalTail returns a did:jwk whose last base64url character carries non-zero
// padding bits, so that a lenient decoder would read the same JSON.
func nonCanonicalTail(t *testing.T, jwk string) string {
	t.Helper()
	for len(jwk)%3 == 0 {
		jwk += " "
	}
	enc := base64.RawURLEncoding.EncodeToString([]byte(jwk))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for _, c := range alphabet {
		alt := enc[:len(enc)-1] + string(c)
		if alt == enc {
			continue
		}
		if b, err := base64.RawURLEncoding.DecodeString(alt); err == nil && string(b) == jwk {
			if _, err := Parse("did:jwk:" + alt); err != nil {
				t.Fatal(err)
			}
			return "did:jwk:" + alt
		}
	}
	t.Fatal("no non-canonical encoding found")
	return ""
}

func mustParse(t testing.TB, s string) DID {
	t.Helper()
	d, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestJWKResolveRejects(t *testing.T) {
	const ed = `"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"`
	good := jwkDIDOf("{" + ed + "}")
	tests := []struct {
		name    string
		did     string
		wantErr error
	}{
		{"private member", jwkDIDOf(`{` + ed + `,"d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}`), keys.ErrInvalidKey},
		{"duplicate member", jwkDIDOf(`{` + ed + `,"kty":"OKP"}`), jsonstrict.ErrDuplicateKey},
		{"case duplicate", jwkDIDOf(`{` + ed + `,"KTY":"EC"}`), jsonstrict.ErrDuplicateKey},
		{"not json", jwkDIDOf(`kty`), jsonstrict.ErrSyntax},
		{"array", jwkDIDOf(`[]`), ErrInvalidDID},
		{"padding", good + "%3D", ErrInvalidDID},
		{"std base64", "did:jwk:eyJ+", ErrInvalidDID},
		{"non-canonical tail", nonCanonicalTail(t, "{"+ed+"}"), ErrInvalidDID},
		{"x25519", jwkDIDOf(`{"kty":"OKP","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`), ErrUnsupportedKey},
		{"rsa", jwkDIDOf(`{"kty":"RSA","n":"AQAB","e":"AQAB"}`), ErrUnsupportedKey},
		{"symmetric", jwkDIDOf(`{"kty":"oct","k":"AQAB"}`), ErrUnsupportedKey},
		{"too long", jwkDIDOf(`{` + ed + `,"kid":"` + strings.Repeat("a", 2000) + `"}`), ErrInvalidDID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := NewResolver().Resolve(context.Background(), tt.did)
			if !errors.Is(err, tt.wantErr) || doc != nil {
				t.Fatalf("Resolve = %v, %v; want %v", doc, err, tt.wantErr)
			}
		})
	}
	if _, err := NewResolver().Resolve(context.Background(), good); err != nil {
		t.Fatalf("untampered did:jwk rejected: %v", err)
	}
}

func FuzzJWKResolve(f *testing.F) {
	f.Add(jwkDIDOf(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`))
	f.Add(jwkDIDOf(`{"crv":"P-256","kty":"EC","x":"igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns","y":"efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM","use":"enc"}`))
	f.Add(jwkDIDOf(`{"kty":"OKP","d":"x"}`))
	f.Add("did:jwk:e30")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil || d.Method != "jwk" {
			return
		}
		doc, err := (JWKMethod{}).Resolve(context.Background(), d)
		if err != nil {
			if doc != nil {
				t.Fatal("document returned with an error")
			}
			return
		}
		if err := doc.Validate(); err != nil {
			t.Fatalf("generated document invalid: %v", err)
		}
		if _, ok := doc.VerificationMethod[0].PublicKeyJwk["d"]; ok {
			t.Fatal("private member accepted")
		}
		if _, err := doc.VerificationMethod[0].PublicKey(); err != nil {
			t.Fatalf("accepted key does not decode: %v", err)
		}
		if _, err := json.Marshal(doc); err != nil {
			t.Fatal(err)
		}
	})
}
