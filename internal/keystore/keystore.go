package keystore

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Sizes of the formats.
const (
	// KeySize is the size of a key-encryption key, in bytes.
	KeySize = chacha20poly1305.KeySize
	// SaltSize is the size of the salts NewSalt makes and the envelope carries; DeriveKey
	// accepts no shorter salt.
	SaltSize = 16
	// NonceSize is the size of the random XChaCha20-Poly1305 nonce in a sealed blob.
	NonceSize = chacha20poly1305.NonceSizeX
	// Overhead is how much longer than its plaintext a sealed blob is: the version
	// byte, the nonce and the 16-byte tag.
	Overhead = 1 + NonceSize + chacha20poly1305.Overhead
	// HeaderSize is the size of an envelope's header.
	HeaderSize = len(Magic) + 1 + 4 + 4 + 1 + SaltSize
	// Magic starts every envelope made by SealWithPassphrase.
	Magic = "CIVKS1"
)

// Format versions.
const (
	sealVersion     byte = 1 // Key.Seal: version, nonce, XChaCha20-Poly1305 ciphertext
	envelopeVersion byte = 1 // SealWithPassphrase: header, then a version-1 sealed blob
)

// Sentinel errors.
var (
	// ErrDecrypt reports a sealed blob or envelope payload that does not open: wrong key
	// or passphrase, wrong additional data, tampered, truncated or extended bytes, or an
	// unknown sealed-blob version. It carries no detail on purpose.
	ErrDecrypt = errors.New("decryption failed")
	// ErrFormat reports bytes that are not an envelope this package reads: a wrong
	// magic, an unknown version, or a truncated header.
	ErrFormat = errors.New("not a keystore envelope")
	// ErrParams reports key derivation parameters outside [MinParams, MaxParams], or a
	// salt shorter than SaltSize.
	ErrParams = errors.New("key derivation parameters out of range")
	// ErrEmptySecret reports an empty secret or passphrase.
	ErrEmptySecret = errors.New("empty secret")
)

// Params are Argon2id cost parameters.
type Params struct {
	// Time is the number of passes over the memory.
	Time uint32
	// MemoryKiB is the memory used, in KiB.
	MemoryKiB uint32
	// Threads is the degree of parallelism; it changes the derived key, not only the
	// speed.
	Threads uint8
}

// Parameter sets. They are variables only because Go has no constant structs; do not
// change them.
var (
	// DefaultParams are the parameters new keys and envelopes use: RFC 9106's second
	// recommended option (t=3, 64 MiB, 4 lanes). One derivation takes about 60 ms on
	// a 2-core x86-64 machine (see BenchmarkDeriveKey).
	DefaultParams = Params{Time: 3, MemoryKiB: 64 << 10, Threads: 4}
	// MinParams are the weakest parameters accepted, field by field: OWASP's
	// minimum for Argon2id (t=2, 19 MiB, 1 lane). An envelope whose header asks for
	// less is refused before any derivation.
	MinParams = Params{Time: 2, MemoryKiB: 19 << 10, Threads: 1}
	// MaxParams are the costliest parameters accepted, field by field, so that a
	// hostile header cannot make a reader allocate more than 256 MiB or spin for long.
	MaxParams = Params{Time: 16, MemoryKiB: 256 << 10, Threads: 16}
)

// Validate reports whether p lies within MinParams and MaxParams, field by field.
func (p Params) Validate() error {
	if p.Time < MinParams.Time || p.MemoryKiB < MinParams.MemoryKiB || p.Threads < MinParams.Threads {
		return fmt.Errorf("%w: %v is below the minimum %v", ErrParams, p, MinParams)
	}
	if p.Time > MaxParams.Time || p.MemoryKiB > MaxParams.MemoryKiB || p.Threads > MaxParams.Threads {
		return fmt.Errorf("%w: %v is above the maximum %v", ErrParams, p, MaxParams)
	}
	return nil
}

// String returns the parameters in a short readable form.
func (p Params) String() string {
	return fmt.Sprintf("argon2id(t=%d, m=%d KiB, p=%d)", p.Time, p.MemoryKiB, p.Threads)
}

// Key is a key-encryption key. It is safe for concurrent use. Its bytes are behind a
// pointer, so even a struct holding a Key in an unexported field prints an address and
// not the key.
type Key struct {
	k *[KeySize]byte
}

// NewKey wraps a key that is already uniformly random (KeySize bytes from crypto/rand,
// or from HKDF over such a key), for which an Argon2id derivation would add nothing. It
// copies raw.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("%w: a key is %d bytes, not %d", ErrParams, KeySize, len(raw))
	}
	k := new([KeySize]byte)
	copy(k[:], raw)
	return &Key{k: k}, nil
}

