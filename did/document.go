package did

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
)

// Relationship names a verification relationship of DID Core §5.3.
type Relationship string

// Verification relationships, named as their document members.
const (
	Authentication       Relationship = "authentication"
	AssertionMethod      Relationship = "assertionMethod"
	KeyAgreement         Relationship = "keyAgreement"
	CapabilityInvocation Relationship = "capabilityInvocation"
	CapabilityDelegation Relationship = "capabilityDelegation"
)

// Verification method types understood by VerificationMethod.PublicKey.
const (
	TypeMultikey                   = "Multikey"
	TypeJSONWebKey                 = "JsonWebKey"
	TypeJSONWebKey2020             = "JsonWebKey2020"
	TypeEd25519VerificationKey2020 = "Ed25519VerificationKey2020"
)

// Document is a DID document (DID Core §5). Members not modelled here (services and
// extensions) are ignored when decoding.
type Document struct {
	// Context is the JSON-LD "@context" as decoded (a string or an array).
	Context any `json:"@context,omitempty"`
	// ID is the DID the document describes.
	ID string `json:"id"`
	// Controller lists the DIDs that control the document.
	Controller StringSet `json:"controller,omitempty"`
	// AlsoKnownAs lists other identifiers of the subject.
	AlsoKnownAs []string `json:"alsoKnownAs,omitempty"`
	// VerificationMethod lists the document's verification methods.
	VerificationMethod []VerificationMethod `json:"verificationMethod,omitempty"`
	// Authentication lists methods for authentication.
	Authentication []VerificationRelationship `json:"authentication,omitempty"`
	// AssertionMethod lists methods for issuing assertions such as credentials.
	AssertionMethod []VerificationRelationship `json:"assertionMethod,omitempty"`
	// KeyAgreement lists methods for key agreement.
	KeyAgreement []VerificationRelationship `json:"keyAgreement,omitempty"`
	// CapabilityInvocation lists methods for invoking capabilities.
	CapabilityInvocation []VerificationRelationship `json:"capabilityInvocation,omitempty"`
	// CapabilityDelegation lists methods for delegating capabilities.
	CapabilityDelegation []VerificationRelationship `json:"capabilityDelegation,omitempty"`
}

// VerificationMethod is a verification method (DID Core §5.2). ID may be relative to the
// document ("#key-1").
type VerificationMethod struct {
	// ID is the method's DID URL, absolute or relative ("#key-1").
	ID string `json:"id"`
	// Type is the method type, for example "Multikey" or "JsonWebKey".
	Type string `json:"type"`
	// Controller is the DID that controls the method.
	Controller string `json:"controller"`
	// PublicKeyMultibase is the key in Multikey form (Multikey and
	// Ed25519VerificationKey2020).
	PublicKeyMultibase string `json:"publicKeyMultibase,omitempty"`
	// PublicKeyJwk is the key as a public JWK (JsonWebKey and JsonWebKey2020).
	PublicKeyJwk map[string]any `json:"publicKeyJwk,omitempty"`
}

// VerificationRelationship is one entry of a verification relationship: either a
// reference to a verification method (an absolute DID URL or a relative "#fragment") or
// an embedded verification method.
type VerificationRelationship struct {
	// Reference is the referenced method's id when Embedded is nil.
	Reference string
	// Embedded is the embedded method, or nil for a reference.
	Embedded *VerificationMethod
}

// StringSet is a JSON member that holds either one string or an array of strings.
type StringSet []string

// DocumentLimits bound a DID document decoded by ParseDocument.
var DocumentLimits = jsonstrict.Limits{MaxBytes: DefaultWebMaxBody, MaxDepth: 16, MaxKeys: 4096}

// ParseDocument decodes a DID document strictly: the bytes must pass jsonstrict within
// DocumentLimits, and member names must match exactly (no case-insensitive matching).
// It does not call Validate.
func ParseDocument(data []byte) (*Document, error) {
	return parseDocument(data, DocumentLimits)
}

