package jsonld

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/piprate/json-gold/ld"

	"github.com/civitas-net/civitas/internal/jsonld/rdfc"
)

// Canonicalize returns the RDFC-1.0 canonical N-Quads of doc: every quad on its own line
// ended by "\n", lines sorted, blank nodes labelled _:c14n0, _:c14n1, …
//
// doc is what encoding/json decodes a JSON object into, with float64 or json.Number
// numbers (both give the same result). It is not modified. The steps, each bounded by lim
// (zero fields take the defaults), are: Check; JSON-LD expansion with contexts only from
// r (the fast path, or json-gold where the fast path does not apply; see the package
// documentation); deserialization to RDF in safe mode; RDFC-1.0. Errors wrap
// ErrUnknownContext, ErrInlineContext, ErrInvalid (with ErrUnsupported, in addition, for a
// document only json-gold could expand and that json-gold is known to get wrong) or
// ErrLimit, or ctx's error when ctx ends first.
func (r *Registry) Canonicalize(ctx context.Context, doc map[string]any, lim Limits) ([]byte, error) {
	return r.canonicalize(ctx, doc, lim, pathAuto)
}

// expansionPath selects how a document is expanded. Only tests and benchmarks choose
// anything but pathAuto.
type expansionPath uint8

const (
	pathAuto    expansionPath = iota // the fast path, else json-gold
	pathGeneral                      // json-gold only
	pathFast                         // the fast path only; errFallback where it does not apply
)

func (r *Registry) canonicalize(ctx context.Context, doc map[string]any, lim Limits, path expansionPath) ([]byte, error) {
	lim = lim.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("jsonld: %w", err)
	}
	quads, err := r.toRDF(doc, lim, path)
	if err != nil {
		return nil, err
	}
	return rdfc.Canonicalize(ctx, quads, rdfc.Options{
		MaxQuads:      lim.MaxQuads,
		MaxBlankNodes: lim.MaxBlankNodes,
		MaxWork:       lim.MaxWork,
	})
}

// ToRDF runs the first three steps of Canonicalize (Check, expansion, deserialization to
// RDF) and returns the quads, with blank nodes labelled in no particular way and possibly
// with duplicates. It is exported for tests and tools; signing and verifying use
// Canonicalize.
func (r *Registry) ToRDF(doc map[string]any, lim Limits) ([]rdfc.Quad, error) {
	return r.toRDF(doc, lim.withDefaults(), pathAuto)
}

func (r *Registry) toRDF(doc map[string]any, lim Limits, path expansionPath) ([]rdfc.Quad, error) {
	if err := r.Check(doc, lim); err != nil {
		return nil, err
	}
	f := r.fastSnapshot()
	expanded, err := r.expandPath(f, doc, path)
	if err != nil {
		return nil, err
	}
	return toRDF(expanded, lim, &f.iris)
}

// expandPath expands a document Check accepted. On pathAuto the fast path runs first;
// when it reports errFallback (before anything of its work is used) the document is
// expanded again, from the original input, by json-gold.
func (r *Registry) expandPath(f *fastSnapshot, doc map[string]any, path expansionPath) ([]any, error) {
	if path != pathGeneral {
		out, err := r.expandFast(f, doc)
		if !errors.Is(err, errFallback) {
			return out, err
		}
		if path == pathFast {
			return nil, err
		}
	}
	return r.expand(f, doc)
}

// errFastPanic reports a panic inside the fast path: a bug, never expected. Like
// errFallback it sends the document to the general path (pathAuto); with pathFast the
// tests see it.
var errFastPanic = fmt.Errorf("%w: the fast path panicked", errFallback)

// expandFast runs the fast expansion path (fastexpand.go) with the contexts of f.
func (r *Registry) expandFast(f *fastSnapshot, doc map[string]any) (out []any, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("%w: %v", errFastPanic, p)
		}
	}()
	x := fastExpander{f: f}
	expanded, err := x.expandDocument(doc)
	if err != nil {
		return nil, err
	}
	return finishExpansion(expanded), nil
}

// expand runs json-gold's expansion on doc (the general path), with the top-level context taken from the
// cache. Check must have accepted doc.
//
// It calls the expansion algorithm itself (ld.JsonLdApi.Expand) with the cached active
// context and a shallow copy of doc without its top-level "@context", then finishes as
// ld.JsonLdProcessor.Expand does (JSON-LD 1.1 API §9.1, steps after expansion). The cached
// context is only read by json-gold on this path: every derived context (type-scoped,
// property-scoped, nested "@context") starts with CopyContext, and a reverted context is a
// copy too. (Passing the cached context inside "@context" instead would not do: json-gold's
// parse writes the processing mode into a *ld.Context it is given.)
//
// Documents on which json-gold departs from JSON-LD 1.1 (f.div, divergence.go) are refused
// with ErrUnsupported before it runs.
func (r *Registry) expand(f *fastSnapshot, doc map[string]any) (out []any, err error) {
	if err := f.div.check(doc); err != nil {
		return nil, err
	}
	defer func() {
		// json-gold asserts types in places; a document it does not expect must not
		// bring the process down.
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("%w: json-ld expansion failed", ErrInvalid)
		}
	}()
	input := doc
	var active *ld.Context
	if c, ok := doc["@context"]; ok {
		var urls []any
		var key string
		switch c := c.(type) {
		case string:
			urls, key = []any{c}, c
		case []any:
			urls = c
			var sb strings.Builder
			for i, u := range c {
				if i > 0 {
					sb.WriteByte(' ') // registered URLs hold no spaces (rdfc.ValidIRI)
				}
				s, _ := u.(string)
				sb.WriteString(s)
			}
			key = sb.String()
		}
		if len(urls) > 0 {
			if active, err = r.activeContext(key, urls); err != nil {
				return nil, expansionError(err)
			}
		}
		input = maps.Clone(doc)
		delete(input, "@context")
	}
	if active == nil {
		active = ld.NewContext(nil, r.opts)
	}
	expanded, err := ld.NewJsonLdApi().Expand(active, "", input, r.opts, false, nil)
	if err != nil {
		return nil, expansionError(err)
	}
	return finishExpansion(expanded), nil
}

// finishExpansion ends expansion as ld.JsonLdProcessor.Expand does: a top-level object
// left with only "@graph" stands for its graph's nodes; an empty result is an empty array.
func finishExpansion(expanded any) []any {
	if m, ok := expanded.(map[string]any); ok {
		if g, ok := m["@graph"]; ok && len(m) == 1 {
			expanded = g
		} else if len(m) == 0 {
			expanded = nil
		}
	}
	switch e := expanded.(type) {
	case nil:
		return nil
	case []any:
		return e
	default:
		return []any{e}
	}
}

func expansionError(err error) error {
	if errors.Is(err, ErrUnknownContext) {
		return fmt.Errorf("json-ld expansion: %w", err)
	}
	return fmt.Errorf("%w: json-ld expansion: %v", ErrInvalid, err)
}
