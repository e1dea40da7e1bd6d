package rdfc

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ParseNQuads parses an N-Quads 1.1 document (https://www.w3.org/TR/n-quads/): one
// statement per line, "#" comments, blank lines allowed. IRIs must be absolute and are
// checked with ValidIRI after their \u escapes are decoded; literals and IRIs must be
// valid UTF-8; blank node labels follow the BLANK_NODE_LABEL production. Duplicate
// statements are kept (Canonicalize removes them). Errors wrap ErrInvalid and name the
// line.
func ParseNQuads(data []byte) ([]Quad, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: n-quads input is not valid utf-8", ErrInvalid)
	}
	var quads []Quad
	s := string(data)
	line := 0
	for len(s) > 0 {
		line++
		end := strings.IndexAny(s, "\n\r")
		var l string
		if end < 0 {
			l, s = s, ""
		} else {
			l, s = s[:end], s[end+1:]
		}
		p := lineParser{s: l}
		q, ok, err := p.statement()
		if err != nil {
			return nil, fmt.Errorf("%w: n-quads line %d: %v", ErrInvalid, line, err)
		}
		if ok {
			quads = append(quads, q)
		}
	}
	return quads, nil
}

type lineParser struct {
	s string
	i int
}

func (p *lineParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// atEnd skips white space and a comment and reports whether the line is finished.
func (p *lineParser) atEnd() bool {
	p.skipSpace()
	return p.i == len(p.s) || p.s[p.i] == '#'
}

func (p *lineParser) statement() (Quad, bool, error) {
	var q Quad
	if p.atEnd() {
		return q, false, nil
	}
	var err error
	if q.Subject, err = p.term("iri bnode"); err != nil {
		return q, false, err
	}
	p.skipSpace()
	if q.Predicate, err = p.term("iri"); err != nil {
		return q, false, err
	}
	p.skipSpace()
	if q.Object, err = p.term("iri bnode literal"); err != nil {
		return q, false, err
	}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] != '.' {
		if q.Graph, err = p.term("iri bnode"); err != nil {
			return q, false, err
		}
		p.skipSpace()
	}
	if p.i == len(p.s) || p.s[p.i] != '.' {
		return q, false, fmt.Errorf("expected '.' at column %d", p.i+1)
	}
	p.i++
	if !p.atEnd() {
		return q, false, fmt.Errorf("unexpected text after '.' at column %d", p.i+1)
	}
	for pos, t := range [4]*Term{&q.Subject, &q.Predicate, &q.Object, &q.Graph} {
		if err := t.check("spog"[pos]); err != nil {
			return q, false, err
		}
	}
	return q, true, nil
}

// term parses one term of an allowed kind ("iri", "bnode", "literal").
func (p *lineParser) term(allowed string) (Term, error) {
	if p.i == len(p.s) {
		return Term{}, fmt.Errorf("unexpected end of line")
	}
	switch c := p.s[p.i]; {
	case c == '<' && strings.Contains(allowed, "iri"):
		v, err := p.iri()
		return Term{Kind: IRI, Value: v}, err
	case c == '_' && strings.Contains(allowed, "bnode"):
		v, err := p.bnode()
		return Term{Kind: BlankNode, Value: v}, err
	case c == '"' && strings.Contains(allowed, "literal"):
		return p.literal()
	default:
		return Term{}, fmt.Errorf("unexpected %q at column %d", c, p.i+1)
	}
}

func (p *lineParser) iri() (string, error) {
	p.i++ // '<'
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '>':
			p.i++
			return b.String(), nil
		case c == '\\':
			r, err := p.uchar()
			if err != nil {
				return "", err
			}
			b.WriteRune(r)
		case c <= 0x20 || strings.IndexByte("<\"{}|^`", c) >= 0:
			return "", fmt.Errorf("character %q not allowed in an iri at column %d", c, p.i+1)
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", fmt.Errorf("unterminated iri")
}

// uchar decodes \uXXXX or \UXXXXXXXX at p.i.
func (p *lineParser) uchar() (rune, error) {
	if p.i+1 >= len(p.s) {
		return 0, fmt.Errorf("unterminated escape")
	}
	n := 0
	switch p.s[p.i+1] {
	case 'u':
		n = 4
	case 'U':
		n = 8
	default:
		return 0, fmt.Errorf("bad escape %q at column %d", p.s[p.i+1], p.i+1)
	}
	if p.i+2+n > len(p.s) {
		return 0, fmt.Errorf("short \\%c escape", p.s[p.i+1])
	}
	var r rune
	for _, c := range []byte(p.s[p.i+2 : p.i+2+n]) {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			d = (c | 0x20) - 'a' + 10
		default:
			return 0, fmt.Errorf("bad hex digit %q at column %d", c, p.i+1)
		}
		r = r<<4 | rune(d)
	}
	if !utf8.ValidRune(r) {
		return 0, fmt.Errorf("escape \\%c%s is not a unicode scalar value", p.s[p.i+1], p.s[p.i+2:p.i+2+n])
	}
	p.i += 2 + n
	return r, nil
}

