package jsonld

import (
	"fmt"
	"slices"
	"strings"
)

// This file finds the documents on which json-gold's expansion (the general path) departs
// from the JSON-LD 1.1 Expansion Algorithm in a way that changes the RDF, so that the
// general path refuses them (ErrUnsupported) instead of producing a canonical form no
// other implementation computes.
//
// The departure: for a term with a scoped context ("@context" in its term definition),
// json-gold reads the term's container mapping from the active context that results from
// applying that scoped context, where step 13.5 of the algorithm reads it from the active
// context the term was found in ("Initialize container mapping to key's container mapping
// in active context"; jsonld.js does so since the credentials v2 context made it matter,
// w3c/json-ld-api#582, digitalbazaar/jsonld.js#544). The two differ when the scoped
// context changes or removes the term's own definition: credentials v2 defines
// "verifiableCredential" with "@container": "@graph" and "@context": null, so json-gold
// leaves the credentials of a presentation in the default graph instead of putting each
// in a named graph. The fast path reads the container mapping as the algorithm does, and
// leaves the other such terms to the general path (containerKept).
//
// Which terms: those whose definition, somewhere in a registered context (the context
// itself, the scoped contexts inside it and the registered contexts it names), has a
// scoped context after which the term has another container mapping ("@set" aside: it
// changes nothing in expansion) or, for a language map, another base direction (json-gold
// takes that from the outer definition, jsonld.js from the inner). A document is refused
// when it names, in any "@context", a context holding such a term and uses the term as a
// member name anywhere. That is conservative (the term may not be in the active context
// where the member is), which is acceptable on the general path: the fast path takes
// every document built on the registered contexts unless it uses something unusual.

// divergence maps a registered context URL to the terms (member names) whose expansion by
// json-gold may differ from the algorithm's wherever that context is in use.
type divergence map[string]map[string]bool

// findDivergence computes the divergence table of the registered documents docs (URL ->
// parsed document with an "@context" member).
func findDivergence(docs map[string]any) divergence {
	d := make(divergence)
	for u := range docs {
		w := divWalker{docs: docs, terms: map[string]bool{}, seen: map[string]bool{}}
		w.context(docRoot(docs, u), 0)
		if len(w.terms) > 0 {
			d[u] = w.terms
		}
	}
	return d
}

func docRoot(docs map[string]any, u string) any {
	m, _ := docs[u].(map[string]any)
	return m["@context"]
}

// divWalker collects the divergent terms of one registered context.
type divWalker struct {
	docs  map[string]any
	terms map[string]bool
	seen  map[string]bool // context documents already walked
}

// context walks a context value: a registered URL (followed once), null, a context
// definition, or an array of them.
func (w *divWalker) context(v any, depth int) {
	if depth > maxRemoteDepth*4 {
		return // scoped contexts nested this deep are not processed by either path
	}
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			w.context(e, depth)
		}
	case string:
		if w.seen[v] {
			return
		}
		w.seen[v] = true
		if _, ok := w.docs[v]; ok {
			w.context(docRoot(w.docs, v), depth+1)
		}
	case map[string]any:
		for k, def := range v {
			if strings.HasPrefix(k, "@") {
				continue
			}
			m, ok := def.(map[string]any)
			if !ok {
				continue
			}
			scoped, ok := m["@context"]
			if !ok {
				continue
			}
			if w.diverges(k, m, scoped) {
				w.terms[k] = true
			}
			w.context(scoped, depth+1)
		}
	}
}

// termShape is what of a term's definition the check compares: its container mapping
// without "@set", and its base direction.
type termShape struct {
	container string // sorted, space-separated container keywords other than "@set"
	direction any
	hasDir    bool
}

func shapeOf(def any) termShape {
	m, ok := def.(map[string]any)
	if !ok {
		return termShape{} // null or a simple term: no container, no direction
	}
	if id, ok := m["@id"]; ok && id == nil {
		return termShape{}
	}
	var s termShape
	var items []string
	switch c := m["@container"].(type) {
	case string:
		items = []string{c}
	case []any:
		for _, e := range c {
			str, _ := e.(string)
			items = append(items, str)
		}
	}
	var kept []string
	for _, c := range items {
		if c != "@set" {
			kept = append(kept, c)
		}
	}
	slices.Sort(kept) // container arrays are unordered
	s.container = strings.Join(kept, " ")
	s.direction, s.hasDir = m["@direction"]
	return s
}

// diverges reports whether applying scoped (the scoped context of term k, defined by def)
// leaves k with another container mapping, or a language map with another direction. A
// context json-gold could only fetch (a URL not registered) counts as diverging.
func (w *divWalker) diverges(k string, def map[string]any, scoped any) bool {
	outer := shapeOf(def)
	inner := outer
	unknown := false
	var apply func(v any, depth int)
	apply = func(v any, depth int) {
		switch v := v.(type) {
		case nil:
			inner = termShape{} // the term is no longer defined
		case []any:
			for _, e := range v {
				apply(e, depth)
			}
		case string:
			if _, ok := w.docs[v]; !ok || depth >= maxRemoteDepth {
				unknown = true
				return
			}
			apply(docRoot(w.docs, v), depth+1)
		case map[string]any:
			if d, ok := v[k]; ok {
				inner = shapeOf(d)
			}
		default:
			unknown = true
		}
	}
	apply(scoped, 0)
	if unknown || inner.container != outer.container {
		return true
	}
	if strings.Contains(outer.container, "@language") {
		return inner.hasDir != outer.hasDir || fmt.Sprint(inner.direction) != fmt.Sprint(outer.direction)
	}
	return false
}

// check returns ErrUnsupported (which also wraps ErrInvalid) when doc names a context
// holding a divergent term and uses that term as a member name.
func (d divergence) check(doc map[string]any) error {
	if len(d) == 0 {
		return nil
	}
	var terms []map[string]bool
	forContexts(doc, func(u string) {
		if t := d[u]; t != nil {
			terms = append(terms, t)
		}
	})
	if len(terms) == 0 {
		return nil
	}
	if k, ok := usesTerm(doc, terms); ok {
		return fmt.Errorf("%w: %w: the member %q would expand differently here than in JSON-LD 1.1 (json-gold reads its container mapping from its own scoped context)",
			ErrInvalid, ErrUnsupported, truncate(k))
	}
	return nil
}

// forContexts calls f with every context URL named in an "@context" member of v.
func forContexts(v any, f func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if k != "@context" {
				forContexts(e, f)
				continue
			}
			switch c := e.(type) {
			case string:
				f(c)
			case []any:
				for _, u := range c {
					if s, ok := u.(string); ok {
						f(s)
					}
				}
			}
		}
	case []any:
		for _, e := range v {
			forContexts(e, f)
		}
	}
}

// usesTerm reports the first member name of v (outside "@context") found in one of terms.
func usesTerm(v any, terms []map[string]bool) (string, bool) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v, true) {
			for _, t := range terms {
				if t[k] {
					return k, true
				}
			}
			if name, ok := usesTerm(v[k], terms); ok {
				return name, true
			}
		}
	case []any:
		for _, e := range v {
			if name, ok := usesTerm(e, terms); ok {
				return name, true
			}
		}
	}
	return "", false
}
