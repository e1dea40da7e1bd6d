// Package keystore protects secrets at rest: signing keys the issuer service stores
// sealed in its database, and (later) the wallet's encrypted store and backups.
//
// A Key is a 32-byte key-encryption key derived from a secret with Argon2id (RFC 9106)
// by DeriveKey. Key.Seal encrypts with XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha, as
// implemented by golang.org/x/crypto/chacha20poly1305.NewX) under a random 24-byte
// nonce; the sealed form is a version byte, the nonce and the ciphertext with its tag.
// Additional data binds a ciphertext to its use (a key ID, a record ID): a sealed blob
// moved to another record does not open. Every failure to open, whatever its cause
// (wrong key, tampering, truncation, unknown version), is the one error ErrDecrypt.
//
// SealWithPassphrase makes a self-describing envelope for passphrase-protected files:
// a 32-byte header (the magic "CIVKS1", a version byte, the Argon2id parameters and a
// 16-byte salt) followed by the sealed payload. The header is authenticated (it is part
// of the additional data), and parameters read from it are refused below MinParams and
// above MaxParams, so a hostile file can neither weaken the derivation to nothing nor
// make the reader allocate gigabytes.
//
// A Key never shows its bytes: String, GoString and Format print a fixed redacted text
// for every verb, and errors never contain key material or plaintext.
//
// What it does not do: it does not store anything (callers write the sealed bytes, with
// package internal/atomicfile for files), it does not rotate or re-wrap keys, it does not
// stream (payloads are held in memory; use it for keys and small records, not for large
// files), and it does not lock memory or promise that copies of secrets are wiped from
// it. Passphrase strength is the caller's concern.
package keystore