// DeriveKey derives a key from secret and salt with Argon2id and p. The salt must be at
// least SaltSize bytes (use NewSalt) and p must pass Validate.
func DeriveKey(secret, salt []byte, p Params) (*Key, error) {
	if len(secret) == 0 {
		return nil, ErrEmptySecret
	}
	if len(salt) < SaltSize {
		return nil, fmt.Errorf("%w: salt of %d bytes, want at least %d", ErrParams, len(salt), SaltSize)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	raw := argon2.IDKey(secret, salt, p.Time, p.MemoryKiB, p.Threads, KeySize)
	k := new([KeySize]byte)
	copy(k[:], raw)
	clear(raw)
	return &Key{k: k}, nil
}

// NewSalt returns SaltSize random bytes.
func NewSalt() []byte {
	b := make([]byte, SaltSize)
	_, _ = rand.Read(b) // never fails; see crypto/rand.Read
	return b
}

// Seal encrypts and authenticates plaintext, binding it to additionalData, under a
// fresh random nonce. The result is a version byte, the nonce and the ciphertext; it is
// Overhead bytes longer than plaintext. Seal panics on a nil or zero Key, which only a
// programming error produces.
func (k *Key) Seal(plaintext, additionalData []byte) []byte {
	return k.seal(make([]byte, 0, Overhead+len(plaintext)), plaintext, additionalData)
}

// seal appends the sealed form of plaintext to dst.
func (k *Key) seal(dst, plaintext, additionalData []byte) []byte {
	if k == nil || k.k == nil {
		panic("keystore: Seal with a nil or zero Key")
	}
	aead := k.aead()
	start := len(dst)
	dst = append(dst, sealVersion)
	dst = append(dst, make([]byte, NonceSize)...)
	nonce := dst[start+1 : start+1+NonceSize]
	_, _ = rand.Read(nonce) // never fails; see crypto/rand.Read
	return aead.Seal(dst, nonce, plaintext, versionedAD(sealVersion, additionalData))
}

// Open authenticates and decrypts a blob made by Seal with the same key and additional
// data. Any failure is ErrDecrypt.
func (k *Key) Open(sealed, additionalData []byte) ([]byte, error) {
	if k == nil || k.k == nil || len(sealed) < Overhead || sealed[0] != sealVersion {
		return nil, ErrDecrypt
	}
	nonce := sealed[1 : 1+NonceSize]
	out, err := k.aead().Open(nil, nonce, sealed[1+NonceSize:], versionedAD(sealVersion, additionalData))
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

func (k *Key) aead() cipher.AEAD {
	aead, err := chacha20poly1305.NewX(k.k[:])
	if err != nil {
		// Only a wrong key size fails, and the size is fixed by the type.
		panic("keystore: " + err.Error())
	}
	return aead
}

// versionedAD is the AEAD's additional data: the version byte, then the caller's data.
// The version comes first and has a fixed size, so the concatenation is unambiguous.
func versionedAD(version byte, ad []byte) []byte {
	out := make([]byte, 0, 1+len(ad))
	return append(append(out, version), ad...)
}

const redacted = "keystore.Key(redacted)"

// String returns a fixed text, never the key.
func (Key) String() string { return redacted }

// GoString returns a fixed text, never the key.
func (Key) GoString() string { return redacted }

// Format prints a fixed text for every verb and flag, never the key.
func (Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// SealWithPassphrase derives a key from passphrase with p and a new salt, and returns a
// self-describing envelope: a HeaderSize-byte header (Magic, version, p, salt) and the
// sealed plaintext, whose additional data is the header followed by ad.
func SealWithPassphrase(passphrase, plaintext, ad []byte, p Params) ([]byte, error) {
	salt := NewSalt()
	key, err := DeriveKey(passphrase, salt, p)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, HeaderSize+Overhead+len(plaintext))
	out = append(out, Magic...)
	out = append(out, envelopeVersion)
	out = binary.BigEndian.AppendUint32(out, p.Time)
	out = binary.BigEndian.AppendUint32(out, p.MemoryKiB)
	out = append(out, p.Threads)
	out = append(out, salt...)
	return key.seal(out, plaintext, envelopeAD(out, ad)), nil
}

// OpenWithPassphrase opens an envelope made by SealWithPassphrase. A wrong magic, an
// unknown version or a truncated header is ErrFormat; parameters outside [MinParams,
// MaxParams] are ErrParams (checked before any derivation); everything else that fails,
// including a wrong passphrase or ad, a tampered header or payload, a truncated payload
// and trailing bytes, is ErrDecrypt.
func OpenWithPassphrase(passphrase, sealed, ad []byte) ([]byte, error) {
	p, err := EnvelopeParams(sealed)
	if err != nil {
		return nil, err
	}
	header := sealed[:HeaderSize]
	h := header[len(Magic):]
	payload := sealed[HeaderSize:]
	if len(payload) < Overhead {
		return nil, ErrDecrypt // no need to spend a derivation on it
	}
	key, err := DeriveKey(passphrase, h[10:10+SaltSize], p) // an empty passphrase is ErrEmptySecret
	if err != nil {
		return nil, err
	}
	return key.Open(payload, envelopeAD(header, ad))
}

// EnvelopeParams returns the Argon2id parameters in the header of an envelope made by
// SealWithPassphrase (so that what is sealed again can keep them). A wrong magic, an
// unknown version or a truncated header is ErrFormat; parameters outside [MinParams,
// MaxParams] are ErrParams.
func EnvelopeParams(sealed []byte) (Params, error) {
	if len(sealed) < HeaderSize {
		return Params{}, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrFormat, len(sealed), HeaderSize)
	}
	if string(sealed[:len(Magic)]) != Magic {
		return Params{}, fmt.Errorf("%w: wrong magic", ErrFormat)
	}
	h := sealed[len(Magic):HeaderSize]
	if h[0] != envelopeVersion {
		return Params{}, fmt.Errorf("%w: unknown version %d", ErrFormat, h[0])
	}
	p := Params{
		Time:      binary.BigEndian.Uint32(h[1:5]),
		MemoryKiB: binary.BigEndian.Uint32(h[5:9]),
		Threads:   h[9],
	}
	if err := p.Validate(); err != nil {
		return Params{}, err
	}
	return p, nil
}

// envelopeAD is the header followed by the caller's ad; the header has a fixed size, so
// the concatenation is unambiguous.
func envelopeAD(header, ad []byte) []byte {
	out := make([]byte, 0, HeaderSize+len(ad))
	return append(append(out, header[:HeaderSize]...), ad...)
}
