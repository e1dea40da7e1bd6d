package schemas

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/multiformats/go-multibase"

	"github.com/civitas-net/civitas/internal/jsonstrict"
)

// decode parses JSON the way the product does (strict, numbers as json.Number).
func decode(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := jsonstrict.Unmarshal(b, &v, jsonstrict.Limits{}); err != nil {
		t.Fatal(err)
	}
	return v
}

// fullCredential returns an unsigned credential of the type called name around its
// example subject, with the VC 2.0 properties an issuer adds.
func fullCredential(t testing.TB, name string) map[string]any {
	t.Helper()
	typ, ok := Lookup(name)
	if !ok {
		t.Fatalf("unknown type %s", name)
	}
	types, _ := json.Marshal(typ.Types)
	extra := ""
	if name == Contribution {
		extra = `"name": "Solar Array Builder badge",
		"evidence": [{
			"id": "https://harbourcommons.example/evidence/solar-build-log",
			"type": ["Evidence"],
			"name": "Build log",
			"description": "Volunteer hours logged during the build.",
			"narrative": "Hours confirmed by the stewards on duty."
		}],`
	}
	doc := `{
		"@context": ["` + CredentialsV2URL + `", "` + ContextURL + `"],
		"id": "urn:uuid:3f1c8a52-6b0e-4d7e-9a43-2f7f6d1b9c10",
		"type": ` + string(types) + `,
		"issuer": "did:web:harbourcommons.example",
		"validFrom": "2025-03-01T00:00:00Z",
		"validUntil": "2026-03-01T00:00:00Z",
		` + extra + `
		"credentialSchema": {"id": "` + typ.SchemaID + `", "type": "JsonSchema"},
		"credentialStatus": {
			"id": "https://harbourcommons.example/status/1#94567",
			"type": "BitstringStatusListEntry",
			"statusPurpose": "revocation",
			"statusListIndex": "94567",
			"statusListCredential": "https://harbourcommons.example/status/1"
		},
		"credentialSubject": ` + string(ExampleSubject(name)) + `
	}`
	return decode(t, []byte(doc)).(map[string]any)
}

func TestExamplesValidate(t *testing.T) {
	for _, typ := range Types() {
		t.Run(typ.Name, func(t *testing.T) {
			raw := ExampleSubject(typ.Name)
			if raw == nil {
				t.Fatal("no example")
			}
			if err := ValidateSubject(typ.Name, decode(t, raw)); err != nil {
				t.Fatalf("example subject: %v", err)
			}
			// Also as plain encoding/json output (float64 numbers).
			var plain any
			if err := json.Unmarshal(raw, &plain); err != nil {
				t.Fatal(err)
			}
			if err := ValidateSubject(typ.Name, plain); err != nil {
				t.Fatalf("example subject (float64 numbers): %v", err)
			}
			if err := ValidateCredential(typ.Name, fullCredential(t, typ.Name)); err != nil {
				t.Fatalf("full credential: %v", err)
			}
			// The example's subject type is the registry's.
			subj := decode(t, raw).(map[string]any)
			got, _ := json.Marshal(subj["type"])
			want, _ := json.Marshal(typ.SubjectType)
			if !bytes.Equal(got, want) {
				t.Fatalf("example subject type %s, registry says %s", got, want)
			}
		})
	}
}

// The examples' member DID is the did:key of the Ed25519 key from the all-zero seed.
func TestExampleDIDIsZeroSeedKey(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	mb, err := multibase.Encode(multibase.Base58BTC, append([]byte{0xed, 0x01}, pub...))
	if err != nil {
		t.Fatal(err)
	}
	want := "did:key:" + mb
	for _, typ := range Types() {
		subj := decode(t, ExampleSubject(typ.Name)).(map[string]any)
		if subj["id"] != want {
			t.Errorf("%s example id %v, want %s", typ.Name, subj["id"], want)
		}
	}
}

