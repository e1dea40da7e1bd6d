package did

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
)

// jwkIDLimits bound the JWK inside a did:jwk DID.
var jwkIDLimits = jsonstrict.Limits{MaxBytes: maxJWKIDEncoding, MaxDepth: 3, MaxKeys: 32}

// JWKDID returns the did:jwk DID of an Ed25519 or P-256 public key: "did:jwk:" followed
// by the unpadded base64url of the public JWK (kty, crv, x and y only) serialized with
// its members in sorted order, so a key always yields the same DID.
func JWKDID(pub crypto.PublicKey) (string, error) {
	m, err := keys.PublicJWK(pub)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(m) // maps marshal with sorted keys
	if err != nil {
		return "", fmt.Errorf("encode jwk: %w", err)
	}
	return "did:jwk:" + base64.RawURLEncoding.EncodeToString(b), nil
}

// JWKMethod resolves did:jwk DIDs. Resolution is pure: the id must be unpadded,
// canonical base64url of a strict-JSON public JWK of a supported key (no private member
// "d"). The document has one JsonWebKey verification method "<did>#0" holding the JWK as
// decoded. Following the did:jwk specification, a JWK with "use":"sig" is listed under
// authentication, assertionMethod, capabilityInvocation and capabilityDelegation, one with
// "use":"enc" only under keyAgreement, and one without "use" under all of these, except
// that Ed25519 keys (signature-only) are never listed under keyAgreement.
type JWKMethod struct{}

// Resolve builds the did:jwk document of d.
func (JWKMethod) Resolve(_ context.Context, d DID) (*Document, error) {
	if d.Method != jwkMethodName {
		return nil, fmt.Errorf("%w: %q is not did:jwk", ErrMethodNotSupported, d.Method)
	}
	if len(d.ID) > maxJWKIDEncoding {
		return nil, fmt.Errorf("%w: did:jwk id too long", ErrInvalidDID)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(d.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: did:jwk id is not unpadded base64url", ErrInvalidDID)
	}
	var m map[string]any
	if err := jsonstrict.Unmarshal(raw, &m, jwkIDLimits); err != nil {
		return nil, fmt.Errorf("%w: did:jwk: %w", ErrInvalidDID, err)
	}
	pub, err := keys.PublicKeyFromJWKMap(m)
	if err != nil {
		return nil, fmt.Errorf("%w: did:jwk: %w", ErrInvalidDID, err)
	}
	alg, err := keys.AlgorithmOf(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: did:jwk: %w", ErrInvalidDID, err)
	}
	id := d.String()
	vmID := id + "#" + jwkFragment
	doc := &Document{
		Context: []any{contextDIDv1, contextJWKv1},
		ID:      id,
		VerificationMethod: []VerificationMethod{{
			ID:           vmID,
			Type:         TypeJSONWebKey,
			Controller:   id,
			PublicKeyJwk: m,
		}},
	}
	ref := func() []VerificationRelationship { return []VerificationRelationship{{Reference: vmID}} }
	use, _ := m["use"].(string)
	if use != "enc" {
		doc.Authentication = ref()
		doc.AssertionMethod = ref()
		doc.CapabilityInvocation = ref()
		doc.CapabilityDelegation = ref()
	}
	if use != "sig" && alg != keys.Ed25519 {
		doc.KeyAgreement = ref()
	}
	return doc, nil
}

func (JWKMethod) pure() {}
