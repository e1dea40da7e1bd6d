package jsonld

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/piprate/json-gold/ld"
)

// This file holds the compiled, immutable form of the registered contexts that the fast
// expansion path (fastexpand.go) works with, and the context processing it needs. It
// mirrors json-gold v0.7.0's (*ld.Context).parse and createTermDefinition step by step,
// restricted to the features listed in doc.go; whatever lies outside them, and every
// situation in which json-gold would report an error or panic while processing a context,
// makes the fast path give up (errFallback) so that the general path decides.

// errFallback reports that the fast path does not cover a document. It never leaves the
// package: Canonicalize then runs the general path on the original input.
var errFallback = errors.New("jsonld: outside the fast path")

// maxFastStates bounds the active contexts a fastSnapshot keeps. A document can only reach
// new ones through registered contexts, but nesting them in different orders makes new
// combinations; past the bound the snapshot is replaced by an empty one.
const maxFastStates = 1024

// fastStateLimit is maxFastStates, lowered by tests.
var fastStateLimit atomic.Int64

func init() { fastStateLimit.Store(maxFastStates) }

// maxRemoteDepth bounds the chain of context documents that refer to other context
// documents by URL (security v2 refers to security v1).
const maxRemoteDepth = 8

// ctxItemKind tells the three kinds of entries of a local context.
type ctxItemKind uint8

const (
	itemNull ctxItemKind = iota
	itemURL
	itemObject
)

// localCtx is a compiled local context: the value of an "@context" member, either of a
// registered context document or of a term definition inside one. Compiled once per
// registry generation, it is identified by its address (the key of the transition caches).
type localCtx struct {
	raw   any // the JSON value, compared when a protected term is redefined
	items []ctxItem
	bad   bool // uses something the fast path does not support
}

type ctxItem struct {
	kind ctxItemKind
	url  string
	obj  *ctxObject
}

// ctxObject is one context definition (a JSON object of term definitions).
type ctxObject struct {
	hasVocab    bool
	vocab       *string // nil: "@vocab": null
	hasProtect  bool
	protect     bool
	terms       map[string]*rawTerm
	termKeys    []string // sorted, so that processing is deterministic
	unsupported bool
}

// rawTerm is a term definition as written in a context, checked for the supported shape.
type rawTerm struct {
	null         bool // the value is null or has "@id": null
	simple       bool // the value is a string
	hasID        bool
	id           string
	hasType      bool
	typ          string
	container    string // "", "@set", "@list" or "@graph"
	hasProtected bool
	protected    bool
	ctx          *localCtx // the term's scoped context, nil when it has none
}

// compileLocal compiles the value of an "@context" member.
func compileLocal(v any) *localCtx {
	lc := &localCtx{raw: v}
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	for _, it := range items {
		switch it := it.(type) {
		case nil:
			lc.items = append(lc.items, ctxItem{kind: itemNull})
		case string:
			lc.items = append(lc.items, ctxItem{kind: itemURL, url: it})
		case map[string]any:
			obj := compileObject(it)
			if obj.unsupported {
				lc.bad = true
			}
			lc.items = append(lc.items, ctxItem{kind: itemObject, obj: obj})
		default:
			lc.bad = true
		}
	}
	return lc
}

// compileObject compiles one context definition, marking it unsupported where it uses
// anything but "@version": 1.1, "@protected", an absolute "@vocab" (or null) and term
// definitions made of "@id", "@type", "@container" (one of "@set", "@list", "@graph"),
// "@context" and "@protected".
func compileObject(m map[string]any) *ctxObject {
	o := &ctxObject{terms: make(map[string]*rawTerm, len(m))}
	for k, v := range m {
		switch k {
		case "@version":
			if f, ok := v.(float64); !ok || f != 1.1 {
				o.unsupported = true
			}
		case "@protected":
			b, ok := v.(bool)
			if !ok {
				o.unsupported = true
			}
			o.hasProtect, o.protect = true, b
		case "@vocab":
			o.hasVocab = true
			switch v := v.(type) {
			case nil:
			case string:
				// Only an absolute IRI written out ("scheme://…") is taken: json-gold
				// returns such a value unchanged from its IRI expansion.
				i := strings.IndexByte(v, ':')
				if i <= 0 || !strings.HasPrefix(v[i+1:], "//") {
					o.unsupported = true
				}
				s := v
				o.vocab = &s
			default:
				o.unsupported = true
			}
		default:
			if strings.HasPrefix(k, "@") {
				// "@base", "@language", "@direction", "@import", "@propagate", a
				// nested "@context", redefinitions of keywords, reserved "@"-names.
				o.unsupported = true
				continue
			}
			t := compileTerm(v)
			if t == nil {
				o.unsupported = true
				continue
			}
			o.terms[k] = t
			o.termKeys = append(o.termKeys, k)
		}
	}
	if o.hasVocab && o.vocab != nil {
		if _, ok := o.terms[*o.vocab]; ok {
			o.unsupported = true // the vocabulary IRI would be read as a term
		}
	}
	slices.Sort(o.termKeys)
	return o
}

