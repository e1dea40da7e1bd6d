package jsonld

import (
	"fmt"
	"slices"
	"strings"

	"github.com/piprate/json-gold/ld"
)

// fastExpander is the fast expansion path: json-gold v0.7.0's (*ld.JsonLdApi).Expand and
// expandObject (in json-ld-1.1 mode, safe mode on, no base IRI, not framing), step by step,
// over the immutable active contexts of fastctx.go. It builds the same expanded document
// json-gold builds (same maps, arrays and values), so the rest of the pipeline is shared.
//
// Its errors are of two kinds: errFallback, where the document needs something outside
// the fast path or where json-gold would panic or swallow an error, and the others, each
// an error json-gold itself reports at the same point (they become ErrInvalid).
type fastExpander struct {
	f *fastSnapshot
}

// invalid returns an error json-gold would also report.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: json-ld expansion: "+format, append([]any{ErrInvalid}, args...)...)
}

// expandDocument expands a document that Check accepted, as Registry.expand does with
// json-gold: the top-level "@context" is processed first and the rest of the document
// expanded with the result.
func (x *fastExpander) expandDocument(doc map[string]any) (any, error) {
	ac := x.f.root
	if c, ok := doc["@context"]; ok {
		var err error
		if ac, err = x.applyURLs(ac, c); err != nil {
			return nil, err
		}
	}
	return x.expandMap(ac, "", doc, true)
}

// applyURLs processes a document's "@context" value, a URL or an array of URLs (Check
// made sure of it), as json-gold's Parse does: one registered document after the other.
func (x *fastExpander) applyURLs(ac *state, c any) (*state, error) {
	var urls []any
	switch c := c.(type) {
	case string:
		urls = []any{c}
	case []any:
		urls = c
	default:
		return nil, errFallback
	}
	for i, u := range urls {
		s, ok := u.(string)
		if !ok {
			return nil, errFallback
		}
		for _, v := range urls[:i] {
			if v == u {
				return nil, errFallback // json-gold: recursive context inclusion
			}
		}
		lc := x.f.docs[s]
		if lc == nil {
			return nil, errFallback
		}
		var err error
		if ac, err = x.f.apply(ac, lc, true, false); err != nil {
			return nil, err
		}
	}
	return ac, nil
}

// expand is Expand for any element.
func (x *fastExpander) expand(ac *state, ap string, elem any) (any, error) {
	switch e := elem.(type) {
	case nil:
		return nil, nil
	case []any:
		result := make([]any, 0, len(e))
		listCtx := ap == "@list" || ac.hasContainer(ap, "@list")
		for _, item := range e {
			v, err := x.expand(ac, ap, item)
			if err != nil {
				return nil, err
			}
			if listCtx {
				if l, ok := v.([]any); ok {
					v = map[string]any{"@list": l}
				}
			}
			if v != nil {
				if l, ok := v.([]any); ok {
					result = append(result, l...)
				} else {
					result = append(result, v)
				}
			}
		}
		return result, nil
	case map[string]any:
		return x.expandMap(ac, ap, e, false)
	default:
		if ap == "" || ap == "@graph" {
			return nil, nil
		}
		return expandValue(ac, ap, elem)
	}
}

