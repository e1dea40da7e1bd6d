package wallet

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/civitas-net/civitas/internal/keystore"
)

// Additional data binding each sealed blob to its role. A credential's additional data
// also holds its ID, so a blob moved to another credential's file does not open.
const (
	adHeader     = "civitas/wallet/v1/header"
	adIdentity   = "civitas/wallet/v1/identity"
	adIndex      = "civitas/wallet/v1/index"
	adCredential = "civitas/wallet/v1/credential\x00"
	adBackup     = "civitas/wallet/v1/backup"
)

// masterKeySize is the size of the random master key the header holds.
const masterKeySize = 32

// HKDF labels of the keys derived from the master key.
const (
	infoSeal  = "civitas wallet v1 seal"
	infoNames = "civitas wallet v1 file names"
)

// errOpen reports a sealed blob that does not open; callers map it to ErrCorrupt.
var errOpen = errors.New("sealed data does not open")

// keyring holds the keys derived from a wallet's master key: one XChaCha20-Poly1305 key
// (a keystore.Key) that seals every file but the header, and one HMAC key that names
// credential files. Both come from the master key, which is already uniformly random,
// through HKDF: no second Argon2id derivation at each Open.
type keyring struct {
	seal  *keystore.Key
	names []byte
}

// newKeyring derives the keyring of a master key.
func newKeyring(master []byte) (*keyring, error) {
	sk, err := hkdf.Key(sha256.New, master, nil, infoSeal, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	defer clear(sk)
	key, err := keystore.NewKey(sk)
	if err != nil {
		return nil, err
	}
	nk, err := hkdf.Key(sha256.New, master, nil, infoNames, sha256.Size)
	if err != nil {
		return nil, err
	}
	return &keyring{seal: key, names: nk}, nil
}

// sealData encrypts plaintext bound to ad under a fresh random nonce.
func (k *keyring) sealData(plaintext []byte, ad string) []byte {
	return k.seal.Seal(plaintext, []byte(ad))
}

// open authenticates and decrypts a blob made by sealData with the same ad.
func (k *keyring) open(sealed []byte, ad string) ([]byte, error) {
	out, err := k.seal.Open(sealed, []byte(ad))
	if err != nil {
		return nil, errOpen
	}
	return out, nil
}

// fileName returns the name of the file holding the credential id: 32 hex digits of an
// HMAC of the ID, so names reveal neither IDs nor types.
func (k *keyring) fileName(id string) string {
	m := hmac.New(sha256.New, k.names)
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// wipe drops the keys.
func (k *keyring) wipe() {
	clear(k.names)
	k.seal = nil
}

// encodeHeader returns the header plaintext: the version byte and the master key.
func encodeHeader(master []byte) []byte {
	return append([]byte{codecVersion}, master...)
}

// decodeHeader returns the master key in a header plaintext.
func decodeHeader(p []byte) ([]byte, error) {
	if len(p) != 1+masterKeySize || p[0] != codecVersion {
		return nil, errDecode
	}
	return p[1:], nil
}

// envelopeParams reads the Argon2id parameters from a keystore envelope that has
// already opened (so its header is known good).
func envelopeParams(env []byte) keystore.Params {
	p, _ := keystore.EnvelopeParams(env)
	return p
}
