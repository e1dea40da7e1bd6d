// Package clip shortens outside text before it goes into an error message or a log
// line, so that a hostile input cannot make either huge. It cuts at a UTF-8 character
// boundary and marks the cut with "…". It does not escape or sanitize anything else.
package clip

import "unicode/utf8"

// String returns s when it is at most max bytes long, else its longest prefix of at
// most max bytes that ends at a character boundary, followed by "…".
func String(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
