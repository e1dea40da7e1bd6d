package issuer

import (
	"errors"
	"fmt"
)

// Code is a stable machine-readable error code of the issuer service. Clients get the
// code and a short message; the HTTP layer maps each code to a status with one table.
type Code string

// Error codes.
const (
	CodeMalformedRequest   Code = "malformed_request"
	CodeBodyTooLarge       Code = "body_too_large"
	CodeUnknownType        Code = "unknown_type"
	CodeSchemaInvalid      Code = "schema_invalid"
	CodeUnsupportedFormat  Code = "unsupported_format"
	CodeUnknownMember      Code = "unknown_member"
	CodeMemberExists       Code = "member_exists"
	CodeUnauthorized       Code = "unauthorized"
	CodeForbidden          Code = "forbidden"
	CodeNotFound           Code = "not_found"
	CodeRevocationFinal    Code = "revocation_final"
	CodeAlreadyVoted       Code = "already_voted"
	CodeOwnRequest         Code = "own_request"
	CodeApprovalClosed     Code = "approval_closed"
	CodeApprovalRequired   Code = "approval_required"
	CodeLedgerConflict     Code = "ledger_conflict"
	CodeUnavailable        Code = "unavailable"
	CodeInternal           Code = "internal_error"
	CodeVerificationFailed Code = "verification_failed"
)

// Error is a failure with a code. Message is safe to show to the client: it never holds
// secrets, keys or credential bodies.
type Error struct {
	Code    Code
	Message string
	// Err is the cause, for logs; it is not shown to clients.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches another *Error by code, so errors.Is(err, &Error{Code: CodeForbidden}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Err == nil
}

// errorf returns an *Error with a formatted message.
func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// internal wraps an unexpected failure; the client sees only that something went wrong.
func internal(what string, err error) *Error {
	return &Error{Code: CodeInternal, Message: "internal error: " + what, Err: err}
}

// CodeOf returns the code of err: its *Error's code, or CodeInternal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
