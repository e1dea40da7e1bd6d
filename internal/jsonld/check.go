package jsonld

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/civitas-net/civitas/internal/clip"
	"github.com/civitas-net/civitas/internal/jsonld/rdfc"
	"github.com/civitas-net/civitas/internal/jsonstrict"
)

// Limits bound the work done on one document. Zero (or negative) fields take the defaults
// below. Exceeding any of them fails with ErrLimit, naming the limit.
type Limits struct {
	// MaxDepth is the deepest nesting of JSON objects and arrays (the document itself is
	// depth 1). Default 32.
	MaxDepth int
	// MaxNodes is the largest number of JSON values (objects, arrays, strings, numbers,
	// booleans, nulls, counted over the whole document). Default 4000.
	MaxNodes int
	// MaxQuads is the largest number of distinct RDF quads. Default 2000.
	MaxQuads int
	// MaxBlankNodes is the largest number of distinct blank nodes. Default 200.
	MaxBlankNodes int
	// MaxWork is the budget of the RDFC-1.0 Hash N-Degree Quads step, in calls plus
	// permutations tried. Default 10000.
	MaxWork int
}

// Default limits.
const (
	DefaultMaxDepth      = 32
	DefaultMaxNodes      = 4000
	DefaultMaxQuads      = rdfc.DefaultMaxQuads
	DefaultMaxBlankNodes = rdfc.DefaultMaxBlankNodes
	DefaultMaxWork       = rdfc.DefaultMaxWork
)

// maxNestedContexts bounds the "@context" URL references below the top level. On the
// general path each one makes json-gold process the context again (its cache covers the
// top level only), so a document repeating them would cost far more than its size
// suggests. A presentation holding a dozen credentials uses two dozen.
const maxNestedContexts = 64

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = DefaultMaxNodes
	}
	if l.MaxQuads <= 0 {
		l.MaxQuads = DefaultMaxQuads
	}
	if l.MaxBlankNodes <= 0 {
		l.MaxBlankNodes = DefaultMaxBlankNodes
	}
	if l.MaxWork <= 0 {
		l.MaxWork = DefaultMaxWork
	}
	return l
}

// bodyKeywords are the JSON-LD 1.1 keywords that may be keys in a document body (outside
// "@context"). Every other key starting with "@" is refused: json-gold (like the JSON-LD
// algorithms) ignores unknown "@"-keys and context-only keywords such as "@vocab" in a
// node, and passes framing keywords such as "@default" through; either way the data would
// not be signed. "@none" is refused too: it only has a meaning as a key of a container
// map and is dropped anywhere else. So is "@index": it never reaches the RDF, so it could
// be changed without breaking a signature. So is "@set": json-gold ignores errors inside a
// set object (safe mode's "undefined term" among them), dropping what it could not expand
// without a word, and a set object adds nothing to the RDF that a plain array does not.
var bodyKeywords = map[string]bool{
	"@context": true, "@id": true, "@type": true, "@value": true, "@language": true,
	"@direction": true, "@list": true, "@graph": true,
	"@included": true, "@reverse": true, "@nest": true,
}

// Check validates doc before any JSON-LD processing (Canonicalize calls it first):
//
//   - every "@context" value, at any depth, is a URL string or an array of URL strings,
//     each registered in r (ErrUnknownContext otherwise; an object, inline context, is
//     ErrInlineContext; null or any other value is ErrInvalid);
//   - no key starts with "@" unless it is one of the keywords allowed in a document body
//     ("@index" and "@none" are not: they never reach the RDF; nor is "@set"), "@graph"
//     holds only node objects (no scalars, value or list objects), and the document itself
//     is not a value, list or set object (ErrInvalid);
//   - nesting and the number of JSON values stay within lim.MaxDepth and lim.MaxNodes, and
//     there are at most 64 "@context" URLs below the top level (ErrLimit);
//   - strings and keys are valid UTF-8, numbers are finite, json.Number values are JSON
//     numbers, and values are only the types encoding/json produces (ErrInvalid).
func (r *Registry) Check(doc map[string]any, lim Limits) error {
	c := checker{r: r, lim: lim.withDefaults()}
	return c.object(doc, 1, true)
}

type checker struct {
	r      *Registry
	lim    Limits
	nodes  int
	nested int
}

