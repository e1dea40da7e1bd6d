package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/internal/jsonstrict"
)

func TestJWKRoundTrip(t *testing.T) {
	for _, alg := range []Algorithm{Ed25519, P256} {
		t.Run(string(alg), func(t *testing.T) {
			key, err := Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			data, err := MarshalPrivateJWK(key)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParsePrivateJWK(data)
			if err != nil {
				t.Fatal(err)
			}
			type privEqual interface{ Equal(crypto.PrivateKey) bool }
			if !back.(privEqual).Equal(key) {
				t.Fatal("private key changed in the round trip")
			}

			pubMap, err := PublicJWK(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := pubMap["d"]; ok {
				t.Fatal("public jwk holds d")
			}
			wantMembers := 3
			if alg == P256 {
				wantMembers = 4
			}
			if len(pubMap) != wantMembers {
				t.Fatalf("public jwk has %d members, want %d: %v", len(pubMap), wantMembers, pubMap)
			}
			pubJSON, err := json.Marshal(pubMap)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := ParsePublicJWK(pubJSON)
			if err != nil {
				t.Fatal(err)
			}
			if !publicEqual(key.Public(), pub) {
				t.Fatal("public key changed in the round trip")
			}
			// The private JWK is not a public JWK.
			if _, err := ParsePublicJWK(data); !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("ParsePublicJWK(private) error = %v, want ErrInvalidKey", err)
			}
			// A public JWK is not a private JWK.
			if _, err := ParsePrivateJWK(pubJSON); !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("ParsePrivateJWK(public) error = %v, want ErrInvalidKey", err)
			}
		})
	}
}

// RFC 8037 appendix A.1 and A.2.
const (
	rfc8037Private = `{"kty":"OKP","crv":"Ed25519",
   "d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
   "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`
	rfc8037Public = `{"kty":"OKP","crv":"Ed25519",
   "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`
)

func TestRFC8037Example(t *testing.T) {
	priv, err := ParsePrivateJWK([]byte(rfc8037Private))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicJWK([]byte(rfc8037Public))
	if err != nil {
		t.Fatal(err)
	}
	if !publicEqual(priv.Public(), pub) {
		t.Fatal("rfc 8037 private and public keys differ")
	}
	if _, ok := priv.(ed25519.PrivateKey); !ok {
		t.Fatalf("type %T", priv)
	}
}

