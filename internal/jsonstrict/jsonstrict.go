// Package jsonstrict checks JSON received at a trust boundary before anything else reads it.
//
// It implements the I-JSON profile (RFC 7493) of JSON (RFC 8259) with the extra rules
// Civitas applies to every credential, presentation, DID document and key file it receives:
//
//   - exactly one JSON value, well formed, encoded as valid UTF-8 with no lone surrogates;
//   - no duplicate member names in an object, compared after unescaping, and no two names
//     that differ only in letter case (encoding/json matches struct fields
//     case-insensitively, so {"id":…,"ID":…} would otherwise be a way to smuggle a value);
//   - bounded size, nesting depth and member count.
//
// It does not build a value: Check is a single scanning pass, and Unmarshal runs Check and
// then hands the bytes to encoding/json. It does not canonicalize, and it does not limit
// the magnitude of numbers beyond their grammar.
package jsonstrict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/civitas-net/civitas/internal/clip"
)

// Sentinel errors. Every error returned by this package wraps exactly one of them.
var (
	// ErrSyntax reports input that is not a single well-formed JSON value.
	ErrSyntax = errors.New("malformed json")
	// ErrDuplicateKey reports an object with two members of the same name, or of names
	// that differ only in letter case.
	ErrDuplicateKey = errors.New("duplicate json object key")
	// ErrTooLarge reports input longer than Limits.MaxBytes or with more members than
	// Limits.MaxKeys.
	ErrTooLarge = errors.New("json input too large")
	// ErrTooDeep reports nesting deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("json nested too deeply")
)

// Limits bound the work done on one input. Zero fields take the value in DefaultLimits.
type Limits struct {
	// MaxBytes is the largest accepted input, in bytes.
	MaxBytes int
	// MaxDepth is the deepest accepted nesting of objects and arrays.
	MaxDepth int
	// MaxKeys is the largest accepted number of object members, counted over the whole input.
	MaxKeys int
	// AllowCaseVariants accepts member names that differ only in letter case (exact
	// duplicates are still refused). Set it only for trusted documents that are never
	// decoded into Go structs, such as embedded JSON-LD contexts, where a class and a
	// property often differ only in case ("Achievement", "achievement").
	AllowCaseVariants bool
	// DisallowUnknownFields makes Unmarshal into a struct refuse members the struct
	// does not have (for signed documents whose readers must not skip a rule they
	// do not know).
	DisallowUnknownFields bool
}

// DefaultLimits suit a single credential or presentation.
var DefaultLimits = Limits{MaxBytes: 1 << 20, MaxDepth: 64, MaxKeys: 20000}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = DefaultLimits.MaxKeys
	}
	return l
}

// Check reports whether data is exactly one strict JSON value within lim.
func Check(data []byte, lim Limits) error {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), lim.MaxBytes)
	}
	_, err := scan(data, lim, false)
	return err
}

// Decode checks data like Check and returns its value, built in the same pass:
// map[string]any for objects, []any for arrays, string, json.Number, bool or nil.
func Decode(data []byte, lim Limits) (any, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), lim.MaxBytes)
	}
	return scan(data, lim, true)
}

func scan(data []byte, lim Limits, build bool) (any, error) {
	s := scanner{data: data, lim: lim, build: build}
	s.skipSpace()
	v, err := s.value(0)
	if err != nil {
		return nil, err
	}
	s.skipSpace()
	if s.pos != len(s.data) {
		return nil, s.errorf("unexpected data after the top-level value")
	}
	return v, nil
}

// Unmarshal runs Check on data and then decodes it into v. Numbers decoded into an
// interface value become json.Number, so no precision is lost. Into *any and
// *map[string]any the value is built by the checking pass itself (see Decode); other
// targets go through encoding/json.
func Unmarshal(data []byte, v any, lim Limits) error {
	switch dst := v.(type) {
	case *any:
		val, err := Decode(data, lim)
		if err != nil {
			return err
		}
		*dst = val
		return nil
	case *map[string]any:
		val, err := Decode(data, lim)
		if err != nil {
			return err
		}
		switch m := val.(type) {
		case map[string]any:
			*dst = m
		case nil:
			*dst = nil
		default:
			return fmt.Errorf("%w: a JSON object is required, got %T", ErrSyntax, val)
		}
		return nil
	}
	if err := Check(data, lim); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if lim.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	return nil
}