// sortedKeys returns the member names of m in code unit order (json-gold's
// GetOrderedKeys), leaving out "@context" when skip is set.
func sortedKeys(m map[string]any, skip bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if skip && k == "@context" {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// expandMap is the object branch of Expand. top is set for the document itself, whose
// "@context" expandDocument has processed (json-gold is given a copy without it).
func (x *fastExpander) expandMap(ac *state, ap string, elem map[string]any, top bool) (any, error) {
	eap, err := ac.expandIRI(ap, true)
	if err != nil {
		return nil, err
	}
	var psc *localCtx // property-scoped context; json-gold skips a null one here
	if td := ac.term(ap); td != nil && td.ctx != nil && td.ctx.raw != nil {
		psc = td.ctx
	}
	var tsc *state
	if ac.prev != nil {
		tsc = ac
	}
	keys := sortedKeys(elem, top)
	var elemCtx any
	hasContext := false
	if !top {
		elemCtx, hasContext = elem["@context"]
	}
	mustRevert := true
	if tsc != nil && len(keys) <= 2 && !hasContext {
		for _, k := range keys {
			ep, err := tsc.expandIRI(k, true)
			if err != nil {
				return nil, err
			}
			if ep == "@value" {
				mustRevert = false
				ac = tsc
				break
			}
			if ep == "@id" && len(keys) == 1 {
				mustRevert = false
				break
			}
		}
	}
	if mustRevert && ac.prev != nil {
		ac = ac.prev
	}
	if psc != nil {
		if ac, err = x.f.apply(ac, psc, true, true); err != nil {
			return nil, err
		}
	}
	if hasContext {
		if ac, err = x.applyURLs(ac, elemCtx); err != nil {
			return nil, err
		}
	}
	tsc = ac
	typeKey := ""
	for _, k := range keys {
		ep, err := ac.expandIRI(k, true)
		if err != nil {
			return nil, err
		}
		if ep != "@type" {
			continue
		}
		var types []string
		switch v := elem[k].(type) {
		case []any:
			for _, t := range v {
				s, ok := t.(string)
				if !ok {
					return nil, invalid("@type value must be a string or array of strings")
				}
				types = append(types, s)
			}
			slices.Sort(types)
		case string:
			types = []string{v}
		default:
			return nil, invalid("@type value must be a string or array of strings")
		}
		for _, t := range types {
			if td := tsc.term(t); td != nil && td.ctx != nil {
				if ac, err = x.f.apply(ac, td.ctx, false, false); err != nil {
					return nil, err
				}
			}
		}
		typeKey = k
	}

	result := make(map[string]any, len(keys))
	if err := x.expandObject(ac, ap, eap, elem, result, typeKey, tsc, keys); err != nil {
		return nil, err
	}

	rval, hasValue := result["@value"]
	if hasValue {
		for k := range result {
			switch k {
			case "@value", "@index", "@language", "@type", "@direction":
			default:
				return nil, invalid("value object has unknown keys")
			}
		}
		_, hasLanguage := result["@language"]
		_, hasDirection := result["@direction"]
		typeValue, hasType := result["@type"]
		if (hasLanguage || hasDirection) && hasType {
			return nil, invalid("value object must not include @type with either @language or @direction")
		}
		if rval == nil && typeValue != "@json" {
			return nil, nil
		}
		if hasLanguage {
			for _, v := range ld.Arrayify(rval) {
				if _, ok := v.(string); !ok && !isEmptyObject(v) {
					return nil, invalid("only strings may be language-tagged")
				}
			}
		} else if hasType {
			types := ld.Arrayify(typeValue)
			if !(len(types) == 1 && types[0] == "@json") {
				for _, v := range types {
					s, ok := v.(string)
					if !isEmptyObject(v) && !(ok && ld.IsAbsoluteIri(s) && !strings.HasPrefix(s, "_:")) {
						return nil, invalid("an element containing @value and @type must have an absolute IRI for the value of @type")
					}
				}
			}
		}
	} else if rtype, ok := result["@type"]; ok {
		if _, isList := rtype.([]any); !isList {
			result["@type"] = []any{rtype}
		}
	} else if _, hasList := result["@list"]; hasList {
		max := 1
		if _, ok := result["@index"]; ok {
			max = 2
		}
		if len(result) > max {
			return nil, invalid("@set or @list may only contain @index")
		}
	}
	if _, ok := result["@language"]; ok && len(result) == 1 {
		return nil, nil
	}
	if ap == "" || ap == "@graph" {
		_, hasList := result["@list"]
		_, hasID := result["@id"]
		if len(result) == 0 || hasValue || hasList || (hasID && len(result) == 1) {
			return nil, nil
		}
	}
	return result, nil
}

// expandObject is json-gold's expandObject for the supported keywords and containers.
func (x *fastExpander) expandObject(ac *state, ap, eap string, elem, result map[string]any, typeKey string, tsc *state, keys []string) error {
	var inputType string
	var it any
	if typeKey != "" {
		it = elem[typeKey]
	} else if _, ok := elem[""]; ok {
		return errFallback // json-gold reads the member "" as the type
	}
	if l, ok := it.([]any); ok {
		it = nil
		if len(l) > 0 {
			it = l[len(l)-1]
		}
	}
	if it != nil {
		s, ok := it.(string)
		if !ok {
			return errFallback
		}
		var err error
		if inputType, err = ac.expandIRI(s, true); err != nil {
			return err
		}
	}

	for _, key := range keys {
		if key == "@context" {
			continue
		}
		value := elem[key]
		ep, err := ac.expandIRI(key, true)
		if err != nil {
			return err
		}
		if ep == "" || (!strings.Contains(ep, ":") && !isKeyword(ep)) {
			return invalid("invalid property: %q does not expand to an absolute IRI or keyword", truncate(key))
		}
		if isKeyword(ep) {
			if err := x.keyword(ac, ap, eap, ep, value, result, inputType, tsc); err != nil {
				return err
			}
			continue
		}

		// As json-gold and jsonld.js do, the value is expanded with the term's scoped
		// context already applied (termCtx), where the expansion algorithm applies it in
		// the recursive call; the outcome is the same except where the scoped context
		// changes the term's own definition.
		termCtx := ac
		td := ac.term(key)
		if td != nil && td.ctx != nil {
			if termCtx, err = x.f.apply(ac, td.ctx, true, true); err != nil {
				return err
			}
			if !containerKept(td, termCtx.term(key)) {
				return errFallback
			}
		}
		var ev any
		if td != nil && td.typ == "@json" {
			ev = map[string]any{"@type": "@json", "@value": value}
		} else if ev, err = x.expand(termCtx, key, value); err != nil {
			return err
		}
		if ev == nil {
			continue
		}
		// The container mapping is the term's in the active context the key was found in
		// (JSON-LD 1.1 Expansion Algorithm step 13.5; jsonld.js does the same), not the
		// one in its own scoped context, which json-gold reads.
		container := ""
		if td != nil {
			container = td.container
		}
		if container == "@list" {
			if !ld.IsList(ev) {
				if l, ok := ev.([]any); ok {
					ev = map[string]any{"@list": l}
				} else {
					ev = map[string]any{"@list": []any{ev}}
				}
			}
		}
		if container == "@graph" {
			items := ld.Arrayify(ev)
			wrapped := make([]any, 0, len(items))
			for _, item := range items {
				wrapped = append(wrapped, map[string]any{"@graph": ld.Arrayify(item)})
			}
			ev = wrapped
		}
		list, _ := result[ep].([]any)
		if list == nil {
			list = make([]any, 0, 1)
		}
		if l, ok := ev.([]any); ok {
			list = append(list, l...)
		} else {
			list = append(list, ev)
		}
		result[ep] = list
	}
	return nil
}

// containerKept reports whether a term's scoped context leaves its container mapping as
// the fast path needs it: the same in the term's own scoped context (inner, nil when
// the scoped context removes the term) as in the active context (outer, td), or a
// "@graph" container removed by the scoped context (credentials v2's
// "verifiableCredential", "@context": null). Then the container mapping is used only for
// wrapping the expanded value, where the algorithm takes the outer one. Otherwise (the
// scoped context gives the term another container, or removes a "@list" container)
// json-gold, jsonld.js and the algorithm disagree with each other on nested arrays or
// dropped values, and the document goes to the general path, which refuses it
// (divergence.go).
func containerKept(td, inner *termDef) bool {
	outer, in := td.container, ""
	if inner != nil {
		in = inner.container
	}
	if outer == "@set" {
		outer = ""
	}
	if in == "@set" {
		in = ""
	}
	return outer == in || (outer == "@graph" && in == "")
}

// keyword handles a member whose name expands to a keyword (json-gold's step 7.4).
func (x *fastExpander) keyword(ac *state, ap, eap, ep string, value any, result map[string]any, inputType string, tsc *state) error {
	if eap == "@reverse" {
		return invalid("a keyword cannot be used as a @reverse property")
	}
	_, exists := result[ep]
	if exists && ep != "@type" && ep != "@included" {
		return invalid("colliding keywords: %s already exists in result", ep)
	}
	switch ep {
	case "@id":
		s, ok := value.(string)
		if !ok {
			return invalid("value of @id must be a string")
		}
		id, err := ac.expandIRI(s, false)
		if err != nil {
			return err
		}
		result["@id"] = id
	case "@included":
		ev, err := x.expand(ac, ap, value)
		if err != nil {
			return err
		}
		included := ld.Arrayify(ev)
		for _, v := range included {
			if !ld.IsSubject(v) {
				return invalid("values of @included must expand to node objects")
			}
		}
		if prev, ok := result["@included"]; ok {
			p, ok := prev.([]any)
			if !ok {
				return errFallback
			}
			included = append(p, included...)
		}
		result["@included"] = included
	case "@type":
		switch v := value.(type) {
		case []any:
			var types []any
			for _, t := range v {
				s, ok := t.(string)
				if !ok {
					return invalid("@type value must be a string or array of strings")
				}
				e, err := tsc.expandIRI(s, true)
				if err != nil {
					return err
				}
				types = append(types, e)
			}
			result["@type"] = types
		case string:
			e, err := tsc.expandIRI(v, true)
			if err != nil {
				return err
			}
			if exists {
				result["@type"] = append(ld.Arrayify(result["@type"]), e)
			} else {
				result["@type"] = e
			}
		default:
			return invalid("@type value must be a string or array of strings")
		}
	case "@graph":
		ev, err := x.expand(ac, "@graph", value)
		if err != nil {
			return err
		}
		result["@graph"] = ld.Arrayify(ev)
	case "@value":
		if inputType != "@json" {
			switch value.(type) {
			case map[string]any, []any:
				return invalid("value of @value must be a scalar or null")
			}
		}
		result["@value"] = value
	case "@language":
		s, ok := value.(string)
		if !ok {
			return invalid("@language value must be a string")
		}
		result["@language"] = strings.ToLower(s)
	case "@direction":
		if _, ok := value.(string); !ok {
			return invalid("@direction must be one of 'ltr', 'rtl'")
		}
		result["@direction"] = value
	case "@index":
		if _, ok := value.(string); !ok {
			return invalid("value of @index must be a string")
		}
		result["@index"] = value
	case "@list":
		if ap == "" || ap == "@graph" {
			return nil // json-gold drops a list here
		}
		ev, err := x.expand(ac, ap, value)
		if err != nil {
			// json-gold ignores errors inside a list and goes on with a null item;
			// what follows depends on the rest of the pipeline.
			return errFallback
		}
		result["@list"] = ld.Arrayify(ev)
	default:
		// "@set" (json-gold ignores errors inside it), "@reverse", "@nest", and
		// keywords json-gold drops or keeps for framing.
		return errFallback
	}
	return nil
}

// expandValue is json-gold's ExpandValue without default language or direction (no
// supported context sets them).
func expandValue(ac *state, ap string, value any) (any, error) {
	td := ac.term(ap)
	if td != nil && (td.typ == "@id" || td.typ == "@vocab") {
		s, ok := value.(string)
		if !ok {
			return map[string]any{"@value": value}, nil
		}
		id, err := ac.expandIRI(s, td.typ == "@vocab")
		if err != nil {
			return nil, err
		}
		return map[string]any{"@id": id}, nil
	}
	if td != nil && td.typ != "" && td.typ != "@none" {
		return map[string]any{"@value": value, "@type": td.typ}, nil
	}
	return map[string]any{"@value": value}, nil
}

func isEmptyObject(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}
