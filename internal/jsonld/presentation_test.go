package jsonld

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/piprate/json-gold/ld"

	"github.com/civitas-net/civitas/internal/jsonld/rdfc"
)

// Golden N-Quads for presentations, written by hand from JSON-LD 1.1 Processing
// Algorithms and the credentials v2 context, not taken from any implementation's output.
//
// How they are derived. In credentials v2, "verifiableCredential" is defined only in the
// type-scoped context of VerifiablePresentation, as
//
//	{"@id": "cred:verifiableCredential", "@type": "@id", "@container": "@graph", "@context": null}
//
// Expansion Algorithm (§5.1.2), for the member "verifiableCredential" of the
// presentation: step 13.5 takes the container mapping, ["@graph"], from the active
// context the key is found in (the presentation's); step 13.9 expands the value with the
// key as active property, and there the value (a node object, neither a value object nor
// a node reference) first reverts the type-scoped context (step 7), then gets the
// property-scoped context null (step 8: nothing defined any more) and then its own
// "@context" (step 9): each credential is expanded exactly as if it stood alone. Step
// 13.11 then turns each expanded credential into a graph object {"@graph": [credential]}.
// Node Map Generation (§7.2) gives a graph object without "@id" a fresh blank node
// identifier, which is both the value of cred:verifiableCredential on the presentation
// and the name of the graph that holds what the credential states; Deserialize JSON-LD to
// RDF (§8.1) writes that graph's triples as quads with that graph name. A "proof" inside
// the credential is a graph container too (VerifiableCredential's scoped context, no
// scoped context of its own), so the proof is one more blank-node graph, pointed at from
// a quad inside the credential's graph. The presentation has no "@id": a blank node in
// the default graph.
//
// The blank node labels below are arbitrary; the expected canonical form is computed from
// these quads by json-gold's URDNA2015 (its N-Quads parser and canonicalizer: no JSON-LD
// expansion involved), and checked against the rdfc package too.
//
// Prefixes, expanded by nq: <cred:…> https://www.w3.org/2018/credentials#, <sec:…>
// https://w3id.org/security#, <rdf:…> http://www.w3.org/1999/02/22-rdf-syntax-ns#, <xsd:…>
// http://www.w3.org/2001/XMLSchema#, <schema:…> https://schema.org/, <dc:…>
// http://purl.org/dc/terms/.
var presentationGolden = []struct {
	name  string
	doc   string
	quads string
}{
	{
		name: "one credential",
		doc: `{"@context": ["https://www.w3.org/ns/credentials/v2"],
			"type": "VerifiablePresentation",
			"holder": "did:example:holder",
			"verifiableCredential": {
				"@context": ["https://www.w3.org/ns/credentials/v2"],
				"id": "urn:uuid:00000000-0000-4000-8000-000000000001",
				"type": "VerifiableCredential",
				"issuer": "did:example:issuer",
				"credentialSubject": {"id": "did:example:subject", "name": "Alice"}}}`,
		quads: `
_:vp <rdf:type> <cred:VerifiablePresentation> .
_:vp <cred:holder> <did:example:holder> .
_:vp <cred:verifiableCredential> _:g1 .
<urn:uuid:00000000-0000-4000-8000-000000000001> <rdf:type> <cred:VerifiableCredential> _:g1 .
<urn:uuid:00000000-0000-4000-8000-000000000001> <cred:issuer> <did:example:issuer> _:g1 .
<urn:uuid:00000000-0000-4000-8000-000000000001> <cred:credentialSubject> <did:example:subject> _:g1 .
<did:example:subject> <schema:name> "Alice" _:g1 .
`,
	},
	{
		name: "signed credential in a signed presentation",
		doc: `{"@context": ["https://www.w3.org/ns/credentials/v2"],
			"type": ["VerifiablePresentation"],
			"holder": "did:example:holder",
			"verifiableCredential": [{
				"@context": ["https://www.w3.org/ns/credentials/v2"],
				"id": "urn:uuid:00000000-0000-4000-8000-000000000001",
				"type": ["VerifiableCredential"],
				"issuer": "did:example:issuer",
				"validFrom": "2025-01-01T00:00:00Z",
				"credentialSubject": {"id": "did:example:subject", "name": "Alice"},
				"proof": {
					"type": "DataIntegrityProof",
					"cryptosuite": "eddsa-rdfc-2022",
					"created": "2025-01-01T00:00:00Z",
					"verificationMethod": "did:example:issuer#key-1",
					"proofPurpose": "assertionMethod",
					"proofValue": "z3FXQ"}}],
			"proof": {
				"type": "DataIntegrityProof",
				"cryptosuite": "eddsa-rdfc-2022",
				"created": "2025-02-01T00:00:00Z",
				"verificationMethod": "did:example:holder#key-1",
				"proofPurpose": "authentication",
				"challenge": "c-1",
				"domain": "https://verifier.example",
				"proofValue": "z4GYR"}}`,
		quads: `
_:vp <rdf:type> <cred:VerifiablePresentation> .
_:vp <cred:holder> <did:example:holder> .
_:vp <cred:verifiableCredential> _:g1 .
_:vp <sec:proof> _:vpproof .
_:vpp <rdf:type> <sec:DataIntegrityProof> _:vpproof .
_:vpp <sec:cryptosuite> "eddsa-rdfc-2022"^^<sec:cryptosuiteString> _:vpproof .
_:vpp <dc:created> "2025-02-01T00:00:00Z"^^<xsd:dateTime> _:vpproof .
_:vpp <sec:verificationMethod> <did:example:holder#key-1> _:vpproof .
_:vpp <sec:proofPurpose> <sec:authenticationMethod> _:vpproof .
_:vpp <sec:challenge> "c-1" _:vpproof .
_:vpp <sec:domain> "https://verifier.example" _:vpproof .
_:vpp <sec:proofValue> "z4GYR"^^<sec:multibase> _:vpproof .
<urn:uuid:00000000-0000-4000-8000-000000000001> <rdf:type> <cred:VerifiableCredential> _:g1 .
<urn:uuid:00000000-0000-4000-8000-000000000001> <cred:issuer> <did:example:issuer> _:g1 .
<urn:uuid:00000000-0000-4000-8000-000000000001> <cred:validFrom> "2025-01-01T00:00:00Z"^^<xsd:dateTime> _:g1 .
<urn:uuid:00000000-0000-4000-8000-000000000001> <cred:credentialSubject> <did:example:subject> _:g1 .
<urn:uuid:00000000-0000-4000-8000-000000000001> <sec:proof> _:g1proof _:g1 .
<did:example:subject> <schema:name> "Alice" _:g1 .
_:p1 <rdf:type> <sec:DataIntegrityProof> _:g1proof .
_:p1 <sec:cryptosuite> "eddsa-rdfc-2022"^^<sec:cryptosuiteString> _:g1proof .
_:p1 <dc:created> "2025-01-01T00:00:00Z"^^<xsd:dateTime> _:g1proof .
_:p1 <sec:verificationMethod> <did:example:issuer#key-1> _:g1proof .
_:p1 <sec:proofPurpose> <sec:assertionMethod> _:g1proof .
_:p1 <sec:proofValue> "z3FXQ"^^<sec:multibase> _:g1proof .
`,
	},
	{
		name: "two credentials, one anonymous, and an enveloped one",
		doc: `{"@context": ["https://www.w3.org/ns/credentials/v2"],
			"id": "urn:uuid:00000000-0000-4000-8000-0000000000ff",
			"type": "VerifiablePresentation",
			"verifiableCredential": [
				{"@context": ["https://www.w3.org/ns/credentials/v2"],
				 "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
				 "type": "VerifiableCredential",
				 "issuer": "did:example:issuer",
				 "credentialSubject": {"id": "did:example:subject", "name": "Alice"}},
				{"@context": ["https://www.w3.org/ns/credentials/v2"],
				 "type": "VerifiableCredential",
				 "issuer": "did:example:issuer",
				 "credentialSubject": {"name": "Bob"}},
				{"@context": ["https://www.w3.org/ns/credentials/v2"],
				 "id": "data:application/vc+jwt,eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
				 "type": "EnvelopedVerifiableCredential"}]}`,
		quads: `
<urn:uuid:00000000-0000-4000-8000-0000000000ff> <rdf:type> <cred:VerifiablePresentation> .
<urn:uuid:00000000-0000-4000-8000-0000000000ff> <cred:verifiableCredential> _:g1 .
<urn:uuid:00000000-0000-4000-8000-0000000000ff> <cred:verifiableCredential> _:g2 .
<urn:uuid:00000000-0000-4000-8000-0000000000ff> <cred:verifiableCredential> _:g3 .
<urn:uuid:00000000-0000-4000-8000-000000000001> <rdf:type> <cred:VerifiableCredential> _:g1 .
<urn:uuid:00000000-0000-4000-8000-000000000001> <cred:issuer> <did:example:issuer> _:g1 .
<urn:uuid:00000000-0000-4000-8000-000000000001> <cred:credentialSubject> <did:example:subject> _:g1 .
<did:example:subject> <schema:name> "Alice" _:g1 .
_:c2 <rdf:type> <cred:VerifiableCredential> _:g2 .
_:c2 <cred:issuer> <did:example:issuer> _:g2 .
_:c2 <cred:credentialSubject> _:s2 _:g2 .
_:s2 <schema:name> "Bob" _:g2 .
<data:application/vc+jwt,eyJhbGciOiJFUzI1NiJ9.e30.c2ln> <rdf:type> <cred:EnvelopedVerifiableCredential> _:g3 .
`,
	},
}

