package jsonld

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/civitas-net/civitas/internal/jcs"
	"github.com/civitas-net/civitas/internal/jsonld/rdfc"
)

// Vocabulary IRIs used when deserializing to RDF.
const (
	rdfType    = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
	rdfFirst   = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first"
	rdfRest    = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest"
	rdfNil     = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"
	rdfJSON    = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
	xsdBoolean = "http://www.w3.org/2001/XMLSchema#boolean"
	xsdInteger = "http://www.w3.org/2001/XMLSchema#integer"
	xsdDouble  = "http://www.w3.org/2001/XMLSchema#double"
)

// rdfBuilder deserializes expanded JSON-LD to RDF quads (JSON-LD 1.1 Processing
// Algorithms §8.1 and §8.2, with the node map of §7 folded in).
//
// The spec first flattens the document into a node map, merging the statements made about
// each node, and then writes the quads of every node. Since an RDF dataset is a set, the
// same quads come out of a single walk that writes each statement where it is met: a node
// object's properties go to the graph it appears in, a value that is a node object becomes
// a reference to it, "@graph" opens the named graph named by its node, "@reverse" swaps
// subject and object, "@included" adds nodes without a link, and each list becomes a fresh
// rdf:first/rdf:rest chain. Duplicate statements are removed by rdfc. Blank node labels
// of the document are mapped to fresh ones (as the spec's identifier issuer does), so a
// document cannot collide with the labels made up for anonymous nodes.
//
// Safe mode: what the spec tells a processor to skip is an error here (ErrInvalid):
// relative or malformed IRIs as subject, predicate, object, type or graph name, blank node
// predicates, malformed language tags, and values with "@direction".
type rdfBuilder struct {
	known    *sync.Map // IRIs known to pass absoluteIRI (term IRIs), or nil
	quads    []rdfc.Quad
	blank    map[string]string
	nBlank   int
	maxQuads int
	maxBlank int
	maxDepth int
}

// toRDF deserializes an expanded document. known, when not nil, holds IRIs absoluteIRI
// is known to accept (it only saves calling it).
func toRDF(expanded []any, lim Limits, known *sync.Map) ([]rdfc.Quad, error) {
	b := &rdfBuilder{
		known: known,
		blank: make(map[string]string),
		// Statements written more than once (a node embedded twice) count here before
		// rdfc removes duplicates and enforces MaxQuads exactly; this bound only caps
		// memory.
		maxQuads: 4 * lim.MaxQuads,
		maxBlank: lim.MaxBlankNodes,
		// Expanded documents nest at most about twice as deep as the input (values
		// and lists gain a wrapping object).
		maxDepth: 2*lim.MaxDepth + 8,
	}
	for _, item := range expanded {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: top-level item is a %s, not a node object", ErrInvalid, jsonType(item))
		}
		if _, err := b.node(m, rdfc.Term{}, 0); err != nil {
			return nil, err
		}
	}
	return b.quads, nil
}

func (b *rdfBuilder) emit(s, p, o, g rdfc.Term) error {
	if len(b.quads) >= b.maxQuads {
		return fmt.Errorf("%w: more than %d statements before removing duplicates (4 × MaxQuads)", ErrLimit, b.maxQuads)
	}
	b.quads = append(b.quads, rdfc.Quad{Subject: s, Predicate: p, Object: o, Graph: g})
	return nil
}

// freshBlank returns a new blank node.
func (b *rdfBuilder) freshBlank() (rdfc.Term, error) {
	if b.nBlank >= b.maxBlank {
		return rdfc.Term{}, fmt.Errorf("%w: more than %d blank nodes (MaxBlankNodes)", ErrLimit, b.maxBlank)
	}
	label := "b" + strconv.Itoa(b.nBlank)
	b.nBlank++
	return rdfc.NewBlankNode(label), nil
}

// ref returns the term for a node identifier: a blank node for "_:…", an IRI otherwise.
func (b *rdfBuilder) ref(id, what string) (rdfc.Term, error) {
	if strings.HasPrefix(id, "_:") {
		if label, ok := b.blank[id]; ok {
			return rdfc.NewBlankNode(label), nil
		}
		t, err := b.freshBlank()
		if err != nil {
			return t, err
		}
		b.blank[id] = t.Value
		return t, nil
	}
	if !b.absolute(id) {
		return rdfc.Term{}, fmt.Errorf("%w: %s %q is not an absolute iri", ErrInvalid, what, truncate(id))
	}
	return rdfc.NewIRI(id), nil
}

// predicate returns the term for a property IRI.
func (b *rdfBuilder) predicate(p string) (rdfc.Term, error) {
	if strings.HasPrefix(p, "_:") {
		return rdfc.Term{}, fmt.Errorf("%w: blank node property %q", ErrInvalid, truncate(p))
	}
	if !b.absolute(p) {
		return rdfc.Term{}, fmt.Errorf("%w: property %q is not an absolute iri", ErrInvalid, truncate(p))
	}
	return rdfc.NewIRI(p), nil
}