// privateJWKMap returns a fresh private JWK of alg as a map, for tampering.
func privateJWKMap(t testing.TB, alg Algorithm) map[string]any {
	t.Helper()
	key, err := Generate(alg)
	if err != nil {
		t.Fatal(err)
	}
	data, err := MarshalPrivateJWK(key)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParsePrivateJWKRejects(t *testing.T) {
	ed := privateJWKMap(t, Ed25519)
	ec := privateJWKMap(t, P256)
	other := privateJWKMap(t, P256)
	otherEd := privateJWKMap(t, Ed25519)

	with := func(base map[string]any, kv ...any) []byte {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	short := func(s any) string { return s.(string)[:len(s.(string))-2] }
	padded := func(s any) string { return s.(string) + "=" }
	dupD := []byte(strings.Replace(string(with(ed)), `"d":`, `"d":"AAAA","d":`, 1))
	caseDup := []byte(strings.Replace(string(with(ed)), `"kty":`, `"KTY":"EC","kty":`, 1))

	tests := []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{"empty", nil, ErrInvalidKey},
		{"null", []byte("null"), ErrInvalidKey},
		{"array", []byte("[]"), ErrInvalidKey},
		{"trailing data", append(with(ed), '{', '}'), ErrInvalidKey},
		{"duplicate d", dupD, jsonstrict.ErrDuplicateKey},
		{"case-folded duplicate", caseDup, jsonstrict.ErrDuplicateKey},
		{"huge", []byte(`{"kty":"OKP","kid":"` + strings.Repeat("a", 10000) + `"}`), jsonstrict.ErrTooLarge},
		{"ed wrong crv", with(ed, "crv", "Ed448"), ErrUnsupportedKey},
		{"ed crv X25519", with(ed, "crv", "X25519"), ErrUnsupportedKey},
		{"ed missing crv", with(ed, "crv", nil), ErrInvalidKey},
		{"ed missing kty", with(ed, "kty", nil), ErrInvalidKey},
		{"ed kty RSA", with(ed, "kty", "RSA"), ErrUnsupportedKey},
		{"ed kty oct", with(ed, "kty", "oct"), ErrUnsupportedKey},
		{"ed short x", with(ed, "x", short(ed["x"])), ErrInvalidKey},
		{"ed short d", with(ed, "d", short(ed["d"])), ErrInvalidKey},
		{"ed padded x", with(ed, "x", padded(ed["x"])), ErrInvalidKey},
		{"ed std base64", with(ed, "x", strings.NewReplacer("-", "+", "_", "/").Replace(ed["x"].(string))+"+"), ErrInvalidKey},
		{"ed missing x", with(ed, "x", nil), ErrInvalidKey},
		{"ed missing d", with(ed, "d", nil), ErrInvalidKey},
		{"ed mismatched d", with(ed, "d", otherEd["d"]), ErrInvalidKey},
		{"ed with y", with(ed, "y", ec["y"]), ErrInvalidKey},
		{"ed x not string", with(ed, "x", 5), ErrInvalidKey},
		{"ed alg ES256", with(ed, "alg", "ES256"), ErrInvalidKey},
		{"ed use bad", with(ed, "use", "other"), ErrInvalidKey},
		{"ed unknown member", with(ed, "p", "AAAA"), ErrInvalidKey},
		{"ed key_ops not array", with(ed, "key_ops", "sign"), ErrInvalidKey},
		{"ec wrong crv", with(ec, "crv", "P-384"), ErrUnsupportedKey},
		{"ec secp256k1", with(ec, "crv", "secp256k1"), ErrUnsupportedKey},
		{"ec missing y", with(ec, "y", nil), ErrInvalidKey},
		{"ec short y", with(ec, "y", short(ec["y"])), ErrInvalidKey},
		{"ec short d", with(ec, "d", short(ec["d"])), ErrInvalidKey},
		{"ec mismatched d", with(ec, "d", other["d"]), ErrInvalidKey},
		{"ec mismatched y", with(ec, "y", other["y"]), ErrInvalidKey},
		{"ec point not on curve", with(ec, "x", other["x"]), ErrInvalidKey},
		{"ec zero d", with(ec, "d", b64.EncodeToString(make([]byte, 32))), ErrInvalidKey},
		{"ec alg EdDSA", with(ec, "alg", "EdDSA"), ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ParsePrivateJWK(tt.data)
			if !errors.Is(err, tt.wantErr) || key != nil {
				t.Fatalf("ParsePrivateJWK = %v, %v; want error %v", key != nil, err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidKey) && !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("error %v wraps neither ErrInvalidKey nor ErrUnsupportedKey", err)
			}
			for _, secret := range []any{ed["d"], ec["d"], other["d"], otherEd["d"]} {
				if strings.Contains(err.Error(), secret.(string)) {
					t.Fatalf("error message contains private key material: %v", err)
				}
			}
		})
	}
	// Members that RFC 7517 allows, with values that fit the key, are accepted.
	for _, data := range [][]byte{
		with(ed, "kid", "k1", "alg", "EdDSA", "use", "sig", "key_ops", []any{"sign"}, "ext", true),
		with(ed, "alg", "Ed25519"),
		with(ec, "kid", "k1", "alg", "ES256", "use", "sig"),
	} {
		if _, err := ParsePrivateJWK(data); err != nil {
			t.Errorf("valid private jwk rejected: %v", err)
		}
	}
}