// jsonGoldPresentation is what json-gold v0.7.0 makes of the first golden presentation:
// it reads the container mapping of "verifiableCredential" from the term's own scoped
// context (null), finds none, and leaves the credential in the default graph.
const jsonGoldPresentation = `
_:vp <rdf:type> <cred:VerifiablePresentation> .
_:vp <cred:holder> <did:example:holder> .
_:vp <cred:verifiableCredential> <urn:uuid:00000000-0000-4000-8000-000000000001> .
<urn:uuid:00000000-0000-4000-8000-000000000001> <rdf:type> <cred:VerifiableCredential> .
<urn:uuid:00000000-0000-4000-8000-000000000001> <cred:issuer> <did:example:issuer> .
<urn:uuid:00000000-0000-4000-8000-000000000001> <cred:credentialSubject> <did:example:subject> .
<did:example:subject> <schema:name> "Alice" .
`

var nqPrefixes = strings.NewReplacer(
	"<cred:", "<https://www.w3.org/2018/credentials#",
	"<sec:", "<https://w3id.org/security#",
	"<rdf:", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#",
	"<xsd:", "<http://www.w3.org/2001/XMLSchema#",
	"<schema:", "<https://schema.org/",
	"<dc:", "<http://purl.org/dc/terms/",
)

// nq expands the prefixes of hand-written quads.
func nq(s string) string { return strings.TrimLeft(nqPrefixes.Replace(s), "\n") }

