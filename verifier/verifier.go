package verifier

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/dataintegrity"
	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/jsonstrict"
)

// Resolver finds the public key of a verification method, checking that it may be used
// for the relationship. *did.Resolver implements it.
type Resolver interface {
	ResolveVerificationMethod(ctx context.Context, didURL string, rel did.Relationship) (*did.VerificationMethod, crypto.PublicKey, error)
}

// Verifier verifies credentials and presentations. It holds the dependencies (DID
// resolver, status checker, nonce store, clock); the policy is given per call. A
// Verifier is safe for concurrent use.
type Verifier struct {
	resolver Resolver
	di       *dataintegrity.Suite
	status   StatusChecker
	nonces   NonceStore
	now      func() time.Time
	nonceTTL time.Duration
	timeout  time.Duration

	diOpts []dataintegrity.Option
}

// Option configures a Verifier.
type Option func(*Verifier)

// WithResolver sets the DID resolver. The default resolves did:key, did:jwk and did:web
// (HTTPS only, with the address, redirect, time and size protections of package did).
func WithResolver(r Resolver) Option { return func(v *Verifier) { v.resolver = r } }

// WithStatusChecker sets the status checker. Without one, a credential with a status
// entry is status_unavailable unless the policy skips status.
func WithStatusChecker(s StatusChecker) Option { return func(v *Verifier) { v.status = s } }

// WithNonceStore sets where accepted presentation nonces are remembered. The default is a
// MemoryNonceStore private to this Verifier.
func WithNonceStore(n NonceStore) Option { return func(v *Verifier) { v.nonces = n } }

// WithClock sets the clock used for every time check.
func WithClock(now func() time.Time) Option { return func(v *Verifier) { v.now = now } }

// WithNonceRetention sets how long a nonce is remembered when the presentation does not
// say when it expires (default 24 hours).
func WithNonceRetention(d time.Duration) Option { return func(v *Verifier) { v.nonceTTL = d } }

// WithTimeout bounds the time one verification may take, including DID resolution and
// status lookups over the network (default 10 seconds). Canonicalization is bounded by
// input limits as well as by this deadline.
func WithTimeout(d time.Duration) Option { return func(v *Verifier) { v.timeout = d } }

// WithContext accepts one more JSON-LD context, by exact URL, besides the embedded ones.
func WithContext(url string, content []byte) Option {
	return func(v *Verifier) { v.diOpts = append(v.diOpts, dataintegrity.WithContext(url, content)) }
}

// New returns a Verifier.
func New(opts ...Option) (*Verifier, error) {
	v := &Verifier{now: time.Now, nonceTTL: 24 * time.Hour, timeout: 10 * time.Second}
	for _, o := range opts {
		o(v)
	}
	if v.resolver == nil {
		v.resolver = did.NewResolver()
	}
	if v.nonces == nil {
		v.nonces = NewMemoryNonceStore(0, v.now)
	}
	di, err := dataintegrity.New(v.diOpts...)
	if err != nil {
		return nil, fmt.Errorf("verifier: %w", err)
	}
	v.di = di
	return v, nil
}

var defaultVerifier = sync.OnceValues(func() (*Verifier, error) { return New() })

// Verify verifies raw with a process-wide Verifier that uses the default resolver, no
// status checker, an in-memory nonce store and the system clock. See (*Verifier).Verify.
func Verify(ctx context.Context, raw []byte, p Policy) (Result, error) {
	v, err := defaultVerifier()
	if err != nil {
		return Result{}, err
	}
	return v.Verify(ctx, raw, p)
}

// Verify detects the format of raw (a vc+jwt or vp+jwt compact JWS, a data: URL
// enveloping one, an EnvelopedVerifiableCredential, a JSON credential or presentation
// with a Data Integrity proof, or an SD-JWT VC with or without a Key Binding JWT), runs
// every check against p, and returns the result. The
// error is nil exactly when the result is verified; otherwise it is an *Error naming the
// first failing check.
func (v *Verifier) Verify(ctx context.Context, raw []byte, p Policy) (Result, error) {
	if v.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, v.timeout)
		defer cancel()
	}
	res := v.verify(ctx, raw, &p)
	return res, res.err()
}

