package verifier

import (
	"context"
	"fmt"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/sdjwt"
	"github.com/civitas-net/civitas/schemas"
)

// FormatSDJWT is an SD-JWT VC, presented with or without a Key Binding JWT.
const FormatSDJWT Format = "dc+sd-jwt"

// verifySDJWT runs the checks on an SD-JWT VC. With a Key Binding JWT it is a
// presentation: the policy's challenge and audience must match it, and its nonce is
// used up like a presentation's. The result shows only the disclosed claims.
func (v *Verifier) verifySDJWT(ctx context.Context, raw string, p *Policy) (res Result) {
	res = Result{Format: FormatSDJWT}
	cr := CredentialResult{Format: FormatSDJWT}
	var cs checks
	defer func() {
		cr.Checks = cs
		cr.Verified = cr.Verified && cs.ok()
		res.Checks, res.Verified = cs, cr.Verified
		res.Credentials = []CredentialResult{cr}
	}()
	sd, err := sdjwt.Parse(raw)
	if err != nil {
		cs.fail(CheckFormat, classify(err, IssuerUnresolvable), err.Error())
		return res
	}
	cs.pass(CheckFormat, "dc+sd-jwt")
	types := []string{sd.VCT}
	if t, ok := schemas.ByVCT(sd.VCT); ok {
		types = t.Types
	}
	cr.Issuer, cr.Types = sd.Issuer, types
	if ok, why := p.trusts(sd.Issuer, types); !ok {
		cs.fail(CheckTrust, IssuerUntrusted, why)
		return res
	}
	cs.pass(CheckTrust, "the issuer is in the trust list for this type")
	if sd.HasKeyBinding {
		// A key-bound presentation is checked against the policy's challenge and
		// audience, which must be given.
		switch {
		case p.Challenge == "":
			cs.fail(CheckChallenge, ChallengeMismatch, "the policy names no expected challenge")
			return res
		case p.Audience == "":
			cs.fail(CheckAudience, AudienceMismatch, "the policy names no expected audience")
			return res
		}
	}
	opts := sdjwt.Options{Nonce: p.Challenge, Audience: p.Audience, Now: v.now(), Leeway: p.Leeway, MaxKeyBindingAge: p.MaxPresentationAge, RequireKeyBinding: sd.HasKeyBinding}
	got, err := sd.Verify(ctx, v.resolver, opts)
	if err != nil {
		name := CheckSignature
		switch code := classify(err, IssuerUnresolvable); code {
		case Expired, NotYetValid:
			name = CheckValidity
		case ChallengeMismatch:
			name = CheckChallenge
		case AudienceMismatch:
			name = CheckAudience
		}
		cs.fail(name, classify(err, IssuerUnresolvable), err.Error())
		return res
	}
	cs.pass(CheckSignature, "signed by "+got.KeyID)
	cr.Subject = got.Claims
	if !got.IssuedAt.IsZero() {
		cr.ValidFrom = &got.IssuedAt
	}
	if !got.Expires.IsZero() {
		cr.ValidUntil = &got.Expires
	}
	if got.Expires.IsZero() {
		cs.pass(CheckValidity, "no end of validity")
	} else {
		cs.pass(CheckValidity, "valid until "+credential.FormatDateTime(got.Expires))
	}
	cs.pass(CheckSchema, fmt.Sprintf("selectively disclosed: %v", got.Disclosed))
	if got.KeyBound {
		cs.pass(CheckHolder, "key binding by the credential's holder key")
		cs.pass(CheckChallenge, "answers the expected challenge")
		cs.pass(CheckAudience, "meant for "+p.Audience)
	}
	var status any
	if len(got.Status) > 0 {
		list := make([]any, len(got.Status))
		for i, s := range got.Status {
			list[i] = s
		}
		status = list
	}
	v.checkStatus(ctx, &cs, got.Issuer, status, p)
	if !cs.ok() {
		return res
	}
	if got.KeyBound {
		if sub, ok := got.Claims["sub"].(string); ok {
			res.Holder = sub
		}
		v.useNonce(ctx, &cs, p, window{issued: got.KeyBindingIssuedAt})
	}
	cr.Verified = true
	return res
}
