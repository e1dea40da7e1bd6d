package sdjwt

import (
	"crypto"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
)

// saltSize is the size of a disclosure salt in bytes (128 bits, RFC 9901 §9.3).
const saltSize = 16

// Claims is what an issuer puts into an SD-JWT VC.
type Claims struct {
	// Issuer is the issuer's DID (iss). The signing kid must be a DID URL of it.
	Issuer string
	// VCT is the Civitas credential type (schemas.Type.VCT).
	VCT string
	// IssuedAt is the issuance time (iat); required.
	IssuedAt time.Time
	// NotBefore (nbf) and Expires (exp) are optional; zero means absent.
	NotBefore, Expires time.Time
	// HolderJWK is the holder's public JWK (Ed25519 or P-256), written as cnf.jwk.
	HolderJWK map[string]any
	// Status holds credentialStatus entries (BitstringStatusListEntry objects, for
	// example from statuslist.Entry.Map); they are always in clear.
	Status []map[string]any
	// Visible holds the subject claims shown in every presentation; their names must be
	// in the type's schemas.Type.AlwaysDisclosed.
	Visible map[string]any
	// Disclosable holds the selectively disclosable subject claims, including "sub"
	// (the holder's DID); none may be in the type's AlwaysDisclosed.
	Disclosable map[string]any
}

// Issue creates an SD-JWT VC of c signed by signer (Ed25519 or P-256) under the
// verification method kid, a DID URL of c.Issuer. It returns the compact issuance form
// <issuer-jwt>~<disclosure>~…~ with one disclosure per Disclosable claim (sorted by
// name), and no Key Binding JWT.
func Issue(c Claims, signer crypto.Signer, kid string) (string, error) {
	if signer == nil {
		return "", fmt.Errorf("%w: no signer", ErrAlgorithm)
	}
	alg, err := jose.AlgorithmFor(signer.Public())
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrAlgorithm, err)
	}
	if err := checkKeyID(kid, c.Issuer); err != nil {
		return "", err
	}
	payload, err := c.payload()
	if err != nil {
		return "", err
	}

	names := slices.Sorted(maps.Keys(c.Disclosable))
	encoded := make([]string, 0, len(names))
	digests := make([]string, 0, len(names)+4)
	for _, name := range names {
		e, err := encodeDisclosure(name, c.Disclosable[name])
		if err != nil {
			return "", err
		}
		encoded = append(encoded, e)
		digests = append(digests, digestOf(e))
	}
	decoys, err := decoyDigests()
	if err != nil {
		return "", err
	}
	digests = append(digests, decoys...)
	slices.Sort(digests)
	sd := make([]any, len(digests))
	for i, d := range digests {
		sd[i] = d
	}
	payload["_sd"] = sd

	payloadJSON, err := marshalJSON(payload)
	if err != nil {
		return "", fmt.Errorf("%w: encode payload: %w", ErrMalformed, err)
	}
	if err := jsonstrict.Check(payloadJSON, payloadLimits); err != nil {
		return "", fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	headerJSON, err := marshalJSON(header{Alg: alg.String(), Typ: Typ, Kid: kid})
	if err != nil {
		return "", fmt.Errorf("encode header: %w", err)
	}
	jwt, err := signCompact(headerJSON, payloadJSON, signer)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(jwt)
	b.WriteByte('~')
	for _, e := range encoded {
		b.WriteString(e)
		b.WriteByte('~')
	}
	if b.Len() > MaxLength {
		return "", fmt.Errorf("%w: %w: sd-jwt of %d bytes, limit %d", ErrMalformed, jsonstrict.ErrTooLarge, b.Len(), MaxLength)
	}
	return b.String(), nil
}

