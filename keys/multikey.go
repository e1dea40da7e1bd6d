package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/binary"
	"fmt"

	"github.com/multiformats/go-multibase"
)

// Multicodec codes (https://github.com/multiformats/multicodec/blob/master/table.csv).
const (
	codecEd25519Pub  = 0xed
	codecP256Pub     = 0x1200
	codecEd25519Priv = 0x1300
	codecP256Priv    = 0x1306
)

// maxMultikeyLen bounds the encoded input before base58 decoding (which is quadratic).
// The longest supported key, a P-256 private or public key, encodes in under 60
// characters.
const maxMultikeyLen = 128

// EncodeMultikey encodes a public key as a Multikey publicKeyMultibase value: 'z'
// (base58btc) followed by the multicodec varint prefix and the key. Ed25519 keys use
// 0xed (bytes 0xed 0x01) and 32 bytes; P-256 keys use 0x1200 (bytes 0x80 0x24) and the
// 33-byte compressed point.
func EncodeMultikey(pub crypto.PublicKey) (string, error) {
	alg, raw, err := publicBytes(pub)
	if err != nil {
		return "", err
	}
	var buf []byte
	switch alg {
	case Ed25519:
		buf = binary.AppendUvarint(make([]byte, 0, 2+len(raw)), codecEd25519Pub)
		buf = append(buf, raw...)
	case P256:
		buf = binary.AppendUvarint(make([]byte, 0, 2+33), codecP256Pub)
		buf = append(buf, compressP256(raw)...)
	}
	s, err := multibase.Encode(multibase.Base58BTC, buf)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return s, nil
}

// DecodeMultikey decodes a Multikey publicKeyMultibase value produced by EncodeMultikey.
// Only the base58btc ('z') multibase prefix, minimal varints and the exact key lengths
// are accepted; P-256 points must be compressed and on the curve. Known but unsupported
// key codecs (P-384, secp256k1, X25519, …) are reported as ErrUnsupportedKey, other
// codes as ErrInvalidKey.
func DecodeMultikey(s string) (crypto.PublicKey, error) {
	codec, key, err := decodeMultikey(s)
	if err != nil {
		return nil, err
	}
	switch codec {
	case codecEd25519Pub:
		if len(key) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: ed25519 multikey of %d bytes", ErrInvalidKey, len(key))
		}
		return ed25519.PublicKey(bytes.Clone(key)), nil
	case codecP256Pub:
		pub, err := decompressP256(key)
		if err != nil {
			return nil, err
		}
		return pub, nil
	case codecEd25519Priv, codecP256Priv:
		return nil, fmt.Errorf("%w: private multikey where a public key is expected", ErrInvalidKey)
	}
	return nil, unknownCodec(codec)
}

// otherKeyCodecs are multicodec codes of key types this package knows of but does not
// support: secp256k1, X25519, BLS12-381 G1/G2, sr25519, P-384, P-521, Ed448, X448, RSA
// and SM2 public keys, and the matching private keys.
var otherKeyCodecs = map[uint64]bool{
	0xe7: true, 0xec: true, 0xea: true, 0xeb: true, 0xee: true, 0xef: true,
	0x1201: true, 0x1202: true, 0x1203: true, 0x1204: true, 0x1205: true, 0x1206: true,
	0x1301: true, 0x1302: true, 0x1303: true, 0x1305: true, 0x1307: true, 0x1308: true,
}

// unknownCodec reports a multicodec that is not a supported key: ErrUnsupportedKey for
// key codecs known to exist, ErrInvalidKey for anything else.
func unknownCodec(codec uint64) error {
	if otherKeyCodecs[codec] {
		return fmt.Errorf("%w: multicodec 0x%x", ErrUnsupportedKey, codec)
	}
	return fmt.Errorf("%w: multicodec 0x%x is not a key type", ErrInvalidKey, codec)
}

// DecodeMultikeyPrivate decodes a private key in Multikey form: multicodec 0x1300
// (bytes 0x80 0x26) and a 32-byte Ed25519 seed, or 0x1306 (bytes 0x86 0x26) and a
// 32-byte P-256 scalar. The published Data Integrity test vectors use the Ed25519 form
// ("z3u2…").
func DecodeMultikeyPrivate(s string) (crypto.Signer, error) {
	codec, key, err := decodeMultikey(s)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	switch codec {
	case codecEd25519Priv:
		if len(key) != ed25519.SeedSize {
			return nil, fmt.Errorf("%w: ed25519 private multikey has the wrong length", ErrInvalidKey)
		}
		return ed25519.NewKeyFromSeed(key), nil
	case codecP256Priv:
		if len(key) != 32 {
			return nil, fmt.Errorf("%w: p-256 private multikey has the wrong length", ErrInvalidKey)
		}
		priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), key)
		if err != nil {
			return nil, fmt.Errorf("%w: p-256 private scalar out of range", ErrInvalidKey)
		}
		return priv, nil
	case codecEd25519Pub, codecP256Pub:
		return nil, fmt.Errorf("%w: public multikey where a private key is expected", ErrInvalidKey)
	}
	return nil, unknownCodec(codec)
}

// decodeMultikey splits a base58btc multibase string into its multicodec code and the
// bytes after the varint.
func decodeMultikey(s string) (uint64, []byte, error) {
	if len(s) == 0 || s[0] != 'z' {
		return 0, nil, fmt.Errorf("%w: multikey must use base58btc ('z')", ErrInvalidKey)
	}
	if len(s) > maxMultikeyLen {
		return 0, nil, fmt.Errorf("%w: multikey longer than %d characters", ErrInvalidKey, maxMultikeyLen)
	}
	enc, data, err := multibase.Decode(s)
	if err != nil || enc != multibase.Base58BTC {
		return 0, nil, fmt.Errorf("%w: multikey is not valid base58btc", ErrInvalidKey)
	}
	codec, n := binary.Uvarint(data)
	if n <= 0 {
		return 0, nil, fmt.Errorf("%w: multikey has no valid multicodec prefix", ErrInvalidKey)
	}
	if n != len(binary.AppendUvarint(nil, codec)) {
		return 0, nil, fmt.Errorf("%w: multicodec prefix is not a minimal varint", ErrInvalidKey)
	}
	return codec, data[n:], nil
}

// compressP256 turns a 65-byte uncompressed point into its 33-byte compressed form.
func compressP256(uncompressed []byte) []byte {
	out := make([]byte, 33)
	out[0] = 0x02 | (uncompressed[64] & 1)
	copy(out[1:], uncompressed[1:33])
	return out
}

// decompressP256 validates a 33-byte compressed point and returns the public key.
func decompressP256(b []byte) (*ecdsa.PublicKey, error) {
	if len(b) != 33 || (b[0] != 0x02 && b[0] != 0x03) {
		return nil, fmt.Errorf("%w: p-256 multikey must be a 33-byte compressed point", ErrInvalidKey)
	}
	x, y := elliptic.UnmarshalCompressed(elliptic.P256(), b)
	if x == nil {
		return nil, fmt.Errorf("%w: p-256 point is not on the curve", ErrInvalidKey)
	}
	raw := make([]byte, 65)
	raw[0] = 0x04
	x.FillBytes(raw[1:33])
	y.FillBytes(raw[33:])
	return parseP256Uncompressed(raw)
}
