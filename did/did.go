package did

import (
	"fmt"
	"strings"
)

// MaxLength is the longest DID or DID URL accepted, in bytes.
const MaxLength = 2048

// DID is a parsed Decentralized Identifier "did:<Method>:<ID>".
type DID struct {
	// Method is the method name, lower-case letters and digits (for example "key").
	Method string
	// ID is the method-specific identifier, exactly as written (percent-encoding kept).
	ID string
}

// String returns the DID in its textual form.
func (d DID) String() string {
	return "did:" + d.Method + ":" + d.ID
}

// Parse parses a DID (not a DID URL) following the DID Core ABNF:
//
//	did                = "did:" method-name ":" method-specific-id
//	method-name        = 1*method-char
//	method-char        = %x61-7A / DIGIT
//	method-specific-id = *( *idchar ":" ) 1*idchar
//	idchar             = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
func Parse(s string) (DID, error) {
	if len(s) > MaxLength {
		return DID{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalidDID, MaxLength)
	}
	rest, ok := strings.CutPrefix(s, "did:")
	if !ok {
		return DID{}, fmt.Errorf("%w: missing \"did:\" prefix", ErrInvalidDID)
	}
	method, id, ok := strings.Cut(rest, ":")
	if !ok {
		return DID{}, fmt.Errorf("%w: missing method-specific id", ErrInvalidDID)
	}
	if method == "" {
		return DID{}, fmt.Errorf("%w: empty method name", ErrInvalidDID)
	}
	for i := 0; i < len(method); i++ {
		c := method[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return DID{}, fmt.Errorf("%w: method name must be lower-case letters and digits", ErrInvalidDID)
		}
	}
	if err := checkMethodSpecificID(id); err != nil {
		return DID{}, err
	}
	return DID{Method: method, ID: id}, nil
}

// checkMethodSpecificID checks the method-specific-id production.
func checkMethodSpecificID(id string) error {
	if id == "" || id[len(id)-1] == ':' {
		return fmt.Errorf("%w: method-specific id must end with an id character", ErrInvalidDID)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case isAlnum(c) || c == '.' || c == '-' || c == '_' || c == ':':
		case c == '%':
			if i+2 >= len(id) || !isHex(id[i+1]) || !isHex(id[i+2]) {
				return fmt.Errorf("%w: bad percent-encoding in method-specific id", ErrInvalidDID)
			}
			i += 2
		default:
			return fmt.Errorf("%w: character %q not allowed in method-specific id", ErrInvalidDID, c)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