// payload checks c and returns the issuer-signed claims without _sd.
func (c Claims) payload() (map[string]any, error) {
	if _, err := did.Parse(c.Issuer); err != nil {
		return nil, fmt.Errorf("%w: issuer is not a did: %w", ErrMalformed, err)
	}
	typ, ok := schemas.ByVCT(c.VCT)
	if !ok {
		return nil, fmt.Errorf("%w: %w: vct %q", ErrMalformed, schemas.ErrUnknownType, truncate(c.VCT))
	}
	if c.IssuedAt.IsZero() {
		return nil, fmt.Errorf("%w: no issuance time", ErrMalformed)
	}
	if !c.Expires.IsZero() && (!c.Expires.After(c.IssuedAt) || !c.Expires.After(c.NotBefore)) {
		return nil, fmt.Errorf("%w: expiry is not after the issuance and not-before times", ErrMalformed)
	}
	holder, err := keys.PublicKeyFromJWKMap(c.HolderJWK)
	if err != nil {
		return nil, fmt.Errorf("%w: holder jwk: %w", ErrMalformed, err)
	}
	jwk, err := keys.PublicJWK(holder)
	if err != nil {
		return nil, fmt.Errorf("%w: holder jwk: %w", ErrMalformed, err)
	}
	p := map[string]any{
		"iss":     c.Issuer,
		"iat":     c.IssuedAt.Unix(),
		"vct":     c.VCT,
		"cnf":     map[string]any{"jwk": jwk},
		"_sd_alg": HashAlgorithm,
	}
	if !c.NotBefore.IsZero() {
		p["nbf"] = c.NotBefore.Unix()
	}
	if !c.Expires.IsZero() {
		p["exp"] = c.Expires.Unix()
	}
	if len(c.Status) > 0 {
		status := make([]any, len(c.Status))
		for i, s := range c.Status {
			if typ, _ := s["type"].(string); typ == "" {
				return nil, fmt.Errorf("%w: status entry %d has no type", ErrMalformed, i)
			}
			status[i] = s
		}
		p["credentialStatus"] = status
	}
	for name, v := range c.Visible {
		if err := checkClaimName(name); err != nil {
			return nil, err
		}
		if name == "sub" || !slices.Contains(typ.AlwaysDisclosed, name) {
			return nil, fmt.Errorf("%w: claim %q is not always disclosed for %s", ErrDisclosure, truncate(name), typ.Name)
		}
		if _, dup := c.Disclosable[name]; dup {
			return nil, fmt.Errorf("%w: claim %q is both visible and disclosable", ErrDisclosure, truncate(name))
		}
		if err := checkValue(v, 0); err != nil {
			return nil, fmt.Errorf("claim %q: %w", truncate(name), err)
		}
		p[name] = v
	}
	for name, v := range c.Disclosable {
		if err := checkClaimName(name); err != nil {
			return nil, err
		}
		if slices.Contains(typ.AlwaysDisclosed, name) {
			return nil, fmt.Errorf("%w: claim %q is always disclosed for %s", ErrDisclosure, truncate(name), typ.Name)
		}
		if err := checkValue(v, 0); err != nil {
			return nil, fmt.Errorf("claim %q: %w", truncate(name), err)
		}
	}
	if len(c.Disclosable) > MaxDisclosures {
		return nil, fmt.Errorf("%w: %w: %d disclosable claims, limit %d", ErrMalformed, jsonstrict.ErrTooLarge, len(c.Disclosable), MaxDisclosures)
	}
	return p, nil
}

// checkClaimName refuses empty names and the names the profile keeps for itself.
func checkClaimName(name string) error {
	if name == "" || notDisclosable[name] {
		return fmt.Errorf("%w: subject claim name %q is reserved", ErrDisclosure, truncate(name))
	}
	return nil
}

// encodeDisclosure returns base64url(JSON [salt, name, value]) with a fresh salt.
func encodeDisclosure(name string, value any) (string, error) {
	var salt [saltSize]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	raw, err := marshalJSON([]any{b64.EncodeToString(salt[:]), name, value})
	if err != nil {
		return "", fmt.Errorf("%w: claim %q: %w", ErrMalformed, truncate(name), err)
	}
	if err := jsonstrict.Check(raw, payloadLimits); err != nil {
		return "", fmt.Errorf("%w: claim %q: %w", ErrMalformed, truncate(name), err)
	}
	return b64.EncodeToString(raw), nil
}

// decoyDigests returns one to four digests of random bytes (RFC 9901 §4.2.5).
func decoyDigests() ([]string, error) {
	var buf [1 + 4*saltSize]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return nil, fmt.Errorf("decoy: %w", err)
	}
	n := 1 + int(buf[0]%4)
	out := make([]string, n)
	for i := range out {
		out[i] = digestOf(string(buf[1+i*saltSize : 1+(i+1)*saltSize]))
	}
	return out, nil
}

// checkKeyID checks that kid is a DID URL "<issuer>#<fragment>" with no path or query.
func checkKeyID(kid, issuer string) error {
	u, err := did.ParseURL(kid)
	if err != nil {
		return fmt.Errorf("%w: kid %q is not a did url: %w", ErrKeyID, truncate(kid), err)
	}
	if u.Fragment == "" || u.Path != "" || u.Query != "" {
		return fmt.Errorf("%w: kid %q must be a did url with a fragment and no path or query", ErrKeyID, truncate(kid))
	}
	if u.DID.String() != issuer {
		return fmt.Errorf("%w: kid %q is not a key of the issuer %q", ErrKeyID, truncate(kid), truncate(issuer))
	}
	return nil
}