func TestParsePublicJWKRejects(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr error
	}{
		{"private member", rfc8037Private, ErrInvalidKey},
		{"empty object", `{}`, ErrInvalidKey},
		{"rsa", `{"kty":"RSA","n":"AQAB","e":"AQAB"}`, ErrUnsupportedKey},
		{"kty not string", `{"kty":1,"crv":"Ed25519"}`, ErrInvalidKey},
		{"unknown member", `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","x5c":[]}`, ErrInvalidKey},
		{"rsa no extra members", `{"kty":"RSA"}`, ErrUnsupportedKey},
		{"x25519", `{"kty":"OKP","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`, ErrUnsupportedKey},
		{"p-384", `{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}`, ErrUnsupportedKey},
		{"ed short x", `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR"}`, ErrInvalidKey},
		{"duplicate x", `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`, jsonstrict.ErrDuplicateKey},
		{"ec zero point", `{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`, ErrInvalidKey},
		{"not json", `kty=OKP`, ErrInvalidKey},
		{"deep", `{"kty":"OKP","key_ops":[[[["x"]]]]}`, jsonstrict.ErrTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, err := ParsePublicJWK([]byte(tt.data))
			if !errors.Is(err, tt.wantErr) || pub != nil {
				t.Fatalf("ParsePublicJWK = %v, %v; want error %v", pub, err, tt.wantErr)
			}
		})
	}
	if _, err := PublicKeyFromJWKMap(nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("nil map: error = %v, want ErrInvalidKey", err)
	}
}

func TestMarshalPrivateJWKRejects(t *testing.T) {
	if _, err := MarshalPrivateJWK(nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("nil key: error = %v, want ErrInvalidKey", err)
	}
	if _, err := MarshalPrivateJWK(ed25519.PrivateKey(make([]byte, 10))); err == nil {
		t.Error("short ed25519 private key accepted")
	}
	if _, err := MarshalPrivateJWK(fakeSigner{}); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("foreign signer: error = %v, want ErrUnsupportedKey", err)
	}
}

// fakeSigner is a signer with a supported public key but no exportable private key.
type fakeSigner struct{}

func (fakeSigner) Public() crypto.PublicKey {
	return ed25519.NewKeyFromSeed(make([]byte, 32)).Public()
}

func (fakeSigner) Sign(_ io.Reader, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("not implemented")
}

func FuzzParsePrivateJWK(f *testing.F) {
	f.Add([]byte(rfc8037Private))
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns","y":"efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM","d":"gPh-VvVS8MbvKQ9LSVVmfnxnKjHn4Tqj0bmbpehRlpc"}`))
	f.Add([]byte(`{"kty":"OKP","d":"","d":""}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := ParsePrivateJWK(data)
		if err != nil {
			if key != nil {
				t.Fatal("key returned with an error")
			}
			return
		}
		// An accepted key re-encodes and parses to the same key.
		again, err := MarshalPrivateJWK(key)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParsePrivateJWK(again)
		if err != nil {
			t.Fatal(err)
		}
		if !publicEqual(key.Public(), back.Public()) {
			t.Fatal("round trip changed the key")
		}
		switch key.(type) {
		case ed25519.PrivateKey, *ecdsa.PrivateKey:
		default:
			t.Fatalf("unexpected key type %T", key)
		}
	})
}

func FuzzParsePublicJWK(f *testing.F) {
	f.Add([]byte(rfc8037Public))
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns","y":"efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM"}`))
	f.Add([]byte(rfc8037Private))
	f.Add([]byte(`{"kty":"RSA"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pub, err := ParsePublicJWK(data)
		if err != nil {
			if pub != nil {
				t.Fatal("key returned with an error")
			}
			return
		}
		m, err := PublicJWK(pub)
		if err != nil {
			t.Fatalf("accepted key cannot be re-encoded: %v", err)
		}
		back, err := PublicKeyFromJWKMap(m)
		if err != nil || !publicEqual(pub, back) {
			t.Fatalf("round trip changed the key: %v", err)
		}
	})
}
