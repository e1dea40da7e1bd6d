package did

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strings"

	"github.com/civitas-net/civitas/keys"
)

// Contexts of generated documents.
const (
	contextDIDv1     = "https://www.w3.org/ns/did/v1"
	contextMultikey  = "https://w3id.org/security/multikey/v1"
	contextJWKv1     = "https://w3id.org/security/jwk/v1"
	keyMethodName    = "key"
	jwkMethodName    = "jwk"
	webMethodName    = "web"
	jwkFragment      = "0"
	maxKeyMultibase  = 128
	maxJWKIDEncoding = 1024
)

// KeyDID returns the did:key DID of an Ed25519 or P-256 public key:
// "did:key:" followed by its Multikey encoding (keys.EncodeMultikey).
func KeyDID(pub crypto.PublicKey) (string, error) {
	mb, err := keys.EncodeMultikey(pub)
	if err != nil {
		return "", err
	}
	return "did:key:" + mb, nil
}

// KeyURL returns the DID URL of the single verification method of pub's did:key
// document: "did:key:<multibase>#<multibase>".
func KeyURL(pub crypto.PublicKey) (string, error) {
	mb, err := keys.EncodeMultikey(pub)
	if err != nil {
		return "", err
	}
	return "did:key:" + mb + "#" + mb, nil
}

// KeyMethod resolves did:key DIDs of Ed25519 and P-256 keys. Resolution is pure: it only
// decodes the DID. The document has the contexts DID v1 and Multikey v1, one Multikey
// verification method "<did>#<multibase>" controlled by the DID, referenced from
// authentication, assertionMethod, capabilityInvocation and capabilityDelegation. No
// keyAgreement is listed (no X25519 derivation).
type KeyMethod struct{}

// Resolve builds the did:key document of d.
func (KeyMethod) Resolve(_ context.Context, d DID) (*Document, error) {
	if d.Method != keyMethodName {
		return nil, fmt.Errorf("%w: %q is not did:key", ErrMethodNotSupported, d.Method)
	}
	mb := d.ID
	if len(mb) > maxKeyMultibase || strings.ContainsAny(mb, ":%") {
		return nil, fmt.Errorf("%w: did:key id must be one multibase value", ErrInvalidDID)
	}
	pub, err := keys.DecodeMultikey(mb)
	if err != nil {
		if errors.Is(err, keys.ErrUnsupportedKey) {
			return nil, fmt.Errorf("did:key: %w", err)
		}
		return nil, fmt.Errorf("%w: did:key: %w", ErrInvalidDID, err)
	}
	// Base58 and the varint are canonical, so this only guards against a future change
	// in the decoder: the DID must be the one and only encoding of its key.
	if again, err := keys.EncodeMultikey(pub); err != nil || again != mb {
		return nil, fmt.Errorf("%w: did:key id is not the canonical encoding of its key", ErrInvalidDID)
	}
	id := d.String()
	vmID := id + "#" + mb
	ref := []VerificationRelationship{{Reference: vmID}}
	return &Document{
		Context: []any{contextDIDv1, contextMultikey},
		ID:      id,
		VerificationMethod: []VerificationMethod{{
			ID:                 vmID,
			Type:               TypeMultikey,
			Controller:         id,
			PublicKeyMultibase: mb,
		}},
		Authentication:       ref,
		AssertionMethod:      cloneRel(ref),
		CapabilityInvocation: cloneRel(ref),
		CapabilityDelegation: cloneRel(ref),
	}, nil
}

func (KeyMethod) pure() {}