// goldCanonicalNQuads canonicalizes N-Quads text with json-gold's URDNA2015 (N-Quads in,
// N-Quads out: json-gold's JSON-LD processing plays no part), and checks that the rdfc
// package agrees.
func goldCanonicalNQuads(t testing.TB, text string) string {
	t.Helper()
	opts := ld.NewJsonLdOptions("")
	opts.Algorithm = ld.AlgorithmURDNA2015
	opts.InputFormat = "application/n-quads"
	opts.Format = "application/n-quads"
	out, err := ld.NewJsonLdProcessor().Normalize(text, opts)
	if err != nil {
		t.Fatalf("json-gold normalize: %v", err)
	}
	want, _ := out.(string)
	if strings.Count(want, "\n") != strings.Count(text, "\n") {
		t.Fatalf("json-gold kept %d of %d quads:\n%s", strings.Count(want, "\n"), strings.Count(text, "\n"), want)
	}
	quads, err := rdfc.ParseNQuads([]byte(text))
	if err != nil {
		t.Fatalf("hand-written quads: %v", err)
	}
	mine, err := rdfc.Canonicalize(context.Background(), quads, rdfc.Options{})
	if err != nil || string(mine) != want {
		t.Fatalf("rdfc (%v) and json-gold canonicalize the quads differently:\n%s\n%s", err, mine, want)
	}
	return want
}

