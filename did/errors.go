package did

import (
	"errors"

	"github.com/civitas-net/civitas/keys"
)

// Sentinel errors. Errors returned by this package wrap one of them where the outcome is
// one a caller may branch on.
var (
	// ErrInvalidDID reports a string that is not a valid DID or DID URL, or that is not
	// valid for its method.
	ErrInvalidDID = errors.New("invalid did")
	// ErrMethodNotSupported reports a DID whose method has no registered resolver.
	ErrMethodNotSupported = errors.New("did method not supported")
	// ErrNotFound reports a DID document that does not exist.
	ErrNotFound = errors.New("did not found")
	// ErrNoVerificationMethod reports a DID URL whose fragment names no verification
	// method of the resolved document.
	ErrNoVerificationMethod = errors.New("no such verification method")
	// ErrRelationship reports a verification method that is not authorized for the
	// requested verification relationship, or not controlled by the DID.
	ErrRelationship = errors.New("verification method not authorized for the relationship")
	// ErrResolution reports a transport or server failure while resolving; it wraps the
	// cause.
	ErrResolution = errors.New("did resolution failed")
	// ErrUnsafeAddress reports a did:web host that resolved to an address the resolver
	// refuses to contact (loopback, private, link-local, …).
	ErrUnsafeAddress = errors.New("refused to connect to an unsafe address")
	// ErrTooLarge reports a DID document larger than the configured limit.
	ErrTooLarge = errors.New("did document too large")
	// ErrInvalidDocument reports a DID document that is malformed, not strict JSON, or
	// whose id differs from the requested DID.
	ErrInvalidDocument = errors.New("invalid did document")
	// ErrUnsupportedKey is keys.ErrUnsupportedKey, re-exported: a DID or verification
	// method holds a key type this package does not support (for example did:key with
	// P-384).
	ErrUnsupportedKey = keys.ErrUnsupportedKey
)