func TestRegistry(t *testing.T) {
	names := []string{}
	for _, typ := range Types() {
		names = append(names, typ.Name)
		if typ.Types[len(typ.Types)-1] != typ.Name || typ.Types[0] != "VerifiableCredential" {
			t.Errorf("%s: type array %v", typ.Name, typ.Types)
		}
		if typ.SchemaID != SchemaBaseURL+typ.Name+".json" {
			t.Errorf("%s: schema id %s", typ.Name, typ.SchemaID)
		}
		var sch map[string]any
		if err := json.Unmarshal(Schema(typ.Name), &sch); err != nil {
			t.Fatalf("%s schema: %v", typ.Name, err)
		}
		if sch["$id"] != typ.SchemaID || sch["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $id %v, $schema %v", typ.Name, sch["$id"], sch["$schema"])
		}
		if got, ok := BySchemaID(typ.SchemaID); !ok || got.Name != typ.Name {
			t.Errorf("BySchemaID(%s) = %v, %v", typ.SchemaID, got.Name, ok)
		}
		if got, ok := Lookup(typ.Name); !ok || got.Name != typ.Name {
			t.Errorf("Lookup(%s) = %v", typ.Name, ok)
		}
		if got, ok := ByTypes(typ.Types); !ok || got.Name != typ.Name {
			t.Errorf("ByTypes(%v) = %v, %v", typ.Types, got.Name, ok)
		}
	}
	if !slices.Equal(names, []string{Membership, Residency, Contribution}) {
		t.Fatalf("Types() order %v", names)
	}
	if _, ok := Lookup("AlumniCredential"); ok {
		t.Error("Lookup of unknown type succeeded")
	}
	if _, ok := BySchemaID("https://civitas.network/schemas/v1/Other.json"); ok {
		t.Error("BySchemaID of unknown id succeeded")
	}
	if Schema("Nope") != nil || ExampleSubject("Nope") != nil || Schema("../context/v1") != nil {
		t.Error("unknown name returned content")
	}
	for _, types := range [][]string{
		nil,
		{"VerifiableCredential"},
		{"VerifiableCredential", Membership, Residency},
		{"VerifiableCredential", "membershipcredential"},
	} {
		if got, ok := ByTypes(types); ok {
			t.Errorf("ByTypes(%v) = %s, want none", types, got.Name)
		}
	}
	// Callers cannot change the registry through what they are given.
	m, _ := Lookup(Contribution)
	m.Types[0] = "X"
	m.SubjectType.([]any)[0] = "X"
	Context()[0] = 'X'
	Schema(Membership)[0] = 'X'
	again, _ := Lookup(Contribution)
	if again.Types[0] != "VerifiableCredential" || again.SubjectType.([]any)[0] != "AchievementSubject" {
		t.Error("registry changed through a returned value")
	}
	if Context()[0] != '{' || Schema(Membership)[0] != '{' {
		t.Error("embedded bytes changed through a returned slice")
	}
}

func TestUnknownType(t *testing.T) {
	if err := ValidateCredential("AlumniCredential", map[string]any{}); !errors.Is(err, ErrUnknownType) {
		t.Errorf("ValidateCredential: %v", err)
	}
	if err := ValidateSubject("AlumniCredential", map[string]any{}); !errors.Is(err, ErrUnknownType) {
		t.Errorf("ValidateSubject: %v", err)
	}
}

func TestNoFetch(t *testing.T) {
	if _, err := (noFetch{}).Load("https://json-schema.org/other"); err == nil {
		t.Fatal("loader fetched")
	}
	if _, err := load(); err != nil {
		t.Fatal(err)
	}
}

// edit applies a change at a JSON-pointer-like path ("a/b/0/c"); value del removes.
type edit struct {
	path  string
	value any
}

var del = &struct{}{}