func (v *Verifier) verify(ctx context.Context, raw []byte, p *Policy) Result {
	in := bytes.TrimSpace(raw)
	fail := func(code Code, detail string) Result {
		return Result{Checks: []Check{{Name: CheckFormat, Code: code, Detail: detail}}}
	}
	switch {
	case len(in) == 0:
		return fail(Malformed, "empty input")
	case len(in) > credential.MaxPresentationSize:
		return fail(LimitExceeded, fmt.Sprintf("input larger than %d bytes", credential.MaxPresentationSize))
	case in[0] == '{':
		var doc map[string]any
		if err := jsonstrict.Unmarshal(in, &doc, jsonstrict.Limits{MaxBytes: credential.MaxPresentationSize}); err != nil {
			return fail(classify(err, IssuerUnresolvable), err.Error())
		}
		if doc == nil {
			return fail(Malformed, "not a JSON object")
		}
		types, _ := doc["type"].([]any)
		if s, ok := doc["type"].(string); ok {
			types = []any{s}
		}
		switch {
		case slices.Contains(types, any(credential.TypePresentation)):
			return v.verifyLDPPresentation(ctx, doc, p)
		case slices.Contains(types, any(credential.TypeEnvelopedCredential)):
			media, token, _, err := credential.EnvelopedCredential(doc)
			if err != nil {
				return fail(Malformed, err.Error())
			}
			return v.verifyEnveloped(ctx, media, token, p)
		case slices.Contains(types, any(credential.TypeCredential)):
			return single(v.verifyLDPCredential(ctx, doc, p, ""))
		default:
			return fail(UnsupportedFormat, "a JSON document that is neither a verifiable credential nor a presentation")
		}
	case bytes.IndexByte(in, '~') > 0:
		return v.verifySDJWT(ctx, string(in), p)
	case bytes.HasPrefix(in, []byte("data:")):
		media, token, err := credential.ParseDataURL(string(in))
		if err != nil {
			return fail(Malformed, err.Error())
		}
		return v.verifyEnveloped(ctx, media, []byte(token), p)
	default:
		t, err := jose.Parse(in, "")
		if err != nil {
			return fail(classify(err, IssuerUnresolvable), err.Error())
		}
		if t.Typ == jose.TypPresentation {
			return v.verifyJWTPresentation(ctx, t, p)
		}
		return single(v.verifyJWTCredential(ctx, t, p, ""))
	}
}

// verifyEnveloped verifies a JWT carried in a data: URL.
func (v *Verifier) verifyEnveloped(ctx context.Context, media string, token []byte, p *Policy) Result {
	want := map[string]string{jose.MediaTypeCredential: jose.TypCredential, jose.MediaTypePresentation: jose.TypPresentation}[media]
	if want == "" {
		return Result{Checks: []Check{{Name: CheckFormat, Code: UnsupportedFormat, Detail: fmt.Sprintf("media type %q is not supported", media)}}}
	}
	t, err := jose.Parse(token, want)
	if err != nil {
		return Result{Checks: []Check{{Name: CheckFormat, Code: classify(err, IssuerUnresolvable), Detail: err.Error()}}}
	}
	if want == jose.TypPresentation {
		return v.verifyJWTPresentation(ctx, t, p)
	}
	return single(v.verifyJWTCredential(ctx, t, p, ""))
}

func single(cr CredentialResult) Result {
	return Result{Verified: cr.Verified, Format: cr.Format, Checks: cr.Checks, Credentials: []CredentialResult{cr}}
}

// verifyJWTCredential runs the checks on a vc+jwt. holder, when not empty, is the
// presentation holder the credential's subject must be.
func (v *Verifier) verifyJWTCredential(ctx context.Context, t *jose.Token, p *Policy, holder string) (cr CredentialResult) {
	cr = CredentialResult{Format: FormatVCJWT}
	var cs checks
	defer func() { cr.Checks = cs; cr.Verified = cs.ok() && cr.Verified }()

	c, err := t.Credential()
	if err != nil {
		cs.fail(CheckFormat, classify(err, IssuerUnresolvable), err.Error())
		return cr
	}
	cr.describe(c)
	cs.pass(CheckFormat, "application/vc+jwt")
	if !v.checkContexts(&cs, c.Context, nil) || !checkTrust(&cs, c, p) {
		return cr
	}
	if err := t.CheckSigner(c.Issuer, c.Document); err != nil {
		cs.fail(CheckSignature, classify(err, IssuerUnresolvable), err.Error())
		return cr
	}
	_, pub, err := v.resolver.ResolveVerificationMethod(ctx, t.Kid, did.AssertionMethod)
	if err != nil {
		cs.fail(CheckSignature, classify(err, IssuerUnresolvable), err.Error())
		return cr
	}
	if err := t.Verify(pub); err != nil {
		cs.fail(CheckSignature, classify(err, IssuerUnresolvable), err.Error())
		return cr
	}
	cs.pass(CheckSignature, "signed by "+t.Kid)
	claims, err := jose.ReadClaims(c.Document)
	if err != nil {
		cs.fail(CheckValidity, Malformed, err.Error())
		return cr
	}
	v.checkTail(ctx, &cs, c, p, holder, window{issued: claims.IssuedAt, notBefore: claims.NotBefore, expires: claims.Expires})
	cr.Verified = true
	return cr
}