// TestPresentationNamedGraphs checks the golden presentations: Canonicalize and the fast
// path alone give the canonical form of the hand-written quads, the general path refuses
// the documents (json-gold would not put the credentials in named graphs), and the
// composition oracle of the differential tests agrees with the goldens.
func TestPresentationNamedGraphs(t *testing.T) {
	r := testRegistry(t)
	ctx := context.Background()
	for _, tc := range presentationGolden {
		t.Run(tc.name, func(t *testing.T) {
			want := goldCanonicalNQuads(t, nq(tc.quads))
			for _, p := range []expansionPath{pathAuto, pathFast} {
				got, err := r.canonicalize(ctx, parseJSON(t, []byte(tc.doc)), Limits{}, p)
				if err != nil {
					t.Fatalf("path %d: %v", p, err)
				}
				if string(got) != want {
					t.Fatalf("path %d differs at %s\n--- got\n%s--- want\n%s", p, firstDiff(got, []byte(want)), got, want)
				}
			}
			_, err := r.canonicalize(ctx, parseJSON(t, []byte(tc.doc)), Limits{}, pathGeneral)
			if !errors.Is(err, ErrUnsupported) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("general path: %v, want ErrUnsupported (and ErrInvalid)", err)
			}
			if got := presentationOracle(t, r, parseJSON(t, []byte(tc.doc))); string(got) != want {
				t.Fatalf("the composition oracle differs at %s", firstDiff(got, []byte(want)))
			}
		})
	}
	// json-gold's own pipeline still leaves the credential in the default graph; if this
	// fails, json-gold has changed and divergence.go may be too strict.
	gold, err := goldNormalize(r, parseJSON(t, []byte(presentationGolden[0].doc)))
	if err != nil {
		t.Fatal(err)
	}
	if want := goldCanonicalNQuads(t, nq(jsonGoldPresentation)); gold != want {
		t.Fatalf("json-gold's output changed:\n%s--- expected\n%s", gold, want)
	}
}

