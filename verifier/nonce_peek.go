package verifier

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/credential/sdjwt"
)

// ErrNoChallenge reports a presentation that carries no challenge to read.
var ErrNoChallenge = errors.New("the presentation carries no challenge")

// unreadable wraps why a presentation could not be read at all.
func unreadable(err error) error {
	if errors.Is(err, credential.ErrMalformed) {
		return err
	}
	return fmt.Errorf("%w: %w", credential.ErrMalformed, err)
}

// PresentationChallenge reads, WITHOUT verifying anything, the challenge (nonce) a
// presentation claims to answer: the nonce claim of a vp+jwt, the challenge of a Data
// Integrity presentation's proof, or the nonce of an SD-JWT's Key Binding JWT. A door
// that hands out challenges uses it to find which of its challenges to verify the
// presentation against; Verify then checks it for real. An unreadable presentation is
// credential.ErrMalformed; a readable one without a challenge is ErrNoChallenge.
func PresentationChallenge(raw []byte) (string, error) {
	in := bytes.TrimSpace(raw)
	if len(in) > credential.MaxPresentationSize {
		return "", fmt.Errorf("%w: the presentation is larger than %d bytes", credential.ErrMalformed, credential.MaxPresentationSize)
	}
	switch {
	case len(in) > 0 && in[0] == '{':
		p, err := credential.ParsePresentation(in)
		if err != nil {
			return "", unreadable(err)
		}
		if len(p.Proofs) != 1 {
			return "", ErrNoChallenge
		}
		if c, ok := p.Proofs[0]["challenge"].(string); ok && c != "" {
			return c, nil
		}
	case bytes.IndexByte(in, '~') > 0:
		sd, err := sdjwt.Parse(string(in))
		if err != nil {
			return "", unreadable(err)
		}
		if sd.KeyBindingNonce != "" {
			return sd.KeyBindingNonce, nil
		}
	default:
		t, err := jose.Parse(in, jose.TypPresentation)
		if err != nil {
			return "", unreadable(err)
		}
		_, claims, err := t.Presentation()
		if err != nil {
			return "", unreadable(err)
		}
		if claims.Nonce != "" {
			return claims.Nonce, nil
		}
	}
	return "", ErrNoChallenge
}
