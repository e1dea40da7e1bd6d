package credential

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const validCredential = `{
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://civitas.network/contexts/v1"],
  "id": "urn:uuid:2b5f7c2e-8a0e-4f63-9d0b-6b7b1f0e9a11",
  "type": ["VerifiableCredential", "MembershipCredential"],
  "issuer": {"id": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "name": "Praxis"},
  "validFrom": "2026-01-01T00:00:00Z",
  "validUntil": "2027-01-01T00:00:00+01:00",
  "credentialSubject": {"id": "did:example:member", "role": "member"},
  "credentialSchema": {"id": "https://civitas.network/schemas/v1/MembershipCredential.json", "type": "JsonSchema"},
  "credentialStatus": [{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}]
}`

func TestParseCredential(t *testing.T) {
	c, err := Parse([]byte(validCredential))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp" {
		t.Errorf("Issuer = %q", c.Issuer)
	}
	if !c.HasType("MembershipCredential") || c.HasType("ResidencyCredential") {
		t.Errorf("Types = %v", c.Types)
	}
	if want := time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC); !c.ValidUntil.Equal(want) {
		t.Errorf("ValidUntil = %v, want %v", c.ValidUntil, want)
	}
	if c.SubjectID() != "did:example:member" || len(c.Schemas) != 1 || c.Schemas[0].Type != "JsonSchema" || len(c.Status) != 1 {
		t.Errorf("view = %+v", c)
	}
}

