package jcs

import (
	"fmt"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/civitas-net/civitas/internal/jsonstrict"
)

// node is a parsed JSON value. Numbers are kept as doubles, strings unescaped.
type node struct {
	kind byte // 'n' null, 't' true, 'f' false, '0' number, 's' string, '[' array, '{' object
	num  float64
	str  string
	arr  []node
	obj  []member
}

type member struct {
	name  string
	value node
}

func (v *node) append(dst []byte) []byte {
	switch v.kind {
	case 'n':
		return append(dst, "null"...)
	case 't':
		return append(dst, "true"...)
	case 'f':
		return append(dst, "false"...)
	case '0':
		// Finite by construction (parseNumber rejected the rest).
		out, _ := appendNumber(dst, v.num)
		return out
	case 's':
		return appendString(dst, v.str)
	case '[':
		dst = append(dst, '[')
		for i := range v.arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = v.arr[i].append(dst)
		}
		return append(dst, ']')
	default: // '{', members already sorted
		dst = append(dst, '{')
		for i := range v.obj {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, v.obj[i].name)
			dst = append(dst, ':')
			dst = v.obj[i].value.append(dst)
		}
		return append(dst, '}')
	}
}

// parser reads JSON that jsonstrict.Check has accepted. It still checks everything it
// relies on, so a disagreement between the two never becomes a panic.
type parser struct {
	data []byte
	pos  int
}

func (p *parser) syntax(msg string) error {
	return fmt.Errorf("jcs: %w: offset %d: %s", jsonstrict.ErrSyntax, p.pos, msg)
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (node, error) {
	if depth > maxDepth {
		return node{}, ErrTooDeep
	}
	if p.pos >= len(p.data) {
		return node{}, p.syntax("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		return node{kind: 's', str: s}, err
	case c == '-' || isDigit(c):
		return p.number()
	case c == 't':
		return node{kind: 't'}, p.literal("true")
	case c == 'f':
		return node{kind: 'f'}, p.literal("false")
	case c == 'n':
		return node{kind: 'n'}, p.literal("null")
	default:
		return node{}, p.syntax("unexpected character")
	}
}

func (p *parser) literal(word string) error {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return p.syntax("invalid literal")
	}
	p.pos += len(word)
	return nil
}

func (p *parser) object(depth int) (node, error) {
	p.pos++ // '{'
	v := node{kind: '{'}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return node{}, p.syntax("expected member name")
		}
		name, err := p.str()
		if err != nil {
			return node{}, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return node{}, p.syntax("expected ':'")
		}
		p.pos++
		p.skipSpace()
		val, err := p.value(depth + 1)
		if err != nil {
			return node{}, err
		}
		v.obj = append(v.obj, member{name: name, value: val})
		p.skipSpace()
		if p.pos >= len(p.data) {
			return node{}, p.syntax("unexpected end of object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			slices.SortFunc(v.obj, func(a, b member) int { return compareUTF16(a.name, b.name) })
			for i := 1; i < len(v.obj); i++ {
				if v.obj[i-1].name == v.obj[i].name {
					return node{}, fmt.Errorf("jcs: %w: %q", jsonstrict.ErrDuplicateKey, v.obj[i].name)
				}
			}
			return v, nil
		default:
			return node{}, p.syntax("expected ',' or '}'")
		}
	}
}

func (p *parser) array(depth int) (node, error) {
	p.pos++ // '['
	v := node{kind: '['}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		e, err := p.value(depth + 1)
		if err != nil {
			return node{}, err
		}
		v.arr = append(v.arr, e)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return node{}, p.syntax("unexpected end of array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			return node{}, p.syntax("expected ',' or ']'")
		}
	}
}

func (p *parser) number() (node, error) {
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if !isDigit(c) && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		p.pos++
	}
	f, err := parseNumber(string(p.data[start:p.pos]))
	if err != nil {
		return node{}, err
	}
	return node{kind: '0', num: f}, nil
}

// str reads a string starting at the opening quote and returns it unescaped.
func (p *parser) str() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: no escapes, all ASCII or valid UTF-8.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := p.data[start:p.pos]
			p.pos++
			if !utf8.Valid(s) {
				return "", ErrString
			}
			return string(s), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.pos++
	}
	buf := make([]byte, 0, p.pos-start+16)
	buf = append(buf, p.data[start:p.pos]...)
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			if !utf8.Valid(buf) {
				return "", ErrString
			}
			return string(buf), nil
		case c < 0x20:
			return "", p.syntax("control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.pos++
			continue
		}
		// Escape sequence.
		if p.pos+1 >= len(p.data) {
			return "", p.syntax("unterminated escape")
		}
		e := p.data[p.pos+1]
		p.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.syntax("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				// A high surrogate must be followed by an escaped low surrogate.
				if r >= 0xDC00 || p.pos+1 >= len(p.data) || p.data[p.pos] != '\\' || p.data[p.pos+1] != 'u' {
					return "", fmt.Errorf("%w: lone surrogate", ErrString)
				}
				p.pos += 2
				r2, ok := p.hex4()
				if !ok {
					return "", p.syntax("invalid \\u escape")
				}
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError {
					return "", fmt.Errorf("%w: lone surrogate", ErrString)
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.syntax("invalid escape")
		}
	}
	return "", p.syntax("unterminated string")
}

func (p *parser) hex4() (rune, bool) {
	if len(p.data)-p.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		r <<= 4
		switch {
		case isDigit(c):
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}
