package jsonld

import (
	"encoding/json"
	"fmt"
	"maps"
	"testing"

	"github.com/civitas-net/civitas/schemas"
)

// namedDoc is a test document as JSON bytes, so that every use decodes its own copy.
type namedDoc struct {
	name string
	data []byte
}

const (
	testIssuer = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
	testHolder = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
)

// civitasCredential builds a credential of the Civitas type name the way the issuer
// package does (issuer.Build): the credentials v2 and Civitas contexts, the type's
// type array, its schema, a status entry, and the type's example subject.
func civitasCredential(t testing.TB, name string, n int) map[string]any {
	t.Helper()
	typ, ok := schemas.Lookup(name)
	if !ok {
		t.Fatalf("unknown civitas type %s", name)
	}
	var subject map[string]any
	if err := json.Unmarshal(schemas.ExampleSubject(name), &subject); err != nil {
		t.Fatalf("example subject of %s: %v", name, err)
	}
	types := make([]any, len(typ.Types))
	for i, s := range typ.Types {
		types[i] = s
	}
	return map[string]any{
		"@context":          []any{schemas.CredentialsV2URL, schemas.ContextURL},
		"id":                fmt.Sprintf("urn:uuid:6f1c2a4e-8d3b-4c5e-9f7a-%012d", n),
		"type":              types,
		"issuer":            testIssuer,
		"validFrom":         "2025-03-01T00:00:00Z",
		"validUntil":        "2026-03-01T00:00:00Z",
		"credentialSubject": subject,
		"credentialSchema":  map[string]any{"id": typ.SchemaID, "type": "JsonSchema"},
		"credentialStatus": []any{map[string]any{
			"id":                   fmt.Sprintf("https://harbourcommons.example/status/1#%d", n),
			"type":                 "BitstringStatusListEntry",
			"statusPurpose":        "revocation",
			"statusListIndex":      fmt.Sprint(n),
			"statusListCredential": "https://harbourcommons.example/status/1",
		}},
	}
}

// proofOptions is a Data Integrity proof without its value, as a proof configuration.
func proofOptions(suite, vm, purpose string, extra map[string]any) map[string]any {
	p := map[string]any{
		"type":               "DataIntegrityProof",
		"cryptosuite":        suite,
		"created":            "2025-03-01T00:00:00Z",
		"verificationMethod": vm,
		"proofPurpose":       purpose,
	}
	maps.Copy(p, extra)
	return p
}

// withProof returns a copy of doc with proof (given a proof value) attached.
func withProof(doc, proof map[string]any) map[string]any {
	out := maps.Clone(doc)
	p := maps.Clone(proof)
	p["proofValue"] = "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFehP8c3PGfb6a22gkfUKKvi1bb5yDAQ8RQ3uh"
	out["proof"] = p
	return out
}

// proofConfig is what a cryptosuite canonicalizes besides the document: the proof
// options in the document's contexts.
func proofConfig(doc, proof map[string]any) map[string]any {
	c := maps.Clone(proof)
	c["@context"] = doc["@context"]
	return c
}

// civitasDocuments returns Civitas documents of every kind: each credential type
// unsigned, signed with eddsa-rdfc-2022 and with ecdsa-rdfc-2019, and its proof
// configuration; a presentation holding the three signed credentials and an enveloped
// one, signed and as proof configuration; a status list credential, unsigned and signed.
func civitasDocuments(t testing.TB) []namedDoc {
	t.Helper()
	var out []namedDoc
	add := func(name string, doc map[string]any) {
		data, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, namedDoc{name, data})
	}
	vm := testIssuer + "#" + testIssuer[len("did:key:"):]
	var signed []any
	for i, name := range []string{schemas.Membership, schemas.Residency, schemas.Contribution} {
		cred := civitasCredential(t, name, i+1)
		add(name+"/unsigned", cred)
		for _, suite := range []string{"eddsa-rdfc-2022", "ecdsa-rdfc-2019"} {
			p := proofOptions(suite, vm, "assertionMethod", nil)
			s := withProof(cred, p)
			add(name+"/signed-"+suite, s)
			add(name+"/proofConfig-"+suite, proofConfig(cred, p))
			if suite == "eddsa-rdfc-2022" {
				signed = append(signed, s)
			}
		}
	}
	// A credential held as a vc+jwt is presented enveloped (wallet.entry).
	signed = append(signed, map[string]any{
		"@context": []any{schemas.CredentialsV2URL},
		"id":       "data:application/vc+jwt,eyJhbGciOiJFZERTQSIsInR5cCI6InZjK2p3dCJ9.eyJpc3MiOiJkaWQ6ZXhhbXBsZTppIn0.c2ln",
		"type":     "EnvelopedVerifiableCredential",
	})
	hvm := testHolder + "#" + testHolder[len("did:key:"):]
	vp := map[string]any{
		"@context":             []any{schemas.CredentialsV2URL, schemas.ContextURL},
		"type":                 []any{"VerifiablePresentation"},
		"holder":               testHolder,
		"verifiableCredential": signed,
	}
	vpProof := proofOptions("eddsa-rdfc-2022", hvm, "authentication", map[string]any{
		"challenge": "b8e2c4d1-7f3a-4d0e-9a51-3c1f0e6a2b77",
		"domain":    "https://node.harbourcommons.example",
	})
	add("presentation/unsigned", vp)
	add("presentation/signed", withProof(vp, vpProof))
	add("presentation/proofConfig", proofConfig(vp, vpProof))

	list := map[string]any{
		"@context":  []any{schemas.CredentialsV2URL},
		"id":        "https://harbourcommons.example/status/1",
		"type":      []any{"VerifiableCredential", "BitstringStatusListCredential"},
		"issuer":    testIssuer,
		"validFrom": "2025-03-01T00:00:00Z",
		"credentialSubject": map[string]any{
			"id":            "https://harbourcommons.example/status/1#list",
			"type":          "BitstringStatusList",
			"statusPurpose": "revocation",
			"encodedList":   "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
		},
	}
	add("statuslist/unsigned", list)
	p := proofOptions("eddsa-rdfc-2022", vm, "assertionMethod", nil)
	add("statuslist/signed", withProof(list, p))
	add("statuslist/proofConfig", proofConfig(list, p))
	return out
}