func apply(t *testing.T, doc map[string]any, e edit) {
	t.Helper()
	toks := strings.Split(e.path, "/")
	var cur any = doc
	for i, tok := range toks {
		last := i == len(toks)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if e.value == del {
					delete(c, tok)
				} else {
					c[tok] = e.value
				}
				return
			}
			cur = c[tok]
		case []any:
			n, err := strconv.Atoi(tok)
			if err != nil || n >= len(c) {
				t.Fatalf("bad path %s", e.path)
			}
			if last {
				c[n] = e.value
				return
			}
			cur = c[n]
		default:
			t.Fatalf("bad path %s", e.path)
		}
	}
}

type negCase struct {
	name  string
	edits []edit
	path  string // expected issue path
	msg   string // expected substring of that issue's message
}

func one(path string, v any) []edit { return []edit{{path, v}} }

func runNegative(t *testing.T, name string, cases []negCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cred := fullCredential(t, name)
			for _, e := range tc.edits {
				apply(t, cred, e)
			}
			err := ValidateCredential(name, cred)
			if !errors.Is(err, ErrSchema) {
				t.Fatalf("ValidateCredential = %v, want ErrSchema", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Issues) == 0 || ve.Type != name {
				t.Fatalf("not a *ValidationError with issues: %#v", err)
			}
			found := false
			for _, is := range ve.Issues {
				if is.Path == tc.path && strings.Contains(is.Message, tc.msg) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no issue at %q containing %q; got %v", tc.path, tc.msg, ve.Issues)
			}
			if !strings.Contains(err.Error(), strings.TrimPrefix(tc.path, "/")) {
				t.Errorf("Error() %q does not name %s", err, tc.path)
			}
			// Subject problems are reported the same way by ValidateSubject, relative
			// to the subject.
			if rel, ok := strings.CutPrefix(tc.path, "/credentialSubject"); ok && len(tc.edits) == 1 && strings.HasPrefix(tc.edits[0].path, "credentialSubject/") {
				err := ValidateSubject(name, cred["credentialSubject"])
				if !errors.As(err, &ve) || !slices.ContainsFunc(ve.Issues, func(is Issue) bool { return is.Path == rel }) {
					t.Errorf("ValidateSubject = %v, want an issue at %q", err, rel)
				}
			}
		})
	}
}

// common cases apply to every type (the subject id, the envelope).
func commonCases(name string) []negCase {
	return []negCase{
		{"missing subject", one("credentialSubject", del), "/credentialSubject", "is required"},
		{"subject is array", one("credentialSubject", []any{}), "/credentialSubject", "must be an object"},
		{"subject id missing", one("credentialSubject/id", del), "/credentialSubject/id", "is required"},
		{"subject id not a DID", one("credentialSubject/id", "https://example.com/alice"), "/credentialSubject/id", "is not a valid DID"},
		{"subject id DID without id", one("credentialSubject/id", "did:key:"), "/credentialSubject/id", "is not a valid DID"},
		{"subject id upper-case method", one("credentialSubject/id", "did:KEY:z6Mk"), "/credentialSubject/id", "is not a valid DID"},
		{"subject id with space", one("credentialSubject/id", "did:web:a b"), "/credentialSubject/id", "is not a valid DID"},
		{"subject id DID URL", one("credentialSubject/id", "did:web:example.com#key-1"), "/credentialSubject/id", "is not a valid DID"},
		{"subject id too long", one("credentialSubject/id", "did:web:"+strings.Repeat("a", 2100)), "/credentialSubject/id", "at most 2048"},
		{"subject id number", one("credentialSubject/id", json.Number("7")), "/credentialSubject/id", "must be a string"},
		{"extra subject property", one("credentialSubject/nickname", "al"), "/credentialSubject/nickname", "is not allowed"},
		{"type not array", one("type", name), "/type", "must be an array"},
		{"type lacks own name", one("type", []any{"VerifiableCredential"}), "/type", `must contain "` + name + `"`},
		{"type lacks VerifiableCredential", one("type", []any{name}), "/type", `must contain "VerifiableCredential"`},
		{"type repeats", one("type", []any{"VerifiableCredential", name, name}), "/type", "must not repeat"},
		{"context missing", one("@context", del), "/@context", "is required"},
		{"context lacks civitas", one("@context", []any{CredentialsV2URL, "https://www.w3.org/ns/credentials/examples/v2"}), "/@context", `must contain "` + ContextURL + `"`},
		{"context v2 not first", one("@context", []any{ContextURL, CredentialsV2URL}), "/@context/0", `must be "` + CredentialsV2URL + `"`},
		{"context inline object", one("@context", []any{CredentialsV2URL, ContextURL, map[string]any{"@vocab": "https://evil.example/#"}}), "/@context/2", "must be a string"},
		{"context string", one("@context", CredentialsV2URL), "/@context", "must be an array"},
	}
}

