package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// RawSignatureSize is the size of every SignRaw signature.
const RawSignatureSize = 64

// SignRaw signs msg the way JWS (RFC 7518 §3.4, RFC 8037) and the Data Integrity
// cryptosuites expect: Ed25519 over msg itself, or ECDSA P-256 over SHA-256(msg)
// returned as r||s, 32 bytes each (not the ASN.1 form crypto.Signer returns).
func SignRaw(key crypto.Signer, msg []byte) ([]byte, error) {
	switch pub := key.Public().(type) {
	case ed25519.PublicKey:
		sig, err := key.Sign(rand.Reader, msg, crypto.Hash(0))
		if err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		if len(sig) != ed25519.SignatureSize {
			return nil, errors.New("sign: the signer returned a malformed Ed25519 signature")
		}
		return sig, nil
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return nil, fmt.Errorf("sign: %w: ecdsa on %s", ErrUnsupportedKey, pub.Curve.Params().Name)
		}
		digest := sha256.Sum256(msg)
		der, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		var r, s big.Int
		in := cryptobyte.String(der)
		var seq cryptobyte.String
		if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
			!seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) || !seq.Empty() ||
			r.Sign() <= 0 || s.Sign() <= 0 || r.BitLen() > 256 || s.BitLen() > 256 {
			return nil, errors.New("sign: the signer returned a malformed ECDSA signature")
		}
		out := make([]byte, RawSignatureSize)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out, nil
	}
	return nil, fmt.Errorf("sign: %w: %T", ErrUnsupportedKey, key.Public())
}

// VerifyRaw reports whether sig is a SignRaw signature of msg by pub. Keys of other
// types, invalid keys and signatures of the wrong size are false, never a panic.
func VerifyRaw(pub crypto.PublicKey, msg, sig []byte) bool {
	if len(sig) != RawSignatureSize {
		return false
	}
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return len(k) == ed25519.PublicKeySize && ed25519.Verify(k, msg, sig)
	case *ecdsa.PublicKey:
		if k == nil || k.Curve != elliptic.P256() {
			return false
		}
		// Missing coordinates make crypto/ecdsa panic; they are only tested for nil.
		//lint:ignore SA1019 the deprecated coordinates are read only to refuse nil ones.
		if k.X == nil || k.Y == nil {
			return false
		}
		if _, err := k.Bytes(); err != nil { // not a point on the curve
			return false
		}
		digest := sha256.Sum256(msg)
		return ecdsa.Verify(k, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	}
	return false
}
