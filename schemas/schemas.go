package schemas

import (
	"bytes"
	"embed"
	"errors"
	"slices"
)

const (
	// ContextURL is the URL of the Civitas JSON-LD context (Context returns its content).
	ContextURL = "https://civitas.network/contexts/v1"
	// VocabURL is the namespace of the Civitas vocabulary terms.
	VocabURL = "https://civitas.network/vocab#"
	// CredentialsV2URL is the W3C VC 2.0 context, which every credential lists first.
	CredentialsV2URL = "https://www.w3.org/ns/credentials/v2"
	// SchemaBaseURL prefixes every schema's $id: SchemaBaseURL + name + ".json".
	SchemaBaseURL = "https://civitas.network/schemas/v1/"
	// VCTBaseURL prefixes the SD-JWT VC type (vct) of every Civitas type.
	VCTBaseURL = "https://civitas.network/vct/"
)

// Names of the Civitas credential types.
const (
	Membership   = "MembershipCredential"
	Residency    = "ResidencyCredential"
	Contribution = "ContributionCredential"
)

var (
	// ErrUnknownType reports a name that is not a Civitas credential type.
	ErrUnknownType = errors.New("unknown civitas credential type")
	// ErrSchema reports a credential or subject that does not match its type's schema.
	// Errors wrapping it are *ValidationError.
	ErrSchema = errors.New("credential does not match its schema")
)

// Type describes one Civitas credential type.
type Type struct {
	// Name is the type's name, also the last entry of Types, e.g. "MembershipCredential".
	Name string
	// Types is the credential's whole type array, e.g.
	// ["VerifiableCredential", "AchievementCredential", "ContributionCredential"].
	Types []string
	// SchemaID is the $id of the type's JSON Schema (the credentialSchema id).
	SchemaID string
	// SubjectType is the value of credentialSubject.type: a string ("Member") or an
	// array ([]any{"AchievementSubject"}), ready to put into a decoded-JSON map.
	SubjectType any
	// AlwaysDisclosed lists the subject claims that are shown in every presentation of
	// a selectively disclosable credential (SD-JWT VC): what a verifier needs to know
	// what the credential is about. The other subject claims are the holder's to show.
	AlwaysDisclosed []string
	// VCT is the SD-JWT VC type (vct) of the type.
	VCT string
}

func (t Type) clone() Type {
	t.Types = slices.Clone(t.Types)
	t.AlwaysDisclosed = slices.Clone(t.AlwaysDisclosed)
	if a, ok := t.SubjectType.([]any); ok {
		t.SubjectType = slices.Clone(a)
	}
	return t
}

// registry is in a stable order: Types returns it as is.
var registry = []Type{
	{
		Name:        Membership,
		Types:       []string{"VerifiableCredential", Membership},
		SchemaID:    SchemaBaseURL + Membership + ".json",
		SubjectType: "Member",
		// A membership always says which community it is in; the holder chooses
		// whether to show role, level and member-since.
		AlwaysDisclosed: []string{"type", "community"},
		VCT:             VCTBaseURL + Membership,
	},
	{
		Name:        Residency,
		Types:       []string{"VerifiableCredential", Residency},
		SchemaID:    SchemaBaseURL + Residency + ".json",
		SubjectType: "Resident",
		// A residency always says where and when; the unit is the holder's to show.
		AlwaysDisclosed: []string{"type", "node", "residencePeriod"},
		VCT:             VCTBaseURL + Residency,
	},
	{
		Name:        Contribution,
		Types:       []string{"VerifiableCredential", "AchievementCredential", Contribution},
		SchemaID:    SchemaBaseURL + Contribution + ".json",
		SubjectType: []any{"AchievementSubject"},
		// A badge always says what was achieved; points are the holder's to show.
		AlwaysDisclosed: []string{"type", "achievement"},
		VCT:             VCTBaseURL + Contribution,
	},
}

//go:embed context/v1.jsonld
var contextV1 []byte

//go:embed json/*.schema.json examples/*.subject.json
var files embed.FS

func index(name string) int {
	return slices.IndexFunc(registry, func(t Type) bool { return t.Name == name })
}

// Lookup returns the type called name.
func Lookup(name string) (Type, bool) {
	i := index(name)
	if i < 0 {
		return Type{}, false
	}
	return registry[i].clone(), true
}

// Types returns every Civitas type, always in the same order.
func Types() []Type {
	out := make([]Type, len(registry))
	for i, t := range registry {
		out[i] = t.clone()
	}
	return out
}

// ByTypes returns the Civitas type a credential's type array names. It reports false
// when the array names no Civitas type or more than one.
func ByTypes(types []string) (Type, bool) {
	found := -1
	for i, t := range registry {
		if slices.Contains(types, t.Name) {
			if found >= 0 {
				return Type{}, false
			}
			found = i
		}
	}
	if found < 0 {
		return Type{}, false
	}
	return registry[found].clone(), true
}

// BySchemaID returns the type whose JSON Schema has the $id id.
func BySchemaID(id string) (Type, bool) {
	for _, t := range registry {
		if t.SchemaID == id {
			return t.clone(), true
		}
	}
	return Type{}, false
}

// Context returns the Civitas JSON-LD context document (a copy).
func Context() []byte { return bytes.Clone(contextV1) }

// Schema returns the JSON Schema of the type called name (a copy), or nil for an
// unknown name.
func Schema(name string) []byte {
	if index(name) < 0 {
		return nil
	}
	b, err := files.ReadFile("json/" + name + ".schema.json")
	if err != nil {
		return nil
	}
	return b
}

// ExampleSubject returns a valid example credentialSubject of the type called name, or
// nil for an unknown name.
func ExampleSubject(name string) []byte {
	if index(name) < 0 {
		return nil
	}
	b, err := files.ReadFile("examples/" + name + ".subject.json")
	if err != nil {
		return nil
	}
	return b
}

// ByVCT returns the Civitas type whose SD-JWT VC type is vct.
func ByVCT(vct string) (Type, bool) {
	for _, t := range registry {
		if t.VCT == vct {
			return t.clone(), true
		}
	}
	return Type{}, false
}
