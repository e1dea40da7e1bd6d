package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
)

// Algorithm names a supported key type.
type Algorithm string

// Supported key types.
const (
	// Ed25519 is EdDSA over edwards25519 (RFC 8032); JWS algorithm "EdDSA".
	Ed25519 Algorithm = "Ed25519"
	// P256 is ECDSA over NIST P-256 with SHA-256; JWS algorithm "ES256".
	P256 Algorithm = "P-256"
)

// ParseAlgorithm maps a user-supplied key type name to an Algorithm. It accepts
// "Ed25519" and "ed25519" for Ed25519, and "P-256", "p-256", "P256" and "p256" for P-256.
// JWS algorithm names ("EdDSA", "ES256") are not accepted, because they name a signature
// scheme rather than a key type.
func ParseAlgorithm(s string) (Algorithm, error) {
	switch s {
	case "Ed25519", "ed25519":
		return Ed25519, nil
	case "P-256", "p-256", "P256", "p256":
		return P256, nil
	}
	return "", fmt.Errorf("%w: unknown algorithm name %.32q (want Ed25519 or P-256)", ErrUnsupportedKey, s)
}

// Generate creates a new private key of the given type from crypto/rand. The result is an
// ed25519.PrivateKey or an *ecdsa.PrivateKey on P-256.
func Generate(alg Algorithm) (crypto.Signer, error) {
	switch alg {
	case Ed25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate ed25519 key: %w", err)
		}
		return priv, nil
	case P256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate p-256 key: %w", err)
		}
		return priv, nil
	}
	return nil, fmt.Errorf("%w: %.32q", ErrUnsupportedKey, string(alg))
}

// AlgorithmOf reports the key type of a public key: an ed25519.PublicKey of 32 bytes or
// an *ecdsa.PublicKey on P-256.
func AlgorithmOf(pub crypto.PublicKey) (Algorithm, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", fmt.Errorf("%w: ed25519 public key of %d bytes", ErrInvalidKey, len(k))
		}
		return Ed25519, nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return "", fmt.Errorf("%w: nil ecdsa public key", ErrInvalidKey)
		}
		if k.Curve != elliptic.P256() {
			return "", fmt.Errorf("%w: ecdsa curve %s", ErrUnsupportedKey, k.Curve.Params().Name)
		}
		return P256, nil
	case nil:
		return "", fmt.Errorf("%w: nil public key", ErrInvalidKey)
	}
	return "", fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
}

// JWSAlgorithm returns the JWS "alg" value (RFC 7518, RFC 8037) used with the key:
// "EdDSA" for Ed25519 and "ES256" for P-256.
func JWSAlgorithm(pub crypto.PublicKey) (string, error) {
	alg, err := AlgorithmOf(pub)
	if err != nil {
		return "", err
	}
	if alg == Ed25519 {
		return "EdDSA", nil
	}
	return "ES256", nil
}

// publicBytes returns the raw public key: 32 bytes for Ed25519, the 65-byte uncompressed
// SEC 1 point for P-256.
func publicBytes(pub crypto.PublicKey) (Algorithm, []byte, error) {
	alg, err := AlgorithmOf(pub)
	if err != nil {
		return "", nil, err
	}
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return alg, []byte(k), nil
	case *ecdsa.PublicKey:
		b, err := k.Bytes()
		if err != nil {
			return "", nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		return alg, b, nil
	}
	return "", nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
}

// parseP256Uncompressed validates a 65-byte uncompressed SEC 1 point.
func parseP256Uncompressed(b []byte) (*ecdsa.PublicKey, error) {
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b)
	if err != nil {
		return nil, fmt.Errorf("%w: p-256 point is not on the curve", ErrInvalidKey)
	}
	return pub, nil
}
