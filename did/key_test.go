package did

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/keys"
	"github.com/multiformats/go-multibase"

	"github.com/civitas-net/civitas/internal/testvectors"
)

// keyEqual compares two public keys of the standard library types.
func keyEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

func readVectors(t *testing.T, name string) map[string]map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testvectors.Dir(t), "did-key", name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]map[string]json.RawMessage
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if len(v) == 0 {
		t.Fatalf("%s holds no vectors", name)
	}
	return v
}

// base58 decodes a bare base58btc string with the multibase library.
func base58(t *testing.T, s string) []byte {
	t.Helper()
	_, b, err := multibase.Decode("z" + s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// resolvedKey resolves a DID with a default resolver and decodes its one verification
// method's key, checking the document's shape along the way.
func resolvedKey(t *testing.T, did string) any {
	t.Helper()
	r := NewResolver()
	doc, err := r.Resolve(context.Background(), did)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(doc.VerificationMethod) != 1 {
		t.Fatalf("%d verification methods, want 1", len(doc.VerificationMethod))
	}
	vm := doc.VerificationMethod[0]
	mb := strings.TrimPrefix(did, "did:key:")
	if vm.ID != did+"#"+mb || vm.Type != TypeMultikey || vm.Controller != did || vm.PublicKeyMultibase != mb {
		t.Fatalf("unexpected verification method %+v", vm)
	}
	for _, rel := range []Relationship{Authentication, AssertionMethod, CapabilityInvocation, CapabilityDelegation} {
		got, pub, err := r.ResolveVerificationMethod(context.Background(), vm.ID, rel)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if got.ID != vm.ID {
			t.Fatalf("%s: got method %q", rel, got.ID)
		}
		want, err := vm.PublicKey()
		if err != nil || !keyEqual(want, pub) {
			t.Fatalf("%s: key mismatch (%v)", rel, err)
		}
	}
	if _, _, err := r.ResolveVerificationMethod(context.Background(), vm.ID, KeyAgreement); !errors.Is(err, ErrRelationship) {
		t.Fatalf("keyAgreement: error = %v, want ErrRelationship", err)
	}
	pub, err := vm.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestKeyVectorsEd25519(t *testing.T) {
	for did, v := range readVectors(t, "ed25519-x25519.json") {
		t.Run(did, func(t *testing.T) {
			var seedHex string
			if err := json.Unmarshal(v["seed"], &seedHex); err != nil {
				t.Fatal(err)
			}
			seed, err := hex.DecodeString(seedHex)
			if err != nil || len(seed) != ed25519.SeedSize {
				t.Fatalf("bad seed %q: %v", seedHex, err)
			}
			priv := ed25519.NewKeyFromSeed(seed)
			got, err := KeyDID(priv.Public())
			if err != nil {
				t.Fatal(err)
			}
			if got != did {
				t.Fatalf("KeyDID = %q, want %q", got, did)
			}
			var pair struct {
				PublicKeyBase58 string         `json:"publicKeyBase58"`
				PublicKeyJwk    map[string]any `json:"publicKeyJwk"`
			}
			if err := json.Unmarshal(v["verificationKeyPair"], &pair); err != nil {
				t.Fatal(err)
			}
			var want []byte
			switch {
			case pair.PublicKeyBase58 != "":
				want = base58(t, pair.PublicKeyBase58)
			case pair.PublicKeyJwk != nil:
				want, err = base64.RawURLEncoding.DecodeString(pair.PublicKeyJwk["x"].(string))
				if err != nil {
					t.Fatal(err)
				}
			default:
				t.Fatal("vector has no public key")
			}
			pub := resolvedKey(t, did)
			edPub, ok := pub.(ed25519.PublicKey)
			if !ok || string(edPub) != string(want) {
				t.Fatalf("resolved key %x, want %x", pub, want)
			}
		})
	}
}

func TestKeyVectorsNIST(t *testing.T) {
	var p256 int
	for did, v := range readVectors(t, "nist-curves.json") {
		t.Run(did, func(t *testing.T) {
			var vm struct {
				PublicKeyJwk    map[string]any `json:"publicKeyJwk"`
				PublicKeyBase58 string         `json:"publicKeyBase58"`
			}
			if err := json.Unmarshal(v["verificationMethod"], &vm); err != nil {
				t.Fatal(err)
			}
			crv, _ := vm.PublicKeyJwk["crv"].(string)
			if vm.PublicKeyJwk == nil && strings.HasPrefix(did, "did:key:zDn") {
				crv = "P-256" // P256Key2021 entry: compressed point in base58
			}
			if crv != "P-256" {
				// Only Ed25519 and P-256 are supported; the other curves must fail cleanly.
				_, err := NewResolver().Resolve(context.Background(), did)
				if !errors.Is(err, ErrUnsupportedKey) {
					t.Fatalf("%s did:key resolved with error %v, want ErrUnsupportedKey", crv, err)
				}
				t.Skipf("%s is not supported (only Ed25519 and P-256); clean rejection checked", crv)
			}
			p256++
			pub, ok := resolvedKey(t, did).(*ecdsa.PublicKey)
			if !ok {
				t.Fatal("resolved key is not ECDSA")
			}
			raw, err := pub.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if vm.PublicKeyJwk != nil {
				x, errX := base64.RawURLEncoding.DecodeString(vm.PublicKeyJwk["x"].(string))
				y, errY := base64.RawURLEncoding.DecodeString(vm.PublicKeyJwk["y"].(string))
				if errX != nil || errY != nil {
					t.Fatal(errX, errY)
				}
				if string(raw[1:33]) != string(x) || string(raw[33:]) != string(y) {
					t.Fatal("resolved x, y differ from the vector's publicKeyJwk")
				}
				// And the other way: the vector's JWK gives the vector's DID.
				jwkPub, err := keys.PublicKeyFromJWKMap(vm.PublicKeyJwk)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := KeyDID(jwkPub); err != nil || got != did {
					t.Fatalf("KeyDID(vector jwk) = %q, %v", got, err)
				}
			} else {
				compressed := base58(t, vm.PublicKeyBase58)
				if len(compressed) != 33 || string(compressed[1:]) != string(raw[1:33]) || compressed[0] != 2|raw[64]&1 {
					t.Fatal("resolved key differs from the vector's compressed publicKeyBase58")
				}
			}
		})
	}
	if p256 == 0 {
		t.Fatal("no P-256 vector found")
	}
}

func TestKeyDIDRoundTrip(t *testing.T) {
	for _, alg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
		key, err := keys.Generate(alg)
		if err != nil {
			t.Fatal(err)
		}
		did, err := KeyDID(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		url, err := KeyURL(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(url, did+"#z") {
			t.Fatalf("KeyURL %q does not extend %q", url, did)
		}
		_, pub, err := NewResolver().ResolveVerificationMethod(context.Background(), url, AssertionMethod)
		if err != nil {
			t.Fatal(err)
		}
		if !keyEqual(key.Public(), pub) {
			t.Fatal("resolved key differs")
		}
	}
	if _, err := KeyDID(ed25519.PublicKey{1, 2}); !errors.Is(err, keys.ErrInvalidKey) {
		t.Errorf("KeyDID(short key) error = %v", err)
	}
	if _, err := KeyURL(nil); !errors.Is(err, keys.ErrInvalidKey) {
		t.Errorf("KeyURL(nil) error = %v", err)
	}
}

func TestKeyResolveRejects(t *testing.T) {
	tests := []struct {
		did     string
		wantErr error
	}{
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW", ErrInvalidDID},   // truncated
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWpp", ErrInvalidDID}, // extended
		{"did:key:u7QE", ErrInvalidDID},
		{"did:key:1:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", ErrInvalidDID},
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp%41", ErrInvalidDID},
		{"did:key:z" + strings.Repeat("2", 300), ErrInvalidDID},
		{"did:key:z82Lm1MpAkeJcix9K8TMiLd5NMAhnwkjjCBeWHXyu3U4oT2MVJJKXkcVBgjGhnLBn2Kaau9", ErrUnsupportedKey},
		{"did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", ErrUnsupportedKey}, // secp256k1
	}
	for _, tt := range tests {
		t.Run(tt.did, func(t *testing.T) {
			doc, err := NewResolver().Resolve(context.Background(), tt.did)
			if !errors.Is(err, tt.wantErr) || doc != nil {
				t.Fatalf("Resolve = %v, %v; want %v", doc, err, tt.wantErr)
			}
		})
	}
	if _, err := (KeyMethod{}).Resolve(context.Background(), DID{Method: "jwk", ID: "x"}); !errors.Is(err, ErrMethodNotSupported) {
		t.Errorf("KeyMethod with did:jwk: error = %v", err)
	}
}