// presentationOracle computes, from parts json-gold expands correctly, the canonical
// N-Quads JSON-LD 1.1 gives a credentials v2 presentation: the presentation without its
// "verifiableCredential" member, and each credential on its own. Because the scoped
// context of "verifiableCredential" is null, a credential is expanded with nothing but
// its own "@context", exactly as when it stands alone; because of the graph container,
// its default graph becomes a named graph of its own, named by a fresh blank node that
// the presentation points at with cred:verifiableCredential. Blank nodes are renamed
// apart (the documents use no blank node identifiers of their own, so none are shared
// between the parts). The parts go through the general path (json-gold).
func presentationOracle(t testing.TB, r *Registry, vp map[string]any) []byte {
	t.Helper()
	lim := Limits{}.withDefaults()
	creds, ok := vp["verifiableCredential"]
	if !ok {
		t.Fatalf("oracle: no verifiableCredential member")
	}
	rest := maps.Clone(vp)
	delete(rest, "verifiableCredential")
	var all []rdfc.Quad
	rename := func(q []rdfc.Quad, prefix string, graph *rdfc.Term) []rdfc.Quad {
		out := make([]rdfc.Quad, 0, len(q))
		for _, x := range q {
			for _, term := range []*rdfc.Term{&x.Subject, &x.Object, &x.Graph} {
				if term.Kind == rdfc.BlankNode {
					*term = rdfc.NewBlankNode(prefix + term.Value)
				}
			}
			if graph != nil && x.Graph.Kind == rdfc.DefaultGraph {
				x.Graph = *graph
			}
			out = append(out, x)
		}
		return out
	}
	head, err := r.toRDF(rest, lim, pathGeneral)
	if err != nil {
		t.Fatalf("oracle: presentation without credentials: %v", err)
	}
	head = rename(head, "vp", nil)
	var subject rdfc.Term
	for _, q := range head {
		if q.Graph.Kind == rdfc.DefaultGraph && q.Predicate.Value == rdfType &&
			q.Object.Value == "https://www.w3.org/2018/credentials#VerifiablePresentation" {
			subject = q.Subject
		}
	}
	if subject.Kind == rdfc.DefaultGraph {
		t.Fatalf("oracle: the presentation has no type VerifiablePresentation")
	}
	all = append(all, head...)
	for i, c := range ld.Arrayify(creds) {
		m, ok := c.(map[string]any)
		if !ok {
			t.Fatalf("oracle: credential %d is not an object", i)
		}
		if err := r.fastSnapshot().div.check(m); err != nil {
			t.Fatalf("oracle: credential %d is itself divergent: %v", i, err)
		}
		q, err := r.toRDF(m, lim, pathGeneral)
		if err != nil {
			t.Fatalf("oracle: credential %d: %v", i, err)
		}
		prefix := "c" + itoa(i) + "x"
		g := rdfc.NewBlankNode(prefix + "graph")
		all = append(all, rename(q, prefix, &g)...)
		all = append(all, rdfc.Quad{Subject: subject, Predicate: rdfc.NewIRI("https://www.w3.org/2018/credentials#verifiableCredential"), Object: g})
	}
	out, err := rdfc.Canonicalize(context.Background(), all, rdfc.Options{MaxQuads: 1 << 16, MaxBlankNodes: 1 << 12, MaxWork: 1 << 20})
	if err != nil {
		t.Fatalf("oracle: canonicalize: %v", err)
	}
	return out
}

// TestPresentationRejects covers credentials v2 presentations whose credentials cannot be
// put in a named graph as they are: every path refuses them with ErrInvalid (the general
// path with ErrUnsupported, which wraps it).
func TestPresentationRejects(t *testing.T) {
	r := testRegistry(t)
	vp := func(creds string) string {
		return `{"@context": "https://www.w3.org/ns/credentials/v2", "type": "VerifiablePresentation", "verifiableCredential": ` + creds + `}`
	}
	cases := []struct{ name, doc string }{
		// The null scoped context removes the "@type": "@id" coercion as well: the
		// string is a value, and a value in a graph is free-floating.
		{"credential as a string", vp(`"urn:uuid:00000000-0000-4000-8000-000000000001"`)},
		// Nothing to state in the graph: the algorithm keeps an empty named graph,
		// jsonld.js drops it ("object with only @id", an error in safe mode).
		{"credential as a reference", vp(`{"@context": "https://www.w3.org/ns/credentials/v2", "id": "urn:uuid:00000000-0000-4000-8000-000000000001"}`)},
		{"empty credential", vp(`{}`)},
		// Without a context of its own, no term is defined inside a credential.
		{"credential without context", vp(`{"id": "urn:uuid:00000000-0000-4000-8000-000000000001", "type": "VerifiableCredential", "issuer": "did:example:i"}`)},
		{"value object", vp(`{"@value": "x"}`)},
		{"list", vp(`{"@list": [{"@context": "https://www.w3.org/ns/credentials/v2", "type": "VerifiableCredential"}]}`)},
	}
	for _, tc := range cases {
		for i, p := range []expansionPath{pathAuto, pathFast, pathGeneral} {
			t.Run(tc.name+"/"+[]string{"auto", "fast", "general"}[i], func(t *testing.T) {
				out, err := r.canonicalize(context.Background(), parseJSON(t, []byte(tc.doc)), Limits{}, p)
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("path %d: got %v (output %s), want ErrInvalid", p, err, out)
				}
				if p == pathGeneral && !errors.Is(err, ErrUnsupported) {
					t.Fatalf("general path: %v, want ErrUnsupported", err)
				}
			})
		}
	}
}

