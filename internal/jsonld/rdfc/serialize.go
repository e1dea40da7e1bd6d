package rdfc

// Canonical N-Quads serialization (RDFC-1.0 §4.3 "Canonical N-Quads", which refers to the
// canonical form of RDF 1.2 N-Quads/N-Triples):
//
//   - one space between terms, " ." and a single "\n" at the end of every statement;
//   - IRIs are written as they are between < and > (no UCHAR escapes; IRIs that would need
//     one are refused by ValidIRI before they get here);
//   - literals: xsd:string literals have no datatype; language-tagged literals are
//     "…"@tag; everything else is "…"^^<datatype>;
//   - inside a literal, U+0022 and U+005C are written \" and \\; U+0008, U+0009, U+000A,
//     U+000C, U+000D are written \b, \t, \n, \f, \r; the other characters in U+0000–U+001F
//     and U+007F are written \u00XX with upper-case hex; every other character is written
//     as itself (UTF-8).
//
// Divergence from json-gold v0.7.0 (ld/serialize_nquads.go, escape): json-gold escapes only
// \ " \n \r \t and writes U+0008, U+000C, the other C0 controls and U+007F raw, which is
// not the canonical form above (the RDFC-1.0 test suite's literal-with-control-characters
// case expects "\b\t\n\u000B\f\r\"\\\u007F" for U+0008 U+0009 U+000A U+000B U+000C U+000D
// U+0022 U+005C U+007F). Literals with such characters
// therefore hash differently in json-gold; datasets without them give identical bytes.

const hexUpper = "0123456789ABCDEF"

// appendIRI appends <iri>.
func appendIRI(buf []byte, iri string) []byte {
	buf = append(buf, '<')
	buf = append(buf, iri...)
	return append(buf, '>')
}

// needsEscape reports whether a literal byte must be escaped.
func needsEscape(c byte) bool {
	return c < 0x20 || c == '"' || c == '\\' || c == 0x7f
}

// appendLiteral appends the canonical N-Quads form of a literal term.
func appendLiteral(buf []byte, t *Term) []byte {
	buf = appendQuoted(buf, t.Value)
	switch {
	case t.Language != "":
		buf = append(buf, '@')
		buf = append(buf, t.Language...)
	case t.Datatype != "" && t.Datatype != XSDString:
		buf = append(buf, '^', '^')
		buf = appendIRI(buf, t.Datatype)
	}
	return buf
}

// appendQuoted appends s as a canonical N-Quads STRING_LITERAL_QUOTE.
func appendQuoted(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !needsEscape(c) {
			continue
		}
		buf = append(buf, s[start:i]...)
		start = i + 1
		switch c {
		case '"':
			buf = append(buf, '\\', '"')
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\b':
			buf = append(buf, '\\', 'b')
		case '\t':
			buf = append(buf, '\\', 't')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\f':
			buf = append(buf, '\\', 'f')
		case '\r':
			buf = append(buf, '\\', 'r')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hexUpper[c>>4], hexUpper[c&0xf])
		}
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// appendTerm appends the serialization of a non-blank term (IRI or literal).
func appendTerm(buf []byte, t *Term) []byte {
	switch t.Kind {
	case IRI:
		return appendIRI(buf, t.Value)
	case Literal:
		return appendLiteral(buf, t)
	}
	return buf
}

// AppendNQuad appends one quad in canonical N-Quads form, blank nodes written with their
// own labels ("_:" + Value), ended by " .\n". It does not validate the quad.
func AppendNQuad(buf []byte, q *Quad) []byte {
	for i, t := range [4]*Term{&q.Subject, &q.Predicate, &q.Object, &q.Graph} {
		if t.Kind == DefaultGraph {
			continue
		}
		if i > 0 {
			buf = append(buf, ' ')
		}
		if t.Kind == BlankNode {
			buf = append(buf, '_', ':')
			buf = append(buf, t.Value...)
		} else {
			buf = appendTerm(buf, t)
		}
	}
	return append(buf, ' ', '.', '\n')
}
