package dataintegrity

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/multiformats/go-multibase"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/clip"
	"github.com/civitas-net/civitas/internal/jcs"
	"github.com/civitas-net/civitas/internal/jsonld"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
)

// ProofType is the type of every proof this package makes and accepts.
const ProofType = "DataIntegrityProof"

// Cryptosuite names.
const (
	EdDSARDFC2022 = "eddsa-rdfc-2022"
	EdDSAJCS2022  = "eddsa-jcs-2022"
	ECDSARDFC2019 = "ecdsa-rdfc-2019"
)

// Proof purposes.
const (
	PurposeAssertion      = "assertionMethod"
	PurposeAuthentication = "authentication"
)

// Sentinel errors.
var (
	// ErrMalformed reports a missing, repeated or ill-formed proof.
	ErrMalformed = errors.New("malformed data integrity proof")
	// ErrUnsupported reports a proof type or cryptosuite outside the supported set, or a
	// key that does not fit the cryptosuite.
	ErrUnsupported = errors.New("unsupported data integrity proof")
	// ErrMismatch reports a proof that does not match what the verifier expects: its
	// purpose, challenge, domain, or the party its verification method belongs to.
	ErrMismatch = errors.New("data integrity proof does not match expectations")
	// ErrSignature reports a proof value that does not verify.
	ErrSignature = errors.New("data integrity signature invalid")
)

// KeyResolver finds the public key of a verification method, checking that the method
// may be used for the relationship. *did.Resolver implements it.
type KeyResolver interface {
	ResolveVerificationMethod(ctx context.Context, didURL string, rel did.Relationship) (*did.VerificationMethod, crypto.PublicKey, error)
}

// Suite adds and verifies Data Integrity proofs. Create one with New; a Suite is safe
// for concurrent use.
type Suite struct {
	contexts *jsonld.Registry
	limits   jsonld.Limits
}

// Option configures a Suite.
type Option func(*Suite) error

// WithContext registers one more JSON-LD context, by its exact URL, next to the
// embedded standard contexts and the Civitas context. Content is the context document.
func WithContext(url string, content []byte) Option {
	return func(s *Suite) error { return s.contexts.Add(url, content) }
}

// WithLimits replaces the canonicalization limits (input depth, quads, blank nodes and
// work) that defend against canonicalization bombs.
func WithLimits(l jsonld.Limits) Option {
	return func(s *Suite) error { s.limits = l; return nil }
}