// verifyLDPCredential runs the checks on a credential secured with a Data Integrity proof.
func (v *Verifier) verifyLDPCredential(ctx context.Context, doc map[string]any, p *Policy, holder string) (cr CredentialResult) {
	cr = CredentialResult{Format: FormatLDPVC}
	var cs checks
	defer func() { cr.Checks = cs; cr.Verified = cs.ok() && cr.Verified }()

	c, err := credential.FromDocument(doc)
	if err != nil {
		cs.fail(CheckFormat, classify(err, IssuerUnresolvable), err.Error())
		return cr
	}
	cr.describe(c)
	if len(c.Proofs) == 0 {
		cs.fail(CheckFormat, UnsupportedFormat, "the credential has no proof")
		return cr
	}
	cs.pass(CheckFormat, "data integrity")
	if !v.checkContexts(&cs, nil, doc) || !checkTrust(&cs, c, p) {
		return cr
	}
	proof, err := v.di.Verify(ctx, doc, v.resolver, dataintegrity.Expect{Controller: c.Issuer, Purpose: dataintegrity.PurposeAssertion})
	if err != nil {
		cs.fail(CheckSignature, classify(err, IssuerUnresolvable), err.Error())
		return cr
	}
	cs.pass(CheckSignature, proof.Cryptosuite+" by "+proof.VerificationMethod)
	v.checkTail(ctx, &cs, c, p, holder, window{issued: proof.Created, expires: proof.Expires})
	cr.Verified = true
	return cr
}

// checkTail runs the checks that follow a valid signature: validity, schema, holder
// binding and status.
func (v *Verifier) checkTail(ctx context.Context, cs *checks, c *credential.Credential, p *Policy, holder string, w window) {
	w.notBefore = later(w.notBefore, c.ValidFrom)
	w.expires = earlier(w.expires, c.ValidUntil)
	w.check(cs, v.now(), p.Leeway, "credential")
	checkSchema(cs, c)
	if holder != "" {
		checkHolder(cs, c, holder)
	}
	v.checkStatus(ctx, cs, c.Issuer, c.Document["credentialStatus"], p)
}

func (cr *CredentialResult) describe(c *credential.Credential) {
	cr.Credential = c
	cr.ID, cr.Issuer, cr.Types = c.ID, c.Issuer, c.Types
	if len(c.Subjects) > 0 {
		cr.Subject = c.Subjects[0]
	}
	if !c.ValidFrom.IsZero() {
		cr.ValidFrom = &c.ValidFrom
	}
	if !c.ValidUntil.IsZero() {
		cr.ValidUntil = &c.ValidUntil
	}
}

// checkContexts refuses unknown or inline contexts. For JWTs only the top-level list is
// read (list); for Data Integrity documents the whole document is walked (doc).
func (v *Verifier) checkContexts(cs *checks, list []string, doc map[string]any) bool {
	if doc != nil {
		if err := v.di.CheckContexts(doc); err != nil {
			cs.fail(CheckContexts, classify(err, IssuerUnresolvable), err.Error())
			return false
		}
	}
	for _, u := range list {
		if !v.di.KnownContext(u) {
			cs.fail(CheckContexts, UnknownContext, fmt.Sprintf("context %q is not one of the embedded contexts", u))
			return false
		}
	}
	cs.pass(CheckContexts, "every context is an embedded one")
	return true
}

func checkTrust(cs *checks, c *credential.Credential, p *Policy) bool {
	if ok, why := p.trusts(c.Issuer, c.Types); !ok {
		cs.fail(CheckTrust, IssuerUntrusted, why)
		return false
	}
	cs.pass(CheckTrust, "the issuer is in the trust list for this type")
	return true
}

func checkHolder(cs *checks, c *credential.Credential, holder string) {
	for _, s := range c.Subjects {
		if id, _ := s["id"].(string); id == holder {
			cs.pass(CheckHolder, "the holder is the subject")
			return
		}
	}
	cs.fail(CheckHolder, HolderMismatch, "the presentation's holder is not the credential's subject")
}

// window is a validity period gathered from the data model and the securing format.
type window struct {
	issued, notBefore, expires time.Time
}

func (w window) check(cs *checks, now time.Time, leeway time.Duration, what string) {
	switch {
	case !w.expires.IsZero() && now.After(w.expires.Add(leeway)):
		cs.fail(CheckValidity, Expired, fmt.Sprintf("the %s expired at %s", what, credential.FormatDateTime(w.expires)))
	case !w.notBefore.IsZero() && now.Add(leeway).Before(w.notBefore):
		cs.fail(CheckValidity, NotYetValid, fmt.Sprintf("the %s is valid from %s", what, credential.FormatDateTime(w.notBefore)))
	case !w.issued.IsZero() && now.Add(leeway).Before(w.issued):
		cs.fail(CheckValidity, NotYetValid, fmt.Sprintf("the %s was issued in the future (%s)", what, credential.FormatDateTime(w.issued)))
	case w.expires.IsZero():
		cs.pass(CheckValidity, "no end of validity")
	default:
		cs.pass(CheckValidity, "valid until "+credential.FormatDateTime(w.expires))
	}
}

func later(a, b time.Time) time.Time {
	if a.IsZero() || b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