// compileTerm checks one term definition; nil means unsupported.
func compileTerm(v any) *rawTerm {
	switch v := v.(type) {
	case nil:
		return &rawTerm{null: true}
	case string:
		if ignoredKeyword(v) {
			return nil
		}
		return &rawTerm{simple: true, hasID: true, id: v}
	case map[string]any:
		if id, ok := v["@id"]; ok && id == nil {
			return &rawTerm{null: true}
		}
		t := &rawTerm{}
		for k, e := range v {
			switch k {
			case "@id":
				s, ok := e.(string)
				if !ok || ignoredKeyword(s) {
					return nil
				}
				t.hasID, t.id = true, s
			case "@type":
				s, ok := e.(string)
				if !ok {
					return nil
				}
				t.hasType, t.typ = true, s
			case "@container":
				s, _ := e.(string)
				switch s {
				case "@set", "@list", "@graph":
					t.container = s
				default:
					return nil
				}
			case "@protected":
				b, ok := e.(bool)
				if !ok {
					return nil
				}
				t.hasProtected, t.protected = true, b
			case "@context":
				t.ctx = compileLocal(e)
			default:
				// "@reverse", "@language", "@direction", "@index", "@nest",
				// "@prefix", or something json-gold refuses.
				return nil
			}
		}
		return t
	}
	return nil
}

