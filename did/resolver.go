package did

import (
	"context"
	"crypto"
	"fmt"
	"time"
)

// MethodResolver resolves the DIDs of one method. Implementations return a document
// whose id is the DID asked for, and errors wrapping this package's sentinels.
type MethodResolver interface {
	Resolve(ctx context.Context, did DID) (*Document, error)
}

// pureMethod marks the resolvers of this package whose result depends only on the DID
// (did:key, did:jwk), so that their dereferenced methods can be cached without expiry.
type pureMethod interface {
	pure()
}

// DefaultVerificationMethodCacheSize is the default number of dereferenced did:key and
// did:jwk verification methods a Resolver keeps.
const DefaultVerificationMethodCacheSize = 4096

// Resolver resolves DIDs of the registered methods and dereferences verification methods.
// It is safe for concurrent use.
type Resolver struct {
	methods   map[string]MethodResolver
	cacheSize int
	vmCache   *boundedCache[resolvedVM]
}

type resolvedVM struct {
	vm  VerificationMethod
	pub crypto.PublicKey
}

// Option configures a Resolver.
type Option func(*Resolver)

// WithMethod registers m for the method name (for example "web"), replacing any earlier
// registration; a nil m removes the method.
func WithMethod(name string, m MethodResolver) Option {
	return func(r *Resolver) {
		if m == nil {
			delete(r.methods, name)
			return
		}
		r.methods[name] = m
	}
}

// WithWebResolver registers w for did:web.
func WithWebResolver(w *WebResolver) Option {
	return WithMethod(webMethodName, w)
}

// WithVerificationMethodCacheSize sets how many dereferenced did:key and did:jwk
// verification methods are kept (default DefaultVerificationMethodCacheSize); 0 disables
// the cache.
func WithVerificationMethodCacheSize(n int) Option {
	return func(r *Resolver) { r.cacheSize = n }
}

// NewResolver returns a resolver with did:key, did:jwk and did:web (NewWebResolver with
// its defaults) registered, changed by opts.
func NewResolver(opts ...Option) *Resolver {
	r := &Resolver{
		methods: map[string]MethodResolver{
			keyMethodName: KeyMethod{},
			jwkMethodName: JWKMethod{},
			webMethodName: NewWebResolver(),
		},
		cacheSize: DefaultVerificationMethodCacheSize,
	}
	for _, o := range opts {
		o(r)
	}
	r.vmCache = newBoundedCache[resolvedVM](r.cacheSize)
	return r
}

// Resolve parses did and resolves it with the method's resolver. The document's id must
// equal did.
func (r *Resolver) Resolve(ctx context.Context, did string) (*Document, error) {
	d, err := Parse(did)
	if err != nil {
		return nil, err
	}
	_, doc, err := r.resolve(ctx, d)
	return doc, err
}

func (r *Resolver) resolve(ctx context.Context, d DID) (MethodResolver, *Document, error) {
	m, ok := r.methods[d.Method]
	if !ok {
		return nil, nil, fmt.Errorf("%w: did:%s", ErrMethodNotSupported, d.Method)
	}
	doc, err := m.Resolve(ctx, d)
	if err != nil {
		return nil, nil, err
	}
	if doc == nil {
		return nil, nil, fmt.Errorf("%w: did:%s resolver returned no document", ErrResolution, d.Method)
	}
	if doc.ID != d.String() {
		return nil, nil, fmt.Errorf("%w: document id %.200q does not match the requested did", ErrInvalidDocument, doc.ID)
	}
	return m, doc, nil
}

// ResolveVerificationMethod dereferences didURL ("<did>#<fragment>", no path or query) to
// exactly one verification method of the DID's document and returns it with its public
// key. The method may be listed in verificationMethod or embedded in a relationship; its
// id must be exactly the requested URL (relative ids resolve against the document id),
// its controller must be the DID, and it must be listed under rel, by reference or
// embedded. Failures wrap ErrInvalidDID (bad URL), ErrNoVerificationMethod (no such method),
// ErrRelationship (not authorized for rel or foreign controller), ErrInvalidDocument or
// the resolver's error. The returned method is the caller's to modify.
func (r *Resolver) ResolveVerificationMethod(ctx context.Context, didURL string, rel Relationship) (*VerificationMethod, crypto.PublicKey, error) {
	if !validRelationship(rel) {
		return nil, nil, fmt.Errorf("%w: unknown relationship %.64q", ErrRelationship, string(rel))
	}
	cacheKey := string(rel) + " " + didURL
	if c, ok := r.vmCache.get(cacheKey, time.Time{}); ok {
		vm := c.vm.Clone()
		return &vm, c.pub, nil
	}
	u, err := ParseURL(didURL)
	if err != nil {
		return nil, nil, err
	}
	if u.Path != "" || u.Query != "" {
		return nil, nil, fmt.Errorf("%w: verification method url must not have a path or query", ErrInvalidDID)
	}
	if u.Fragment == "" {
		return nil, nil, fmt.Errorf("%w: verification method url needs a fragment", ErrInvalidDID)
	}
	m, doc, err := r.resolve(ctx, u.DID)
	if err != nil {
		return nil, nil, err
	}
	if err := doc.Validate(); err != nil {
		return nil, nil, err
	}
	vm, err := selectMethod(doc, u.String(), rel)
	if err != nil {
		return nil, nil, err
	}
	pub, err := vm.PublicKey()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: verification method %.200q: %w", ErrInvalidDocument, u.String(), err)
	}
	if _, ok := m.(pureMethod); ok {
		r.vmCache.put(cacheKey, resolvedVM{vm: vm.Clone(), pub: pub}, time.Time{}, time.Time{})
	}
	return &vm, pub, nil
}

// selectMethod finds the one verification method of doc whose absolute id is target and
// checks its controller and its listing under rel. doc must be valid.
func selectMethod(doc *Document, target string, rel Relationship) (VerificationMethod, error) {
	var found []*VerificationMethod
	for i := range doc.VerificationMethod {
		if doc.AbsoluteID(doc.VerificationMethod[i].ID) == target {
			found = append(found, &doc.VerificationMethod[i])
		}
	}
	for _, rr := range relationships {
		for _, e := range doc.Relation(rr) {
			if e.Embedded != nil && doc.AbsoluteID(e.Embedded.ID) == target {
				found = append(found, e.Embedded)
			}
		}
	}
	switch len(found) {
	case 0:
		return VerificationMethod{}, fmt.Errorf("%w: %.200q", ErrNoVerificationMethod, target)
	case 1:
	default:
		return VerificationMethod{}, fmt.Errorf("%w: several verification methods %.200q", ErrInvalidDocument, target)
	}
	vm := found[0]
	if vm.Controller != doc.ID {
		return VerificationMethod{}, fmt.Errorf("%w: verification method %.200q is controlled by %.200q", ErrRelationship, target, vm.Controller)
	}
	authorized := false
	for _, e := range doc.Relation(rel) {
		ref := e.Reference
		if e.Embedded != nil {
			ref = e.Embedded.ID
		}
		if doc.AbsoluteID(ref) == target {
			authorized = true
			break
		}
	}
	if !authorized {
		return VerificationMethod{}, fmt.Errorf("%w: %.200q is not listed under %s", ErrRelationship, target, rel)
	}
	out := vm.Clone()
	out.ID = target
	return out, nil
}