func TestMembershipNegative(t *testing.T) {
	long65 := strings.Repeat("x", 65)
	cases := append(commonCases(Membership), []negCase{
		{"memberSince missing", one("credentialSubject/memberSince", del), "/credentialSubject/memberSince", "is required"},
		{"memberSince month 13", one("credentialSubject/memberSince", "2025-13-01"), "/credentialSubject/memberSince", `"2025-13-01" is not a valid date`},
		{"memberSince Feb 30", one("credentialSubject/memberSince", "2025-02-30"), "/credentialSubject/memberSince", "is not a valid date"},
		{"memberSince short form", one("credentialSubject/memberSince", "2025-3-1"), "/credentialSubject/memberSince", "is not a valid date"},
		{"memberSince datetime", one("credentialSubject/memberSince", "2025-03-01T00:00:00Z"), "/credentialSubject/memberSince", "is not a valid date"},
		{"memberSince number", one("credentialSubject/memberSince", 20250301.0), "/credentialSubject/memberSince", "must be a string"},
		{"subject type wrong", one("credentialSubject/type", "Person"), "/credentialSubject/type", `must be "Member"`},
		{"subject type array", one("credentialSubject/type", []any{"Member"}), "/credentialSubject/type", `must be "Member"`},
		{"role missing", one("credentialSubject/role", del), "/credentialSubject/role", "is required"},
		{"role empty", one("credentialSubject/role", ""), "/credentialSubject/role", "must not be empty"},
		{"role blank", one("credentialSubject/role", "   "), "/credentialSubject/role", "must not be blank"},
		{"role oversized", one("credentialSubject/role", long65), "/credentialSubject/role", "at most 64 characters"},
		{"level oversized", one("credentialSubject/membershipLevel", long65), "/credentialSubject/membershipLevel", "at most 64"},
		{"level number", one("credentialSubject/membershipLevel", json.Number("3")), "/credentialSubject/membershipLevel", "must be a string"},
		{"community missing", one("credentialSubject/community", del), "/credentialSubject/community", "is required"},
		{"community string", one("credentialSubject/community", "https://harbourcommons.example/"), "/credentialSubject/community", "must be an object"},
		{"community name missing", one("credentialSubject/community/name", del), "/credentialSubject/community/name", "is required"},
		{"community name oversized", one("credentialSubject/community/name", strings.Repeat("n", 257)), "/credentialSubject/community/name", "at most 256"},
		{"community id relative", one("credentialSubject/community/id", "/c/1"), "/credentialSubject/community/id", "is not a valid absolute URI"},
		{"community id with space", one("credentialSubject/community/id", "https://a.example/x y"), "/credentialSubject/community/id", ""},
		{"community extra", one("credentialSubject/community/members", 12.0), "/credentialSubject/community/members", "is not allowed"},
		{"type names two civitas types", one("type", []any{"VerifiableCredential", Membership, Residency}), "/type", "must not also name ResidencyCredential"},
		{"type is residency", one("type", []any{"VerifiableCredential", Residency}), "/type", `must contain "MembershipCredential"`},
	}...)
	runNegative(t, Membership, cases)
}