type scanner struct {
	data []byte
	pos  int
	lim  Limits
	keys int
	// build makes the scanner return the values it reads.
	build bool
	// scratch holds the member names of the objects being scanned, innermost last; each
	// object remembers where its names start.
	scratch [][]byte
}

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: offset %d: %s", ErrSyntax, s.pos, fmt.Sprintf(format, args...))
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) (any, error) {
	if s.pos >= len(s.data) {
		return nil, s.errorf("unexpected end of input")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		b, err := s.str(s.build)
		if err != nil || !s.build {
			return nil, err
		}
		return string(b), nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := s.pos
		if err := s.number(); err != nil || !s.build {
			return nil, err
		}
		return json.Number(s.data[start:s.pos]), nil
	case c == 't':
		return true, s.literal("true")
	case c == 'f':
		return false, s.literal("false")
	case c == 'n':
		return nil, s.literal("null")
	default:
		return nil, s.errorf("unexpected character %q", c)
	}
}

func (s *scanner) literal(word string) error {
	if !bytes.HasPrefix(s.data[s.pos:], []byte(word)) {
		return s.errorf("invalid literal")
	}
	s.pos += len(word)
	return nil
}

func (s *scanner) object(depth int) (any, error) {
	if depth > s.lim.MaxDepth {
		return nil, fmt.Errorf("%w: limit %d", ErrTooDeep, s.lim.MaxDepth)
	}
	s.pos++ // '{'
	start := len(s.scratch)
	defer func() { s.scratch = s.scratch[:start] }()
	var seen map[string]struct{}
	var obj map[string]any
	if s.build {
		obj = make(map[string]any)
	}
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return obj, nil
	}
	for {
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return nil, s.errorf("expected an object member name")
		}
		name, err := s.str(true)
		if err != nil {
			return nil, err
		}
		s.keys++
		if s.keys > s.lim.MaxKeys {
			return nil, fmt.Errorf("%w: more than %d object members", ErrTooLarge, s.lim.MaxKeys)
		}
		if err := s.unique(&seen, start, name); err != nil {
			return nil, err
		}
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return nil, s.errorf("expected ':' after an object member name")
		}
		s.pos++
		s.skipSpace()
		v, err := s.value(depth)
		if err != nil {
			return nil, err
		}
		if s.build {
			obj[string(name)] = v
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return nil, s.errorf("unterminated object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipSpace()
		case '}':
			s.pos++
			return obj, nil
		default:
			return nil, s.errorf("expected ',' or '}' in an object")
		}
	}
}

// unique records name as a member of the object whose names start at scratch[start],
// refusing a duplicate (or, unless allowed, a case variant). Small objects compare
// pairwise; past linearNames members the object switches to a set, so the check stays
// linear.
func (s *scanner) unique(seen *map[string]struct{}, start int, name []byte) error {
	key := func(b []byte) string {
		if s.lim.AllowCaseVariants {
			return string(b)
		}
		return foldKey(string(b))
	}
	if *seen != nil {
		k := key(name)
		if _, dup := (*seen)[k]; dup {
			return fmt.Errorf("%w: %q", ErrDuplicateKey, truncate(string(name)))
		}
		(*seen)[k] = struct{}{}
		return nil
	}
	for _, prev := range s.scratch[start:] {
		if bytes.Equal(prev, name) || (!s.lim.AllowCaseVariants && bytes.EqualFold(prev, name)) {
			return fmt.Errorf("%w: %q", ErrDuplicateKey, truncate(string(name)))
		}
	}
	s.scratch = append(s.scratch, name)
	if len(s.scratch)-start > linearNames {
		*seen = make(map[string]struct{}, 2*linearNames)
		for _, prev := range s.scratch[start:] {
			(*seen)[key(prev)] = struct{}{}
		}
	}
	return nil
}

func (s *scanner) array(depth int) (any, error) {
	if depth > s.lim.MaxDepth {
		return nil, fmt.Errorf("%w: limit %d", ErrTooDeep, s.lim.MaxDepth)
	}
	s.pos++ // '['
	var arr []any
	if s.build {
		arr = []any{}
	}
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return arr, nil
	}
	for {
		v, err := s.value(depth)
		if err != nil {
			return nil, err
		}
		if s.build {
			arr = append(arr, v)
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return nil, s.errorf("unterminated array")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipSpace()
		case ']':
			s.pos++
			return arr, nil
		default:
			return nil, s.errorf("expected ',' or ']' in an array")
		}
	}
}