// absolute is absoluteIRI, answered from b.known where it can be.
func (b *rdfBuilder) absolute(s string) bool {
	if b.known != nil {
		if _, ok := b.known.Load(s); ok {
			return true
		}
	}
	return absoluteIRI(s)
}

// absoluteIRI reports whether s is an IRI safe mode accepts: writable in N-Quads with a
// scheme (rdfc.ValidIRI), and also parsed as absolute by net/url, the test json-gold uses
// to decide what is a relative IRI to drop. So "A:%X0" (a bad escape) or
// "http://host:abc/" (a bad port) are errors here where json-gold drops them.
func absoluteIRI(s string) bool {
	if !rdfc.ValidIRI(s) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.IsAbs()
}

func asArray(v any, what string) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: expanded %s is a %s, not an array", ErrInvalid, what, jsonType(v))
	}
	return a, nil
}

func asObject(v any, what string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: expanded %s is a %s, not an object", ErrInvalid, what, jsonType(v))
	}
	return m, nil
}

// node writes the statements of a node object into graph and returns its subject term.
func (b *rdfBuilder) node(m map[string]any, graph rdfc.Term, depth int) (rdfc.Term, error) {
	if depth > b.maxDepth {
		return rdfc.Term{}, fmt.Errorf("%w: expanded document nests too deeply (MaxDepth)", ErrLimit)
	}
	var subj rdfc.Term
	var err error
	if id, ok := m["@id"]; ok {
		s, ok := id.(string)
		if !ok {
			return subj, fmt.Errorf("%w: @id is a %s, not a string", ErrInvalid, jsonType(id))
		}
		subj, err = b.ref(s, "@id")
	} else {
		subj, err = b.freshBlank()
	}
	if err != nil {
		return subj, err
	}
	if tv, ok := m["@type"]; ok {
		types, err := asArray(tv, "@type")
		if err != nil {
			return subj, err
		}
		for _, t := range types {
			s, ok := t.(string)
			if !ok {
				return subj, fmt.Errorf("%w: @type holds a %s, not a string", ErrInvalid, jsonType(t))
			}
			o, err := b.ref(s, "@type")
			if err != nil {
				return subj, err
			}
			if err := b.emit(subj, rdfc.NewIRI(rdfType), o, graph); err != nil {
				return subj, err
			}
		}
	}
	for k, v := range m {
		switch k {
		case "@id", "@type", "@index":
			// done above, or not RDF
		case "@reverse":
			if err := b.reverse(subj, v, graph, depth); err != nil {
				return subj, err
			}
		case "@graph":
			if err := b.nodes(v, subj, depth, "@graph"); err != nil {
				return subj, err
			}
		case "@included":
			if err := b.nodes(v, graph, depth, "@included"); err != nil {
				return subj, err
			}
		default:
			if strings.HasPrefix(k, "@") {
				return subj, fmt.Errorf("%w: unexpected keyword %q in a node object", ErrInvalid, truncate(k))
			}
			pred, err := b.predicate(k)
			if err != nil {
				return subj, err
			}
			items, err := asArray(v, "property value")
			if err != nil {
				return subj, err
			}
			for _, item := range items {
				obj, err := b.object(item, graph, depth+1)
				if err != nil {
					return subj, err
				}
				if err := b.emit(subj, pred, obj, graph); err != nil {
					return subj, err
				}
			}
		}
	}
	return subj, nil
}

