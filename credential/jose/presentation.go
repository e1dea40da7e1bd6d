package jose

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/did"
)

// Claims are the JWT claims a vp+jwt carries next to the presentation, binding it to
// one verifier and one challenge.
type Claims struct {
	// Nonce is the verifier's challenge.
	Nonce string
	// Audience lists the verifiers the presentation is meant for (the aud claim).
	Audience []string
	// IssuedAt is when the holder made the presentation (iat); zero when absent.
	IssuedAt time.Time
	// Expires is when the presentation stops being acceptable (exp); zero when absent.
	Expires time.Time
	// NotBefore is when the document starts being acceptable (nbf); zero when absent.
	NotBefore time.Time
}

// SignPresentation secures a presentation document as application/vp+jwt, adding the
// nonce, aud, iat and exp claims from c. kid is the DID URL of the holder's
// authentication key; its DID must be the presentation's holder.
func SignPresentation(doc map[string]any, c Claims, key crypto.Signer, kid string) (string, error) {
	p, err := credential.PresentationFromDocument(doc)
	if err != nil {
		return "", err
	}
	signer, err := splitKeyID(kid)
	if err != nil {
		return "", err
	}
	if signer != p.Holder {
		return "", fmt.Errorf("%w: kid DID %s is not the holder %q", ErrKeyID, signer, p.Holder)
	}
	payload := maps.Clone(doc)
	if c.Nonce != "" {
		payload["nonce"] = c.Nonce
	}
	switch len(c.Audience) {
	case 0:
	case 1:
		payload["aud"] = c.Audience[0]
	default:
		payload["aud"] = c.Audience
	}
	if !c.IssuedAt.IsZero() {
		payload["iat"] = c.IssuedAt.Unix()
	}
	if !c.Expires.IsZero() {
		payload["exp"] = c.Expires.Unix()
	}
	raw, err := credential.Marshal(payload)
	if err != nil {
		return "", err
	}
	return SignJWS(raw, TypPresentation, kid, key)
}

// VerifyPresentation verifies an application/vp+jwt presentation's envelope: structure,
// the kid naming an authentication key of the holder, the allowed algorithm and the
// signature. It returns the presentation and its claims; the caller checks the claims
// against its expected challenge and audience, and verifies the credentials inside.
func VerifyPresentation(ctx context.Context, token []byte, r KeyResolver) (*credential.Presentation, Claims, error) {
	t, err := Parse(token, TypPresentation)
	if err != nil {
		return nil, Claims{}, err
	}
	p, claims, err := t.Presentation()
	if err != nil {
		return nil, Claims{}, err
	}
	if err := t.CheckSigner(p.Holder, p.Document); err != nil {
		return p, claims, err
	}
	_, pub, err := r.ResolveVerificationMethod(ctx, t.Kid, did.Authentication)
	if err != nil {
		return p, claims, err
	}
	if err := t.Verify(pub); err != nil {
		return p, claims, err
	}
	return p, claims, nil
}

// Presentation parses the token's payload as a presentation and reads its JWT claims.
// It does not verify the signature.
func (t *Token) Presentation() (*credential.Presentation, Claims, error) {
	p, err := credential.ParsePresentation(t.Payload)
	if err != nil {
		return nil, Claims{}, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	claims, err := ReadClaims(p.Document)
	if err != nil {
		return nil, Claims{}, err
	}
	return p, claims, nil
}

// ReadClaims reads the JWT claims nonce, aud, iat, exp and nbf from a decoded payload,
// checking their types. Absent claims are left zero.
func ReadClaims(doc map[string]any) (Claims, error) {
	var c Claims
	switch n := doc["nonce"].(type) {
	case nil:
	case string:
		c.Nonce = n
	default:
		return c, fmt.Errorf("%w: nonce must be a string", ErrMalformed)
	}
	switch a := doc["aud"].(type) {
	case nil:
	case string:
		c.Audience = []string{a}
	case []any:
		for _, e := range a {
			s, ok := e.(string)
			if !ok {
				return c, fmt.Errorf("%w: aud entries must be strings", ErrMalformed)
			}
			c.Audience = append(c.Audience, s)
		}
	default:
		return c, fmt.Errorf("%w: aud must be a string or an array of strings", ErrMalformed)
	}
	var err error
	if c.IssuedAt, err = numericDate(doc, "iat"); err != nil {
		return c, err
	}
	if c.Expires, err = numericDate(doc, "exp"); err != nil {
		return c, err
	}
	if c.NotBefore, err = numericDate(doc, "nbf"); err != nil {
		return c, err
	}
	return c, nil
}

// numericDate reads the NumericDate claim name of doc; an absent claim is the zero time.
func numericDate(doc map[string]any, name string) (time.Time, error) {
	v, present := doc[name]
	if !present {
		return time.Time{}, nil
	}
	t, err := NumericDate(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s: %w", ErrMalformed, name, err)
	}
	return t, nil
}

// maxNumericDate is 9999-12-31T23:59:59Z.
const maxNumericDate = 253402300799

// NumericDate reads a JWT NumericDate (RFC 7519 §2): seconds since 1970 as a JSON
// number, which may have a fraction or an exponent (1.795244546e+09 is valid). The value
// (a json.Number or float64) must be finite and fall between 1970 and the year 9999.
func NumericDate(v any) (time.Time, error) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		if secs, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			if secs < 0 || secs > maxNumericDate {
				return time.Time{}, errors.New("date out of range")
			}
			return time.Unix(secs, 0).UTC(), nil
		}
		var err error
		if f, err = strconv.ParseFloat(n.String(), 64); err != nil {
			return time.Time{}, errors.New("not a number")
		}
	case float64:
		f = n
	default:
		return time.Time{}, errors.New("a date must be a number of seconds")
	}
	if math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, errors.New("date out of range")
	}
	secs, frac := math.Modf(f)
	return time.Unix(int64(secs), int64(frac*1e9)).UTC(), nil
}
