package jsonld

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/piprate/json-gold/ld"
	"github.com/trustbloc/did-go/doc/ld/context/embed"

	"github.com/civitas-net/civitas/internal/jsonld/rdfc"
	"github.com/civitas-net/civitas/internal/jsonstrict"
)

// Sentinel errors. Every error returned by this package wraps one of them, or the
// context's error when the context ends first.
var (
	// ErrUnknownContext reports an "@context" URL that is not in the Registry.
	ErrUnknownContext = errors.New("unknown json-ld context")
	// ErrInlineContext reports an "@context" given as an object instead of a URL.
	ErrInlineContext = errors.New("inline json-ld context not allowed")
	// ErrInvalid reports a document that is not valid JSON-LD or that safe mode refuses
	// (something that would otherwise be dropped silently and so go unsigned). It is the
	// same value as rdfc.ErrInvalid.
	ErrInvalid = rdfc.ErrInvalid
	// ErrLimit reports a document over one of the Limits. It is the same value as
	// rdfc.ErrLimit.
	ErrLimit = rdfc.ErrLimit
	// ErrUnsupported reports a document that only the general path (json-gold) could
	// expand, and on which json-gold is known to depart from JSON-LD 1.1 (see
	// divergence.go): refused rather than given a canonical form other implementations
	// do not compute. Errors wrapping it also wrap ErrInvalid.
	ErrUnsupported = errors.New("json-ld document not supported")
)

// maxContextSize bounds the context documents accepted by Add.
const maxContextSize = 1 << 20

// Registry holds the JSON-LD contexts a program accepts, by exact URL, and caches their
// parsed form. It is the only source of contexts: it implements json-gold's
// ld.DocumentLoader and answers only for registered URLs.
//
// Add may be called at any time and is safe for concurrent use with everything else, but
// the intended use is to Add every context during setup and then share the Registry
// between goroutines. Adding a context clears the parsed-context cache.
type Registry struct {
	mu       sync.RWMutex
	docs     map[string]any // URL -> parsed context document ({"@context": …})
	opts     *ld.JsonLdOptions
	cache    map[string]parsedContext // context list key -> parsed active context
	maxCache int
	gen      uint64 // incremented by Add; a parse started before an Add is not cached
	// fast is the fast path's compiled contexts and active-context cache; Add clears it
	// (under mu) and fastSnapshot makes it again.
	fast atomic.Pointer[fastSnapshot]
}

// NewRegistry returns a Registry holding every context embedded in
// github.com/trustbloc/did-go/doc/ld/context/embed (credentials v1 and v2, DID v1,
// security suites, status lists, …).
func NewRegistry() *Registry {
	r := &Registry{
		docs:     make(map[string]any),
		cache:    make(map[string]parsedContext),
		maxCache: 64,
	}
	opts := ld.NewJsonLdOptions("")
	opts.ProcessingMode = ld.JsonLd_1_1
	opts.DocumentLoader = r
	opts.SafeMode = true
	r.opts = opts
	for _, c := range embed.Contexts {
		// The embedded contents are fixed data; a test checks that every one of them
		// is accepted.
		_ = r.Add(c.URL, c.Content)
	}
	return r
}

