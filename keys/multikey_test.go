package keys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multiformats/go-multibase"

	"github.com/civitas-net/civitas/internal/testvectors"
)

func TestMultikeyRoundTrip(t *testing.T) {
	for _, alg := range []Algorithm{Ed25519, P256} {
		t.Run(string(alg), func(t *testing.T) {
			for range 20 {
				key, err := Generate(alg)
				if err != nil {
					t.Fatal(err)
				}
				s, err := EncodeMultikey(key.Public())
				if err != nil {
					t.Fatal(err)
				}
				wantPrefix := map[Algorithm]string{Ed25519: "z6Mk", P256: "zDn"}[alg]
				if !strings.HasPrefix(s, wantPrefix) {
					t.Fatalf("multikey %q does not start with %q", s, wantPrefix)
				}
				got, err := DecodeMultikey(s)
				if err != nil {
					t.Fatal(err)
				}
				if !publicEqual(key.Public(), got) {
					t.Fatal("decoded key differs from the encoded key")
				}
			}
		})
	}
}

// TestMultikeyVectorKeyPair checks the published eddsa-rdfc-2022 key pair: the private
// seed's public key equals the public multikey.
func TestMultikeyVectorKeyPair(t *testing.T) {
	for _, suite := range []string{"eddsa-rdfc-2022", "eddsa-jcs-2022"} {
		t.Run(suite, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(testvectors.Dir(t), suite, "keyPair.json"))
			if err != nil {
				t.Fatal(err)
			}
			var kp struct {
				PublicKeyMultibase  string `json:"publicKeyMultibase"`
				PrivateKeyMultibase string `json:"privateKeyMultibase"`
			}
			if err := json.Unmarshal(data, &kp); err != nil {
				t.Fatal(err)
			}
			pub, err := DecodeMultikey(kp.PublicKeyMultibase)
			if err != nil {
				t.Fatal(err)
			}
			priv, err := DecodeMultikeyPrivate(kp.PrivateKeyMultibase)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := priv.(ed25519.PrivateKey); !ok {
				t.Fatalf("private key type %T, want ed25519.PrivateKey", priv)
			}
			if !publicEqual(priv.Public(), pub) {
				t.Fatal("public key of the private seed differs from publicKeyMultibase")
			}
			again, err := EncodeMultikey(priv.Public())
			if err != nil || again != kp.PublicKeyMultibase {
				t.Fatalf("EncodeMultikey = %q, %v; want %q", again, err, kp.PublicKeyMultibase)
			}
			// The key pair must not be usable the wrong way round.
			if _, err := DecodeMultikey(kp.PrivateKeyMultibase); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("DecodeMultikey(private) error = %v, want ErrInvalidKey", err)
			}
			if _, err := DecodeMultikeyPrivate(kp.PublicKeyMultibase); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("DecodeMultikeyPrivate(public) error = %v, want ErrInvalidKey", err)
			}
		})
	}
}

func TestDecodeMultikeyPrivateP256(t *testing.T) {
	key, err := Generate(P256)
	if err != nil {
		t.Fatal(err)
	}
	d, err := key.(*ecdsa.PrivateKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	s := mb(t, codecP256Priv, d)
	got, err := DecodeMultikeyPrivate(s)
	if err != nil {
		t.Fatal(err)
	}
	if !publicEqual(key.Public(), got.Public()) {
		t.Fatal("decoded p-256 private key differs")
	}
	if _, err := DecodeMultikeyPrivate(mb(t, codecP256Priv, make([]byte, 32))); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("zero scalar: error = %v, want ErrInvalidKey", err)
	}
}

