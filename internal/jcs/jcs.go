package jcs

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/civitas-net/civitas/internal/jsonstrict"
)

// Sentinel errors. Errors from internal/jsonstrict (ErrSyntax, ErrDuplicateKey, ErrTooLarge,
// ErrTooDeep) are passed on wrapped, so callers can branch on those too.
var (
	// ErrNumber reports a number that is not a finite IEEE-754 double (NaN, ±Infinity, or
	// a literal too large for a double).
	ErrNumber = errors.New("jcs: number is not a finite ieee-754 double")
	// ErrString reports a string that is not valid Unicode: invalid UTF-8 or a lone
	// surrogate escape.
	ErrString = errors.New("jcs: string is not valid unicode")
	// ErrUnsupportedType reports a Go value Marshal cannot represent as JSON.
	ErrUnsupportedType = errors.New("jcs: unsupported go type")
	// ErrTooDeep reports a Go value nested deeper than Marshal accepts (or a cycle).
	ErrTooDeep = errors.New("jcs: value nested too deeply")
)

// maxDepth bounds recursion for Go values given to Marshal (which jsonstrict never saw).
const maxDepth = 512

// Transform returns the RFC 8785 canonical form of the JSON value in data, checked
// with jsonstrict.DefaultLimits.
func Transform(data []byte) ([]byte, error) {
	return TransformLimits(data, jsonstrict.DefaultLimits)
}

// TransformLimits is Transform with explicit input limits (zero fields take
// jsonstrict's defaults).
func TransformLimits(data []byte, lim jsonstrict.Limits) ([]byte, error) {
	v, err := jsonstrict.Decode(data, lim)
	if err != nil {
		return nil, fmt.Errorf("jcs: %w", err)
	}
	return appendValue(make([]byte, 0, len(data)), v, 0)
}

// Marshal returns the RFC 8785 canonical form of v, a value of the types encoding/json
// and jsonstrict.Decode produce: map[string]any, []any, string, float64, json.Number,
// bool and nil.
func Marshal(v any) ([]byte, error) {
	return appendValue(nil, v, 0)
}

func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, ErrTooDeep
	}
	var err error
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		if x {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case string:
		if !utf8.ValidString(x) {
			return nil, ErrString
		}
		return appendString(dst, x), nil
	case float64:
		return appendNumber(dst, x)
	case json.Number:
		f, err := parseNumber(string(x))
		if err != nil {
			return nil, err
		}
		return appendNumber(dst, f)
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendValue(dst, e, depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		keys, err := sortedKeys(x)
		if err != nil {
			return nil, err
		}
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			if dst, err = appendValue(dst, x[k], depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedType, v)
	}
}

func sortedKeys[V any](m map[string]V) ([]string, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !utf8.ValidString(k) {
			return nil, ErrString
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareUTF16)
	return keys, nil
}

// compareUTF16 orders strings by their UTF-16 code units, as RFC 8785 §3.2.3 requires.
// Valid UTF-8 strings compare like code points except that a character above U+FFFF (a
// surrogate pair, D800–DBFF first) sorts before U+E000–U+FFFF.
func compareUTF16(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == n {
		return len(a) - len(b)
	}
	if a[i] < utf8.RuneSelf && b[i] < utf8.RuneSelf {
		return int(a[i]) - int(b[i])
	}
	// Back up to the start of the character both strings differ in.
	for i > 0 && !utf8.RuneStart(a[i]) {
		i--
	}
	ra, _ := utf8.DecodeRuneInString(a[i:])
	rb, _ := utf8.DecodeRuneInString(b[i:])
	ha, la := utf16Units(ra)
	hb, lb := utf16Units(rb)
	if ha != hb {
		return int(ha) - int(hb)
	}
	return int(la) - int(lb)
}

// utf16Units returns the first and second UTF-16 code units of r (0 when r is one unit).
func utf16Units(r rune) (uint16, uint16) {
	if r < 0x10000 {
		return uint16(r), 0
	}
	h, l := utf16.EncodeRune(r)
	return uint16(h), uint16(l)
}

// appendString writes s (valid UTF-8) as a JSON string per RFC 8785 §3.2.2.2.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendNumber writes f as ECMAScript's Number.prototype.toString does (ECMA-262
// Number::toString, radix 10), which RFC 8785 §3.2.2.3 adopts.
func appendNumber(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, ErrNumber
	}
	if f == 0 { // +0 and -0 are both "0"
		return append(dst, '0'), nil
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	// strconv's shortest 'e' form gives the digits s (k of them, the fewest that round
	// trip, closest to f) and the exponent; ECMAScript's n is that exponent plus one.
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	var digits [24]byte
	k := 0
	j := 0
	for ; e[j] != 'e'; j++ {
		if e[j] != '.' {
			digits[k] = e[j]
			k++
		}
	}
	exp, _ := strconv.Atoi(string(e[j+1:]))
	n := exp + 1
	d := digits[:k]
	switch {
	case k <= n && n <= 21: // integer: digits then n-k zeros
		dst = append(dst, d...)
		for range n - k {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21: // decimal point inside the digits
		dst = append(dst, d[:n]...)
		dst = append(dst, '.')
		dst = append(dst, d[n:]...)
	case -6 < n && n <= 0: // 0.000ddd
		dst = append(dst, '0', '.')
		for range -n {
			dst = append(dst, '0')
		}
		dst = append(dst, d...)
	default: // exponential: d[.ddd]e±x
		dst = append(dst, d[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, d[1:]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst, nil
}

// parseNumber parses a JSON number literal into a finite double.
func parseNumber(s string) (float64, error) {
	if !jsonstrict.ValidNumber(s) {
		return 0, fmt.Errorf("%w: %w: invalid number literal", ErrNumber, jsonstrict.ErrSyntax)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		// ParseFloat reports overflow as ±Inf with ErrRange; underflow rounds to
		// zero or a subnormal without error, as ECMAScript's parser does.
		return 0, fmt.Errorf("%w: %q out of range", ErrNumber, s)
	}
	return f, nil
}
