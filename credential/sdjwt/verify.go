package sdjwt

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
)

// Options is what the verifier expects. They are arguments, never read from the token.
type Options struct {
	// Nonce and Audience are the expected nonce and aud of the Key Binding JWT. A
	// presentation with a Key Binding JWT is refused unless both are set.
	Nonce, Audience string
	// Now is the time to check against; zero means time.Now().
	Now time.Time
	// Leeway is the clock skew tolerated on every time check; it must not be negative.
	Leeway time.Duration
	// MaxKeyBindingAge is how old a Key Binding JWT's iat may be; zero means
	// DefaultMaxKeyBindingAge. It must not be negative.
	MaxKeyBindingAge time.Duration
	// RequireKeyBinding refuses an SD-JWT without a Key Binding JWT. A verifier checking
	// a presentation sets it; a wallet checking an issued SD-JWT does not.
	RequireKeyBinding bool
}

// Verified is a verified SD-JWT VC.
type Verified struct {
	// Issuer is the iss claim, a DID; KeyID the verification method that signed.
	Issuer, KeyID string
	// VCT is the credential type.
	VCT string
	// IssuedAt, NotBefore and Expires are iat, nbf and exp (zero when absent).
	IssuedAt, NotBefore, Expires time.Time
	// Holder is the key the SD-JWT is bound to (cnf.jwk).
	Holder Holder
	// Status holds the credentialStatus entries, not checked here.
	Status []map[string]any
	// Claims holds the clear claims and only the disclosed ones, without _sd, _sd_alg
	// and cnf.
	Claims map[string]any
	// Disclosed lists the names of the disclosed claims, sorted.
	Disclosed []string
	// KeyBound reports that a Key Binding JWT was verified; KeyBindingIssuedAt is its iat.
	KeyBound           bool
	KeyBindingIssuedAt time.Time
}

// Verify parses s and verifies it; see SDJWT.Verify.
func Verify(ctx context.Context, s string, r KeyResolver, o Options) (*Verified, error) {
	sd, err := Parse(s)
	if err != nil {
		return nil, err
	}
	return sd.Verify(ctx, r, o)
}

// Verify verifies a parsed SD-JWT: the kid is a DID URL of the issuer and is resolved
// through r as an assertionMethod; the header's alg is the one allowed for the resolved
// key; the issuer's signature verifies over the received bytes; iat is not in the future,
// nbf has passed and exp has not (with o.Leeway); and the Key Binding JWT, when present
// or required, is signed by the cnf key and carries o.Nonce, o.Audience, a recent iat and
// the sd_hash of the received presentation. Disclosures were already matched by Parse.
// Trust in the issuer is the caller's decision, made before or after.
func (sd *SDJWT) Verify(ctx context.Context, r KeyResolver, o Options) (*Verified, error) {
	if o.Leeway < 0 || o.MaxKeyBindingAge < 0 {
		return nil, errors.New("sdjwt: negative leeway or key binding age")
	}
	if r == nil {
		return nil, errors.New("sdjwt: no key resolver")
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.MaxKeyBindingAge == 0 {
		o.MaxKeyBindingAge = DefaultMaxKeyBindingAge
	}
	if sd.kb != nil || o.RequireKeyBinding {
		// A verifier must say what it expects before a key binding means anything.
		if o.Nonce == "" {
			return nil, fmt.Errorf("%w: %w: no expected nonce given", ErrKeyBinding, ErrNonce)
		}
		if o.Audience == "" {
			return nil, fmt.Errorf("%w: %w: no expected audience given", ErrKeyBinding, ErrAudience)
		}
	}

	if err := checkKeyID(sd.issuerJWT.kid, sd.c.iss); err != nil {
		return nil, err
	}
	_, pub, err := r.ResolveVerificationMethod(ctx, sd.issuerJWT.kid, did.AssertionMethod)
	if err != nil {
		return nil, fmt.Errorf("resolve issuer key: %w", err)
	}
	if err := verifyJWS(sd.issuerJWT, pub); err != nil {
		return nil, err
	}

	c := sd.c
	if c.iat.After(o.Now.Add(o.Leeway)) {
		return nil, fmt.Errorf("%w: issued in the future", ErrNotYetValid)
	}
	if !c.nbf.IsZero() && c.nbf.After(o.Now.Add(o.Leeway)) {
		return nil, fmt.Errorf("%w: nbf has not passed", ErrNotYetValid)
	}
	if !c.exp.IsZero() && !o.Now.Before(c.exp.Add(o.Leeway)) {
		return nil, fmt.Errorf("%w: exp has passed", ErrExpired)
	}

	switch {
	case sd.kb != nil:
		if err := sd.kb.verify(sd.holderKey, o); err != nil {
			return nil, err
		}
	case o.RequireKeyBinding:
		return nil, fmt.Errorf("%w: %w: no key binding jwt", ErrKeyBinding, ErrNonce)
	}

	v := &Verified{
		Issuer:    c.iss,
		KeyID:     sd.issuerJWT.kid,
		VCT:       c.vct,
		IssuedAt:  c.iat,
		NotBefore: c.nbf,
		Expires:   c.exp,
		Holder:    sd.holder(),
		Status:    sd.cloneStatus(),
		Claims:    sd.claims(),
		Disclosed: sd.disclosedNames(),
	}
	if sd.kb != nil {
		v.KeyBound = true
		v.KeyBindingIssuedAt = sd.kb.iat
	}
	return v, nil
}

// verify checks the Key Binding JWT against the holder's key and the options.
func (kb *keyBindingClaims) verify(holder crypto.PublicKey, o Options) error {
	if err := verifyJWS(kb.jwt, holder); err != nil {
		return fmt.Errorf("%w: %w", ErrKeyBinding, err)
	}
	if kb.sdHash != digestOf(kb.prefix) {
		return fmt.Errorf("%w: %w: sd_hash does not match the presented sd-jwt", ErrKeyBinding, ErrSignature)
	}
	if kb.nonce != o.Nonce {
		return fmt.Errorf("%w: %w", ErrKeyBinding, ErrNonce)
	}
	if kb.aud != o.Audience {
		return fmt.Errorf("%w: %w", ErrKeyBinding, ErrAudience)
	}
	if kb.iat.After(o.Now.Add(o.Leeway)) {
		return fmt.Errorf("%w: %w: key binding jwt issued in the future", ErrKeyBinding, ErrNotYetValid)
	}
	if o.Now.After(kb.iat.Add(o.MaxKeyBindingAge + o.Leeway)) {
		return fmt.Errorf("%w: %w: key binding jwt older than %s", ErrKeyBinding, ErrExpired, o.MaxKeyBindingAge)
	}
	return nil
}

// verifyJWS checks t's signature with pub through jose.VerifySignature: the one
// algorithm jose.AlgorithmFor allows for pub's key type, over the received bytes. A
// header naming another algorithm is refused before any cryptography runs.
func verifyJWS(t *compactJWT, pub crypto.PublicKey) error {
	input := []byte(t.raw[:strings.LastIndexByte(t.raw, '.')])
	if err := jose.VerifySignature(t.alg, input, t.signature, pub); err != nil {
		if errors.Is(err, jose.ErrAlgorithm) {
			return fmt.Errorf("%w: %w", ErrAlgorithm, err)
		}
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	return nil
}
