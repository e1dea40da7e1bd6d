package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/civitas-net/civitas/internal/jsonstrict"
)

// jwkLimits bound a single JWK. A P-256 private JWK is about 200 bytes.
var jwkLimits = jsonstrict.Limits{MaxBytes: 8 << 10, MaxDepth: 3, MaxKeys: 32}

// b64 is unpadded base64url that rejects non-zero trailing bits, so every byte string
// has exactly one accepted encoding.
var b64 = base64.RawURLEncoding.Strict()

// coordSize is the length in bytes of a P-256 coordinate and scalar.
const coordSize = 32

// PublicJWK returns the public JWK of pub with only the members kty, crv, x and (for EC)
// y, ready for json.Marshal (whose sorted member order is the RFC 7638 / JCS order).
func PublicJWK(pub crypto.PublicKey) (map[string]any, error) {
	alg, raw, err := publicBytes(pub)
	if err != nil {
		return nil, err
	}
	if alg == Ed25519 {
		return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(raw)}, nil
	}
	return map[string]any{
		"kty": "EC",
		"crv": "P-256",
		"x":   b64.EncodeToString(raw[1 : 1+coordSize]),
		"y":   b64.EncodeToString(raw[1+coordSize:]),
	}, nil
}

// MarshalPrivateJWK encodes a private key as a JWK with the members kty, crv, x, y (EC
// only) and d, in sorted member order. The result holds secret material.
func MarshalPrivateJWK(key crypto.Signer) ([]byte, error) {
	var d []byte
	switch k := key.(type) {
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: ed25519 private key has the wrong length", ErrInvalidKey)
		}
		d = bytes.Clone(k.Seed())
	case *ecdsa.PrivateKey:
		if k == nil {
			return nil, fmt.Errorf("%w: nil private key", ErrInvalidKey)
		}
		var err error
		if d, err = k.Bytes(); err != nil {
			return nil, fmt.Errorf("%w: p-256 private key cannot be encoded", ErrInvalidKey)
		}
	case nil:
		return nil, fmt.Errorf("%w: nil private key", ErrInvalidKey)
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, key)
	}
	defer clear(d)
	m, err := PublicJWK(key.Public())
	if err != nil {
		return nil, err
	}
	m["d"] = b64.EncodeToString(d)
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: encode jwk", ErrInvalidKey)
	}
	return out, nil
}

// ParsePrivateJWK decodes a private JWK (OKP/Ed25519 or EC/P-256) strictly and checks
// that its public members match the private member d. Errors never contain key material.
func ParsePrivateJWK(data []byte) (crypto.Signer, error) {
	var m map[string]any
	if err := jsonstrict.Unmarshal(data, &m, jwkLimits); err != nil {
		return nil, fmt.Errorf("%w: private jwk is not strict json: %w", ErrInvalidKey, jsonSentinel(err))
	}
	j, err := readJWK(m)
	if err != nil {
		return nil, err
	}
	if j.d == nil {
		return nil, fmt.Errorf("%w: private jwk has no \"d\" member", ErrInvalidKey)
	}
	defer clear(j.d)
	switch j.alg {
	case Ed25519:
		if len(j.d) != ed25519.SeedSize {
			return nil, fmt.Errorf("%w: ed25519 \"d\" has the wrong length", ErrInvalidKey)
		}
		priv := ed25519.NewKeyFromSeed(j.d)
		if subtle.ConstantTimeCompare(priv[ed25519.SeedSize:], j.x) != 1 {
			clear(priv)
			return nil, fmt.Errorf("%w: public part does not match the private key", ErrInvalidKey)
		}
		return priv, nil
	default: // P256
		if len(j.d) != coordSize {
			return nil, fmt.Errorf("%w: p-256 \"d\" has the wrong length", ErrInvalidKey)
		}
		priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), j.d)
		if err != nil {
			return nil, fmt.Errorf("%w: p-256 private scalar out of range", ErrInvalidKey)
		}
		pub, err := priv.PublicKey.Bytes()
		if err != nil || subtle.ConstantTimeCompare(pub, j.point()) != 1 {
			return nil, fmt.Errorf("%w: public part does not match the private key", ErrInvalidKey)
		}
		return priv, nil
	}
}

// ParsePublicJWK decodes a public JWK (OKP/Ed25519 or EC/P-256) strictly. A JWK that
// carries the private member "d" is rejected.
func ParsePublicJWK(data []byte) (crypto.PublicKey, error) {
	var m map[string]any
	if err := jsonstrict.Unmarshal(data, &m, jwkLimits); err != nil {
		return nil, fmt.Errorf("%w: jwk is not strict json: %w", ErrInvalidKey, jsonSentinel(err))
	}
	return PublicKeyFromJWKMap(m)
}

// PublicKeyFromJWKMap is ParsePublicJWK for a JWK already decoded into a map (for example
// the publicKeyJwk member of a verification method). The same member rules apply.
func PublicKeyFromJWKMap(m map[string]any) (crypto.PublicKey, error) {
	j, err := readJWK(m)
	if err != nil {
		return nil, err
	}
	if j.d != nil {
		clear(j.d)
		return nil, fmt.Errorf("%w: private member \"d\" in a public jwk", ErrInvalidKey)
	}
	if j.alg == Ed25519 {
		return ed25519.PublicKey(j.x), nil
	}
	pub, err := parseP256Uncompressed(j.point())
	if err != nil {
		return nil, err
	}
	return pub, nil
}

