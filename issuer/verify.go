package issuer

import (
	"context"

	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/verifier"
)

// VerifyOptions are a verify request's options.
type VerifyOptions struct {
	// Challenge and Domain are what a presentation must answer (VC-API names; the
	// domain is the verifier's audience).
	Challenge, Domain string
}

// policy trusts this issuer for every Civitas type.
func (s *Service) policy(o VerifyOptions) verifier.Policy {
	var types []string
	for _, t := range schemas.Types() {
		types = append(types, t.Name)
	}
	p := verifier.DefaultPolicy()
	p.Trust = []verifier.TrustedIssuer{{DID: s.did, Types: types}}
	p.Challenge, p.Audience = o.Challenge, o.Domain
	return p
}

// Verify verifies a credential or presentation (raw JSON, JWT or data: URL) as this
// issuer sees it: it trusts itself for the Civitas types, reads the status of its own
// credentials from its store, and resolves its own DID from memory. The error is nil
// exactly when the result is verified.
func (s *Service) Verify(ctx context.Context, raw []byte, o VerifyOptions) (verifier.Result, error) {
	return s.verifier.Verify(ctx, raw, s.policy(o))
}