// Add registers the context document content under url, replacing any earlier one. The
// content must be strict JSON (internal/jsonstrict; names differing only in case are
// allowed, since contexts define both "Member" and "member") holding an object with an
// "@context" member, without "@import" anywhere (imports would need the loader to hand
// out copies) and without a term that aliases "@set" (see Check); url must be an
// absolute IRI.
func (r *Registry) Add(url string, content []byte) error {
	if !rdfc.ValidIRI(url) {
		return fmt.Errorf("%w: context url is not an absolute iri", ErrInvalid)
	}
	if len(content) > maxContextSize {
		return fmt.Errorf("%w: context document larger than %d bytes", ErrLimit, maxContextSize)
	}
	if err := jsonstrict.Check(content, jsonstrict.Limits{MaxBytes: maxContextSize, AllowCaseVariants: true}); err != nil {
		return fmt.Errorf("%w: context %s: %w", ErrInvalid, url, err)
	}
	// Plain float64 numbers: json-gold compares "@version" with the float 1.1.
	var doc any
	if err := json.Unmarshal(content, &doc); err != nil {
		return fmt.Errorf("%w: context %s: %w", ErrInvalid, url, err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return fmt.Errorf("%w: context %s is not a json object", ErrInvalid, url)
	}
	if _, ok := m["@context"]; !ok {
		return fmt.Errorf("%w: context %s has no \"@context\" member", ErrInvalid, url)
	}
	if hasKey(m, "@import") {
		return fmt.Errorf("%w: context %s uses \"@import\", which is not supported", ErrInvalid, url)
	}
	if aliases(m["@context"], "@set") {
		// Check refuses "@set" in documents; an alias would bring it back.
		return fmt.Errorf("%w: context %s defines an alias of \"@set\", which is not supported", ErrInvalid, url)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.docs[url] = m
	r.gen++
	clear(r.cache)
	r.fast.Store(nil)
	return nil
}

// fastSnapshot returns the fast path's snapshot of the current contexts, making a new one
// after an Add or when the current one has cached as many active contexts as it may.
func (r *Registry) fastSnapshot() *fastSnapshot {
	if f := r.fast.Load(); f != nil && !f.full() {
		return f
	}
	// Under the read lock Add cannot run, so the snapshot made matches r.docs and r.gen.
	r.mu.RLock()
	defer r.mu.RUnlock()
	f := r.fast.Load()
	if f != nil && !f.full() {
		return f
	}
	var nf *fastSnapshot
	if f != nil && f.gen == r.gen {
		// Full: keep the compiled documents, drop the cached states.
		nf = newFastSnapshot(r.gen, f.docs, f.div)
	} else {
		nf = newFastSnapshot(r.gen, compileDocs(r.docs), findDivergence(r.docs))
	}
	r.fast.CompareAndSwap(f, nf)
	return nf
}

// hasKey reports whether key is a member name anywhere in v.
func hasKey(v any, key string) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if k == key || hasKey(e, key) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasKey(e, key) {
				return true
			}
		}
	}
	return false
}

// aliases reports whether the context value ctx (or a scoped context inside it) defines a
// term whose IRI mapping is the keyword kw.
func aliases(ctx any, kw string) bool {
	switch c := ctx.(type) {
	case []any:
		for _, e := range c {
			if aliases(e, kw) {
				return true
			}
		}
	case map[string]any:
		for k, v := range c {
			if strings.HasPrefix(k, "@") {
				continue
			}
			switch v := v.(type) {
			case string:
				if v == kw {
					return true
				}
			case map[string]any:
				if v["@id"] == kw || aliases(v["@context"], kw) {
					return true
				}
			}
		}
	}
	return false
}

// Has reports whether url is registered.
func (r *Registry) Has(url string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.docs[url]
	return ok
}

// LoadDocument implements ld.DocumentLoader: it returns the registered context for url
// and ErrUnknownContext for anything else. It never touches the network. The returned
// document is shared and must not be modified (json-gold only modifies documents when
// processing "@import", which Add refuses).
func (r *Registry) LoadDocument(url string) (*ld.RemoteDocument, error) {
	r.mu.RLock()
	doc, ok := r.docs[url]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownContext, truncate(url))
	}
	return &ld.RemoteDocument{DocumentURL: url, Document: doc}, nil
}

// parsedContext is a cache entry: the active context of a context list, or the error
// processing it gave (cached too, so that a failing list costs one parse, not one per
// document).
type parsedContext struct {
	ctx *ld.Context
	err error
}

// activeContext returns the parsed active context for a top-level context list, from the
// cache or by parsing it (json-gold's context processing) and caching the result.
// The result is shared between goroutines and must only be read; see expand.
func (r *Registry) activeContext(key string, urls []any) (*ld.Context, error) {
	r.mu.RLock()
	e, ok := r.cache[key]
	gen := r.gen
	r.mu.RUnlock()
	if ok {
		return e.ctx, e.err
	}
	e.ctx, e.err = ld.NewContext(nil, r.opts).Parse(urls)
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen != r.gen {
		return e.ctx, e.err
	}
	if len(r.cache) >= r.maxCache {
		// Bounded: drop an arbitrary entry. Keys are lists of registered URLs, so a
		// document can make new keys only by reordering or repeating them.
		for k := range r.cache {
			delete(r.cache, k)
			break
		}
	}
	r.cache[key] = e
	return e.ctx, e.err
}
