package schemas

import (
	"regexp"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The embedded schemas use a handful of patterns. Validation is on the verifier's hot
// path, so each has a hand-written matcher (an order of magnitude cheaper than the
// regexp backtracker). The matchers also follow ECMA-262, which JSON Schema specifies
// for patterns, where Go's regexp does not: there \s is ASCII-only, while ECMA-262 \s
// includes Unicode spaces such as U+00A0 and U+3000. Any other pattern falls back to
// Go's regexp.
const (
	patternDID       = "^did:[a-z0-9]+:(?:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*:)*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+$"
	patternNotBlank  = `\S`
	patternNoSpace   = `^\S+$`
	patternCountry   = "^[A-Z]{2}$"
	patternAchieveTy = "^(?:[A-Z][A-Za-z]{0,63}|ext:[A-Za-z0-9._-]{1,60})$"
)

type matcher struct {
	pattern string
	match   func(string) bool
}

func (m matcher) String() string            { return m.pattern }
func (m matcher) MatchString(s string) bool { return m.match(s) }

var matchers = map[string]func(string) bool{
	patternDID:       matchDID,
	patternNotBlank:  notBlank,
	patternNoSpace:   noSpace,
	patternCountry:   country,
	patternAchieveTy: achievementType,
}

// regexpEngine is the compiler's regexp engine.
func regexpEngine(pattern string) (jsonschema.Regexp, error) {
	if m, ok := matchers[pattern]; ok {
		return matcher{pattern: pattern, match: m}, nil
	}
	return regexp.Compile(pattern)
}

// ecmaSpace reports whether r is matched by ECMA-262's \s: WhiteSpace (TAB, VT, FF,
// SP, NBSP, ZWNBSP and the Zs category) or LineTerminator (LF, CR, LS, PS).
func ecmaSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

func notBlank(s string) bool {
	for _, r := range s {
		if !ecmaSpace(r) {
			return true
		}
	}
	return false
}

func noSpace(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if ecmaSpace(r) {
			return false
		}
	}
	return true
}

func country(s string) bool {
	return len(s) == 2 && isUpper(s[0]) && isUpper(s[1])
}

func achievementType(s string) bool {
	if len(s) > 4 && s[:4] == "ext:" {
		rest := s[4:]
		if len(rest) > 60 {
			return false
		}
		for i := 0; i < len(rest); i++ {
			if !isIDChar(rest[i]) {
				return false
			}
		}
		return true
	}
	if len(s) == 0 || len(s) > 64 || !isUpper(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isUpper(s[i]) && !isLower(s[i]) {
			return false
		}
	}
	return true
}

// matchDID implements patternDID: "did:" method ":" method-specific-id (W3C DID Core
// §3.1), with no path, query or fragment.
func matchDID(s string) bool {
	if len(s) < 4 || s[:4] != "did:" {
		return false
	}
	i := 4
	start := i
	for i < len(s) && (isLower(s[i]) || isDigit(s[i])) {
		i++
	}
	if i == start || i >= len(s) || s[i] != ':' {
		return false
	}
	i++
	if i >= len(s) {
		return false // empty method-specific-id
	}
	for i < len(s) {
		switch c := s[i]; {
		case isIDChar(c), c == ':':
			i++
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 3
		default:
			return false
		}
	}
	return s[len(s)-1] != ':'
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIDChar(c byte) bool {
	return isUpper(c) || isLower(c) || isDigit(c) || c == '.' || c == '_' || c == '-'
}
func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