// str scans a string starting at the opening quote. When want is set it returns the
// unescaped contents (used for member names); otherwise it only validates.
func (s *scanner) str(want bool) ([]byte, error) {
	s.pos++ // opening quote
	start := s.pos
	var buf []byte // only allocated when a name contains escapes
	escaped := false
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			end := s.pos
			s.pos++
			if !want {
				return nil, nil
			}
			if !escaped {
				return s.data[start:end], nil
			}
			return buf, nil
		case c == '\\':
			if want && !escaped {
				buf = append(buf, s.data[start:s.pos]...)
			}
			escaped = true
			r, err := s.escape()
			if err != nil {
				return nil, err
			}
			if want {
				buf = utf8.AppendRune(buf, r)
			}
		case c < 0x20:
			return nil, s.errorf("control character in string")
		case c < utf8.RuneSelf:
			if escaped && want {
				buf = append(buf, c)
			}
			s.pos++
		default:
			r, size := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && size <= 1 {
				return nil, s.errorf("invalid UTF-8 in string")
			}
			if escaped && want {
				buf = append(buf, s.data[s.pos:s.pos+size]...)
			}
			s.pos += size
		}
	}
	return nil, s.errorf("unterminated string")
}

// escape decodes one escape sequence at s.pos (which holds the backslash).
func (s *scanner) escape() (rune, error) {
	if s.pos+1 >= len(s.data) {
		return 0, s.errorf("unterminated escape")
	}
	c := s.data[s.pos+1]
	s.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, err := s.hex4()
		if err != nil {
			return 0, err
		}
		if utf16.IsSurrogate(r) {
			if r >= 0xDC00 || s.pos+1 >= len(s.data) || s.data[s.pos] != '\\' || s.data[s.pos+1] != 'u' {
				return 0, s.errorf("lone surrogate in string")
			}
			s.pos += 2
			r2, err := s.hex4()
			if err != nil {
				return 0, err
			}
			r = utf16.DecodeRune(r, r2)
			if r == utf8.RuneError {
				return 0, s.errorf("invalid surrogate pair in string")
			}
		}
		return r, nil
	default:
		return 0, s.errorf("invalid escape character %q", c)
	}
}

func (s *scanner) hex4() (rune, error) {
	if s.pos+4 > len(s.data) {
		return 0, s.errorf("short unicode escape")
	}
	var r rune
	for _, c := range s.data[s.pos : s.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, s.errorf("invalid unicode escape")
		}
	}
	s.pos += 4
	return r, nil
}

func (s *scanner) number() error {
	end, problem := scanNumber(s.data, s.pos)
	s.pos = end
	if problem != "" {
		return s.errorf("%s", problem)
	}
	return nil
}

// ValidNumber reports whether s is exactly one JSON number (RFC 8259 §6): the grammar
// Check applies, for numbers that reach a caller as text (json.Number).
func ValidNumber(s string) bool {
	end, problem := scanNumber(s, 0)
	return problem == "" && end == len(s)
}

// scanNumber reads the JSON number starting at d[i]. It returns the index after it, or
// the index where the grammar fails and what is wrong there.
func scanNumber[T string | []byte](d T, i int) (int, string) {
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = skipDigits(d, i)
	default:
		return i, "invalid number"
	}
	if i < len(d) && d[i] == '.' {
		start := i + 1
		if i = skipDigits(d, start); i == start {
			return i, "invalid number fraction"
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		start := i
		if i = skipDigits(d, start); i == start {
			return i, "invalid number exponent"
		}
	}
	return i, ""
}

// skipDigits returns the index of the first byte at or after i that is not a digit.
func skipDigits[T string | []byte](d T, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

// linearNames is the number of member names an object may have before duplicate
// detection switches from pairwise comparison to a set.
const linearNames = 16

// foldKey maps a name to a representative of its case-folding class, so that two names
// have the same key exactly when strings.EqualFold reports them equal.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		// For an ASCII letter the upper-case form is the smallest rune of its orbit.
		return strings.ToUpper(s)
	}
	var b strings.Builder
	for _, r := range s {
		// The smallest rune of r's simple-folding orbit represents the orbit.
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}

// truncate shortens a member name for an error message.
func truncate(s string) string { return clip.String(s, 64) }