// mutate applies f to a fresh decoded copy of validCredential and returns it as JSON.
func mutate(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(validCredential), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseCredentialRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"not json", []byte(`{"@context":`), "malformed json"},
		{"duplicate key", []byte(strings.Replace(validCredential, `"id": "urn:uuid`, `"issuer": "did:example:evil", "id": "urn:uuid`, 1)), "duplicate"},
		{"case variant key", []byte(strings.Replace(validCredential, `"validFrom"`, `"ValidFrom": "2020-01-01T00:00:00Z", "validFrom"`, 1)), "duplicate"},
		{"array", []byte(`[]`), "malformed"},
		{"too large", []byte(`{"x":"` + strings.Repeat("a", MaxCredentialSize) + `"}`), "too large"},
		{"no context", mutate(t, func(m map[string]any) { delete(m, "@context") }), "@context is required"},
		{"v1 context first", mutate(t, func(m map[string]any) { m["@context"] = []any{"https://www.w3.org/2018/credentials/v1"} }), "first @context"},
		{"inline context", mutate(t, func(m map[string]any) {
			m["@context"] = []any{ContextV2, map[string]any{"@vocab": "https://evil.example/"}}
		}), "inline @context"},
		{"no VC type", mutate(t, func(m map[string]any) { m["type"] = []any{"MembershipCredential"} }), "type must include"},
		{"type not strings", mutate(t, func(m map[string]any) { m["type"] = []any{"VerifiableCredential", 3} }), "type entries"},
		{"no issuer", mutate(t, func(m map[string]any) { delete(m, "issuer") }), "issuer is required"},
		{"issuer not URL", mutate(t, func(m map[string]any) { m["issuer"] = "not a url" }), "issuer must be a URL"},
		{"issuer object without id", mutate(t, func(m map[string]any) { m["issuer"] = map[string]any{"name": "x"} }), "issuer.id"},
		{"id not URL", mutate(t, func(m map[string]any) { m["id"] = "1234" }), "id must be a URL"},
		{"date without zone", mutate(t, func(m map[string]any) { m["validFrom"] = "2026-01-01T00:00:00" }), "validFrom"},
		{"date only", mutate(t, func(m map[string]any) { m["validFrom"] = "2026-01-01" }), "validFrom"},
		{"lower-case z", mutate(t, func(m map[string]any) { m["validFrom"] = "2026-01-01T00:00:00z" }), "validFrom"},
		{"lower-case t", mutate(t, func(m map[string]any) { m["validFrom"] = "2026-01-01t00:00:00Z" }), "validFrom"},
		{"date as number", mutate(t, func(m map[string]any) { m["validUntil"] = 1 }), "validUntil"},
		{"until before from", mutate(t, func(m map[string]any) { m["validUntil"] = "2025-01-01T00:00:00Z" }), "before validFrom"},
		{"no subject", mutate(t, func(m map[string]any) { delete(m, "credentialSubject") }), "credentialSubject is required"},
		{"null subject", mutate(t, func(m map[string]any) { m["credentialSubject"] = nil }), "credentialSubject is required"},
		{"subject string", mutate(t, func(m map[string]any) { m["credentialSubject"] = "did:example:x" }), "credentialSubject must be an object"},
		{"empty subjects", mutate(t, func(m map[string]any) { m["credentialSubject"] = []any{} }), "empty array"},
		{"subject id not URL", mutate(t, func(m map[string]any) { m["credentialSubject"] = map[string]any{"id": "bob"} }), "credentialSubject[0]"},
		{"schema without type", mutate(t, func(m map[string]any) { m["credentialSchema"] = map[string]any{"id": "https://x.example/s"} }), "credentialSchema.type"},
		{"status without type", mutate(t, func(m map[string]any) { m["credentialStatus"] = map[string]any{"id": "https://x.example/s"} }), "credentialStatus.type"},
		{"evidence string", mutate(t, func(m map[string]any) { m["evidence"] = "x" }), "evidence must be"},
		{"proof number", mutate(t, func(m map[string]any) { m["proof"] = 5 }), "proof must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestPresentation(t *testing.T) {
	vp := `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiablePresentation","holder":"did:example:holder",
	"verifiableCredential":[{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"EnvelopedVerifiableCredential","id":"data:application/vc+jwt,eyJhbGciOiJFZERTQSJ9.e30.c2ln"}]}`
	p, err := ParsePresentation([]byte(vp))
	if err != nil {
		t.Fatal(err)
	}
	if p.Holder != "did:example:holder" || len(p.Credentials) != 1 {
		t.Fatalf("view = %+v", p)
	}
	media, data, ok, err := EnvelopedCredential(p.Credentials[0])
	if err != nil || !ok || media != "application/vc+jwt" || string(data) != "eyJhbGciOiJFZERTQSJ9.e30.c2ln" {
		t.Fatalf("EnvelopedCredential = %q %q %v %v", media, data, ok, err)
	}
	for _, bad := range []string{
		`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiableCredential"}`,
		`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiablePresentation","holder":"nobody"}`,
		`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiablePresentation","verifiableCredential":"x"}`,
	} {
		if _, err := ParsePresentation([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParsePresentation(%s) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestDataURL(t *testing.T) {
	for _, bad := range []string{"", "https://x", "data:", "data:,abc", "data:application/vc+jwt", "data:application/vc+jwt;base64,abc", "data:text/plain; charset=x,abc"} {
		if _, _, err := ParseDataURL(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseDataURL(%q) = %v, want ErrMalformed", bad, err)
		}
	}
	m, p, err := ParseDataURL(DataURL("application/vc+jwt", "a.b.c"))
	if err != nil || m != "application/vc+jwt" || p != "a.b.c" {
		t.Fatalf("round trip = %q %q %v", m, p, err)
	}
}

func TestMarshalOrder(t *testing.T) {
	c, err := Parse([]byte(validCredential))
	if err != nil {
		t.Fatal(err)
	}
	c.Document["proof"] = map[string]any{"type": "DataIntegrityProof"}
	c.Document["zeta"] = "<&>"
	out, err := Marshal(c.Document)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	order := []string{`"@context"`, `"id"`, `"type"`, `"issuer"`, `"validFrom"`, `"validUntil"`, `"credentialSubject"`, `"credentialSchema"`, `"credentialStatus"`, `"zeta":"<&>"`, `"proof"`}
	last := -1
	for _, k := range order {
		i := strings.Index(s, k)
		if i <= last {
			t.Fatalf("member %s out of order in %s", k, s)
		}
		last = i
	}
	if _, err := Parse(out); err != nil {
		t.Fatalf("Marshal output does not parse: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(validCredential))
	f.Add([]byte(`{"@context":"https://www.w3.org/ns/credentials/v2","type":"VerifiableCredential","issuer":"did:x:y","credentialSubject":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if c.Issuer == "" || len(c.Subjects) == 0 || !c.HasType(TypeCredential) {
			t.Fatalf("accepted credential lacks required members: %+v", c)
		}
	})
}

func FuzzParsePresentation(f *testing.F) {
	f.Add([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiablePresentation","holder":"did:example:h","verifiableCredential":{"type":"EnvelopedVerifiableCredential","id":"data:application/vc+jwt,a.b.c"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePresentation(data)
		if err != nil {
			return
		}
		for _, c := range p.Credentials {
			_, _, _, _ = EnvelopedCredential(c)
		}
	})
}