// ignoredKeyword reports whether s has the form of a keyword ("@" and letters) without
// being one: JSON-LD 1.1 reserves such names and json-gold ignores them.
func ignoredKeyword(s string) bool {
	if len(s) < 2 || s[0] != '@' || isKeyword(s) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// isKeyword reports whether s is one of the keywords json-gold knows (ld.IsKeyword, as a
// switch).
func isKeyword(s string) bool {
	if len(s) < 3 || s[0] != '@' {
		return false
	}
	switch s {
	case "@base", "@container", "@context", "@default", "@direction", "@embed", "@explicit",
		"@json", "@id", "@included", "@index", "@first", "@graph", "@import", "@language",
		"@list", "@nest", "@none", "@omitDefault", "@prefix", "@preserve", "@propagate",
		"@protected", "@requireAll", "@reverse", "@set", "@type", "@value", "@version",
		"@vocab":
		return true
	}
	return false
}

// termDef is a term definition of an active context. Only the members json-gold's
// expansion reads for the supported features are kept.
type termDef struct {
	id        string
	typ       string
	container string
	ctx       *localCtx // the scoped context, nil when there is none; its raw value may be null
	protected bool
	prefix    bool // may be used as the prefix of a compact IRI
}

// sameDefinition is json-gold's DeepCompareTermDef restricted to the members a supported
// term definition has.
func sameDefinition(a, b *termDef) bool {
	if a.id != b.id || a.typ != b.typ || (a.ctx == nil) != (b.ctx == nil) || a.protected != b.protected ||
		a.container != b.container {
		return false
	}
	var ra, rb any
	if a.ctx != nil {
		ra = a.ctx.raw
	}
	if b.ctx != nil {
		rb = b.ctx.raw
	}
	return ld.DeepCompare(ra, rb, false)
}

// activeCtx is what an active context holds: a state, or a builder while context
// processing makes one.
type activeCtx struct {
	terms        map[string]*termDef // a nil value is a term explicitly mapped to null
	vocab        string
	hasVocab     bool
	hasProtected bool   // some term was protected (json-gold's len(protected) != 0)
	prev         *state // the context before a type-scoped context, as json-gold keeps it
}

// state is an immutable active context. Its transitions to the contexts derived from it
// are cached in next, so that each combination of contexts is processed once.
type state struct {
	activeCtx
	next sync.Map
}

// transKey identifies a context processing call on a state.
type transKey struct {
	lc        *localCtx
	propagate bool
	override  bool
}

type transResult struct {
	s   *state
	err error
}

// term returns the definition of key, nil when there is none or it is null.
func (s *state) term(key string) *termDef {
	return s.terms[key]
}

func (s *state) hasContainer(key, container string) bool {
	td := s.terms[key]
	return td != nil && td.container == container
}

// expandIRI is json-gold's (*ld.Context).ExpandIri outside context processing, with no
// base IRI: a relative IRI stays as it is.
func (s *state) expandIRI(v string, vocab bool) (string, error) {
	return s.activeCtx.expandIRI(v, true, vocab, nil)
}

// expandIRI is json-gold's (*ld.Context).ExpandIri without a base IRI. During context
// processing, pending defines a term of the context being processed that is used before
// its turn; outside it, pending is nil and relative is set (a relative IRI stays as it
// is).
func (c *activeCtx) expandIRI(v string, relative, vocab bool, pending func(term string) error) (string, error) {
	if isKeyword(v) {
		return v, nil
	}
	if ignoredKeyword(v) {
		return "", nil
	}
	if pending != nil {
		if err := pending(v); err != nil {
			return "", err
		}
	}
	if vocab {
		if td, ok := c.terms[v]; ok {
			if td == nil {
				return "", nil
			}
			return td.id, nil
		}
	}
	useVocab := vocab && c.hasVocab
	if i := strings.IndexByte(v, ':'); i > 0 {
		prefix, suffix := v[:i], v[i+1:]
		if prefix == "_" || strings.HasPrefix(suffix, "//") {
			return v, nil
		}
		if pending != nil {
			if err := pending(prefix); err != nil {
				return "", err
			}
		}
		if td, ok := c.terms[prefix]; ok {
			if td == nil {
				return "", errFallback // json-gold dereferences the null definition
			}
			if td.id != "" && td.prefix {
				return td.id + suffix, nil
			}
		}
		// A relative IRI without vocabulary mapping is kept whatever it is, so the
		// costly absolute test is skipped then.
		if (relative && !useVocab) || ld.IsAbsoluteIri(v) {
			return v, nil
		}
	}
	if useVocab {
		return c.vocab + v, nil
	}
	if relative || ld.IsAbsoluteIri(v) {
		return v, nil
	}
	return "", errFallback // not an absolute IRI
}

// fastSnapshot is the fast path's view of one registry generation: the compiled context
// documents and the cache of active contexts, starting at root (the empty context).
type fastSnapshot struct {
	gen    uint64
	docs   map[string]*localCtx // URL -> compiled "@context" of the document
	root   *state
	states atomic.Int64
	// iris holds the IRIs of term definitions (and their datatypes) that absoluteIRI
	// accepts, noted as definitions are made: toRDF looks them up instead of parsing
	// them again. Only registered contexts add to it, so it stays small.
	iris sync.Map
	// div lists the terms of each registered context that json-gold expands unlike
	// JSON-LD 1.1 (divergence.go); the general path refuses documents using them.
	div divergence
}

func newFastSnapshot(gen uint64, docs map[string]*localCtx, div divergence) *fastSnapshot {
	return &fastSnapshot{gen: gen, docs: docs, div: div, root: &state{activeCtx: activeCtx{terms: map[string]*termDef{}}}}
}

func (f *fastSnapshot) full() bool { return f.states.Load() >= fastStateLimit.Load() }

// compileDocs compiles the "@context" member of every registered document.
func compileDocs(docs map[string]any) map[string]*localCtx {
	out := make(map[string]*localCtx, len(docs))
	for u, d := range docs {
		m, _ := d.(map[string]any)
		out[u] = compileLocal(m["@context"])
	}
	return out
}

// apply returns the active context that results from processing lc on s (json-gold's
// parse with propagate and overrideProtected as given, protected false, no remote
// contexts seen yet), from the cache when it was computed before.
func (f *fastSnapshot) apply(s *state, lc *localCtx, propagate, override bool) (*state, error) {
	key := transKey{lc, propagate, override}
	if r, ok := s.next.Load(key); ok {
		tr := r.(*transResult)
		return tr.s, tr.err
	}
	ns, err := f.process(s, lc, propagate, override)
	if f.states.Add(1) > fastStateLimit.Load() {
		return ns, err // not cached; the snapshot is replaced before the next document
	}
	r, _ := s.next.LoadOrStore(key, &transResult{ns, err})
	tr := r.(*transResult)
	return tr.s, tr.err
}

// builder is an active context being made by context processing.
type builder struct {
	activeCtx
}

func builderFrom(s *state) *builder {
	b := &builder{s.activeCtx}
	b.terms = make(map[string]*termDef, len(s.terms)+8)
	maps.Copy(b.terms, s.terms)
	return b
}

func (b *builder) freeze() *state {
	return &state{activeCtx: b.activeCtx}
}

func (b *builder) empty() bool {
	return len(b.terms) == 0 && !b.hasVocab && !b.hasProtected && b.prev == nil
}

// process is json-gold's (*ld.Context).parse for a compiled local context.
func (f *fastSnapshot) process(s *state, lc *localCtx, propagate, override bool) (*state, error) {
	if lc.bad {
		return nil, errFallback
	}
	if len(lc.items) == 0 {
		return s, nil
	}
	b := builderFrom(s)
	if !propagate && b.prev == nil {
		b.prev = s
	}
	b, err := f.processItems(b, lc.items, propagate, override, 0)
	if err != nil {
		return nil, err
	}
	if b.empty() {
		return f.root, nil // every null context with nothing after it is the same
	}
	return b.freeze(), nil
}

// processItems processes the entries of a local context into b (json-gold's loop over
// the contexts of parse, step 3). A URL entry is processed in place, as json-gold's
// recursive parse of the remote document with propagate true would process a copy.
// items belong to a localCtx that is not bad (process and the URL case check it), so
// every context definition among them is supported.
func (f *fastSnapshot) processItems(b *builder, items []ctxItem, propagate, override bool, depth int) (*builder, error) {
	var seen []string // json-gold's remote contexts of this call
	for _, it := range items {
		switch it.kind {
		case itemNull:
			if !override && b.hasProtected {
				return nil, errFallback // invalid context nullification
			}
			nb := &builder{activeCtx{terms: map[string]*termDef{}}}
			if !propagate {
				nb.prev = b.freeze()
			}
			b = nb
		case itemURL:
			if slices.Contains(seen, it.url) {
				return nil, errFallback // recursive context inclusion
			}
			seen = append(seen, it.url)
			doc := f.docs[it.url]
			if doc == nil || doc.bad || depth >= maxRemoteDepth {
				return nil, errFallback
			}
			var err error
			if b, err = f.processItems(b, doc.items, true, override, depth+1); err != nil {
				return nil, err
			}
		case itemObject:
			p := &ctxProc{f: f, b: b, obj: it.obj, override: override, defined: make(map[string]bool, len(it.obj.termKeys)+1)}
			if err := p.run(); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

// ctxProc processes one context definition into a builder: the object branch of
// json-gold's parse and its createTermDefinition.
type ctxProc struct {
	f        *fastSnapshot
	b        *builder
	obj      *ctxObject
	override bool
	defined  map[string]bool
}

func (p *ctxProc) run() error {
	if p.obj.hasVocab {
		if p.obj.vocab == nil {
			p.b.vocab, p.b.hasVocab = "", false
		} else {
			if _, ok := p.b.terms[*p.obj.vocab]; ok {
				return errFallback // json-gold would expand the vocabulary as a term
			}
			p.b.vocab, p.b.hasVocab = *p.obj.vocab, true
		}
	}
	if p.obj.hasProtect {
		p.defined["@protected"] = p.obj.protect
	}
	for _, k := range p.obj.termKeys {
		if err := p.define(k); err != nil {
			return err
		}
	}
	return nil
}

// define is json-gold's createTermDefinition for a supported term definition. Every error
// json-gold would report, and every place where it would panic, is errFallback.
func (p *ctxProc) define(term string) error {
	if done, ok := p.defined[term]; ok {
		if done {
			return nil
		}
		return errFallback // cyclic IRI mapping
	}
	p.defined[term] = false
	rt := p.obj.terms[term]
	if rt.null {
		p.b.terms[term] = nil
		p.defined[term] = true
		return nil
	}
	prev := p.b.terms[term]
	delete(p.b.terms, term)
	def := &termDef{}
	colon := strings.IndexByte(term, ':')
	hasColon := colon > 0

	if rt.hasID && term != rt.id {
		res, err := p.expandIRI(rt.id, false, true)
		if err != nil {
			return err
		}
		if !isKeyword(res) && !ld.IsAbsoluteIri(res) {
			return errFallback
		}
		if res == "@context" {
			return errFallback
		}
		def.id = res
		if iriLikeTerm(term) {
			p.defined[term] = true
			again, err := p.expandIRI(term, false, true)
			if err != nil {
				return err
			}
			if again != res {
				return errFallback
			}
			delete(p.defined, term)
		}
		def.prefix = !hasColon && rt.simple && endsWithGenDelim(res)
	}
	if def.id == "" {
		switch {
		case hasColon:
			prefix, suffix := term[:colon], term[colon+1:]
			if _, ok := p.obj.terms[prefix]; ok {
				if err := p.define(prefix); err != nil {
					return err
				}
			}
			if td, ok := p.b.terms[prefix]; ok {
				if td == nil {
					return errFallback // json-gold dereferences the null definition
				}
				def.id = td.id + suffix
			} else {
				def.id = term
			}
		case p.b.hasVocab:
			def.id = p.b.vocab + term
		default:
			return errFallback // relative term definition without vocabulary mapping
		}
	}
	if (rt.hasProtected && rt.protected) || (p.defined["@protected"] && !(rt.hasProtected && !rt.protected)) {
		p.b.hasProtected = true
		def.protected = true
	}
	p.defined[term] = true
	if rt.hasType {
		typ := rt.typ
		switch typ {
		case "@id", "@vocab", "@json", "@none":
		default:
			t, err := p.expandIRI(typ, false, true)
			if err != nil {
				return err
			}
			if !ld.IsAbsoluteIri(t) || strings.HasPrefix(t, "_:") {
				return errFallback
			}
			typ = t
		}
		def.typ = typ
	}
	def.container = rt.container
	def.ctx = rt.ctx
	if def.id == "@context" || def.id == "@preserve" {
		return errFallback
	}
	if prev != nil && prev.protected && !p.override {
		p.b.hasProtected = true
		def.protected = true
		if !sameDefinition(prev, def) {
			return errFallback // protected term redefinition
		}
	}
	p.b.terms[term] = def
	p.f.noteIRI(def.id)
	p.f.noteIRI(def.typ)
	return nil
}

// noteIRI adds s to f.iris when absoluteIRI accepts it.
func (f *fastSnapshot) noteIRI(s string) {
	if s == "" || isKeyword(s) {
		return
	}
	if _, ok := f.iris.Load(s); !ok && absoluteIRI(s) {
		f.iris.Store(s, struct{}{})
	}
}

// expandIRI is json-gold's ExpandIri during context processing: terms of the context
// being processed are defined on first use.
func (p *ctxProc) expandIRI(v string, relative, vocab bool) (string, error) {
	return p.b.expandIRI(v, relative, vocab, p.definePending)
}

// definePending defines term now when the context being processed defines it and has not
// yet done so.
func (p *ctxProc) definePending(term string) error {
	if _, ok := p.obj.terms[term]; ok && !p.defined[term] {
		return p.define(term)
	}
	return nil
}

// iriLikeTerm is json-gold's iriLikeTermPattern, (?::[^:])|/ : a term that looks like an
// IRI must expand to itself.
func iriLikeTerm(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] == '/' || (t[i] == ':' && i+1 < len(t) && t[i+1] != ':') {
			return true
		}
	}
	return false
}

// endsWithGenDelim reports whether an IRI ends with a gen-delim character, which makes a
// simple term usable as a prefix.
func endsWithGenDelim(s string) bool {
	if s == "" {
		return false
	}
	switch s[len(s)-1] {
	case ':', '/', '?', '#', '[', ']', '@':
		return true
	}
	return false
}
