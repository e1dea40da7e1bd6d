package verifier

import "fmt"

// Code is a stable machine-readable reason. Codes are part of the API: they appear in
// results, in the CLI's JSON output and in HTTP problem details, and they never change
// meaning.
type Code string

// Codes for failed checks.
const (
	// Malformed: the input is not a well-formed credential or presentation in its format.
	Malformed Code = "malformed"
	// UnsupportedFormat: the input is in no format this verifier reads, or uses an
	// unsupported proof type.
	UnsupportedFormat Code = "unsupported_format"
	// AlgorithmNotAllowed: the signature algorithm or cryptosuite is outside the
	// allow-list, or does not fit the key.
	AlgorithmNotAllowed Code = "algorithm_not_allowed"
	// UnknownContext: a JSON-LD context is not one of the embedded contexts, or is inline.
	UnknownContext Code = "unknown_context"
	// LimitExceeded: the input is larger or more complex than the limits allow.
	LimitExceeded Code = "limit_exceeded"
	// SignatureInvalid: the signature or proof value does not verify.
	SignatureInvalid Code = "signature_invalid"
	// KeyMismatch: the key id or verification method does not belong to the issuer (or
	// holder), or is not authorized for the proof's purpose.
	KeyMismatch Code = "key_mismatch"
	// IssuerUnresolvable: the issuer's DID could not be resolved.
	IssuerUnresolvable Code = "issuer_unresolvable"
	// IssuerUntrusted: the policy does not trust the issuer for the credential's type.
	IssuerUntrusted Code = "issuer_untrusted"
	// Expired: the credential's or presentation's validity ended.
	Expired Code = "expired"
	// NotYetValid: the validity has not begun, or the document was issued in the future.
	NotYetValid Code = "not_yet_valid"
	// SchemaInvalid: the credential does not match its JSON Schema.
	SchemaInvalid Code = "schema_invalid"
	// SchemaUnavailable: the credential names a schema this verifier does not have.
	SchemaUnavailable Code = "schema_unavailable"
	// Revoked: the issuer has revoked the credential.
	Revoked Code = "revoked"
	// Suspended: the issuer has suspended the credential.
	Suspended Code = "suspended"
	// StatusUnavailable: the credential's status could not be checked.
	StatusUnavailable Code = "status_unavailable"
	// HolderUnresolvable: the holder's DID could not be resolved.
	HolderUnresolvable Code = "holder_unresolvable"
	// HolderMismatch: the presentation's holder is not the subject of a credential in it.
	HolderMismatch Code = "holder_mismatch"
	// ChallengeMismatch: the presentation's challenge (nonce) is missing or not the
	// expected one.
	ChallengeMismatch Code = "challenge_mismatch"
	// AudienceMismatch: the presentation's audience (domain) is missing or not this
	// verifier.
	AudienceMismatch Code = "audience_mismatch"
	// Replayed: the presentation's nonce has been accepted before.
	Replayed Code = "replayed"
	// Internal: the verifier itself failed (for example, its nonce store); the input
	// may be fine.
	Internal Code = "internal_error"
)

// Error is the error Verify returns when the result is not verified. Code is the code of
// the first failing check. Compare with errors.Is against the Err… values, which match
// by code.
type Error struct {
	Code   Code
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return "verification failed: " + string(e.Code)
	}
	return fmt.Sprintf("verification failed: %s: %s", e.Code, e.Detail)
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinel errors for errors.Is, one per code callers commonly branch on.
var (
	ErrMalformed         = &Error{Code: Malformed}
	ErrSignatureInvalid  = &Error{Code: SignatureInvalid}
	ErrIssuerUntrusted   = &Error{Code: IssuerUntrusted}
	ErrExpired           = &Error{Code: Expired}
	ErrNotYetValid       = &Error{Code: NotYetValid}
	ErrRevoked           = &Error{Code: Revoked}
	ErrSuspended         = &Error{Code: Suspended}
	ErrStatusUnavailable = &Error{Code: StatusUnavailable}
	ErrHolderMismatch    = &Error{Code: HolderMismatch}
	ErrChallengeMismatch = &Error{Code: ChallengeMismatch}
	ErrReplayed          = &Error{Code: Replayed}
)
