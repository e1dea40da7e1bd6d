// Package keys generates signing keys and moves them between their in-memory form
// (crypto.Signer, crypto.PublicKey) and the encodings Civitas reads and writes.
//
// It implements:
//   - JSON Web Keys (RFC 7517) for the key types of RFC 8037 (OKP / Ed25519) and
//     RFC 7518 §6.2 (EC / P-256), public and private, including atomic private key files;
//   - the Multikey encoding of W3C Controlled Identifiers v1.0 (multibase base58btc of a
//     multicodec varint prefix and the key bytes) for Ed25519 (0xed) and P-256 (0x1200,
//     compressed point) public keys, and for Ed25519 (0x1300) and P-256 (0x1306) private
//     keys when decoding.
//
// Only Ed25519 and P-256 are supported. Other key types (RSA, P-384, P-521, secp256k1,
// X25519, symmetric keys) are rejected with ErrUnsupportedKey.
//
// JWK parsing is strict: input must pass internal/jsonstrict (no duplicate or case-folded
// duplicate members), only the members kty, crv, x, y, d, kid, alg, use, key_ops and ext
// are accepted, every byte string must be unpadded base64url of the exact length, EC points
// must lie on the curve, and a private key's public members must match its private part.
// Public-key parsers reject JWKs carrying the private member "d".
//
// It does not: encrypt keys at rest (see the keystore), compute JWK thumbprints, encode
// private keys as Multikey, derive X25519 keys from Ed25519 keys, or check file
// permissions when loading (it only creates files with mode 0600). Error messages never
// contain key material.
package keys
