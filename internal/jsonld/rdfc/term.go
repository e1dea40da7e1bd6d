package rdfc

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/civitas-net/civitas/internal/clip"
)

// Sentinel errors. Every error returned by this package wraps one of them, or the
// context's error when the context ends first.
var (
	// ErrInvalid reports a quad that is not well-formed RDF: a relative or malformed IRI,
	// a term of the wrong kind in a position, a malformed language tag, invalid UTF-8, or
	// N-Quads text that does not follow the grammar.
	ErrInvalid = errors.New("invalid rdf")
	// ErrLimit reports a dataset over one of the limits in Options.
	ErrLimit = errors.New("canonicalization limit exceeded")
)

// Well-known IRIs.
const (
	XSDString     = "http://www.w3.org/2001/XMLSchema#string"
	RDFLangString = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
)

// Kind says what a Term is.
type Kind uint8

// Term kinds. The zero Term is the default graph.
const (
	// DefaultGraph is the kind of the zero Term; it is valid only as a quad's Graph.
	DefaultGraph Kind = iota
	// IRI is an absolute IRI; Value holds it without angle brackets.
	IRI
	// BlankNode is a blank node; Value holds its label without the "_:" prefix. Labels
	// only tell blank nodes apart: they never reach the canonical output.
	BlankNode
	// Literal is an RDF literal; Value holds its lexical form, Datatype its datatype IRI
	// (empty means xsd:string, or rdf:langString when Language is set) and Language its
	// language tag.
	Literal
)

// Term is one RDF term.
type Term struct {
	Kind     Kind
	Value    string
	Datatype string
	Language string
}

// Quad is one RDF statement; a zero Graph puts it in the default graph.
type Quad struct {
	Subject, Predicate, Object, Graph Term
}

// NewIRI returns an IRI term.
func NewIRI(iri string) Term { return Term{Kind: IRI, Value: iri} }

// NewBlankNode returns a blank node term with the given label (no "_:" prefix).
func NewBlankNode(label string) Term { return Term{Kind: BlankNode, Value: label} }

// NewLiteral returns a literal term; datatype "" means xsd:string (or rdf:langString when
// language is not empty).
func NewLiteral(value, datatype, language string) Term {
	return Term{Kind: Literal, Value: value, Datatype: datatype, Language: language}
}

// ValidIRI reports whether s can be written as an N-Quads IRIREF and is absolute: it
// starts with a scheme (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":", RFC 3987), is valid
// UTF-8, and contains none of the characters N-Quads forbids in an IRI (controls, space,
// <>"{}|^`\) nor DEL, and every "%" starts a percent-encoding (two hex digits). Nothing
// else of RFC 3987 is checked.
func ValidIRI(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	i := 1
	for i < len(s) && (isAlpha(s[i]) || isDigit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.') {
		i++
	}
	if i == len(s) || s[i] != ':' {
		return false
	}
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		if c <= 0x20 || c == 0x7f {
			return false
		}
		if c == '%' && (j+2 >= len(s) || !isHex(s[j+1]) || !isHex(s[j+2])) {
			return false
		}
		switch c {
		case '<', '>', '"', '{', '}', '|', '^', '`', '\\':
			return false
		}
	}
	return utf8.ValidString(s)
}

// ValidLanguageTag reports whether s matches the N-Quads LANGTAG production (without the
// "@"): [a-zA-Z]+ ('-' [a-zA-Z0-9]+)*.
func ValidLanguageTag(s string) bool {
	i := 0
	for i < len(s) && isAlpha(s[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(s) {
		if s[i] != '-' {
			return false
		}
		i++
		start := i
		for i < len(s) && (isAlpha(s[i]) || isDigit(s[i])) {
			i++
		}
		if i == start {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

// check validates a term for a position: 's', 'p', 'o' or 'g'.
func (t *Term) check(pos byte) error {
	switch t.Kind {
	case DefaultGraph:
		if pos != 'g' {
			return fmt.Errorf("%w: missing term in position %c", ErrInvalid, pos)
		}
		if t.Value != "" || t.Datatype != "" || t.Language != "" {
			return fmt.Errorf("%w: default graph term with a value", ErrInvalid)
		}
	case IRI:
		if !ValidIRI(t.Value) {
			return fmt.Errorf("%w: not an absolute iri: %q", ErrInvalid, truncate(t.Value))
		}
	case BlankNode:
		if pos == 'p' {
			return fmt.Errorf("%w: blank node as predicate", ErrInvalid)
		}
		if t.Value == "" {
			return fmt.Errorf("%w: blank node without a label", ErrInvalid)
		}
	case Literal:
		if pos != 'o' {
			return fmt.Errorf("%w: literal in position %c", ErrInvalid, pos)
		}
		if !utf8.ValidString(t.Value) {
			return fmt.Errorf("%w: literal is not valid utf-8", ErrInvalid)
		}
		if t.Language != "" {
			if !ValidLanguageTag(t.Language) {
				return fmt.Errorf("%w: malformed language tag %q", ErrInvalid, truncate(t.Language))
			}
			if t.Datatype != "" && t.Datatype != RDFLangString {
				return fmt.Errorf("%w: language-tagged literal with datatype %q", ErrInvalid, truncate(t.Datatype))
			}
		} else if t.Datatype == RDFLangString {
			return fmt.Errorf("%w: rdf:langString literal without a language tag", ErrInvalid)
		} else if t.Datatype != "" && !ValidIRI(t.Datatype) {
			return fmt.Errorf("%w: literal datatype is not an absolute iri: %q", ErrInvalid, truncate(t.Datatype))
		}
	default:
		return fmt.Errorf("%w: unknown term kind %d", ErrInvalid, t.Kind)
	}
	return nil
}

// truncate shortens s for an error message.
func truncate(s string) string { return clip.String(s, 64) }
