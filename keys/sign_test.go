package keys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"math/big"
	"testing"
)

func TestSignRaw(t *testing.T) {
	msg := []byte("civitas raw signature")
	for _, alg := range []Algorithm{Ed25519, P256} {
		key, err := Generate(alg)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := SignRaw(key, msg)
		if err != nil || len(sig) != RawSignatureSize {
			t.Fatalf("%s: %v %d", alg, err, len(sig))
		}
		if !VerifyRaw(key.Public(), msg, sig) {
			t.Fatalf("%s: own signature refused", alg)
		}
		// Checked with the standard library on its own terms.
		switch k := key.Public().(type) {
		case ed25519.PublicKey:
			if !ed25519.Verify(k, msg, sig) {
				t.Fatal("not an Ed25519 signature of msg")
			}
		case *ecdsa.PublicKey:
			d := sha256.Sum256(msg)
			if !ecdsa.Verify(k, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
				t.Fatal("not r||s of an ECDSA signature over SHA-256(msg)")
			}
		}
		other, _ := Generate(alg)
		bad := append([]byte(nil), sig...)
		bad[10] ^= 1
		for name, ok := range map[string]bool{
			"other message": VerifyRaw(key.Public(), []byte("other"), sig),
			"flipped bit":   VerifyRaw(key.Public(), msg, bad),
			"other key":     VerifyRaw(other.Public(), msg, sig),
			"short":         VerifyRaw(key.Public(), msg, sig[:63]),
			"long":          VerifyRaw(key.Public(), msg, append(sig, 0)),
			"empty":         VerifyRaw(key.Public(), msg, nil),
		} {
			if ok {
				t.Fatalf("%s: %s accepted", alg, name)
			}
		}
	}
}

func TestVerifyRawOddKeys(t *testing.T) {
	sig := make([]byte, RawSignatureSize)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, pub := range map[string]any{
		"nil":            nil,
		"nil ecdsa":      (*ecdsa.PublicKey)(nil),
		"no coordinates": &ecdsa.PublicKey{Curve: elliptic.P256()},
		"off the curve":  offCurve(),
		"p-384":          &p384.PublicKey,
		"short ed25519":  ed25519.PublicKey(make([]byte, 31)),
		"a string":       "key",
	} {
		if VerifyRaw(pub, []byte("m"), sig) {
			t.Fatalf("%s accepted", name)
		}
	}
	if _, err := SignRaw(p384, []byte("m")); err == nil {
		t.Fatal("signed with P-384")
	}
}

// offCurve is a P-256 key whose coordinates are not a point on the curve.
func offCurve() *ecdsa.PublicKey {
	k := &ecdsa.PublicKey{Curve: elliptic.P256()}
	//lint:ignore SA1019 building an invalid key on purpose.
	k.X, k.Y = big.NewInt(1), big.NewInt(1)
	return k
}