func parseDocument(data []byte, lim jsonstrict.Limits) (*Document, error) {
	if err := jsonstrict.Check(data, lim); err != nil {
		if errors.Is(err, jsonstrict.ErrTooLarge) {
			return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	var doc Document
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	return &doc, nil
}

// UnmarshalJSON decodes a document, matching member names exactly.
func (d *Document) UnmarshalJSON(data []byte) error {
	var doc Document
	err := decodeMembers(data, map[string]any{
		"@context":             &doc.Context,
		"id":                   &doc.ID,
		"controller":           &doc.Controller,
		"alsoKnownAs":          &doc.AlsoKnownAs,
		"verificationMethod":   &doc.VerificationMethod,
		"authentication":       &doc.Authentication,
		"assertionMethod":      &doc.AssertionMethod,
		"keyAgreement":         &doc.KeyAgreement,
		"capabilityInvocation": &doc.CapabilityInvocation,
		"capabilityDelegation": &doc.CapabilityDelegation,
	})
	if err != nil {
		return fmt.Errorf("did document: %w", err)
	}
	*d = doc
	return nil
}

// UnmarshalJSON decodes a verification method, matching member names exactly.
func (vm *VerificationMethod) UnmarshalJSON(data []byte) error {
	var m VerificationMethod
	err := decodeMembers(data, map[string]any{
		"id":                 &m.ID,
		"type":               &m.Type,
		"controller":         &m.Controller,
		"publicKeyMultibase": &m.PublicKeyMultibase,
		"publicKeyJwk":       &m.PublicKeyJwk,
	})
	if err != nil {
		return fmt.Errorf("verification method: %w", err)
	}
	*vm = m
	return nil
}

// decodeMembers decodes the JSON object data, storing each member named in fields (by
// exact name) into its destination. Other members are ignored. Numbers decode as
// json.Number.
func decodeMembers(data []byte, fields map[string]any) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if raw == nil {
		return errors.New("not a json object")
	}
	for name, dst := range fields {
		r, ok := raw[name]
		if !ok {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.UseNumber()
		if err := dec.Decode(dst); err != nil {
			return fmt.Errorf("member %q: %w", name, err)
		}
	}
	return nil
}

// UnmarshalJSON accepts a string (a reference) or an object (an embedded method).
func (r *VerificationRelationship) UnmarshalJSON(data []byte) error {
	data = bytes.TrimLeft(data, " \t\r\n")
	switch {
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*r = VerificationRelationship{Reference: s}
	case len(data) > 0 && data[0] == '{':
		var vm VerificationMethod
		if err := json.Unmarshal(data, &vm); err != nil {
			return err
		}
		*r = VerificationRelationship{Embedded: &vm}
	default:
		return errors.New("verification relationship entry must be a string or an object")
	}
	return nil
}

// MarshalJSON encodes a reference as a string and an embedded method as an object.
func (r VerificationRelationship) MarshalJSON() ([]byte, error) {
	if r.Embedded != nil {
		return json.Marshal(r.Embedded)
	}
	return json.Marshal(r.Reference)
}

// UnmarshalJSON accepts a string or an array of strings.
func (s *StringSet) UnmarshalJSON(data []byte) error {
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) > 0 && data[0] == '"' {
		var one string
		if err := json.Unmarshal(data, &one); err != nil {
			return err
		}
		*s = StringSet{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// MarshalJSON encodes a single string as a string and anything else as an array.
func (s StringSet) MarshalJSON() ([]byte, error) {
	if len(s) == 1 {
		return json.Marshal(s[0])
	}
	return json.Marshal([]string(s))
}

// Relation returns the entries of the given verification relationship, or nil for an
// unknown relationship.
func (d *Document) Relation(rel Relationship) []VerificationRelationship {
	switch rel {
	case Authentication:
		return d.Authentication
	case AssertionMethod:
		return d.AssertionMethod
	case KeyAgreement:
		return d.KeyAgreement
	case CapabilityInvocation:
		return d.CapabilityInvocation
	case CapabilityDelegation:
		return d.CapabilityDelegation
	}
	return nil
}

// relationships lists every relationship, in a fixed order.
var relationships = []Relationship{Authentication, AssertionMethod, KeyAgreement, CapabilityInvocation, CapabilityDelegation}

// validRelationship reports whether rel is one of the five DID Core relationships.
func validRelationship(rel Relationship) bool {
	for _, r := range relationships {
		if r == rel {
			return true
		}
	}
	return false
}

// AbsoluteID resolves a verification method id or reference against the document: a
// relative "#fragment" is appended to the document's id; an absolute DID URL is returned
// unchanged. Anything else yields "".
func (d *Document) AbsoluteID(ref string) string {
	if strings.HasPrefix(ref, "#") {
		if len(ref) == 1 || d.ID == "" {
			return ""
		}
		return d.ID + ref
	}
	if strings.HasPrefix(ref, "did:") {
		return ref
	}
	return ""
}

// Validate checks the document's structure: the id is a DID; every verification method
// (listed or embedded) has an id of the form <did>#<fragment> (absolute or relative), a
// type and a controller that is a DID; method ids are unique; and every reference is a
// relative "#fragment" or an absolute DID URL with a fragment and no path or query.
// It does not decode keys.
func (d *Document) Validate() error {
	if _, err := Parse(d.ID); err != nil {
		return fmt.Errorf("%w: id: %w", ErrInvalidDocument, err)
	}
	for _, c := range d.Controller {
		if _, err := Parse(c); err != nil {
			return fmt.Errorf("%w: controller: %w", ErrInvalidDocument, err)
		}
	}
	seen := make(map[string]bool)
	checkVM := func(vm *VerificationMethod) error {
		id, err := d.checkRef(vm.ID)
		if err != nil {
			return fmt.Errorf("%w: verification method id: %w", ErrInvalidDocument, err)
		}
		if seen[id] {
			return fmt.Errorf("%w: duplicate verification method id %.200q", ErrInvalidDocument, id)
		}
		seen[id] = true
		if vm.Type == "" {
			return fmt.Errorf("%w: verification method %.200q has no type", ErrInvalidDocument, id)
		}
		if _, err := Parse(vm.Controller); err != nil {
			return fmt.Errorf("%w: verification method %.200q controller: %w", ErrInvalidDocument, id, err)
		}
		return nil
	}
	for i := range d.VerificationMethod {
		if err := checkVM(&d.VerificationMethod[i]); err != nil {
			return err
		}
	}
	for _, rel := range relationships {
		for _, e := range d.Relation(rel) {
			if e.Embedded != nil {
				if err := checkVM(e.Embedded); err != nil {
					return err
				}
				continue
			}
			if _, err := d.checkRef(e.Reference); err != nil {
				return fmt.Errorf("%w: %s reference: %w", ErrInvalidDocument, rel, err)
			}
		}
	}
	return nil
}

// checkRef checks a method id or reference and returns its absolute form.
func (d *Document) checkRef(ref string) (string, error) {
	abs := d.AbsoluteID(ref)
	if abs == "" {
		return "", fmt.Errorf("%w: %.200q is neither \"#fragment\" nor a did url", ErrInvalidDID, ref)
	}
	u, err := ParseURL(abs)
	if err != nil {
		return "", err
	}
	if u.Fragment == "" || u.Path != "" || u.Query != "" {
		return "", fmt.Errorf("%w: %.200q must be <did>#<fragment>", ErrInvalidDID, ref)
	}
	return abs, nil
}

// PublicKey decodes the method's public key. Multikey and Ed25519VerificationKey2020 use
// publicKeyMultibase (Ed25519VerificationKey2020 only for Ed25519 keys); JsonWebKey and
// JsonWebKey2020 use publicKeyJwk. A method carrying both forms, or the form that does
// not belong to its type, is rejected. Other types yield ErrUnsupportedKey.
func (vm *VerificationMethod) PublicKey() (crypto.PublicKey, error) {
	switch vm.Type {
	case TypeMultikey, TypeEd25519VerificationKey2020:
		if vm.PublicKeyJwk != nil || vm.PublicKeyMultibase == "" {
			return nil, fmt.Errorf("%w: %s method needs publicKeyMultibase and no publicKeyJwk", keys.ErrInvalidKey, vm.Type)
		}
		pub, err := keys.DecodeMultikey(vm.PublicKeyMultibase)
		if err != nil {
			return nil, err
		}
		if alg, _ := keys.AlgorithmOf(pub); vm.Type == TypeEd25519VerificationKey2020 && alg != keys.Ed25519 {
			return nil, fmt.Errorf("%w: %s method holds a %s key", keys.ErrInvalidKey, vm.Type, alg)
		}
		return pub, nil
	case TypeJSONWebKey, TypeJSONWebKey2020:
		if vm.PublicKeyJwk == nil || vm.PublicKeyMultibase != "" {
			return nil, fmt.Errorf("%w: %s method needs publicKeyJwk and no publicKeyMultibase", keys.ErrInvalidKey, vm.Type)
		}
		return keys.PublicKeyFromJWKMap(vm.PublicKeyJwk)
	}
	return nil, fmt.Errorf("%w: verification method type %.64q", ErrUnsupportedKey, vm.Type)
}

// Clone returns a deep copy of the document.
func (d *Document) Clone() *Document {
	if d == nil {
		return nil
	}
	c := *d
	c.Context = cloneJSON(d.Context)
	c.Controller = cloneStrings(d.Controller)
	c.AlsoKnownAs = cloneStrings(d.AlsoKnownAs)
	if d.VerificationMethod != nil {
		c.VerificationMethod = make([]VerificationMethod, len(d.VerificationMethod))
		for i := range d.VerificationMethod {
			c.VerificationMethod[i] = d.VerificationMethod[i].Clone()
		}
	}
	c.Authentication = cloneRel(d.Authentication)
	c.AssertionMethod = cloneRel(d.AssertionMethod)
	c.KeyAgreement = cloneRel(d.KeyAgreement)
	c.CapabilityInvocation = cloneRel(d.CapabilityInvocation)
	c.CapabilityDelegation = cloneRel(d.CapabilityDelegation)
	return &c
}

// Clone returns a deep copy of the verification method.
func (vm VerificationMethod) Clone() VerificationMethod {
	if vm.PublicKeyJwk != nil {
		vm.PublicKeyJwk = cloneJSON(vm.PublicKeyJwk).(map[string]any)
	}
	return vm
}

func cloneRel(in []VerificationRelationship) []VerificationRelationship {
	if in == nil {
		return nil
	}
	out := make([]VerificationRelationship, len(in))
	for i, e := range in {
		out[i] = VerificationRelationship{Reference: e.Reference}
		if e.Embedded != nil {
			vm := e.Embedded.Clone()
			out[i].Embedded = &vm
		}
	}
	return out
}

func cloneStrings[S ~[]string](in S) S {
	if in == nil {
		return nil
	}
	out := make(S, len(in))
	copy(out, in)
	return out
}

// cloneJSON deep-copies a value built from JSON (maps, slices and scalars).
func cloneJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = cloneJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = cloneJSON(e)
		}
		return s
	case []string:
		return cloneStrings(t)
	}
	return v
}
