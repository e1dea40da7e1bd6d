package credential

import (
	"errors"
	"fmt"
	"time"

	"github.com/civitas-net/civitas/internal/jsonstrict"
)

// Terms of the VC 2.0 data model that this package checks.
const (
	// ContextV2 is the base context every VC 2.0 document names first.
	ContextV2 = "https://www.w3.org/ns/credentials/v2"
	// TypeCredential is the type every verifiable credential has.
	TypeCredential = "VerifiableCredential"
	// TypePresentation is the type every verifiable presentation has.
	TypePresentation = "VerifiablePresentation"
	// TypeEnvelopedCredential is the type of a credential secured by an enveloping
	// mechanism (such as vc+jwt) and carried as a data: URL in its id.
	TypeEnvelopedCredential = "EnvelopedVerifiableCredential"
)

// Size limits applied when parsing outside bytes.
const (
	// MaxCredentialSize is the largest credential accepted, in bytes.
	MaxCredentialSize = 128 << 10
	// MaxPresentationSize is the largest presentation accepted, in bytes.
	MaxPresentationSize = 512 << 10
)

// Sentinel errors.
var (
	// ErrMalformed reports a document that is not valid JSON or breaks a structural rule
	// of the data model. The message names the member at fault.
	ErrMalformed = errors.New("malformed credential")
	// ErrContext reports an @context that Civitas does not accept (an inline context
	// object). It is always wrapped together with ErrMalformed.
	ErrContext = errors.New("unsupported @context")
)

// Credential is a verifiable credential (or the unsecured credential a proof is about to
// be added to). Document holds the JSON document; the other fields are a read-only view
// of it, filled by FromDocument.
type Credential struct {
	// Document is the credential as decoded JSON (numbers as json.Number when it was
	// parsed from bytes). Securing mechanisms sign and verify this document.
	Document map[string]any

	// Context is the @context list; every entry is a URL.
	Context []string
	// ID is the credential's id, or "" when it has none.
	ID string
	// Types is the type list; it always contains TypeCredential.
	Types []string
	// Issuer is the issuer's identifier (the issuer value, or its id member).
	Issuer string
	// ValidFrom is the start of the validity period, zero when absent.
	ValidFrom time.Time
	// ValidUntil is the end of the validity period, zero when absent.
	ValidUntil time.Time
	// Subjects holds each credentialSubject object (one or more).
	Subjects []map[string]any
	// Schemas lists the credentialSchema entries.
	Schemas []SchemaRef
	// Status holds each credentialStatus object.
	Status []map[string]any
	// Proofs holds each embedded (Data Integrity) proof object.
	Proofs []map[string]any
}

// SchemaRef is one credentialSchema entry.
type SchemaRef struct {
	ID   string
	Type string
}

// Parse decodes data strictly (see package jsonstrict) and checks it as a credential.
func Parse(data []byte) (*Credential, error) {
	doc, err := decodeDocument(data, MaxCredentialSize)
	if err != nil {
		return nil, err
	}
	return FromDocument(doc)
}

func decodeDocument(data []byte, max int) (map[string]any, error) {
	var doc map[string]any
	if err := jsonstrict.Unmarshal(data, &doc, jsonstrict.Limits{MaxBytes: max}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if doc == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	return doc, nil
}

// FromDocument checks doc against the data model's rules for a credential and returns
// the credential with its view filled. It does not copy doc.
func FromDocument(doc map[string]any) (*Credential, error) {
	c := &Credential{Document: doc}
	var err error
	if c.Context, err = contexts(doc); err != nil {
		return nil, err
	}
	if c.ID, err = optionalURL(doc, "id"); err != nil {
		return nil, err
	}
	if c.Types, err = types(doc, TypeCredential); err != nil {
		return nil, err
	}
	if c.Issuer, err = issuer(doc); err != nil {
		return nil, err
	}
	if c.ValidFrom, err = optionalTime(doc, "validFrom"); err != nil {
		return nil, err
	}
	if c.ValidUntil, err = optionalTime(doc, "validUntil"); err != nil {
		return nil, err
	}
	if !c.ValidFrom.IsZero() && !c.ValidUntil.IsZero() && c.ValidUntil.Before(c.ValidFrom) {
		return nil, fmt.Errorf("%w: validUntil is before validFrom", ErrMalformed)
	}
	if c.Subjects, err = objects(doc, "credentialSubject", true); err != nil {
		return nil, err
	}
	for i, s := range c.Subjects {
		if _, ok := s["id"]; ok {
			if _, err := optionalURL(s, "id"); err != nil {
				return nil, fmt.Errorf("credentialSubject[%d]: %w", i, err)
			}
		}
	}
	schemas, err := objects(doc, "credentialSchema", false)
	if err != nil {
		return nil, err
	}
	for _, s := range schemas {
		id, err := requiredURL(s, "id", "credentialSchema.id")
		if err != nil {
			return nil, err
		}
		typ, _ := s["type"].(string)
		if typ == "" {
			return nil, fmt.Errorf("%w: credentialSchema.type must be a string", ErrMalformed)
		}
		c.Schemas = append(c.Schemas, SchemaRef{ID: id, Type: typ})
	}
	if c.Status, err = objects(doc, "credentialStatus", false); err != nil {
		return nil, err
	}
	for _, s := range c.Status {
		if typ, _ := s["type"].(string); typ == "" {
			return nil, fmt.Errorf("%w: credentialStatus.type must be a string", ErrMalformed)
		}
	}
	if _, err = objects(doc, "evidence", false); err != nil {
		return nil, err
	}
	if c.Proofs, err = objects(doc, "proof", false); err != nil {
		return nil, err
	}
	return c, nil
}

// HasType reports whether the credential lists typ among its types.
func (c *Credential) HasType(typ string) bool {
	for _, t := range c.Types {
		if t == typ {
			return true
		}
	}
	return false
}

// SubjectID returns the id of the credential's only subject, or "" when there is more
// than one subject or the subject has no id.
func (c *Credential) SubjectID() string {
	if len(c.Subjects) != 1 {
		return ""
	}
	id, _ := c.Subjects[0]["id"].(string)
	return id
}

// issuer reads the issuer member: a URL, or an object whose id is a URL.
func issuer(doc map[string]any) (string, error) {
	switch v := doc["issuer"].(type) {
	case string:
		if !isURL(v) {
			return "", fmt.Errorf("%w: issuer must be a URL", ErrMalformed)
		}
		return v, nil
	case map[string]any:
		return requiredURL(v, "id", "issuer.id")
	case nil:
		return "", fmt.Errorf("%w: issuer is required", ErrMalformed)
	default:
		return "", fmt.Errorf("%w: issuer must be a URL or an object with an id", ErrMalformed)
	}
}