// New returns a Suite whose documents may name the embedded standard contexts
// (credentials v1 and v2, DID v1, security vocabularies …), the Civitas context, and any
// context added with WithContext. No context is ever fetched.
func New(opts ...Option) (*Suite, error) {
	s := &Suite{contexts: jsonld.NewRegistry()}
	if err := s.contexts.Add(schemas.ContextURL, schemas.Context()); err != nil {
		return nil, fmt.Errorf("register the civitas context: %w", err)
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// KnownContext reports whether url names a context this Suite has.
func (s *Suite) KnownContext(url string) bool { return s.contexts.Has(url) }

// CheckContexts checks, without canonicalizing, that every @context in doc names a
// known context by URL and that doc is within the structural limits.
func (s *Suite) CheckContexts(doc map[string]any) error { return s.contexts.Check(doc, s.limits) }

// Options describe a proof to add.
type Options struct {
	// Cryptosuite is one of EdDSARDFC2022, EdDSAJCS2022, ECDSARDFC2019.
	Cryptosuite string
	// VerificationMethod is the DID URL of the signing key.
	VerificationMethod string
	// Purpose is PurposeAssertion for credentials, PurposeAuthentication for presentations.
	Purpose string
	// Created is recorded in the proof when not zero.
	Created time.Time
	// Expires is recorded in the proof when not zero.
	Expires time.Time
	// Challenge and Domain bind an authentication proof to one verifier's request.
	Challenge, Domain string
}

// Proof is a parsed proof.
type Proof struct {
	Cryptosuite        string
	VerificationMethod string
	Purpose            string
	Created, Expires   time.Time
	Challenge          string
	Domain             []string
}

// Expect is what a verifier requires of a proof. Controller and Purpose are required;
// a non-empty Challenge or Domain must be matched exactly by the proof.
type Expect struct {
	// Controller is the DID the verification method must belong to: the credential's
	// issuer, or the presentation's holder.
	Controller string
	// Purpose is the required proofPurpose.
	Purpose string
	// Challenge, when set, must equal the proof's challenge.
	Challenge string
	// Domain, when set, must be one of the proof's domain values.
	Domain string
}

// Sign returns a shallow copy of doc with a proof added. doc must have no proof.
func (s *Suite) Sign(ctx context.Context, doc map[string]any, key crypto.Signer, opts Options) (map[string]any, error) {
	if _, ok := doc["proof"]; ok {
		return nil, fmt.Errorf("%w: document already has a proof", ErrMalformed)
	}
	if err := checkKey(opts.Cryptosuite, key.Public()); err != nil {
		return nil, err
	}
	if opts.VerificationMethod == "" || !strings.Contains(opts.VerificationMethod, "#") {
		return nil, fmt.Errorf("%w: verification method must be a DID URL with a fragment", ErrMalformed)
	}
	if opts.Purpose == "" {
		return nil, fmt.Errorf("%w: proof purpose is required", ErrMalformed)
	}
	config := map[string]any{
		"type":               ProofType,
		"cryptosuite":        opts.Cryptosuite,
		"verificationMethod": opts.VerificationMethod,
		"proofPurpose":       opts.Purpose,
	}
	if !opts.Created.IsZero() {
		config["created"] = credential.FormatDateTime(opts.Created)
	}
	if !opts.Expires.IsZero() {
		config["expires"] = credential.FormatDateTime(opts.Expires)
	}
	if opts.Challenge != "" {
		config["challenge"] = opts.Challenge
	}
	if opts.Domain != "" {
		config["domain"] = opts.Domain
	}
	if opts.Cryptosuite == EdDSAJCS2022 {
		// The JCS suite signs the document's contexts as part of the proof.
		config["@context"] = doc["@context"]
	}
	data, err := s.hashData(ctx, opts.Cryptosuite, doc, config)
	if err != nil {
		return nil, err
	}
	// Ed25519 over the hash data, or P-256 over its SHA-256 as r||s (ecdsa-rdfc-2019).
	sig, err := keys.SignRaw(key, data)
	if err != nil {
		return nil, err
	}
	value, err := multibase.Encode(multibase.Base58BTC, sig)
	if err != nil {
		return nil, fmt.Errorf("encode proof value: %w", err)
	}
	proof := maps.Clone(config)
	proof["proofValue"] = value
	out := maps.Clone(doc)
	out["proof"] = proof
	return out, nil
}

// Verify checks the single Data Integrity proof on doc against want and returns it. The
// signature is checked with the key resolved from the proof's verification method,
// which must belong to want.Controller and be authorized for the proof purpose.
func (s *Suite) Verify(ctx context.Context, doc map[string]any, r KeyResolver, want Expect) (*Proof, error) {
	proofObj, err := singleProof(doc)
	if err != nil {
		return nil, err
	}
	p, value, err := parseProof(proofObj)
	if err != nil {
		return nil, err
	}
	if err := p.check(want); err != nil {
		return p, err
	}
	if pc, ok := proofObj["@context"]; ok {
		if p.Cryptosuite != EdDSAJCS2022 || !contextPrefix(pc, doc["@context"]) {
			return p, fmt.Errorf("%w: proof @context does not match the document", ErrMalformed)
		}
	}
	rel := did.AssertionMethod
	if p.Purpose == PurposeAuthentication {
		rel = did.Authentication
	}
	_, pub, err := r.ResolveVerificationMethod(ctx, p.VerificationMethod, rel)
	if err != nil {
		return p, err
	}
	if err := checkKey(p.Cryptosuite, pub); err != nil {
		return p, err
	}
	unsecured := maps.Clone(doc)
	delete(unsecured, "proof")
	config := maps.Clone(proofObj)
	delete(config, "proofValue")
	data, err := s.hashData(ctx, p.Cryptosuite, unsecured, config)
	if err != nil {
		return p, err
	}
	if !keys.VerifyRaw(pub, data, value) { // pub fits the suite: checkKey above
		return p, ErrSignature
	}
	return p, nil
}

// hashData is the cryptosuites' "hashing" step: the SHA-256 of the canonical proof
// configuration followed by the SHA-256 of the canonical document.
func (s *Suite) hashData(ctx context.Context, suite string, doc, config map[string]any) ([]byte, error) {
	var canonDoc, canonConfig []byte
	var err error
	switch suite {
	case EdDSARDFC2022, ECDSARDFC2019:
		// The proof configuration is canonicalized in the document's contexts.
		config = maps.Clone(config)
		config["@context"] = doc["@context"]
		if canonConfig, err = s.contexts.Canonicalize(ctx, config, s.limits); err != nil {
			return nil, fmt.Errorf("canonicalize proof configuration: %w", err)
		}
		if canonDoc, err = s.contexts.Canonicalize(ctx, doc, s.limits); err != nil {
			return nil, fmt.Errorf("canonicalize document: %w", err)
		}
	case EdDSAJCS2022:
		if err := s.contexts.Check(doc, s.limits); err != nil {
			return nil, fmt.Errorf("check document contexts: %w", err)
		}
		if canonConfig, err = jcs.Marshal(config); err != nil {
			return nil, fmt.Errorf("canonicalize proof configuration: %w", err)
		}
		if canonDoc, err = jcs.Marshal(doc); err != nil {
			return nil, fmt.Errorf("canonicalize document: %w", err)
		}
	default:
		return nil, fmt.Errorf("%w: cryptosuite %q", ErrUnsupported, suite)
	}
	h1 := sha256.Sum256(canonConfig)
	h2 := sha256.Sum256(canonDoc)
	return append(h1[:], h2[:]...), nil
}

func singleProof(doc map[string]any) (map[string]any, error) {
	switch p := doc["proof"].(type) {
	case map[string]any:
		return p, nil
	case []any:
		if len(p) == 1 {
			if m, ok := p[0].(map[string]any); ok {
				return m, nil
			}
		}
		return nil, fmt.Errorf("%w: exactly one proof is accepted", ErrMalformed)
	case nil:
		return nil, fmt.Errorf("%w: document has no proof", ErrMalformed)
	default:
		return nil, fmt.Errorf("%w: proof must be an object", ErrMalformed)
	}
}

func parseProof(m map[string]any) (*Proof, []byte, error) {
	str := func(name string) string { s, _ := m[name].(string); return s }
	if typ := str("type"); typ != ProofType {
		return nil, nil, fmt.Errorf("%w: proof type %q", ErrUnsupported, truncate(typ))
	}
	p := &Proof{
		Cryptosuite:        str("cryptosuite"),
		VerificationMethod: str("verificationMethod"),
		Purpose:            str("proofPurpose"),
		Challenge:          str("challenge"),
	}
	switch p.Cryptosuite {
	case EdDSARDFC2022, EdDSAJCS2022, ECDSARDFC2019:
	default:
		return nil, nil, fmt.Errorf("%w: cryptosuite %q", ErrUnsupported, truncate(p.Cryptosuite))
	}
	if p.VerificationMethod == "" || p.Purpose == "" {
		return nil, nil, fmt.Errorf("%w: verificationMethod and proofPurpose are required", ErrMalformed)
	}
	for name, dst := range map[string]*time.Time{"created": &p.Created, "expires": &p.Expires} {
		v, present := m[name]
		if !present {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return nil, nil, fmt.Errorf("%w: %s must be a date-time", ErrMalformed, name)
		}
		t, err := credential.ParseDateTime(s)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %w", ErrMalformed, name, err)
		}
		*dst = t
	}
	if v, present := m["challenge"]; present && p.Challenge == "" {
		return nil, nil, fmt.Errorf("%w: challenge must be a non-empty string: %T", ErrMalformed, v)
	}
	switch d := m["domain"].(type) {
	case nil:
	case string:
		p.Domain = []string{d}
	case []any:
		for _, e := range d {
			s, ok := e.(string)
			if !ok {
				return nil, nil, fmt.Errorf("%w: domain entries must be strings", ErrMalformed)
			}
			p.Domain = append(p.Domain, s)
		}
	default:
		return nil, nil, fmt.Errorf("%w: domain must be a string or an array of strings", ErrMalformed)
	}
	value := str("proofValue")
	if len(value) < 2 || value[0] != 'z' {
		return nil, nil, fmt.Errorf("%w: proofValue must be multibase base58btc", ErrMalformed)
	}
	enc, sig, err := multibase.Decode(value)
	if err != nil || enc != multibase.Base58BTC || len(sig) != 64 {
		return nil, nil, fmt.Errorf("%w: proofValue is not a 64-byte base58btc signature", ErrMalformed)
	}
	return p, sig, nil
}

func (p *Proof) check(want Expect) error {
	if want.Controller == "" || want.Purpose == "" {
		return fmt.Errorf("%w: the verifier must name the expected controller and purpose", ErrMismatch)
	}
	if p.Purpose != want.Purpose {
		return fmt.Errorf("%w: proof purpose %q, want %q", ErrMismatch, truncate(p.Purpose), want.Purpose)
	}
	vmDID, frag, ok := strings.Cut(p.VerificationMethod, "#")
	if !ok || frag == "" || vmDID != want.Controller {
		return fmt.Errorf("%w: verification method %q does not belong to %q", ErrMismatch, truncate(p.VerificationMethod), truncate(want.Controller))
	}
	if want.Challenge != "" && p.Challenge != want.Challenge {
		return fmt.Errorf("%w: challenge", ErrMismatch)
	}
	if want.Domain != "" && !slices.Contains(p.Domain, want.Domain) {
		return fmt.Errorf("%w: domain", ErrMismatch)
	}
	return nil
}

// contextPrefix reports whether the document's @context starts with every entry of the
// proof's @context, in order (the JCS suites' verification step).
func contextPrefix(proofCtx, docCtx any) bool {
	list := func(v any) []any {
		switch v := v.(type) {
		case string:
			return []any{v}
		case []any:
			return v
		}
		return nil
	}
	p, d := list(proofCtx), list(docCtx)
	if len(p) == 0 || len(p) > len(d) {
		return false
	}
	for i := range p {
		ps, ok1 := p[i].(string)
		ds, ok2 := d[i].(string)
		if !ok1 || !ok2 || ps != ds {
			return false
		}
	}
	return true
}

func checkKey(suite string, pub crypto.PublicKey) error {
	switch suite {
	case EdDSARDFC2022, EdDSAJCS2022:
		if k, ok := pub.(ed25519.PublicKey); ok && len(k) == ed25519.PublicKeySize {
			return nil
		}
	case ECDSARDFC2019:
		if k, ok := pub.(*ecdsa.PublicKey); ok && k.Curve == elliptic.P256() {
			return nil
		}
	default:
		return fmt.Errorf("%w: cryptosuite %q", ErrUnsupported, truncate(suite))
	}
	return fmt.Errorf("%w: %s needs another key type than %T", ErrUnsupported, suite, pub)
}

func truncate(s string) string { return clip.String(s, 80) }