func (c *checker) count(depth int) error {
	c.nodes++
	if c.nodes > c.lim.MaxNodes {
		return fmt.Errorf("%w: more than %d json values (MaxNodes)", ErrLimit, c.lim.MaxNodes)
	}
	if depth > c.lim.MaxDepth {
		return fmt.Errorf("%w: nesting deeper than %d (MaxDepth)", ErrLimit, c.lim.MaxDepth)
	}
	return nil
}

func (c *checker) object(m map[string]any, depth int, top bool) error {
	if err := c.count(depth); err != nil {
		return err
	}
	if top {
		for _, k := range []string{"@value", "@list", "@set"} {
			if _, ok := m[k]; ok {
				return fmt.Errorf("%w: the document is a %s object, not a node object", ErrInvalid, k)
			}
		}
	}
	for k, v := range m {
		if !utf8.ValidString(k) {
			return fmt.Errorf("%w: key is not valid utf-8", ErrInvalid)
		}
		if k == "@context" {
			if err := c.context(v, depth+1, top); err != nil {
				return err
			}
			continue
		}
		if strings.HasPrefix(k, "@") && !bodyKeywords[k] {
			return fmt.Errorf("%w: key %q is not a json-ld keyword allowed in a document", ErrInvalid, truncate(k))
		}
		if k == "@graph" {
			if err := graphItems(v); err != nil {
				return err
			}
		}
		if err := c.value(v, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) value(v any, depth int) error {
	switch v := v.(type) {
	case map[string]any:
		return c.object(v, depth, false)
	case []any:
		if err := c.count(depth); err != nil {
			return err
		}
		for _, e := range v {
			if err := c.value(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case string:
		if !utf8.ValidString(v) {
			return fmt.Errorf("%w: string is not valid utf-8", ErrInvalid)
		}
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: number is not finite", ErrInvalid)
		}
	case json.Number:
		if _, err := numberValue(v); err != nil {
			return err
		}
	case bool, nil:
	default:
		return fmt.Errorf("%w: unsupported value type %T", ErrInvalid, v)
	}
	return c.count(depth)
}

// graphItems refuses scalars, value objects and list objects in an "@graph" value:
// expansion drops such free-floating values, so they would not be signed.
func graphItems(v any) error {
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	for _, e := range items {
		m, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("%w: free-floating %s in \"@graph\"", ErrInvalid, jsonType(e))
		}
		for _, k := range []string{"@value", "@list"} {
			if _, ok := m[k]; ok {
				return fmt.Errorf("%w: free-floating %s object in \"@graph\"", ErrInvalid, k)
			}
		}
	}
	return nil
}

// context checks one "@context" value.
func (c *checker) context(v any, depth int, top bool) error {
	if err := c.count(depth); err != nil {
		return err
	}
	switch v := v.(type) {
	case string:
		return c.url(v, top)
	case []any:
		for _, e := range v {
			if err := c.count(depth + 1); err != nil {
				return err
			}
			switch e := e.(type) {
			case string:
				if err := c.url(e, top); err != nil {
					return err
				}
			case map[string]any:
				return fmt.Errorf("%w: \"@context\" array holds an object", ErrInlineContext)
			default:
				return fmt.Errorf("%w: \"@context\" array holds a %s, not a url", ErrInvalid, jsonType(e))
			}
		}
		return nil
	case map[string]any:
		return fmt.Errorf("%w: \"@context\" is an object", ErrInlineContext)
	default:
		return fmt.Errorf("%w: \"@context\" is a %s, not a url or an array of urls", ErrInvalid, jsonType(v))
	}
}

func (c *checker) url(u string, top bool) error {
	if !c.r.Has(u) {
		return fmt.Errorf("%w: %q", ErrUnknownContext, truncate(u))
	}
	if !top {
		c.nested++
		if c.nested > maxNestedContexts {
			return fmt.Errorf("%w: more than %d nested \"@context\" urls", ErrLimit, maxNestedContexts)
		}
	}
	return nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64, json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// numberValue converts a JSON number to the double it denotes, as a JSON-LD processor
// reading JSON does. The text must follow the JSON number grammar (strconv alone would
// also take hex, "Inf" or underscores) and be finite as a double.
func numberValue(n json.Number) (float64, error) {
	s := string(n)
	if !jsonstrict.ValidNumber(s) {
		return 0, fmt.Errorf("%w: %q is not a json number", ErrInvalid, truncate(s))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: number %q is out of range for a double", ErrInvalid, truncate(s))
	}
	return f, nil
}

// truncate shortens s for an error message.
func truncate(s string) string { return clip.String(s, 64) }