func TestResidencyNegative(t *testing.T) {
	cases := append(commonCases(Residency), []negCase{
		{"until before from", one("credentialSubject/residencePeriod/until", "2025-02-28"), "/credentialSubject/residencePeriod/until", `"2025-02-28" is before from (2025-03-01)`},
		{"until invalid", one("credentialSubject/residencePeriod/until", "2025-09-31"), "/credentialSubject/residencePeriod/until", "is not a valid date"},
		{"from missing", one("credentialSubject/residencePeriod/from", del), "/credentialSubject/residencePeriod/from", "is required"},
		{"until missing", one("credentialSubject/residencePeriod/until", del), "/credentialSubject/residencePeriod/until", "is required"},
		{"period extra", one("credentialSubject/residencePeriod/days", 30.0), "/credentialSubject/residencePeriod/days", "is not allowed"},
		{"period missing", one("credentialSubject/residencePeriod", del), "/credentialSubject/residencePeriod", "is required"},
		{"subject type wrong", one("credentialSubject/type", "Member"), "/credentialSubject/type", `must be "Resident"`},
		{"node missing", one("credentialSubject/node", del), "/credentialSubject/node", "is required"},
		{"node id missing", one("credentialSubject/node/id", del), "/credentialSubject/node/id", "is required"},
		{"node id relative", one("credentialSubject/node/id", "nodes/alfama"), "/credentialSubject/node/id", "absolute URI"},
		{"node name empty", one("credentialSubject/node/name", ""), "/credentialSubject/node/name", "must not be empty"},
		{"location missing", one("credentialSubject/node/location", del), "/credentialSubject/node/location", "is required"},
		{"locality missing", one("credentialSubject/node/location/locality", del), "/credentialSubject/node/location/locality", "is required"},
		{"locality oversized", one("credentialSubject/node/location/locality", strings.Repeat("l", 129)), "/credentialSubject/node/location/locality", "at most 128"},
		{"country lower case", one("credentialSubject/node/location/country", "pt"), "/credentialSubject/node/location/country", "ISO 3166-1 alpha-2"},
		{"country alpha-3", one("credentialSubject/node/location/country", "PRT"), "/credentialSubject/node/location/country", "ISO 3166-1 alpha-2"},
		{"country missing", one("credentialSubject/node/location/country", del), "/credentialSubject/node/location/country", "is required"},
		{"location extra", one("credentialSubject/node/location/street", "Rua A"), "/credentialSubject/node/location/street", "is not allowed"},
		{"unit oversized", one("credentialSubject/unit", strings.Repeat("u", 65)), "/credentialSubject/unit", "at most 64"},
		{"unit number", one("credentialSubject/unit", 4.0), "/credentialSubject/unit", "must be a string"},
	}...)
	runNegative(t, Residency, cases)
}