// mb encodes a multicodec code and payload as base58btc multibase.
func mb(t testing.TB, codec uint64, payload []byte) string {
	t.Helper()
	buf := binary.AppendUvarint(nil, codec)
	s, err := multibase.Encode(multibase.Base58BTC, append(buf, payload...))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDecodeMultikeyRejects(t *testing.T) {
	ed, err := Generate(Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	edPub := []byte(ed.Public().(ed25519.PublicKey))
	p, err := Generate(P256)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := p.Public().(*ecdsa.PublicKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	compressed := compressP256(raw)
	offCurve := offCurveX(t)
	notCompressed := append([]byte{0x04}, raw[1:33]...)
	xTooBig := append([]byte{0x02}, make([]byte, 32)...)
	for i := 1; i < 33; i++ {
		xTooBig[i] = 0xff
	}
	b64, err := multibase.Encode(multibase.Base64url, append([]byte{0xed, 0x01}, edPub...))
	if err != nil {
		t.Fatal(err)
	}
	nonMinimal, err := multibase.Encode(multibase.Base58BTC, append([]byte{0xed, 0x81, 0x00}, edPub...))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"empty", "", ErrInvalidKey},
		{"only prefix", "z", ErrInvalidKey},
		{"base64url multibase", b64, ErrInvalidKey},
		{"no multibase prefix", mb(t, codecEd25519Pub, edPub)[1:], ErrInvalidKey},
		{"invalid base58 char", "z6Mk0OIl", ErrInvalidKey},
		{"too long", "z" + strings.Repeat("2", 200), ErrInvalidKey},
		{"truncated varint", "z" + mustB58(t, []byte{0x80}), ErrInvalidKey},
		{"non-minimal varint", nonMinimal, ErrInvalidKey},
		{"ed25519 short", mb(t, codecEd25519Pub, edPub[:31]), ErrInvalidKey},
		{"ed25519 long", mb(t, codecEd25519Pub, append(edPub, 0)), ErrInvalidKey},
		{"p-256 uncompressed", mb(t, codecP256Pub, raw), ErrInvalidKey},
		{"p-256 bad tag", mb(t, codecP256Pub, notCompressed), ErrInvalidKey},
		{"p-256 short", mb(t, codecP256Pub, compressed[:32]), ErrInvalidKey},
		{"p-256 off curve", mb(t, codecP256Pub, offCurve), ErrInvalidKey},
		{"p-256 x >= p", mb(t, codecP256Pub, xTooBig), ErrInvalidKey},
		{"ed25519 private", mb(t, codecEd25519Priv, make([]byte, 32)), ErrInvalidKey},
		{"p-384", mb(t, 0x1201, make([]byte, 49)), ErrUnsupportedKey},
		{"secp256k1", mb(t, 0xe7, make([]byte, 33)), ErrUnsupportedKey},
		{"x25519", mb(t, 0xec, make([]byte, 32)), ErrUnsupportedKey},
		{"not a key codec", mb(t, 0x04, make([]byte, 32)), ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeMultikey(tt.in)
			if !errors.Is(err, tt.wantErr) || got != nil {
				t.Fatalf("DecodeMultikey = %v, %v; want error %v", got, err, tt.wantErr)
			}
		})
	}
	// The valid encodings of the same keys are accepted, so the rejections above are
	// about the tampering and nothing else.
	for _, s := range []string{mb(t, codecEd25519Pub, edPub), mb(t, codecP256Pub, compressed)} {
		if _, err := DecodeMultikey(s); err != nil {
			t.Errorf("valid multikey rejected: %v", err)
		}
	}
}

func TestDecodeMultikeyPrivateRejects(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"empty", "", ErrInvalidKey},
		{"short seed", mb(t, codecEd25519Priv, make([]byte, 31)), ErrInvalidKey},
		{"long seed", mb(t, codecEd25519Priv, make([]byte, 33)), ErrInvalidKey},
		{"p-256 short", mb(t, codecP256Priv, make([]byte, 31)), ErrInvalidKey},
		{"public key", mb(t, codecEd25519Pub, make([]byte, 32)), ErrInvalidKey},
		{"rsa private", mb(t, 0x1305, make([]byte, 32)), ErrUnsupportedKey},
		{"not a key codec", mb(t, 0x55, make([]byte, 32)), ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeMultikeyPrivate(tt.in); !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// offCurveX returns a compressed-form encoding whose x has no point on P-256
// (x^3 - 3x + b is not a square mod p).
func offCurveX(t testing.TB) []byte {
	t.Helper()
	for x := byte(1); x < 100; x++ {
		b := append([]byte{0x02}, make([]byte, 32)...)
		b[32] = x
		if px, _ := elliptic.UnmarshalCompressed(elliptic.P256(), b); px == nil {
			return b
		}
	}
	t.Fatal("no off-curve x found")
	return nil
}

func mustB58(t testing.TB, b []byte) string {
	t.Helper()
	s, err := multibase.Encode(multibase.Base58BTC, b)
	if err != nil {
		t.Fatal(err)
	}
	return s[1:]
}

func FuzzDecodeMultikey(f *testing.F) {
	f.Add("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")
	f.Add("zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv")
	f.Add("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
	f.Add("z82Lm1MpAkeJcix9K8TMiLd5NMAhnwkjjCBeWHXyu3U4oT2MVJJKXkcVBgjGhnLBn2Kaau9")
	f.Add("u7QE")
	f.Add("z")
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := DecodeMultikey(s)
		if err != nil {
			if pub != nil {
				t.Fatal("key returned with an error")
			}
			if !errors.Is(err, ErrInvalidKey) && !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("error without sentinel: %v", err)
			}
			return
		}
		// Every accepted encoding is canonical: re-encoding gives the same string.
		again, err := EncodeMultikey(pub)
		if err != nil {
			t.Fatal(err)
		}
		if again != s {
			t.Fatalf("non-canonical multikey accepted: %q re-encodes as %q", s, again)
		}
		_, _ = DecodeMultikeyPrivate(s)
	})
}

func BenchmarkDecodeMultikey(b *testing.B) {
	for _, alg := range []Algorithm{Ed25519, P256} {
		key, err := Generate(alg)
		if err != nil {
			b.Fatal(err)
		}
		s, err := EncodeMultikey(key.Public())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(alg), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeMultikey(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