// jwkFields is a validated JWK: the key type and its decoded byte strings.
type jwkFields struct {
	alg     Algorithm
	x, y, d []byte
}

// point returns the uncompressed SEC 1 encoding of an EC JWK's public point.
func (j *jwkFields) point() []byte {
	p := make([]byte, 0, 1+2*coordSize)
	p = append(p, 0x04)
	p = append(p, j.x...)
	return append(p, j.y...)
}

// readJWK checks the members of a decoded JWK and decodes its byte strings. It checks
// lengths of x and y but leaves d's length and the curve check to the caller.
func readJWK(m map[string]any) (*jwkFields, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: jwk is not a json object", ErrInvalidKey)
	}
	str := func(name string) (string, bool, error) {
		v, ok := m[name]
		if !ok {
			return "", false, nil
		}
		s, isStr := v.(string)
		if !isStr {
			return "", true, fmt.Errorf("%w: jwk member %q is not a string", ErrInvalidKey, name)
		}
		return s, true, nil
	}
	kty, _, err := str("kty")
	if err != nil {
		return nil, err
	}
	crv, hasCrv, err := str("crv")
	if err != nil {
		return nil, err
	}
	var j jwkFields
	switch kty {
	case "OKP":
		if crv != "Ed25519" {
			if !hasCrv {
				return nil, fmt.Errorf("%w: okp jwk has no \"crv\"", ErrInvalidKey)
			}
			return nil, fmt.Errorf("%w: okp curve %.16q", ErrUnsupportedKey, crv)
		}
		if _, ok := m["y"]; ok {
			return nil, fmt.Errorf("%w: okp jwk has a \"y\" member", ErrInvalidKey)
		}
		j.alg = Ed25519
	case "EC":
		if crv != "P-256" {
			if !hasCrv {
				return nil, fmt.Errorf("%w: ec jwk has no \"crv\"", ErrInvalidKey)
			}
			return nil, fmt.Errorf("%w: ec curve %.16q", ErrUnsupportedKey, crv)
		}
		j.alg = P256
	case "":
		return nil, fmt.Errorf("%w: jwk has no \"kty\"", ErrInvalidKey)
	default:
		return nil, fmt.Errorf("%w: jwk kty %.16q", ErrUnsupportedKey, kty)
	}
	for name, v := range m {
		switch name {
		case "kty", "crv", "x", "y", "d", "kid", "alg", "use":
			if _, ok := v.(string); !ok {
				return nil, fmt.Errorf("%w: jwk member %q is not a string", ErrInvalidKey, name)
			}
		case "key_ops":
			ops, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%w: jwk member \"key_ops\" is not an array", ErrInvalidKey)
			}
			for _, op := range ops {
				if _, ok := op.(string); !ok {
					return nil, fmt.Errorf("%w: jwk member \"key_ops\" holds a non-string", ErrInvalidKey)
				}
			}
		case "ext":
			if _, ok := v.(bool); !ok {
				return nil, fmt.Errorf("%w: jwk member \"ext\" is not a boolean", ErrInvalidKey)
			}
		default:
			return nil, fmt.Errorf("%w: jwk has an unsupported member", ErrInvalidKey)
		}
	}
	if alg, ok, _ := str("alg"); ok {
		want := "ES256"
		if j.alg == Ed25519 {
			want = "EdDSA"
		}
		if alg != want && !(j.alg == Ed25519 && alg == "Ed25519") {
			return nil, fmt.Errorf("%w: jwk \"alg\" does not fit the key type", ErrInvalidKey)
		}
	}
	if use, ok, _ := str("use"); ok && use != "sig" && use != "enc" {
		return nil, fmt.Errorf("%w: jwk \"use\" must be \"sig\" or \"enc\"", ErrInvalidKey)
	}
	if j.x, err = decodeMember(m, "x", coordSize); err != nil {
		return nil, err
	}
	if j.alg == P256 {
		if j.y, err = decodeMember(m, "y", coordSize); err != nil {
			return nil, err
		}
	}
	if _, ok := m["d"]; ok {
		if j.d, err = decodeMember(m, "d", -1); err != nil {
			return nil, err
		}
	}
	return &j, nil
}

// decodeMember decodes a required base64url member; size < 0 skips the length check.
func decodeMember(m map[string]any, name string, size int) ([]byte, error) {
	s, ok := m[name].(string)
	if !ok {
		return nil, fmt.Errorf("%w: jwk has no %q member", ErrInvalidKey, name)
	}
	if len(s) > 256 {
		return nil, fmt.Errorf("%w: jwk member %q is too long", ErrInvalidKey, name)
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: jwk member %q is not unpadded base64url", ErrInvalidKey, name)
	}
	if size >= 0 && len(b) != size {
		return nil, fmt.Errorf("%w: jwk member %q has %d bytes, want %d", ErrInvalidKey, name, len(b), size)
	}
	return b, nil
}

// jsonSentinel keeps only the jsonstrict sentinel of err, so that no excerpt of the
// input (which may be secret) reaches an error message.
func jsonSentinel(err error) error {
	for _, s := range []error{jsonstrict.ErrDuplicateKey, jsonstrict.ErrTooLarge, jsonstrict.ErrTooDeep, jsonstrict.ErrSyntax} {
		if errors.Is(err, s) {
			return s
		}
	}
	return jsonstrict.ErrSyntax
}
