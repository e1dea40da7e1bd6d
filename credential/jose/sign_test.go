package jose_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/keys"
)

// TestAgainstJWX checks the package's own compact JWS both ways against an independent
// implementation (lestrrat-go/jwx): what it signs jwx verifies, what jwx signs it
// verifies.
func TestAgainstJWX(t *testing.T) {
	for _, alg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
		t.Run(string(alg), func(t *testing.T) {
			key, _ := keys.Generate(alg)
			kid, _ := did.KeyURL(key.Public())
			issuer, _, _ := strings.Cut(kid, "#")
			jwsAlg, _ := jose.AlgorithmFor(key.Public())

			ours, err := jose.SignCredential(credentialFor(issuer), key, kid)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jws.Verify([]byte(ours), jws.WithKey(jwsAlg, key.Public())); err != nil {
				t.Fatalf("jwx refuses our token: %v", err)
			}

			hdr := jws.NewHeaders()
			hdr.Set("kid", kid)
			hdr.Set("typ", jose.TypCredential)
			theirs, err := jws.Sign([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"`+issuer+`","credentialSubject":{"id":"did:example:s"}}`),
				jws.WithKey(jwsAlg, key, jws.WithProtectedHeaders(hdr)))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jose.Parse(theirs, jose.TypCredential)
			if err != nil {
				t.Fatal(err)
			}
			if err := tok.Verify(key.Public()); err != nil {
				t.Fatalf("we refuse jwx's token: %v", err)
			}
		})
	}
}

// TestVerifyRejects changes a good token in every way that must make Verify fail.
func TestVerifyRejects(t *testing.T) {
	key, _ := keys.Generate(keys.Ed25519)
	kid, _ := did.KeyURL(key.Public())
	issuer, _, _ := strings.Cut(kid, "#")
	good, err := jose.SignCredential(credentialFor(issuer), key, kid)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := keys.Generate(keys.Ed25519)
	p256, _ := keys.Generate(keys.P256)
	parts := strings.Split(good, ".")
	enc := base64.RawURLEncoding
	sig, _ := enc.DecodeString(parts[2])
	flipped := append([]byte(nil), sig...)
	flipped[0] ^= 1
	otherSig, _ := jose.SignJWS([]byte(`{}`), jose.TypCredential, kid, other)
	withAlg := func(alg string) string {
		return enc.EncodeToString([]byte(`{"alg":"` + alg + `","kid":"` + kid + `","typ":"vc+jwt"}`))
	}
	// HS256 keyed with the issuer's public key: a valid MAC an attacker can compute.
	mac := hmac.New(sha256.New, key.Public().(ed25519.PublicKey))
	mac.Write([]byte(withAlg("HS256") + "." + parts[1]))
	p256Kid, _ := did.KeyURL(p256.Public())
	p256Token, _ := jose.SignJWS([]byte(parts[1]), jose.TypCredential, p256Kid, p256)
	p256Parts := strings.Split(p256Token, ".")
	for name, c := range map[string]struct {
		token string
		pub   any
		want  error
	}{
		"payload changed":                     {parts[0] + "." + enc.EncodeToString([]byte(`{"issuer":"did:example:evil"}`)) + "." + parts[2], key.Public(), jose.ErrSignature},
		"signature flipped":                   {parts[0] + "." + parts[1] + "." + enc.EncodeToString(flipped), key.Public(), jose.ErrSignature},
		"signature short":                     {parts[0] + "." + parts[1] + "." + enc.EncodeToString(sig[:63]), key.Public(), jose.ErrSignature},
		"signature long":                      {parts[0] + "." + parts[1] + "." + enc.EncodeToString(append(sig, 0)), key.Public(), jose.ErrSignature},
		"another signature":                   {parts[0] + "." + parts[1] + "." + strings.Split(otherSig, ".")[2], key.Public(), jose.ErrSignature},
		"another key":                         {good, other.Public(), jose.ErrSignature},
		"key of another type":                 {good, p256.Public(), jose.ErrAlgorithm},
		"alg none":                            {enc.EncodeToString([]byte(`{"alg":"none","kid":"`+kid+`","typ":"vc+jwt"}`)) + "." + parts[1] + "." + parts[2], key.Public(), jose.ErrAlgorithm},
		"alg ES256 on an Ed25519 key":         {enc.EncodeToString([]byte(`{"alg":"`+jwa.ES256().String()+`","kid":"`+kid+`","typ":"vc+jwt"}`)) + "." + parts[1] + "." + parts[2], key.Public(), jose.ErrAlgorithm},
		"alg HS256 keyed with the public key": {withAlg("HS256") + "." + parts[1] + "." + enc.EncodeToString(mac.Sum(nil)), key.Public(), jose.ErrAlgorithm},
		"unknown alg RS256":                   {withAlg("RS256") + "." + parts[1] + "." + parts[2], key.Public(), jose.ErrAlgorithm},
		"alg in another case":                 {withAlg("eddsa") + "." + parts[1] + "." + parts[2], key.Public(), jose.ErrAlgorithm},
		"alg EdDSA on a P-256 key": {enc.EncodeToString([]byte(`{"alg":"EdDSA","kid":"`+p256Kid+`","typ":"vc+jwt"}`)) + "." + p256Parts[1] + "." + p256Parts[2],
			p256.Public(), jose.ErrAlgorithm},
		"header changed": {enc.EncodeToString([]byte(`{"alg":"EdDSA","kid":"`+kid+`","typ":"vc+jwt","x":1}`)) + "." + parts[1] + "." + parts[2], key.Public(), jose.ErrSignature},
	} {
		tok, err := jose.Parse([]byte(c.token), "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := tok.Verify(c.pub); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", name, err, c.want)
		}
	}
}
