package keys

import "errors"

// Sentinel errors. Errors returned by this package wrap one of them where the outcome is
// one a caller may branch on.
var (
	// ErrUnsupportedKey reports a well-formed key of a type or curve this package does not
	// support (for example RSA, P-384 or X25519).
	ErrUnsupportedKey = errors.New("unsupported key type")
	// ErrInvalidKey reports malformed key material: bad encoding, wrong length, a point
	// not on the curve, missing or unexpected members, or a private key whose public
	// part does not match.
	ErrInvalidKey = errors.New("invalid key")
	// ErrExists reports that WritePrivateJWK refused to replace an existing file.
	ErrExists = errors.New("key file already exists")
)