func (p *lineParser) bnode() (string, error) {
	if !strings.HasPrefix(p.s[p.i:], "_:") {
		return "", fmt.Errorf("bad blank node at column %d", p.i+1)
	}
	p.i += 2
	start := p.i
	first := true
	for p.i < len(p.s) {
		r, size := utf8.DecodeRuneInString(p.s[p.i:])
		ok := false
		switch {
		case first:
			ok = isPNCharsU(r) || (r >= '0' && r <= '9')
		default:
			ok = isPNChars(r) || r == '.'
		}
		if !ok {
			break
		}
		first = false
		p.i += size
	}
	// A label may not end with '.': give trailing dots back (the statement's '.').
	for p.i > start && p.s[p.i-1] == '.' {
		p.i--
	}
	if p.i == start {
		return "", fmt.Errorf("empty blank node label at column %d", start+1)
	}
	return p.s[start:p.i], nil
}

func (p *lineParser) literal() (Term, error) {
	p.i++ // '"'
	var b strings.Builder
	closed := false
	for p.i < len(p.s) && !closed {
		c := p.s[p.i]
		switch c {
		case '"':
			p.i++
			closed = true
		case '\\':
			if p.i+1 >= len(p.s) {
				return Term{}, fmt.Errorf("unterminated escape")
			}
			e := p.s[p.i+1]
			if e == 'u' || e == 'U' {
				r, err := p.uchar()
				if err != nil {
					return Term{}, err
				}
				b.WriteRune(r)
				continue
			}
			i := strings.IndexByte(`tbnrf"'\`, e)
			if i < 0 {
				return Term{}, fmt.Errorf("bad escape %q at column %d", e, p.i+1)
			}
			b.WriteByte("\t\b\n\r\f\"'\\"[i])
			p.i += 2
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	if !closed {
		return Term{}, fmt.Errorf("unterminated literal")
	}
	t := Term{Kind: Literal, Value: b.String()}
	switch {
	case strings.HasPrefix(p.s[p.i:], "^^"):
		p.i += 2
		if p.i == len(p.s) || p.s[p.i] != '<' {
			return Term{}, fmt.Errorf("expected datatype iri at column %d", p.i+1)
		}
		dt, err := p.iri()
		if err != nil {
			return Term{}, err
		}
		t.Datatype = dt
		if dt == XSDString {
			t.Datatype = ""
		}
	case p.i < len(p.s) && p.s[p.i] == '@':
		p.i++
		start := p.i
		for p.i < len(p.s) && (isAlpha(p.s[p.i]) || isDigit(p.s[p.i]) || p.s[p.i] == '-') {
			p.i++
		}
		t.Language = p.s[start:p.i]
		if !ValidLanguageTag(t.Language) {
			return Term{}, fmt.Errorf("bad language tag %q", t.Language)
		}
	}
	return t, nil
}

// isPNCharsBase implements PN_CHARS_BASE of the Turtle grammar.
func isPNCharsBase(r rune) bool {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z',
		r >= 0xC0 && r <= 0xD6, r >= 0xD8 && r <= 0xF6, r >= 0xF8 && r <= 0x2FF,
		r >= 0x370 && r <= 0x37D, r >= 0x37F && r <= 0x1FFF, r >= 0x200C && r <= 0x200D,
		r >= 0x2070 && r <= 0x218F, r >= 0x2C00 && r <= 0x2FEF, r >= 0x3001 && r <= 0xD7FF,
		r >= 0xF900 && r <= 0xFDCF, r >= 0xFDF0 && r <= 0xFFFD, r >= 0x10000 && r <= 0xEFFFF:
		return true
	}
	return false
}

// isPNCharsU implements PN_CHARS_U (N-Quads adds ':' to it for blank node labels).
func isPNCharsU(r rune) bool { return isPNCharsBase(r) || r == '_' || r == ':' }

// isPNChars implements PN_CHARS.
func isPNChars(r rune) bool {
	return isPNCharsU(r) || r == '-' || (r >= '0' && r <= '9') || r == 0xB7 ||
		(r >= 0x300 && r <= 0x36F) || (r >= 0x203F && r <= 0x2040)
}
