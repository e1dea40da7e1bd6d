package jose

import (
	"context"
	"crypto"
	"fmt"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/did"
)

// SignCredential secures a credential document as application/vc+jwt. kid is the DID URL
// of the issuer's verification method; its DID must be the credential's issuer.
func SignCredential(doc map[string]any, key crypto.Signer, kid string) (string, error) {
	c, err := credential.FromDocument(doc)
	if err != nil {
		return "", err
	}
	signer, err := splitKeyID(kid)
	if err != nil {
		return "", err
	}
	if signer != c.Issuer {
		return "", fmt.Errorf("%w: kid DID %s is not the issuer %s", ErrKeyID, signer, c.Issuer)
	}
	payload, err := credential.Marshal(doc)
	if err != nil {
		return "", err
	}
	return SignJWS(payload, TypCredential, kid, key)
}

// VerifyCredential verifies an application/vc+jwt credential: structure, the kid naming
// an assertionMethod of the credential's issuer (resolved through r), the algorithm
// allowed for that key, and the signature over the received bytes. It returns the
// credential and the parsed token. It checks no validity period, status or trust: that
// is the verifier's policy, and package verifier runs these same steps with its trust
// check placed before key resolution.
func VerifyCredential(ctx context.Context, token []byte, r KeyResolver) (*credential.Credential, *Token, error) {
	t, err := Parse(token, TypCredential)
	if err != nil {
		return nil, nil, err
	}
	c, err := t.Credential()
	if err != nil {
		return nil, t, err
	}
	if err := t.CheckSigner(c.Issuer, c.Document); err != nil {
		return c, t, err
	}
	_, pub, err := r.ResolveVerificationMethod(ctx, t.Kid, did.AssertionMethod)
	if err != nil {
		return c, t, err
	}
	if err := t.Verify(pub); err != nil {
		return c, t, err
	}
	return c, t, nil
}

// Credential parses the token's payload as a credential (strictly, see package
// credential). It does not verify the signature.
func (t *Token) Credential() (*credential.Credential, error) {
	c, err := credential.Parse(t.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	return c, nil
}

// CheckSigner checks that the token's kid is a DID URL of signer (the credential's
// issuer or the presentation's holder), and that an iss claim in doc, when present,
// names the same party.
func (t *Token) CheckSigner(signer string, doc map[string]any) error {
	kidDID, err := splitKeyID(t.Kid)
	if err != nil {
		return err
	}
	if signer == "" {
		return fmt.Errorf("%w: the document names no signer for kid %q", ErrKeyID, truncate(t.Kid))
	}
	if kidDID != signer {
		return fmt.Errorf("%w: kid %q is not a key of %q", ErrKeyID, truncate(t.Kid), truncate(signer))
	}
	if iss, present := doc["iss"]; present && iss != signer {
		return fmt.Errorf("%w: iss claim differs from the signer", ErrKeyID)
	}
	return nil
}
