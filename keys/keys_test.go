package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
)

func TestParseAlgorithm(t *testing.T) {
	tests := []struct {
		in      string
		want    Algorithm
		wantErr error
	}{
		{"Ed25519", Ed25519, nil},
		{"ed25519", Ed25519, nil},
		{"P-256", P256, nil},
		{"p-256", P256, nil},
		{"P256", P256, nil},
		{"p256", P256, nil},
		{"EdDSA", "", ErrUnsupportedKey},
		{"ES256", "", ErrUnsupportedKey},
		{"P-384", "", ErrUnsupportedKey},
		{"", "", ErrUnsupportedKey},
		{"ED25519 ", "", ErrUnsupportedKey},
	}
	for _, tt := range tests {
		got, err := ParseAlgorithm(tt.in)
		if !errors.Is(err, tt.wantErr) || got != tt.want {
			t.Errorf("ParseAlgorithm(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestGenerateAndAlgorithmOf(t *testing.T) {
	for _, tt := range []struct {
		alg Algorithm
		jws string
	}{{Ed25519, "EdDSA"}, {P256, "ES256"}} {
		t.Run(string(tt.alg), func(t *testing.T) {
			key, err := Generate(tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := AlgorithmOf(key.Public())
			if err != nil || got != tt.alg {
				t.Fatalf("AlgorithmOf = %q, %v; want %q", got, err, tt.alg)
			}
			jws, err := JWSAlgorithm(key.Public())
			if err != nil || jws != tt.jws {
				t.Fatalf("JWSAlgorithm = %q, %v; want %q", jws, err, tt.jws)
			}
		})
	}
	if _, err := Generate("RSA"); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("Generate(RSA) error = %v, want ErrUnsupportedKey", err)
	}
}

func TestAlgorithmOfRejects(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	edPriv := ed25519.NewKeyFromSeed(make([]byte, 32))
	tests := []struct {
		name    string
		pub     crypto.PublicKey
		wantErr error
	}{
		{"nil", nil, ErrInvalidKey},
		{"short ed25519", ed25519.PublicKey(make([]byte, 31)), ErrInvalidKey},
		{"nil ecdsa", (*ecdsa.PublicKey)(nil), ErrInvalidKey},
		{"p-384", &p384.PublicKey, ErrUnsupportedKey},
		{"rsa", &rsaKey.PublicKey, ErrUnsupportedKey},
		{"private key given", edPriv, ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := AlgorithmOf(tt.pub); !errors.Is(err, tt.wantErr) {
				t.Errorf("AlgorithmOf error = %v, want %v", err, tt.wantErr)
			}
			if _, err := JWSAlgorithm(tt.pub); !errors.Is(err, tt.wantErr) {
				t.Errorf("JWSAlgorithm error = %v, want %v", err, tt.wantErr)
			}
			if _, err := EncodeMultikey(tt.pub); !errors.Is(err, tt.wantErr) {
				t.Errorf("EncodeMultikey error = %v, want %v", err, tt.wantErr)
			}
			if _, err := PublicJWK(tt.pub); !errors.Is(err, tt.wantErr) {
				t.Errorf("PublicJWK error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// publicEqual compares two supported public keys.
func publicEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	ea, ok := a.(equaler)
	return ok && ea.Equal(b)
}
