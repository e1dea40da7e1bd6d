package sdjwt

import (
	"testing"

	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/keys"
)

// TestAgainstJWX checks the JWS signatures this package writes (issuer-signed JWT and
// Key Binding JWT, through keys.SignRaw) with an independent implementation,
// lestrrat-go/jwx.
func TestAgainstJWX(t *testing.T) {
	for _, alg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
		t.Run(string(alg), func(t *testing.T) {
			iss, holder := newParty(t, alg), newParty(t, alg)
			presented := mustPresent(t, mustIssue(t, membership(t, iss, holder), iss), []string{"role"}, holder)
			issuerJWT, _, kbJWT := splitCompact(presented)
			for _, c := range []struct {
				name string
				jwt  string
				p    party
			}{{"issuer jwt", issuerJWT, iss}, {"key binding jwt", kbJWT, holder}} {
				jwsAlg, err := jose.AlgorithmFor(c.p.key.Public())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := jws.Verify([]byte(c.jwt), jws.WithKey(jwsAlg, c.p.key.Public())); err != nil {
					t.Errorf("%s: jwx refuses it: %v", c.name, err)
				}
			}
		})
	}
}
