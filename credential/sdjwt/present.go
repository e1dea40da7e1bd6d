package sdjwt

import (
	"crypto"
	"fmt"
	"strings"
	"time"

	"github.com/civitas-net/civitas/credential/jose"
)

// KeyBinding is what the holder signs into a Key Binding JWT.
type KeyBinding struct {
	// Signer is the holder's private key; its public key must be the SD-JWT's cnf.jwk.
	Signer crypto.Signer
	// Nonce is the verifier's challenge; required.
	Nonce string
	// Audience is the verifier the presentation is meant for (aud); required.
	Audience string
	// IssuedAt is the presentation time (iat); zero means time.Now().
	IssuedAt time.Time
}

// Present returns a presentation of the SD-JWT that discloses only the claims named in
// names, followed by a Key Binding JWT signed by kb.Signer. A name may also be a claim
// the SD-JWT shows in clear (it is shown anyway); any other name is refused with
// ErrDisclosure. The disclosures keep their original order. Present refuses an SD-JWT
// that already carries a Key Binding JWT, and a signer whose key is not the cnf key.
func (sd *SDJWT) Present(names []string, kb KeyBinding) (string, error) {
	if sd.kb != nil {
		return "", fmt.Errorf("%w: %w: the sd-jwt is already a presentation", ErrKeyBinding, ErrMalformed)
	}
	if kb.Signer == nil {
		return "", fmt.Errorf("%w: %w: no signer", ErrKeyBinding, ErrAlgorithm)
	}
	if kb.Nonce == "" || kb.Audience == "" {
		return "", fmt.Errorf("%w: %w: a key binding needs the verifier's nonce and audience", ErrKeyBinding, ErrNonce)
	}
	pub, ok := kb.Signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(sd.holderKey) {
		return "", fmt.Errorf("%w: %w: the signer's key is not the key the sd-jwt is bound to", ErrKeyBinding, ErrSignature)
	}
	keep := make(map[string]bool, len(names))
	for _, n := range names {
		if sd.hasDisclosure(n) {
			keep[n] = true
			continue
		}
		if shownInClear(n, sd.issuerJWT.payload) {
			continue
		}
		return "", fmt.Errorf("%w: the sd-jwt has no claim %q", ErrDisclosure, truncate(n))
	}
	var b strings.Builder
	b.WriteString(sd.issuerJWT.raw)
	b.WriteByte('~')
	for _, d := range sd.disclosures {
		if keep[d.name] {
			b.WriteString(d.encoded)
			b.WriteByte('~')
		}
	}
	prefix := b.String()
	kbJWT, err := signKeyBinding(prefix, kb)
	if err != nil {
		return "", err
	}
	return prefix + kbJWT, nil
}

// shownInClear reports whether the payload shows claim n in clear (a visible subject
// claim, or iss, iat, vct, …), so that a caller may name it without it being an error.
func shownInClear(n string, payload map[string]any) bool {
	switch n {
	case "_sd", "_sd_alg", "cnf", "...":
		return false
	}
	_, ok := payload[n]
	return ok
}

func (sd *SDJWT) hasDisclosure(name string) bool {
	for _, d := range sd.disclosures {
		if d.name == name {
			return true
		}
	}
	return false
}

// signKeyBinding signs the Key Binding JWT for the presentation prefix (which ends with
// '~'). It does not check kb.Signer against any cnf key.
func signKeyBinding(prefix string, kb KeyBinding) (string, error) {
	alg, err := jose.AlgorithmFor(kb.Signer.Public())
	if err != nil {
		return "", fmt.Errorf("%w: %w: %w", ErrKeyBinding, ErrAlgorithm, err)
	}
	iat := kb.IssuedAt
	if iat.IsZero() {
		iat = time.Now()
	}
	payload, err := marshalJSON(map[string]any{
		"iat":     iat.Unix(),
		"aud":     kb.Audience,
		"nonce":   kb.Nonce,
		"sd_hash": digestOf(prefix),
	})
	if err != nil {
		return "", fmt.Errorf("%w: %w: encode payload: %w", ErrKeyBinding, ErrMalformed, err)
	}
	hdr, err := marshalJSON(header{Alg: alg.String(), Typ: TypKeyBinding})
	if err != nil {
		return "", fmt.Errorf("encode header: %w", err)
	}
	return signCompact(hdr, payload, kb.Signer)
}
