package wallet

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/dataintegrity"
	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
)

// Presentation formats.
const (
	FormatJWT       = "jwt"           // application/vp+jwt
	FormatEdDSARDFC = "di-eddsa-rdfc" // Data Integrity, eddsa-rdfc-2022
	FormatEdDSAJCS  = "di-eddsa-jcs"  // Data Integrity, eddsa-jcs-2022
	FormatECDSARDFC = "di-ecdsa-rdfc" // Data Integrity, ecdsa-rdfc-2019
)

// ErrPresent reports a presentation that cannot be made from the given inputs.
var ErrPresent = errors.New("cannot make presentation")

// Holder is a member's identity: a key and the DID it controls.
type Holder struct {
	// DID is the holder's DID.
	DID string
	// KeyID is the DID URL of the key's authentication verification method.
	KeyID string
	// Key signs presentations.
	Key crypto.Signer

	di *dataintegrity.Suite
}

// NewKeyHolder returns a Holder whose DID is the did:key of key.
func NewKeyHolder(key crypto.Signer) (*Holder, error) {
	id, err := did.KeyDID(key.Public())
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	kid, err := did.KeyURL(key.Public())
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	di, err := dataintegrity.New()
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	return &Holder{DID: id, KeyID: kid, Key: key, di: di}, nil
}

// NewJWKHolder returns a Holder whose DID is the did:jwk of key; its key is the DID
// document's single verification method, "#0".
func NewJWKHolder(key crypto.Signer) (*Holder, error) {
	id, err := did.JWKDID(key.Public())
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	di, err := dataintegrity.New()
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	return &Holder{DID: id, KeyID: id + "#0", Key: key, di: di}, nil
}

// Request is what a verifier asks for.
type Request struct {
	// Challenge is the verifier's nonce.
	Challenge string
	// Audience is the verifier's identifier (a DID or URL).
	Audience string
	// Format is one of the Format constants; empty means FormatJWT.
	Format string
	// Expires, when not zero, limits how long the presentation is valid.
	Expires time.Time
	// Now is the presentation time; zero means time.Now.
	Now time.Time
}

// Present wraps the given credentials (each a compact vc+jwt, or a JSON credential with
// a Data Integrity proof) in a presentation signed by the holder and bound to the
// request's challenge and audience. It returns the presentation as it is sent: a compact
// vp+jwt or a JSON document.
func (h *Holder) Present(ctx context.Context, creds [][]byte, req Request) ([]byte, error) {
	if req.Challenge == "" || req.Audience == "" {
		return nil, fmt.Errorf("%w: a challenge and an audience are required", ErrPresent)
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	entries := make([]any, 0, len(creds))
	for i, c := range creds {
		e, err := entry(c)
		if err != nil {
			return nil, fmt.Errorf("%w: credential %d: %w", ErrPresent, i+1, err)
		}
		entries = append(entries, e)
	}
	vp := map[string]any{
		"@context": []any{credential.ContextV2},
		"type":     []any{credential.TypePresentation},
		"holder":   h.DID,
	}
	if len(entries) > 0 {
		vp["verifiableCredential"] = entries
	}
	switch req.Format {
	case "", FormatJWT:
		token, err := jose.SignPresentation(vp, jose.Claims{Nonce: req.Challenge, Audience: []string{req.Audience}, IssuedAt: now, Expires: req.Expires}, h.Key, h.KeyID)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPresent, err)
		}
		return []byte(token), nil
	case FormatEdDSARDFC, FormatEdDSAJCS, FormatECDSARDFC:
		suite := map[string]string{FormatEdDSARDFC: dataintegrity.EdDSARDFC2022, FormatEdDSAJCS: dataintegrity.EdDSAJCS2022, FormatECDSARDFC: dataintegrity.ECDSARDFC2019}[req.Format]
		signed, err := h.di.Sign(ctx, vp, h.Key, dataintegrity.Options{
			Cryptosuite:        suite,
			VerificationMethod: h.KeyID,
			Purpose:            dataintegrity.PurposeAuthentication,
			Created:            now,
			Expires:            req.Expires,
			Challenge:          req.Challenge,
			Domain:             req.Audience,
		})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPresent, err)
		}
		return credential.MarshalIndent(signed)
	default:
		return nil, fmt.Errorf("%w: unknown format %q", ErrPresent, req.Format)
	}
}

// entry turns a held credential into a verifiableCredential entry: a vc+jwt becomes an
// EnvelopedVerifiableCredential, a JSON credential is embedded as it is.
func entry(c []byte) (any, error) {
	c = bytes.TrimSpace(c)
	if len(c) > 0 && c[0] == '{' {
		cred, err := credential.Parse(c)
		if err != nil {
			return nil, err
		}
		return cred.Document, nil
	}
	if _, err := jose.Parse(c, jose.TypCredential); err != nil {
		return nil, err
	}
	return map[string]any{
		"@context": []any{credential.ContextV2},
		"id":       credential.DataURL(jose.MediaTypeCredential, string(c)),
		"type":     credential.TypeEnvelopedCredential,
	}, nil
}
