package did

import (
	"fmt"
	"strings"
)

// URL is a parsed DID URL: a DID followed by an optional path, query and fragment
// (DID Core §3.2). Path, Query and Fragment are kept exactly as written, without their
// delimiters except the path's leading '/'.
type URL struct {
	// DID is the DID the URL starts with.
	DID DID
	// Path is empty or starts with '/'.
	Path string
	// Query is the text after '?' (empty when there is no query).
	Query string
	// Fragment is the text after '#' (empty when there is no fragment).
	Fragment string
}

// String returns the DID URL in its textual form.
func (u URL) String() string {
	var b strings.Builder
	b.WriteString(u.DID.String())
	b.WriteString(u.Path)
	if u.Query != "" {
		b.WriteByte('?')
		b.WriteString(u.Query)
	}
	if u.Fragment != "" {
		b.WriteByte('#')
		b.WriteString(u.Fragment)
	}
	return b.String()
}

// ParseURL parses a DID URL following the DID Core ABNF:
//
//	did-url = did path-abempty [ "?" query ] [ "#" fragment ]
//
// with path-abempty, query and fragment from RFC 3986. A bare '?' or '#' (an empty query
// or fragment) is rejected, so that every accepted URL has one textual form.
func ParseURL(s string) (URL, error) {
	if len(s) > MaxLength {
		return URL{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalidDID, MaxLength)
	}
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	d, err := Parse(s[:end])
	if err != nil {
		return URL{}, err
	}
	u := URL{DID: d}
	rest := s[end:]
	if strings.HasPrefix(rest, "/") {
		i := strings.IndexAny(rest, "?#")
		if i < 0 {
			i = len(rest)
		}
		u.Path, rest = rest[:i], rest[i:]
		if err := checkURIChars(u.Path, "/"); err != nil {
			return URL{}, fmt.Errorf("%w: path: %w", ErrInvalidDID, err)
		}
	}
	if q, ok := strings.CutPrefix(rest, "?"); ok {
		i := strings.IndexByte(q, '#')
		if i < 0 {
			i = len(q)
		}
		u.Query, rest = q[:i], q[i:]
		if u.Query == "" {
			return URL{}, fmt.Errorf("%w: empty query", ErrInvalidDID)
		}
		if err := checkURIChars(u.Query, "/?"); err != nil {
			return URL{}, fmt.Errorf("%w: query: %w", ErrInvalidDID, err)
		}
	}
	if f, ok := strings.CutPrefix(rest, "#"); ok {
		u.Fragment = f
		if u.Fragment == "" {
			return URL{}, fmt.Errorf("%w: empty fragment", ErrInvalidDID)
		}
		if err := checkURIChars(u.Fragment, "/?"); err != nil {
			return URL{}, fmt.Errorf("%w: fragment: %w", ErrInvalidDID, err)
		}
	}
	return u, nil
}

// checkURIChars checks that s holds only RFC 3986 pchar characters (unreserved,
// pct-encoded, sub-delims, ':' and '@') and the extra characters given.
func checkURIChars(s, extra string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c) || strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return fmt.Errorf("bad percent-encoding")
			}
			i += 2
		case strings.IndexByte(extra, c) >= 0:
		default:
			return fmt.Errorf("character %q not allowed", c)
		}
	}
	return nil
}
