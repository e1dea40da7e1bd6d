package verifier

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/dataintegrity"
	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
)

// verifyJWTPresentation runs the checks on a vp+jwt.
func (v *Verifier) verifyJWTPresentation(ctx context.Context, t *jose.Token, p *Policy) (res Result) {
	res = Result{Format: FormatVPJWT}
	var cs checks
	defer func() { res.Checks = cs; res.Verified = res.Verified && cs.ok() && allVerified(res.Credentials) }()

	vp, claims, err := t.Presentation()
	if err != nil {
		cs.fail(CheckFormat, classify(err, HolderUnresolvable), err.Error())
		return res
	}
	res.Holder = vp.Holder
	cs.pass(CheckFormat, "application/vp+jwt")
	if !v.checkContexts(&cs, vp.Context, nil) || !checkHolderNamed(&cs, vp) {
		return res
	}
	if err := t.CheckSigner(vp.Holder, vp.Document); err != nil {
		cs.fail(CheckSignature, classify(err, HolderUnresolvable), err.Error())
		return res
	}
	_, pub, err := v.resolver.ResolveVerificationMethod(ctx, t.Kid, did.Authentication)
	if err != nil {
		cs.fail(CheckSignature, classify(err, HolderUnresolvable), err.Error())
		return res
	}
	if err := t.Verify(pub); err != nil {
		cs.fail(CheckSignature, classify(err, HolderUnresolvable), err.Error())
		return res
	}
	cs.pass(CheckSignature, "signed by "+t.Kid)
	w := window{issued: claims.IssuedAt, notBefore: claims.NotBefore, expires: claims.Expires}
	res.Credentials, res.Verified = v.checkPresentationTail(ctx, &cs, p, vp, claims.Nonce, claims.Audience, w)
	return res
}

// verifyLDPPresentation runs the checks on a presentation with a Data Integrity proof.
func (v *Verifier) verifyLDPPresentation(ctx context.Context, doc map[string]any, p *Policy) (res Result) {
	res = Result{Format: FormatLDPVP}
	var cs checks
	defer func() { res.Checks = cs; res.Verified = res.Verified && cs.ok() && allVerified(res.Credentials) }()

	vp, err := credential.PresentationFromDocument(doc)
	if err != nil {
		cs.fail(CheckFormat, classify(err, HolderUnresolvable), err.Error())
		return res
	}
	res.Holder = vp.Holder
	if len(vp.Proofs) == 0 {
		cs.fail(CheckFormat, UnsupportedFormat, "the presentation has no proof")
		return res
	}
	cs.pass(CheckFormat, "data integrity")
	if !v.checkContexts(&cs, nil, doc) || !checkHolderNamed(&cs, vp) {
		return res
	}
	proof, err := v.di.Verify(ctx, doc, v.resolver, dataintegrity.Expect{Controller: vp.Holder, Purpose: dataintegrity.PurposeAuthentication})
	if err != nil {
		cs.fail(CheckSignature, classify(err, HolderUnresolvable), err.Error())
		return res
	}
	cs.pass(CheckSignature, proof.Cryptosuite+" by "+proof.VerificationMethod)
	w := window{issued: proof.Created, expires: proof.Expires}
	res.Credentials, res.Verified = v.checkPresentationTail(ctx, &cs, p, vp, proof.Challenge, proof.Domain, w)
	return res
}

// checkPresentationTail runs the checks that follow a valid holder signature, in
// order, stopping at the first failure: challenge and audience, the presentation's
// validity, the credentials inside, and last the nonce's single use. It returns the
// credentials' results and whether every check passed.
func (v *Verifier) checkPresentationTail(ctx context.Context, cs *checks, p *Policy, vp *credential.Presentation, nonce string, audience []string, w window) ([]CredentialResult, bool) {
	if !checkChallenge(cs, p, nonce, audience) || !v.checkPresentationTime(cs, p, w) {
		return nil, false
	}
	creds := v.verifyContained(ctx, vp, p)
	if !allVerified(creds) || !cs.ok() {
		return creds, false
	}
	v.useNonce(ctx, cs, p, w)
	return creds, true
}