func TestContributionNegative(t *testing.T) {
	cases := append(commonCases(Contribution), []negCase{
		{"negative points", one("credentialSubject/points", json.Number("-1")), "/credentialSubject/points", "must be at least 0"},
		{"fractional points", one("credentialSubject/points", 1.5), "/credentialSubject/points", "must be an integer"},
		{"points string", one("credentialSubject/points", "40"), "/credentialSubject/points", "must be an integer"},
		{"points huge", one("credentialSubject/points", json.Number("1e12")), "/credentialSubject/points", "must be at most"},
		{"subject type string", one("credentialSubject/type", "AchievementSubject"), "/credentialSubject/type", `must be ["AchievementSubject"]`},
		{"achievement missing", one("credentialSubject/achievement", del), "/credentialSubject/achievement", "is required"},
		{"achievement type wrong", one("credentialSubject/achievement/type", []any{"Badge"}), "/credentialSubject/achievement/type", `must be ["Achievement"]`},
		{"achievement id not uri", one("credentialSubject/achievement/id", "solar"), "/credentialSubject/achievement/id", "absolute URI"},
		{"achievement name missing", one("credentialSubject/achievement/name", del), "/credentialSubject/achievement/name", "is required"},
		{"achievement description oversized", one("credentialSubject/achievement/description", strings.Repeat("d", 2049)), "/credentialSubject/achievement/description", "at most 2048"},
		{"criteria missing", one("credentialSubject/achievement/criteria", del), "/credentialSubject/achievement/criteria", "is required"},
		{"narrative missing", one("credentialSubject/achievement/criteria/narrative", del), "/credentialSubject/achievement/criteria/narrative", "is required"},
		{"narrative oversized", one("credentialSubject/achievement/criteria/narrative", strings.Repeat("n", 4097)), "/credentialSubject/achievement/criteria/narrative", "at most 4096"},
		{"criteria extra", one("credentialSubject/achievement/criteria/id", "https://a.example/c"), "/credentialSubject/achievement/criteria/id", "is not allowed"},
		{"achievement image not supported", one("credentialSubject/achievement/image", "https://a.example/i.png"), "/credentialSubject/achievement/image", "is not allowed"},
		{"achievementType lower case", one("credentialSubject/achievement/achievementType", "award"), "/credentialSubject/achievement/achievementType", "achievement type"},
		{"type lacks AchievementCredential", one("type", []any{"VerifiableCredential", Contribution}), "/type", `must contain "AchievementCredential"`},
		{"evidence not array", one("evidence", map[string]any{"type": []any{"Evidence"}}), "/evidence", "must be an array"},
		{"evidence empty", one("evidence", []any{}), "/evidence", "at least 1"},
		{"evidence without type", one("evidence/0/type", del), "/evidence/0/type", "is required"},
		{"evidence wrong type", one("evidence/0/type", []any{"Proof"}), "/evidence/0/type", `must contain "Evidence"`},
		{"evidence extra", one("evidence/0/genre", "log"), "/evidence/0/genre", "is not allowed"},
		{"evidence id relative", one("evidence/0/id", "log"), "/evidence/0/id", "absolute URI"},
	}...)
	runNegative(t, Contribution, cases)
}

func TestPositiveVariants(t *testing.T) {
	tests := []struct {
		name  string
		typ   string
		edits []edit
	}{
		{"until equals from", Residency, one("credentialSubject/residencePeriod/until", "2025-03-01")},
		{"no region", Residency, one("credentialSubject/node/location/region", del)},
		{"no unit", Residency, one("credentialSubject/unit", del)},
		{"no community id", Membership, one("credentialSubject/community/id", del)},
		{"role at 64 chars", Membership, one("credentialSubject/role", strings.Repeat("é", 64))},
		{"did:web with port and path", Membership, one("credentialSubject/id", "did:web:example.com%3A8443:users:alice")},
		{"extra credential type", Membership, one("type", []any{"VerifiableCredential", Membership, "ExtraCredential"})},
		{"no points", Contribution, one("credentialSubject/points", del)},
		{"zero points", Contribution, one("credentialSubject/points", json.Number("0"))},
		{"points float64 integral", Contribution, one("credentialSubject/points", 12.0)},
		{"no evidence", Contribution, one("evidence", del)},
		{"no achievementType", Contribution, one("credentialSubject/achievement/achievementType", del)},
		{"ext achievementType", Contribution, one("credentialSubject/achievement/achievementType", "ext:Solar")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cred := fullCredential(t, tc.typ)
			for _, e := range tc.edits {
				apply(t, cred, e)
			}
			if err := ValidateCredential(tc.typ, cred); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	cred := fullCredential(t, Membership)
	apply(t, cred, edit{"credentialSubject/memberSince", "2025-13-01"})
	err := ValidateCredential(Membership, cred)
	const want = `credentialSubject/memberSince: "2025-13-01" is not a valid date`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Error() = %q, want it to contain %q", err, want)
	}

	// Relative paths from ValidateSubject; many issues are summarized.
	subj := decode(t, ExampleSubject(Membership)).(map[string]any)
	subj["memberSince"] = "never"
	delete(subj, "role")
	subj["a"], subj["b"], subj["c"] = 1.0, 2.0, 3.0
	err = ValidateSubject(Membership, subj)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("ValidateSubject = %v", err)
	}
	paths := []string{}
	for _, is := range ve.Issues {
		paths = append(paths, is.Path)
	}
	if want := []string{"/a", "/b", "/c", "/memberSince", "/role"}; !slices.Equal(paths, want) {
		t.Fatalf("issue paths %v, want %v", paths, want)
	}
	if msg := err.Error(); !strings.Contains(msg, "and 1 more") || strings.Contains(msg, "credentialSubject") {
		t.Fatalf("Error() = %q", msg)
	}
	// A subject that is not an object: the issue is at the subject's root.
	err = ValidateSubject(Membership, "did:example:1")
	if !errors.As(err, &ve) || ve.Issues[0].Path != "" || !strings.Contains(err.Error(), "(root): must be an object") {
		t.Fatalf("ValidateSubject(string) = %v", err)
	}
	// Outside values are shortened in messages.
	cred = fullCredential(t, Membership)
	apply(t, cred, edit{"credentialSubject/memberSince", strings.Repeat("9", 5000)})
	if err := ValidateCredential(Membership, cred); err == nil || len(err.Error()) > 300 {
		t.Fatalf("long value message: %d bytes", len(err.Error()))
	}
}

