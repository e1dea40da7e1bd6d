package wallet

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/credential/sdjwt"
	"github.com/civitas-net/civitas/schemas"
)

// Description is what the wallet knows of a held credential without verifying it.
type Description struct {
	// ID is the credential's id; for an SD-JWT VC (which has none), "urn:sd-jwt:" and
	// the hash of its issuer-signed part.
	ID string
	// Format is FormatVCJWT, FormatLDPVC or FormatSDJWTVC.
	Format string
	// Types are the credential's types (for an SD-JWT VC, the Civitas type of its vct).
	Types []string
	// Issuer is the issuer's DID.
	Issuer string
	// Subject is the DID the credential is about (its holder's), when it says.
	Subject string
	// IssuedAt and ValidUntil bound its validity (zero when unknown).
	IssuedAt, ValidUntil time.Time
}

// Describe reads a credential's metadata: a compact vc+jwt, a JSON credential with a
// Data Integrity proof, or a compact SD-JWT VC. It checks structure, not signatures.
func Describe(raw []byte) (Description, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '{':
		c, err := credential.Parse(raw)
		if err != nil {
			return Description{}, err
		}
		if len(c.Proofs) == 0 {
			return Description{}, fmt.Errorf("%w: the credential has no proof", credential.ErrMalformed)
		}
		return describeCredential(c, FormatLDPVC), nil
	case bytes.Contains(raw, []byte{'~'}):
		sd, err := sdjwt.Parse(string(raw))
		if err != nil {
			return Description{}, err
		}
		return describeSDJWT(sd, raw), nil
	default:
		t, err := jose.Parse(raw, jose.TypCredential)
		if err != nil {
			return Description{}, err
		}
		c, err := t.Credential()
		if err != nil {
			return Description{}, err
		}
		return describeCredential(c, FormatVCJWT), nil
	}
}

// describeSDJWT describes a parsed SD-JWT VC; raw is its compact form.
func describeSDJWT(sd *sdjwt.SDJWT, raw []byte) Description {
	d := Description{Format: FormatSDJWTVC, Issuer: sd.Issuer, IssuedAt: sd.IssuedAt, ValidUntil: sd.Expires}
	issuerPart, _, _ := strings.Cut(string(raw), "~")
	h := sha256.Sum256([]byte(issuerPart))
	d.ID = "urn:sd-jwt:" + base64.RawURLEncoding.EncodeToString(h[:])
	if t, ok := schemas.ByVCT(sd.VCT); ok {
		d.Types = t.Types
	} else {
		d.Types = []string{sd.VCT}
	}
	if sub, ok := sd.Claims()["sub"].(string); ok {
		d.Subject = sub
	}
	return d
}

func describeCredential(c *credential.Credential, format string) Description {
	return Description{ID: c.ID, Format: format, Types: c.Types, Issuer: c.Issuer, Subject: c.SubjectID(), IssuedAt: c.ValidFrom, ValidUntil: c.ValidUntil}
}

// checkBinding refuses a received credential that is not bound to this holder: a W3C
// credential whose subject is another DID, an SD-JWT VC bound to another key. It
// returns the credential's Description.
func (h *Holder) checkBinding(r Received) (Description, error) {
	if r.Format == FormatSDJWTVC {
		sd, err := sdjwt.Parse(string(r.Raw))
		if err != nil {
			return Description{}, fmt.Errorf("%w: %w", ErrReceive, err)
		}
		eq, ok := sd.Holder.Key.(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !eq.Equal(h.Key.Public()) {
			return Description{}, fmt.Errorf("%w: the SD-JWT VC is bound to another key", ErrReceive)
		}
		return describeSDJWT(sd, r.Raw), nil
	}
	d, err := Describe(r.Raw)
	if err != nil {
		return Description{}, fmt.Errorf("%w: %w", ErrReceive, err)
	}
	if d.Subject != h.DID {
		return Description{}, fmt.Errorf("%w: the credential is about %s, not this wallet's DID", ErrReceive, d.Subject)
	}
	return d, nil
}

// PresentSDJWT presents an SD-JWT VC: it keeps the disclosures of the named claims
// only, and binds the presentation to the verifier's challenge and audience with a Key
// Binding JWT signed by the holder's key.
func (h *Holder) PresentSDJWT(raw []byte, disclose []string, req Request) ([]byte, error) {
	if req.Challenge == "" || req.Audience == "" {
		return nil, fmt.Errorf("%w: a challenge and an audience are required", ErrPresent)
	}
	sd, err := sdjwt.Parse(string(bytes.TrimSpace(raw)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPresent, err)
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	out, err := sd.Present(disclose, sdjwt.KeyBinding{Signer: h.Key, Nonce: req.Challenge, Audience: req.Audience, IssuedAt: now})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPresent, err)
	}
	return []byte(out), nil
}

// Disclosable lists the claims of an SD-JWT VC its holder may choose to show.
func Disclosable(raw []byte) ([]string, error) {
	sd, err := sdjwt.Parse(string(bytes.TrimSpace(raw)))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range sd.Disclosures() {
		names = append(names, d.Name)
	}
	return names, nil
}