// verifyContained verifies each credential in a presentation, binding it to the holder.
func (v *Verifier) verifyContained(ctx context.Context, vp *credential.Presentation, p *Policy) []CredentialResult {
	out := make([]CredentialResult, 0, len(vp.Credentials))
	for _, entry := range vp.Credentials {
		media, token, enveloped, err := credential.EnvelopedCredential(entry)
		switch {
		case err != nil:
			out = append(out, CredentialResult{Checks: []Check{{Name: CheckFormat, Code: Malformed, Detail: err.Error()}}})
		case enveloped && media == jose.MediaTypeCredential:
			t, err := jose.Parse(token, jose.TypCredential)
			if err != nil {
				out = append(out, CredentialResult{Format: FormatVCJWT, Checks: []Check{{Name: CheckFormat, Code: classify(err, IssuerUnresolvable), Detail: err.Error()}}})
				continue
			}
			out = append(out, v.verifyJWTCredential(ctx, t, p, vp.Holder))
		case enveloped:
			out = append(out, CredentialResult{Checks: []Check{{Name: CheckFormat, Code: UnsupportedFormat, Detail: fmt.Sprintf("enveloped media type %q is not supported", media)}}})
		default:
			out = append(out, v.verifyLDPCredential(ctx, entry, p, vp.Holder))
		}
	}
	return out
}

func checkHolderNamed(cs *checks, vp *credential.Presentation) bool {
	if vp.Holder == "" {
		cs.fail(CheckHolder, HolderMismatch, "the presentation names no holder")
		return false
	}
	return true
}

// checkChallenge compares the presentation's nonce and audience with the policy's. A
// policy without a challenge or audience cannot accept any presentation.
func checkChallenge(cs *checks, p *Policy, nonce string, audience []string) bool {
	switch {
	case p.Challenge == "":
		cs.fail(CheckChallenge, ChallengeMismatch, "the policy names no expected challenge")
	case nonce == "":
		cs.fail(CheckChallenge, ChallengeMismatch, "the presentation carries no challenge")
	case nonce != p.Challenge:
		cs.fail(CheckChallenge, ChallengeMismatch, "the presentation answers another challenge")
	default:
		cs.pass(CheckChallenge, "answers the expected challenge")
	}
	switch {
	case p.Audience == "":
		cs.fail(CheckAudience, AudienceMismatch, "the policy names no expected audience")
	case len(audience) == 0:
		cs.fail(CheckAudience, AudienceMismatch, "the presentation names no audience")
	case !slices.Contains(audience, p.Audience):
		cs.fail(CheckAudience, AudienceMismatch, "the presentation is meant for another verifier")
	default:
		cs.pass(CheckAudience, "meant for "+p.Audience)
	}
	return cs.ok()
}

func (v *Verifier) checkPresentationTime(cs *checks, p *Policy, w window) bool {
	now := v.now()
	if p.MaxPresentationAge > 0 {
		if w.issued.IsZero() {
			cs.fail(CheckValidity, Expired, "the presentation does not say when it was made")
			return false
		}
		if limit := w.issued.Add(p.MaxPresentationAge); w.expires.IsZero() || limit.Before(w.expires) {
			w.expires = limit
		}
	}
	w.check(cs, now, p.Leeway, "presentation")
	return cs.ok()
}

// useNonce records the challenge as used; a second use is a replay.
func (v *Verifier) useNonce(ctx context.Context, cs *checks, p *Policy, w window) {
	until := v.now().Add(v.nonceTTL)
	if !w.expires.IsZero() {
		until = w.expires.Add(p.Leeway)
	}
	if p.MaxPresentationAge > 0 && !w.issued.IsZero() {
		if t := w.issued.Add(p.MaxPresentationAge + p.Leeway); t.After(until) || w.expires.IsZero() {
			until = t
		}
	}
	until = until.Add(time.Second)
	fresh, err := v.nonces.Use(ctx, p.Audience+"\x00"+p.Challenge, until)
	switch {
	case err != nil:
		cs.fail(CheckNonce, Internal, fmt.Sprintf("nonce store: %v", err))
	case !fresh:
		cs.fail(CheckNonce, Replayed, "this challenge has already been answered")
	default:
		cs.pass(CheckNonce, "first use of this challenge")
	}
}

func allVerified(rs []CredentialResult) bool {
	for _, r := range rs {
		if !r.Verified {
			return false
		}
	}
	return true
}
