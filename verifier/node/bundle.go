package node

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/statuslist"
	"github.com/civitas-net/civitas/verifier"
)

// BundleTyp is the typ header of a signed node bundle (a compact JWS).
const BundleTyp = "civitas-node-bundle+jwt"

// Sentinel errors about bundles.
var (
	// ErrBundle reports a bundle that is malformed, tampered, signed by another issuer
	// than the node's, or for another node.
	ErrBundle = errors.New("node bundle refused")
	// ErrBundleExpired reports a bundle past its expiry.
	ErrBundleExpired = errors.New("node bundle expired")
)

// maxChallengeTTL is the longest a door's challenge may stay open.
const maxChallengeTTL = time.Hour

// Stale fallbacks: what a door does with a bundle older than the policy's maximum
// staleness (its status lists may miss recent revocations).
const (
	FallbackRefuse       = "refuse"
	FallbackAdmitAndFlag = "admit-and-flag"
)

// Bundle is what an issuer gives a node to work offline.
type Bundle struct {
	// Type is "CivitasNodeBundle".
	Type string `json:"type"`
	// Version increases with every bundle made for the node.
	Version int64 `json:"version"`
	// Issuer is the DID of the issuer that signed the bundle.
	Issuer string `json:"issuer"`
	// Service is the issuer service's base URL, where the node refreshes its bundle and
	// syncs its ledger.
	Service string `json:"service"`
	// Node is the node the bundle is for.
	Node NodeInfo `json:"node"`
	// IssuedAt and ExpiresAt bound the bundle's life; an expired bundle is not used.
	IssuedAt  time.Time `json:"issuedAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	// Trust lists the issuers trusted, each for some credential types.
	Trust []verifier.TrustedIssuer `json:"trust"`
	// DIDDocuments are the trusted issuers' DID documents.
	DIDDocuments []*did.Document `json:"didDocuments"`
	// StatusLists are the issuers' signed BitstringStatusListCredentials (compact
	// vc+jwt), as they were when the bundle was made.
	StatusLists []string `json:"statusLists"`
	// Policy says whom the door admits.
	Policy Policy `json:"policy"`
	// PseudonymKey keys the pseudonymous subject references of ledger entries; it is
	// shared by the community's nodes so the issuer can see one credential at two
	// nodes, while a ledger alone names no member (base64url).
	PseudonymKey string `json:"pseudonymKey"`
	// Enrollment, in a node's first bundle only, lets the node register its DID.
	Enrollment *Enrollment `json:"enrollment,omitempty"`
}

// NodeInfo identifies the node.
type NodeInfo struct {
	// ID is the node's identifier, as residency credentials name it.
	ID string `json:"id"`
	// Name is its display name.
	Name string `json:"name,omitempty"`
	// DID is the node's own DID, once enrolled.
	DID string `json:"did,omitempty"`
}

// Enrollment is a one-time code with which a node registers its DID.
type Enrollment struct {
	URL  string `json:"url"`
	Code string `json:"code"`
}

// Policy is a door's admission policy.
type Policy struct {
	// Rules admit a member when ANY of them is satisfied by a verified credential.
	Rules []Rule `json:"rules"`
	// MaxStaleness is how old the bundle may be before the fallback applies, in
	// seconds.
	MaxStaleness int64 `json:"maxStalenessSeconds"`
	// StaleFallback is FallbackRefuse or FallbackAdmitAndFlag.
	StaleFallback string `json:"staleFallback"`
	// ChallengeTTL is how long a challenge is accepted, in seconds.
	ChallengeTTL int64 `json:"challengeTTLSeconds"`
	// Leeway is the clock skew tolerated, in seconds.
	Leeway int64 `json:"leewaySeconds"`
}

// Rule is one way in: a credential of Type, for residencies at this node (and, with
// CurrentResidency, whose residence period covers today).
type Rule struct {
	Type string `json:"type"`
	// ResidentHere requires the residency's node to be this node.
	ResidentHere bool `json:"residentHere,omitempty"`
	// CurrentResidency requires the residence period to cover today.
	CurrentResidency bool `json:"currentResidency,omitempty"`
}

// Validate checks a policy's shape.
func (p Policy) Validate() error {
	switch {
	case len(p.Rules) == 0:
		return errors.New("the policy has no rule")
	case p.StaleFallback != FallbackRefuse && p.StaleFallback != FallbackAdmitAndFlag:
		return fmt.Errorf("staleFallback %q is not %s or %s", p.StaleFallback, FallbackRefuse, FallbackAdmitAndFlag)
	case p.MaxStaleness <= 0 || p.ChallengeTTL <= 0 || p.Leeway < 0:
		return errors.New("the policy's durations must be positive")
	case time.Duration(p.ChallengeTTL)*time.Second > maxChallengeTTL:
		return fmt.Errorf("challengeTTLSeconds must be at most %d", int(maxChallengeTTL.Seconds()))
	case time.Duration(p.Leeway)*time.Second > time.Hour:
		return errors.New("leewaySeconds must be at most 3600")
	}
	for _, r := range p.Rules {
		if r.Type == "" {
			return errors.New("a rule names no credential type")
		}
	}
	return nil
}

// SignBundle signs b as a compact JWS with the issuer's key (kid a DID URL of
// b.Issuer).
func SignBundle(b *Bundle, key crypto.Signer, kid string) (string, error) {
	if !strings.HasPrefix(kid, b.Issuer+"#") {
		return "", fmt.Errorf("%w: kid is not a key of the issuer", ErrBundle)
	}
	payload, err := json.Marshal(b)
	if err != nil {
		return "", err
	}
	return jose.SignJWS(payload, BundleTyp, kid, key)
}

// MaxBundleSize caps a signed bundle, in bytes: the largest compact JWS that package
// jose reads. The CLI and the node's client read no more than this from the issuer.
const MaxBundleSize = 1 << 20

// VerifyBundle checks a signed bundle: a compact JWS of BundleTyp, signed by a key of
// the issuer's DID document in pinned (the document the node trusts), issued by that
// issuer, for node nodeID, not expired at now, with a valid policy; and its status list
// credentials verified as the issuer's, valid at the bundle's issue time. A bundle may carry a newer DID document for the
// issuer (after a key rotation): it is adopted only because the bundle is signed with
// a pinned key.
func VerifyBundle(ctx context.Context, compact []byte, pinned *did.Document, nodeID string, now time.Time) (*Bundle, error) {
	b, _, err := verifyBundle(ctx, compact, pinned, nodeID, now)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// verifyBundle is VerifyBundle, also returning the bundle's status lists as verified,
// by URL, so that a node adopting the bundle does not verify them again. An expired
// bundle that passes every other check is returned with ErrBundleExpired.
func verifyBundle(ctx context.Context, compact []byte, pinned *did.Document, nodeID string, now time.Time) (*Bundle, map[string]*listSnapshot, error) {
	if len(compact) > MaxBundleSize {
		return nil, nil, fmt.Errorf("%w: larger than %d bytes", ErrBundle, MaxBundleSize)
	}
	t, err := jose.ParseJWS(compact)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBundle, err)
	}
	if t.Typ != BundleTyp {
		return nil, nil, fmt.Errorf("%w: typ %q is not a node bundle", ErrBundle, t.Typ)
	}
	if pinned == nil || !strings.HasPrefix(t.Kid, pinned.ID+"#") {
		return nil, nil, fmt.Errorf("%w: signed by another issuer than this node's", ErrBundle)
	}
	pinnedDID, err := did.Parse(pinned.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the pinned issuer document: %w", ErrBundle, err)
	}
	_, pub, err := did.NewResolver(did.WithMethod(pinnedDID.Method, docResolver{pinned})).ResolveVerificationMethod(ctx, t.Kid, did.AssertionMethod)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: signing key: %w", ErrBundle, err)
	}
	if err := t.Verify(pub); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBundle, err)
	}
	var b Bundle
	// A rule this node does not know must not be skipped: unknown members are refused.
	if err := jsonstrict.Unmarshal(t.Payload, &b, jsonstrict.Limits{MaxBytes: MaxBundleSize, MaxDepth: 32, DisallowUnknownFields: true}); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBundle, err)
	}
	switch {
	case b.Type != "CivitasNodeBundle":
		return nil, nil, fmt.Errorf("%w: not a CivitasNodeBundle", ErrBundle)
	case b.Issuer != pinned.ID:
		return nil, nil, fmt.Errorf("%w: issued by %s, not this node's issuer", ErrBundle, b.Issuer)
	case b.Node.ID != nodeID:
		return nil, nil, fmt.Errorf("%w: made for node %q, not %q", ErrBundle, b.Node.ID, nodeID)
	case b.IssuedAt.After(now.Add(5 * time.Minute)):
		return nil, nil, fmt.Errorf("%w: issued in the future (%s); check the clock", ErrBundle, b.IssuedAt.UTC().Format(time.RFC3339))
	}
	if err := b.Policy.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBundle, err)
	}
	if key, err := base64.RawURLEncoding.DecodeString(b.PseudonymKey); err != nil || len(key) < 16 {
		return nil, nil, fmt.Errorf("%w: the pseudonym key is missing or short", ErrBundle)
	}
	if len(b.Trust) == 0 {
		return nil, nil, fmt.Errorf("%w: the bundle trusts nobody", ErrBundle)
	}
	for _, d := range b.DIDDocuments {
		if d == nil || d.Validate() != nil {
			return nil, nil, fmt.Errorf("%w: a DID document is invalid", ErrBundle)
		}
	}
	// The status lists are a snapshot taken when the bundle was made: they must have
	// been valid then. Their age since is the staleness policy's business, and a door
	// whose clock is a few minutes behind the issuer's must not refuse them.
	lists, err := b.lists(ctx, b.IssuedAt)
	if now.Before(b.ExpiresAt) {
		if err != nil {
			return nil, nil, err
		}
		return &b, lists, nil
	}
	expired := fmt.Errorf("%w: expired at %s; refresh it", ErrBundleExpired, b.ExpiresAt.UTC().Format(time.RFC3339))
	if err != nil {
		return nil, nil, expired // refreshing is what the door needs first
	}
	// Everything else holds: the bundle comes back with the error, so that a door can
	// keep it and say why it refuses.
	return &b, lists, expired
}

// document returns the bundle's DID document for id.
func (b *Bundle) document(id string) *did.Document {
	for _, d := range b.DIDDocuments {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// resolver resolves the bundle's DID documents (no network) and did:key/did:jwk.
func (b *Bundle) resolver() *did.Resolver {
	return did.NewResolver(did.WithMethod("web", bundleDocs{b}))
}

// lists verifies the bundle's status list credentials and returns them by URL.
func (b *Bundle) lists(ctx context.Context, now time.Time) (map[string]*listSnapshot, error) {
	v, err := verifier.New(verifier.WithResolver(b.resolver()), verifier.WithClock(func() time.Time { return now }))
	if err != nil {
		return nil, err
	}
	out := make(map[string]*listSnapshot, len(b.StatusLists))
	for i, raw := range b.StatusLists {
		t, err := jose.Parse([]byte(raw), jose.TypCredential)
		if err != nil {
			return nil, fmt.Errorf("%w: status list %d: %w", ErrBundle, i, err)
		}
		c, err := t.Credential()
		if err != nil {
			return nil, fmt.Errorf("%w: status list %d: %w", ErrBundle, i, err)
		}
		p := verifier.DefaultPolicy()
		p.Trust = []verifier.TrustedIssuer{{DID: c.Issuer, Types: []string{statuslist.CredentialType}}}
		p.Status = verifier.StatusSkip
		if ok := b.trusts(c.Issuer); !ok {
			return nil, fmt.Errorf("%w: status list %d is by an issuer the bundle does not trust", ErrBundle, i)
		}
		if _, err := v.Verify(ctx, []byte(raw), p); err != nil {
			return nil, fmt.Errorf("%w: status list %s: %w", ErrBundle, c.ID, err)
		}
		subject, _ := c.Subjects[0]["statusPurpose"].(string)
		list, err := statuslist.ListFromCredential(c.Document, subject, statuslist.DecodeLimits{})
		if err != nil {
			return nil, fmt.Errorf("%w: status list %s: %w", ErrBundle, c.ID, err)
		}
		out[c.ID] = &listSnapshot{issuer: c.Issuer, purpose: subject, list: list}
	}
	return out, nil
}

func (b *Bundle) trusts(issuer string) bool {
	for _, t := range b.Trust {
		if t.DID == issuer {
			return true
		}
	}
	return false
}

// listSnapshot is a verified status list from the bundle.
type listSnapshot struct {
	issuer, purpose string
	list            *statuslist.List
}

// bundleStatus checks status against the bundle's snapshot; a list the bundle lacks is
// an error, so verification fails closed.
type bundleStatus struct {
	lists map[string]*listSnapshot
}

// CheckStatus implements verifier.StatusChecker.
func (s bundleStatus) CheckStatus(_ context.Context, q verifier.StatusQuery) (bool, error) {
	l, ok := s.lists[q.Entry.StatusListCredential]
	switch {
	case !ok:
		return false, errors.New("the bundle holds no such status list; refresh it")
	case l.issuer != q.Issuer:
		return false, errors.New("the status list is another issuer's")
	case l.purpose != q.Entry.StatusPurpose:
		return false, errors.New("the status list is for another purpose")
	}
	i, err := q.Entry.Index()
	if err != nil {
		return false, err
	}
	return l.list.Get(i)
}

// bundleDocs resolves did:web DIDs from the bundle's documents only.
type bundleDocs struct{ b *Bundle }

// Resolve implements did.MethodResolver.
func (r bundleDocs) Resolve(_ context.Context, d did.DID) (*did.Document, error) {
	if doc := r.b.document(d.String()); doc != nil {
		return doc.Clone(), nil
	}
	return nil, fmt.Errorf("%w: %s is not in the node bundle", did.ErrNotFound, d)
}

// docResolver resolves one pinned document.
type docResolver struct{ doc *did.Document }

// Resolve implements did.MethodResolver.
func (r docResolver) Resolve(_ context.Context, d did.DID) (*did.Document, error) {
	if d.String() == r.doc.ID {
		return r.doc.Clone(), nil
	}
	return nil, fmt.Errorf("%w: %s", did.ErrNotFound, d)
}
