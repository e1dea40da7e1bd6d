package dataintegrity_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/dataintegrity"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/jsonld"
	"github.com/civitas-net/civitas/keys"
)

// otherContextURL names a second registered context that gives the examples' terms
// another meaning: swapping it in must break the signature.
const (
	examplesContextURL = "https://www.w3.org/ns/credentials/examples/v2"
	otherContextURL    = "https://example.org/other/v1"
)

// TestVerifyRejects changes a signed credential in the ways DESIGN §5 lists for Data
// Integrity (contexts swapped, added, remote or inline; several proofs; canonicalization
// bombs) and in the proof's own members; each must fail with the right sentinel.
func TestVerifyRejects(t *testing.T) {
	ctx := context.Background()
	s, err := dataintegrity.New(
		dataintegrity.WithContext(examplesContextURL, []byte(examplesContext)),
		dataintegrity.WithContext(otherContextURL, []byte(`{"@context":{"@vocab":"https://example.org/other#"}}`)))
	if err != nil {
		t.Fatal(err)
	}
	r := did.NewResolver(did.WithMethod("web", nil))
	key, _ := keys.Generate(keys.Ed25519)
	kid, _ := did.KeyURL(key.Public())
	issuer, _, _ := strings.Cut(kid, "#")
	unsigned := func() map[string]any {
		return map[string]any{
			"@context":          []any{credential.ContextV2, examplesContextURL},
			"type":              []any{"VerifiableCredential", "AlumniCredential"},
			"issuer":            issuer,
			"validFrom":         "2023-01-01T00:00:00Z",
			"credentialSubject": map[string]any{"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
		}
	}
	sign := func(suite string, doc map[string]any) map[string]any {
		signed, err := s.Sign(ctx, doc, key, dataintegrity.Options{Cryptosuite: suite, VerificationMethod: kid, Purpose: dataintegrity.PurposeAssertion})
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}
	expect := dataintegrity.Expect{Controller: issuer, Purpose: dataintegrity.PurposeAssertion}
	// proofMember returns the signed document with one proof member changed.
	proofMember := func(doc map[string]any, name string, v any) map[string]any {
		out := maps.Clone(doc)
		p := maps.Clone(doc["proof"].(map[string]any))
		p[name] = v
		out["proof"] = p
		return out
	}
	withContexts := func(doc map[string]any, contexts ...any) map[string]any {
		out := maps.Clone(doc)
		out["@context"] = contexts
		return out
	}

	for _, suite := range []string{dataintegrity.EdDSARDFC2022, dataintegrity.EdDSAJCS2022} {
		t.Run(suite, func(t *testing.T) {
			signed := sign(suite, unsigned())
			if _, err := s.Verify(ctx, signed, r, expect); err != nil {
				t.Fatalf("control: %v", err)
			}
			tampered := maps.Clone(signed)
			tampered["credentialSubject"] = map[string]any{"id": "did:example:abcdefgh", "alumniOf": "Another School"}
			// The JCS suite signs the contexts in its proof, and refuses a document whose
			// contexts no longer start with them before anything else.
			jcs := suite == dataintegrity.EdDSAJCS2022
			either := func(rdfc, jcsErr error) error {
				if jcs {
					return jcsErr
				}
				return rdfc
			}
			for name, c := range map[string]struct {
				doc  map[string]any
				want error
			}{
				"subject changed":      {tampered, dataintegrity.ErrSignature},
				"remote context added": {withContexts(signed, credential.ContextV2, examplesContextURL, "https://attacker.example/v1"), jsonld.ErrUnknownContext},
				"context swapped":      {withContexts(signed, credential.ContextV2, otherContextURL), either(dataintegrity.ErrSignature, dataintegrity.ErrMalformed)},
				"context removed":      {withContexts(signed, credential.ContextV2), either(jsonld.ErrInvalid, dataintegrity.ErrMalformed)},
				"inline context":       {withContexts(signed, credential.ContextV2, examplesContextURL, map[string]any{"@vocab": "https://attacker.example/#"}), jsonld.ErrInlineContext},
				"two proofs": {func() map[string]any {
					d := maps.Clone(signed)
					d["proof"] = []any{signed["proof"], signed["proof"]}
					return d
				}(), dataintegrity.ErrMalformed},
				"proof type legacy":     {proofMember(signed, "type", "Ed25519Signature2020"), dataintegrity.ErrUnsupported},
				"unknown cryptosuite":   {proofMember(signed, "cryptosuite", "eddsa-2099"), dataintegrity.ErrUnsupported},
				"ecdsa suite, ed key":   {proofMember(signed, "cryptosuite", dataintegrity.ECDSARDFC2019), either(dataintegrity.ErrUnsupported, dataintegrity.ErrMalformed)},
				"proofValue base64url":  {proofMember(signed, "proofValue", "u"+strings.Repeat("A", 86)), dataintegrity.ErrMalformed},
				"proofValue truncated":  {proofMember(signed, "proofValue", signed["proof"].(map[string]any)["proofValue"].(string)[:40]), dataintegrity.ErrMalformed},
				"foreign method":        {proofMember(signed, "verificationMethod", "did:example:other#key-1"), dataintegrity.ErrMismatch},
				"method without a hash": {proofMember(signed, "verificationMethod", issuer), dataintegrity.ErrMismatch},
			} {
				if _, err := s.Verify(ctx, c.doc, r, expect); !errors.Is(err, c.want) {
					t.Errorf("%s: Verify = %v, want %v", name, err, c.want)
				}
			}
		})
	}

	// A canonicalization bomb: more blank nodes than the limit allows is refused before
	// the expensive step.
	t.Run("blank node bomb", func(t *testing.T) {
		doc := unsigned()
		nested := []any{}
		for range 40 {
			nested = append(nested, map[string]any{"name": "x"})
		}
		doc["credentialSubject"].(map[string]any)["alumniOf"] = nested
		signed := sign(dataintegrity.EdDSARDFC2022, doc)
		small, err := dataintegrity.New(dataintegrity.WithContext(examplesContextURL, []byte(examplesContext)),
			dataintegrity.WithLimits(jsonld.Limits{MaxBlankNodes: 8}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := small.Verify(ctx, signed, r, expect); !errors.Is(err, jsonld.ErrLimit) {
			t.Errorf("Verify = %v, want jsonld.ErrLimit", err)
		}
	})
}