// scopedContainersContext defines terms with a container mapping and a scoped context in
// every combination divergence.go tells apart.
const scopedContainersContext = `{"@context": {
	"@version": 1.1,
	"@vocab": "https://ex.example/v#",
	"graphNull": {"@id": "https://ex.example/v#graphNull", "@container": "@graph", "@context": null},
	"graphViaURL": {"@id": "https://ex.example/v#graphViaURL", "@container": "@graph", "@context": "https://ex.example/null"},
	"graphKept": {"@id": "https://ex.example/v#graphKept", "@container": "@graph", "@context": {"inner": "https://ex.example/v#inner"}},
	"graphRedefined": {"@id": "https://ex.example/v#graphRedefined", "@container": "@graph",
		"@context": {"graphRedefined": {"@id": "https://ex.example/v#graphRedefined", "@container": "@graph"}}},
	"graphToList": {"@id": "https://ex.example/v#graphToList", "@container": "@graph",
		"@context": {"graphToList": {"@id": "https://ex.example/v#graphToList", "@container": "@list"}}},
	"listNull": {"@id": "https://ex.example/v#listNull", "@container": "@list", "@context": null},
	"setNull": {"@id": "https://ex.example/v#setNull", "@container": "@set", "@context": null},
	"plainToGraph": {"@id": "https://ex.example/v#plainToGraph",
		"@context": {"plainToGraph": {"@id": "https://ex.example/v#plainToGraph", "@container": "@graph"}}}
}}`