func FuzzValidateCredential(f *testing.F) {
	for _, typ := range Types() {
		b, _ := json.Marshal(fullCredential(f, typ.Name))
		f.Add(typ.Name, b)
	}
	f.Add(Membership, []byte(`{"credentialSubject":[1,{"a":null}],"type":"x"}`))
	f.Add(Residency, []byte(`{"credentialSubject":{"residencePeriod":{"from":"2025-01-02","until":"2025-01-01"}}}`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		var v any
		if err := jsonstrict.Unmarshal(data, &v, jsonstrict.Limits{}); err != nil {
			return
		}
		err := ValidateCredential(name, v)
		if err == nil {
			return
		}
		var ve *ValidationError
		if errors.As(err, &ve) && len(ve.Issues) == 0 {
			t.Fatal("validation error without issues")
		}
		if !errors.Is(err, ErrSchema) && !errors.Is(err, ErrUnknownType) {
			t.Fatalf("unexpected error: %v", err)
		}
	})
}

func BenchmarkValidateCredential(b *testing.B) {
	cred := fullCredential(b, Membership)
	if err := ValidateCredential(Membership, cred); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := ValidateCredential(Membership, cred); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateCredentialInvalid(b *testing.B) {
	cred := fullCredential(b, Membership)
	cred["credentialSubject"].(map[string]any)["memberSince"] = "2025-13-01"
	b.ReportAllocs()
	for b.Loop() {
		if err := ValidateCredential(Membership, cred); err == nil {
			b.Fatal("accepted")
		}
	}
}

func TestVCTAndDisclosure(t *testing.T) {
	for _, typ := range Types() {
		got, ok := ByVCT(typ.VCT)
		if !ok || got.Name != typ.Name || typ.VCT != VCTBaseURL+typ.Name {
			t.Errorf("%s: ByVCT(%q) = %v, %v", typ.Name, typ.VCT, got.Name, ok)
		}
		var subject map[string]any
		if err := json.Unmarshal(ExampleSubject(typ.Name), &subject); err != nil {
			t.Fatal(err)
		}
		for _, claim := range typ.AlwaysDisclosed {
			if _, ok := subject[claim]; !ok {
				t.Errorf("%s: always-disclosed claim %q is not in the example subject", typ.Name, claim)
			}
		}
	}
	if _, ok := ByVCT("https://example.org/vct/Other"); ok {
		t.Error("unknown vct found")
	}
}