// nodes writes each node object of an "@graph" or "@included" array into graph.
func (b *rdfBuilder) nodes(v any, graph rdfc.Term, depth int, what string) error {
	items, err := asArray(v, what)
	if err != nil {
		return err
	}
	for _, item := range items {
		m, err := asObject(item, what+" item")
		if err != nil {
			return err
		}
		if _, ok := m["@value"]; ok {
			return fmt.Errorf("%w: value object in %s", ErrInvalid, what)
		}
		if _, ok := m["@list"]; ok {
			return fmt.Errorf("%w: list object in %s", ErrInvalid, what)
		}
		if _, hasID := m["@id"]; what == "@graph" && (len(m) == 0 || (len(m) == 1 && hasID)) {
			// Only a graph container puts these here: expansion drops them from an
			// "@graph" member. The algorithm keeps such a graph, empty; jsonld.js
			// drops the value (in safe mode, the error "empty object" or "object
			// with only @id"). Refused, so that both agree on what is accepted.
			return fmt.Errorf("%w: a graph container value is a node without statements", ErrInvalid)
		}
		if _, err := b.node(m, graph, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// reverse writes the statements of an "@reverse" map: each value is the subject and the
// node holding the map the object.
func (b *rdfBuilder) reverse(subj rdfc.Term, v any, graph rdfc.Term, depth int) error {
	rm, err := asObject(v, "@reverse")
	if err != nil {
		return err
	}
	for prop, vals := range rm {
		pred, err := b.predicate(prop)
		if err != nil {
			return err
		}
		items, err := asArray(vals, "@reverse value")
		if err != nil {
			return err
		}
		for _, item := range items {
			m, err := asObject(item, "@reverse value")
			if err != nil {
				return err
			}
			if _, ok := m["@value"]; ok {
				return fmt.Errorf("%w: value object as a reverse property value", ErrInvalid)
			}
			if _, ok := m["@list"]; ok {
				return fmt.Errorf("%w: list as a reverse property value", ErrInvalid)
			}
			s, err := b.node(m, graph, depth+1)
			if err != nil {
				return err
			}
			if err := b.emit(s, pred, subj, graph); err != nil {
				return err
			}
		}
	}
	return nil
}

// object converts one expanded property value to an RDF term, writing whatever statements
// it needs (an embedded node's own, a list's chain).
func (b *rdfBuilder) object(item any, graph rdfc.Term, depth int) (rdfc.Term, error) {
	m, err := asObject(item, "property value")
	if err != nil {
		return rdfc.Term{}, err
	}
	if _, ok := m["@value"]; ok {
		return b.literal(m)
	}
	if l, ok := m["@list"]; ok {
		return b.list(l, graph, depth)
	}
	return b.node(m, graph, depth)
}

// list writes an RDF collection for a list object and returns its head (JSON-LD 1.1
// §8.3 "List to RDF Conversion").
func (b *rdfBuilder) list(v any, graph rdfc.Term, depth int) (rdfc.Term, error) {
	items, err := asArray(v, "@list")
	if err != nil {
		return rdfc.Term{}, err
	}
	if len(items) == 0 {
		return rdfc.NewIRI(rdfNil), nil
	}
	head, err := b.freshBlank()
	if err != nil {
		return head, err
	}
	cur := head
	for i, item := range items {
		obj, err := b.object(item, graph, depth+1)
		if err != nil {
			return head, err
		}
		if err := b.emit(cur, rdfc.NewIRI(rdfFirst), obj, graph); err != nil {
			return head, err
		}
		next := rdfc.NewIRI(rdfNil)
		if i < len(items)-1 {
			if next, err = b.freshBlank(); err != nil {
				return head, err
			}
		}
		if err := b.emit(cur, rdfc.NewIRI(rdfRest), next, graph); err != nil {
			return head, err
		}
		cur = next
	}
	return head, nil
}

// literal converts a value object to an RDF literal (JSON-LD 1.1 §8.2 "Object to RDF
// Conversion", steps 4 to 13, with rdfDirection unset and base direction refused).
func (b *rdfBuilder) literal(m map[string]any) (rdfc.Term, error) {
	if _, ok := m["@direction"]; ok {
		// JSON-LD 1.1 drops the direction when rdfDirection is not set; signing the text
		// without its direction would let it be flipped, so it is refused.
		return rdfc.Term{}, fmt.Errorf("%w: values with @direction are not supported", ErrInvalid)
	}
	value := m["@value"]
	var datatype string
	if t, ok := m["@type"]; ok {
		s, ok := t.(string)
		if !ok {
			return rdfc.Term{}, fmt.Errorf("%w: value @type is a %s, not a string", ErrInvalid, jsonType(t))
		}
		datatype = s
	}
	if datatype == "@json" {
		// The lexical form of an rdf:JSON literal is the value in JCS (RFC 8785) form
		// (JSON-LD 1.1 §8.2 step 5).
		lex, err := jcs.Marshal(value)
		if err != nil {
			return rdfc.Term{}, fmt.Errorf("%w: @json value: %w", ErrInvalid, err)
		}
		return rdfc.NewLiteral(string(lex), rdfJSON, ""), nil
	}
	if datatype != "" && !b.absolute(datatype) {
		return rdfc.Term{}, fmt.Errorf("%w: datatype %q is not an absolute iri", ErrInvalid, truncate(datatype))
	}
	var lang string
	if l, ok := m["@language"]; ok {
		s, ok := l.(string)
		if !ok {
			return rdfc.Term{}, fmt.Errorf("%w: @language is a %s, not a string", ErrInvalid, jsonType(l))
		}
		if _, isString := value.(string); !isString {
			return rdfc.Term{}, fmt.Errorf("%w: @language on a non-string value", ErrInvalid)
		}
		if !rdfc.ValidLanguageTag(s) {
			return rdfc.Term{}, fmt.Errorf("%w: malformed language tag %q", ErrInvalid, truncate(s))
		}
		lang = s
	}
	switch v := value.(type) {
	case string:
		if lang != "" {
			return rdfc.NewLiteral(v, "", lang), nil
		}
		return rdfc.NewLiteral(v, datatype, ""), nil
	case bool:
		return rdfc.NewLiteral(strconv.FormatBool(v), or(datatype, xsdBoolean), ""), nil
	case float64:
		lex, dt := numberLexical(v, datatype)
		return rdfc.NewLiteral(lex, dt, ""), nil
	case json.Number:
		f, err := numberValue(v)
		if err != nil {
			return rdfc.Term{}, err
		}
		lex, dt := numberLexical(f, datatype)
		return rdfc.NewLiteral(lex, dt, ""), nil
	default:
		return rdfc.Term{}, fmt.Errorf("%w: @value is a %s", ErrInvalid, jsonType(value))
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