// TestScopedContainerDivergence checks, on terms of a custom context, which ones the
// divergence table lists, that the fast path handles the credentials v2 pattern (a graph
// container whose scoped context removes the term) as the algorithm says, that the
// general path refuses every listed term, and that both paths agree on the others.
func TestScopedContainerDivergence(t *testing.T) {
	const u = "https://ex.example/scoped"
	r := newTestRegistry()
	if err := r.Add(u, []byte(scopedContainersContext)); err != nil {
		t.Fatal(err)
	}
	if err := r.Add("https://ex.example/null", []byte(`{"@context": null}`)); err != nil {
		t.Fatal(err)
	}
	got := r.fastSnapshot().div[u]
	wantDiv := map[string]bool{"graphNull": true, "graphViaURL": true, "graphToList": true, "listNull": true, "plainToGraph": true}
	if len(got) != len(wantDiv) {
		t.Errorf("divergent terms %v, want %v", got, wantDiv)
	}
	for k := range wantDiv {
		if !got[k] {
			t.Errorf("%s not listed as divergent (listed: %v)", k, got)
		}
	}
	// The registered contexts hold one such term: credentials v2's verifiableCredential.
	if d := testRegistry(t).fastSnapshot().div; len(d) != 1 || len(d["https://www.w3.org/ns/credentials/v2"]) != 1 ||
		!d["https://www.w3.org/ns/credentials/v2"]["verifiableCredential"] {
		t.Errorf("registered contexts: divergent terms %v", d)
	}

	inner := `{"@context": "` + u + `", "@id": "urn:ex:inner", "name": "x"}`
	mk := func(term string) []byte {
		return []byte(`{"@context": "` + u + `", "@id": "urn:ex:outer", "` + term + `": ` + inner + `}`)
	}
	// The graph containers whose scoped context removes the term: named graph, as the
	// algorithm (and jsonld.js) makes it.
	wantGraph := goldCanonicalNQuads(t, `<urn:ex:outer> <https://ex.example/v#T> _:g .
<urn:ex:inner> <https://ex.example/v#name> "x" _:g .
`)
	for _, term := range []string{"graphNull", "graphViaURL"} {
		t.Run(term, func(t *testing.T) {
			out, err := r.canonicalize(context.Background(), parseJSON(t, mk(term)), Limits{}, pathAuto)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(wantGraph, "https://ex.example/v#T", "https://ex.example/v#"+term)
			if string(out) != want {
				t.Fatalf("got\n%swant\n%s", out, want)
			}
			if _, err := r.canonicalize(context.Background(), parseJSON(t, mk(term)), Limits{}, pathGeneral); !errors.Is(err, ErrUnsupported) {
				t.Fatalf("general path: %v, want ErrUnsupported", err)
			}
		})
	}
	// The others the fast path leaves to the general path, which refuses them.
	for _, term := range []string{"graphToList", "listNull", "plainToGraph"} {
		t.Run(term, func(t *testing.T) {
			if _, err := r.canonicalize(context.Background(), parseJSON(t, mk(term)), Limits{}, pathFast); !errors.Is(err, errFallback) {
				t.Fatalf("fast path: %v, want fallback", err)
			}
			if _, err := r.canonicalize(context.Background(), parseJSON(t, mk(term)), Limits{}, pathAuto); !errors.Is(err, ErrUnsupported) {
				t.Fatalf("auto: %v, want ErrUnsupported", err)
			}
		})
	}
	// Not divergent: both paths agree, and the graph containers make named graphs.
	for _, term := range []string{"graphKept", "graphRedefined", "setNull"} {
		t.Run(term, func(t *testing.T) {
			data := mk(term)
			if term == "setNull" {
				data = []byte(`{"@context": "` + u + `", "@id": "urn:ex:outer", "setNull": [` + inner + `]}`)
			}
			res := compareFastGeneral(t, r, data, Limits{}, false)
			if res.fellBack || res.unsupported || res.class != "ok" {
				t.Fatalf("got %+v", res)
			}
			out, err := r.Canonicalize(context.Background(), parseJSON(t, data), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			named := strings.Contains(string(out), `"x" _:c14n`)
			if named != (term != "setNull") {
				t.Fatalf("named graph: %v\n%s", named, out)
			}
		})
	}
	// A document that names the context but does not use a divergent term stays on
	// both paths.
	res := compareFastGeneral(t, r, []byte(`{"@context": "`+u+`", "@id": "urn:ex:outer", "name": "y"}`), Limits{}, false)
	if res.unsupported || res.class != "ok" {
		t.Fatalf("got %+v", res)
	}
}

// TestDivergenceCheckScope checks that the general path refuses a document only when it
// names a context holding a divergent term and uses that term: a credentials v1
// presentation (whose verifiableCredential has no scoped context) stays on it.
func TestDivergenceCheckScope(t *testing.T) {
	r := testRegistry(t)
	div := r.fastSnapshot().div
	tests := []struct {
		name string
		doc  string
		want bool
	}{
		{"v2 presentation", presentationGolden[0].doc, true},
		{"v2 term nested deep", `{"@context": "https://www.w3.org/ns/credentials/v2", "type": "VerifiableCredential", "credentialSubject": {"a": [{"verifiableCredential": 1}]}}`, true},
		{"v2 context named below the top", `{"@context": "https://www.w3.org/2018/credentials/v1", "type": "VerifiableCredential", "credentialSubject": {"@context": "https://www.w3.org/ns/credentials/v2", "verifiableCredential": 1}}`, true},
		{"v1 presentation", `{"@context": "https://www.w3.org/2018/credentials/v1", "type": "VerifiablePresentation", "verifiableCredential": {"@context": "https://www.w3.org/2018/credentials/v1", "type": "VerifiableCredential"}}`, false},
		{"v2 credential", doc(ctxV2AndEx, `"credentialSubject": {"id": "did:example:s"}`), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal([]byte(tc.doc), &m); err != nil {
				t.Fatal(err)
			}
			err := div.check(m)
			if (err != nil) != tc.want {
				t.Fatalf("check: %v, want refusal %v", err, tc.want)
			}
			if err != nil && (!errors.Is(err, ErrUnsupported) || !errors.Is(err, ErrInvalid)) {
				t.Fatalf("error %v wraps the wrong sentinels", err)
			}
		})
	}
}
