package verifier

import (
	"fmt"
	"slices"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/schemas"
)

// DefaultLeeway is the clock skew a policy made with DefaultPolicy tolerates.
const DefaultLeeway = time.Minute

// Policy says what a verified credential or presentation must satisfy. It is an
// argument to every verification and never read from the input.
type Policy struct {
	// Trust lists the issuers trusted, each for some credential types. A credential
	// whose issuer is not listed, or listed for other types, is issuer_untrusted.
	Trust []TrustedIssuer `json:"trust"`
	// Leeway is the clock skew tolerated on every time check.
	Leeway time.Duration `json:"leeway"`
	// Status says what to do when a credential carries a status entry.
	Status StatusMode `json:"status"`
	// Challenge is the nonce the verifier gave the holder. Required to verify a
	// presentation; a presentation without it, or with another, is challenge_mismatch.
	Challenge string `json:"challenge,omitempty"`
	// Audience is this verifier's identifier (a DID or URL), which a presentation must
	// name as its audience (vp+jwt aud) or domain (Data Integrity). Required to verify
	// a presentation.
	Audience string `json:"audience,omitempty"`
	// MaxPresentationAge, when positive, refuses presentations made (iat, or proof
	// created) longer ago than this, and presentations that do not say when they were
	// made.
	MaxPresentationAge time.Duration `json:"maxPresentationAge,omitempty"`
}

// TrustedIssuer is one entry of a trust list.
type TrustedIssuer struct {
	// DID is the issuer's DID.
	DID string `json:"did"`
	// Types lists the credential types (other than VerifiableCredential) the issuer is
	// trusted for. Empty means every type.
	Types []string `json:"types,omitempty"`
}

// StatusMode says how a policy treats credential status.
type StatusMode int

const (
	// StatusRequired checks every status entry; a credential with a status entry and no
	// StatusChecker, or whose status cannot be fetched, is status_unavailable. This is
	// the zero value.
	StatusRequired StatusMode = iota
	// StatusSkip does not check status. The status check is still listed in the result,
	// as passed with a detail saying it was skipped by policy. Use it only where the
	// caller checks status some other way.
	StatusSkip
)

// DefaultPolicy returns a policy trusting the given issuers for every type, with
// DefaultLeeway and status required.
func DefaultPolicy(issuers ...string) Policy {
	p := Policy{Leeway: DefaultLeeway}
	for _, d := range issuers {
		p.Trust = append(p.Trust, TrustedIssuer{DID: d})
	}
	return p
}

// trusts reports whether the policy trusts issuer for every type in types other than
// the base types.
func (p *Policy) trusts(issuer string, types []string) (bool, string) {
	for _, t := range p.Trust {
		if t.DID != issuer {
			continue
		}
		if len(t.Types) == 0 {
			return true, ""
		}
		allowed := expandTypes(t.Types)
		for _, typ := range types {
			if typ == credential.TypeCredential || slices.Contains(allowed, typ) {
				continue
			}
			return false, fmt.Sprintf("issuer is not trusted for type %s", typ)
		}
		return true, ""
	}
	return false, "issuer is not in the trust list"
}

// expandTypes adds, for each Civitas credential type named, the other types such a
// credential carries (a ContributionCredential is also an AchievementCredential).
func expandTypes(names []string) []string {
	out := slices.Clone(names)
	for _, n := range names {
		if t, ok := schemas.Lookup(n); ok {
			out = append(out, t.Types...)
		}
	}
	return out
}
