package jsonld

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/trustbloc/did-go/doc/ld/context/embed"
)

const (
	ctxV2       = `"https://www.w3.org/ns/credentials/v2"`
	ctxV2AndEx  = `["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"]`
	minimalBody = `"type": "VerifiableCredential", "issuer": "did:example:issuer"`
)

// doc builds a credential with the given @context JSON and extra members.
func doc(ctx, extra string) string {
	s := `{"@context": ` + ctx + `, ` + minimalBody
	if extra != "" {
		s += ", " + extra
	}
	return s + "}"
}

// nest returns a credential whose subject nests n objects deep.
func nest(n int) string {
	inner := `"leaf"`
	for range n {
		inner = `{"child": ` + inner + `}`
	}
	return doc(ctxV2AndEx, `"credentialSubject": `+inner)
}

// cliqueDoc returns a credential whose subjects are n blank nodes all knowing each other.
func cliqueDoc(n int) string {
	var subjects []string
	for i := range n {
		var refs []string
		for j := range n {
			if i != j {
				refs = append(refs, fmt.Sprintf(`{"id": "_:n%d"}`, j))
			}
		}
		subjects = append(subjects, fmt.Sprintf(`{"id": "_:n%d", "knows": [%s]}`, i, strings.Join(refs, ",")))
	}
	return doc(ctxV2AndEx, `"credentialSubject": [`+strings.Join(subjects, ",")+`]`)
}

// treeDoc returns a credential whose subject is a complete binary tree of anonymous,
// identical-looking objects: Hash N-Degree Quads has to try permutations of children at
// every level.
func treeDoc(depth int) string {
	var build func(d int) string
	build = func(d int) string {
		if d == 0 {
			return `{"leaf": "x"}`
		}
		c := build(d - 1)
		return `{"child": [` + c + `,` + c + `]}`
	}
	return doc(ctxV2AndEx, `"credentialSubject": `+build(depth))
}

// distinctStrings returns n different JSON strings separated by commas.
func distinctStrings(n int) string {
	var items []string
	for i := range n {
		items = append(items, fmt.Sprintf(`"s%d"`, i))
	}
	return strings.Join(items, ",")
}

// manyContexts returns a credential with n nested objects each carrying "@context".
func manyContexts(n int) string {
	var items []string
	for range n {
		items = append(items, `{"@context": "https://www.w3.org/ns/credentials/examples/v2", "name": "x"}`)
	}
	return doc(ctxV2AndEx, `"credentialSubject": [`+strings.Join(items, ",")+`]`)
}

// anonymousSubjects returns a credential with n subjects, each a blank node.
func anonymousSubjects(n int) string {
	var items []string
	for i := range n {
		items = append(items, fmt.Sprintf(`{"n": %d}`, i))
	}
	return doc(ctxV2AndEx, `"credentialSubject": [`+strings.Join(items, ",")+`]`)
}

// rejectCase is a document Canonicalize must refuse with the error want. fallback marks
// the cases the fast expansion path leaves to the general path (see doc.go).
type rejectCase struct {
	name     string
	doc      string
	lim      Limits
	want     error
	fallback bool
}

func rejectCases() []rejectCase {
	return []rejectCase{
		{"unknown context", doc(`"https://evil.example/context"`, ""), Limits{}, ErrUnknownContext, false},
		{"unknown context in array", doc(`["https://www.w3.org/ns/credentials/v2", "https://evil.example/c"]`, ""), Limits{}, ErrUnknownContext, false},
		{"context url differing in case", doc(`"https://www.w3.org/ns/credentials/V2"`, ""), Limits{}, ErrUnknownContext, false},
		{"context url with trailing slash", doc(`"https://www.w3.org/ns/credentials/v2/"`, ""), Limits{}, ErrUnknownContext, false},
		{"inline context object", doc(`{"@vocab": "https://evil.example/#"}`, ""), Limits{}, ErrInlineContext, false},
		{"inline context in array", doc(`["https://www.w3.org/ns/credentials/v2", {"name": "https://evil.example/name"}]`, ""), Limits{}, ErrInlineContext, false},
		{"nested unknown context", doc(ctxV2AndEx, `"credentialSubject": {"@context": "https://evil.example/c", "name": "x"}`), Limits{}, ErrUnknownContext, false},
		{"nested inline context", doc(ctxV2AndEx, `"credentialSubject": {"@context": {"name": "https://evil.example/n"}, "name": "x"}`), Limits{}, ErrInlineContext, false},
		{"null context", doc(`null`, ""), Limits{}, ErrInvalid, false},
		{"null in context array", doc(`["https://www.w3.org/ns/credentials/v2", null]`, ""), Limits{}, ErrInvalid, false},
		{"numeric context", doc(`5`, ""), Limits{}, ErrInvalid, false},
		{"unknown @ key", doc(ctxV2AndEx, `"@foo": "bar"`), Limits{}, ErrInvalid, false},
		{"nested unknown @ key", doc(ctxV2AndEx, `"credentialSubject": {"@foo": "bar"}`), Limits{}, ErrInvalid, false},
		{"context-only keyword in body", doc(ctxV2AndEx, `"credentialSubject": {"@vocab": "https://evil.example/#", "name": "x"}`), Limits{}, ErrInvalid, false},
		{"framing keyword in body", doc(ctxV2AndEx, `"credentialSubject": {"@default": "x"}`), Limits{}, ErrInvalid, false},
		{"@none outside a container", doc(ctxV2AndEx, `"credentialSubject": {"@none": "x"}`), Limits{}, ErrInvalid, false},
		{"@index is not signed", doc(ctxV2AndEx, `"credentialSubject": {"@index": "x", "name": "y"}`), Limits{}, ErrInvalid, false},
		{"free-floating value in @graph", doc(ctxV2AndEx, `"evidence": {"@graph": ["loose", {"name": "x"}]}`), Limits{}, ErrInvalid, false},
		{"document is a value object", `{"@context": ` + ctxV2AndEx + `, "@value": "x"}`, Limits{}, ErrInvalid, false},
		{"relative id", doc(ctxV2AndEx, `"id": "foo/bar"`), Limits{}, ErrInvalid, false},
		{"relative subject id", doc(ctxV2AndEx, `"credentialSubject": {"id": "member/1", "name": "x"}`), Limits{}, ErrInvalid, false},
		{"relative object iri", doc(ctxV2AndEx, `"credentialSchema": "schemas/1"`), Limits{}, ErrInvalid, false},
		{"relative type", doc(ctxV2, `"credentialSubject": {"type": "NotDefined"}`), Limits{}, ErrInvalid, false},
		{"iri with space", doc(ctxV2AndEx, `"id": "did:example:a b"`), Limits{}, ErrInvalid, false},
		{"iri with bad escape", doc(ctxV2AndEx, `"id": "urn:x:%X0"`), Limits{}, ErrInvalid, false},
		{"iri with bad port", doc(ctxV2AndEx, `"credentialSubject": {"id": "http://host:abc/", "name": "x"}`), Limits{}, ErrInvalid, false},
		{"iri with angle bracket", doc(ctxV2AndEx, `"id": "did:example:a> <did:example:b"`), Limits{}, ErrInvalid, false},
		{"undefined term", doc(ctxV2, `"credentialSubject": {"undefinedTerm": "x"}`), Limits{}, ErrInvalid, false},
		{"blank node property", doc(ctxV2AndEx, `"credentialSubject": {"_:p": "x"}`), Limits{}, ErrInvalid, false},
		{"bad language tag", doc(ctxV2AndEx, `"name": {"@value": "x", "@language": "en_US"}`), Limits{}, ErrInvalid, false},
		{"direction", doc(ctxV2AndEx, `"name": {"@value": "مرحبا", "@language": "ar", "@direction": "rtl"}`), Limits{}, ErrInvalid, false},
		{"bad datatype", doc(ctxV2AndEx, `"name": {"@value": "x", "@type": "not an iri"}`), Limits{}, ErrInvalid, false},
		{"id not a string", doc(ctxV2AndEx, `"id": 5`), Limits{}, ErrInvalid, false},
		{"type not a string", doc(ctxV2AndEx, `"credentialSubject": {"type": 5}`), Limits{}, ErrInvalid, false},
		{"object as value", doc(ctxV2AndEx, `"name": {"@value": {"a": 1}}`), Limits{}, ErrInvalid, false},
		{"protected term redefined", doc(`["https://www.w3.org/ns/credentials/examples/v2", "https://www.w3.org/ns/credentials/v2", "https://www.w3.org/2018/credentials/v1"]`, ""), Limits{}, ErrInvalid, true},
		{"too deep", nest(40), Limits{}, ErrLimit, false},
		{"too deep for a small limit", nest(5), Limits{MaxDepth: 4}, ErrLimit, false},
		{"too many json values", doc(ctxV2AndEx, `"credentialSubject": {"list": [`+strings.Repeat(`1,`, 200)+`1]}`), Limits{MaxNodes: 100}, ErrLimit, false},
		{"too many quads", doc(ctxV2AndEx, `"credentialSubject": {"list": [`+distinctStrings(40)+`]}`), Limits{MaxQuads: 30}, ErrLimit, false},
		{"too many blank nodes", doc(ctxV2AndEx, `"credentialSubject": [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]`), Limits{MaxBlankNodes: 3}, ErrLimit, false},
		{"too many nested contexts", manyContexts(65), Limits{}, ErrLimit, false},
		{"poison clique", cliqueDoc(10), Limits{}, ErrLimit, false},
		{"poison tree", treeDoc(6), Limits{}, ErrLimit, false},
		{"set object", doc(ctxV2, `"credentialSubject": {"@set": [{"undefinedTerm": "x"}]}`), Limits{}, ErrInvalid, false},
		{"value object in @graph", doc(ctxV2AndEx, `"@graph": [{"@value": "dropped"}, {"name": "x"}]`), Limits{}, ErrInvalid, false},
		{"list object in @graph", doc(ctxV2AndEx, `"@graph": [{"@list": ["dropped"]}, {"name": "x"}]`), Limits{}, ErrInvalid, false},
		{"undefined term in a list", doc(ctxV2, `"credentialSubject": {"id": "did:example:s", "description": {"@list": [{"undefinedTerm": "x"}]}}`), Limits{}, ErrInvalid, true},
		{"undefined term in a scoped context", doc(ctxV2, `"proof": {"type": "DataIntegrityProof", "undefinedTerm": "x"}`), Limits{}, ErrInvalid, false},
		{"term of another type's scope", doc(ctxV2, `"credentialSubject": {"id": "did:example:s", "type": "DataIntegrityProof", "holder": "did:example:h"}`), Limits{}, ErrInvalid, false},
		{"relative proof purpose", doc(ctxV2, `"proof": {"type": "DataIntegrityProof", "proofPurpose": "notAPurpose"}`), Limits{}, ErrInvalid, false},
		{"relative @id-typed value", doc(ctxV2, `"credentialStatus": {"type": "BitstringStatusListEntry", "statusListCredential": "lists/1"}`), Limits{}, ErrInvalid, false},
		{"type array with a number", doc(ctxV2, `"credentialSubject": {"type": ["Member", 5]}`), Limits{}, ErrInvalid, false},
		{"type object", doc(ctxV2, `"credentialSubject": {"type": {"id": "x"}}`), Limits{}, ErrInvalid, false},
		{"id and @id", doc(ctxV2, `"credentialSubject": {"id": "did:example:a", "@id": "did:example:b"}`), Limits{}, ErrInvalid, false},
		{"value with unknown member", doc(ctxV2AndEx, `"credentialSubject": {"n": {"@value": "x", "name": "y"}}`), Limits{}, ErrInvalid, false},
		{"value with type and language", doc(ctxV2AndEx, `"credentialSubject": {"n": {"@value": "x", "@type": "urn:t", "@language": "en"}}`), Limits{}, ErrInvalid, false},
		{"language on a number", doc(ctxV2AndEx, `"credentialSubject": {"n": {"@value": 5, "@language": "en"}}`), Limits{}, ErrInvalid, false},
		{"relative value type", doc(ctxV2, `"credentialSubject": {"description": {"@value": "x", "@type": "notAbsolute"}}`), Limits{}, ErrInvalid, false},
		{"included value", doc(ctxV2AndEx, `"credentialSubject": {"@included": [{"@value": "x"}]}`), Limits{}, ErrInvalid, false},
		{"list with another member", doc(ctxV2AndEx, `"credentialSubject": {"n": {"@list": ["x"], "name": "y"}}`), Limits{}, ErrInvalid, false},
		{"nested protected redefinition", doc(ctxV2, `"credentialSubject": {"@context": "https://www.w3.org/2018/credentials/v1", "name": "x"}`), Limits{}, ErrInvalid, true},
		{"civitas term without civitas context", doc(ctxV2, `"credentialSubject": {"id": "did:example:s", "type": "Member", "role": "x"}`), Limits{}, ErrInvalid, false},
		{"civitas scoped term outside its scope", `{"@context": ["https://www.w3.org/ns/credentials/v2", "https://civitas.network/contexts/v1"], "type": "VerifiableCredential", "credentialSubject": {"id": "did:example:s", "from": "2025-01-01"}}`, Limits{}, ErrInvalid, false},
		{"duplicate context url", doc(`["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/v2"]`, ""), Limits{}, ErrInvalid, true},
		// DESIGN §5: a context swapped, added or remote is refused by exact URL, before
		// any expansion or canonicalization work.
		{"context url over http", doc(`"http://www.w3.org/ns/credentials/v2"`, ""), Limits{}, ErrUnknownContext, false},
		{"context url with a fragment", doc(`"https://www.w3.org/ns/credentials/v2#x"`, ""), Limits{}, ErrUnknownContext, false},
		{"context url with trailing space", doc(`"https://www.w3.org/ns/credentials/v2 "`, ""), Limits{}, ErrUnknownContext, false},
		{"context named by its document url", doc(`["https://www.w3.org/ns/credentials/v2", "https://w3c-ccg.github.io/security-vocab/contexts/security-v1.jsonld"]`, ""), Limits{}, ErrUnknownContext, false},
		{"unknown context added after known ones", doc(`["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2", "https://evil.example/c"]`, ""), Limits{}, ErrUnknownContext, false},
		{"unknown context on a poison graph", strings.Replace(cliqueDoc(10), ctxV2AndEx, `["https://www.w3.org/ns/credentials/v2", "https://evil.example/c"]`, 1), Limits{}, ErrUnknownContext, false},
		{"context key in upper case", `{"@CONTEXT": "https://evil.example/c", ` + minimalBody + `}`, Limits{}, ErrInvalid, false},
		{"nested context key in mixed case", doc(ctxV2AndEx, `"credentialSubject": {"@Context": "https://evil.example/c", "name": "x"}`), Limits{}, ErrInvalid, false},
		// DESIGN §5: canonicalization bombs, at the default limits.
		{"blank-node-heavy graph", anonymousSubjects(DefaultMaxBlankNodes + 1), Limits{}, ErrLimit, false},
		{"more json values than the default", doc(ctxV2AndEx, `"credentialSubject": {"list": [`+strings.Repeat(`1,`, DefaultMaxNodes)+`1]}`), Limits{}, ErrLimit, false},
		{"more quads than the default", doc(ctxV2AndEx, `"credentialSubject": {"list": [`+distinctStrings(DefaultMaxQuads+100)+`]}`), Limits{}, ErrLimit, false},
	}
}

// TestCanonicalizeRejects runs every reject case through Canonicalize (fast path with
// fallback), the general path alone and the fast path alone: each refuses it with the
// same error, except that the fast path alone may leave a case marked fallback to the
// general path (and only those).
func TestCanonicalizeRejects(t *testing.T) {
	r := testRegistry(t)
	paths := []struct {
		name string
		path expansionPath
	}{{"auto", pathAuto}, {"general", pathGeneral}, {"fast", pathFast}}
	for _, tc := range rejectCases() {
		for _, p := range paths {
			t.Run(tc.name+"/"+p.name, func(t *testing.T) {
				m := parseJSON(t, []byte(tc.doc))
				out, err := r.canonicalize(context.Background(), m, tc.lim, p.path)
				if p.path == pathFast && errors.Is(err, errFallback) {
					if !tc.fallback {
						t.Fatalf("the fast path fell back: %v", err)
					}
					return
				}
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v (output %q), want %v", err, out, tc.want)
				}
			})
		}
	}
}

// TestCheckRejectsGoValues covers values that JSON decoding never produces but a caller
// could pass.
func TestCheckRejectsGoValues(t *testing.T) {
	r := testRegistry(t)
	base := func(v any) map[string]any {
		return map[string]any{
			"@context":          []any{"https://www.w3.org/ns/credentials/v2", examplesContextURL},
			"type":              "VerifiableCredential",
			"credentialSubject": map[string]any{"value": v},
		}
	}
	tests := []struct {
		name string
		v    any
	}{
		{"int", 5},
		{"nan", jsonNaN()},
		{"hex json.Number", json.Number("0x10")},
		{"inf json.Number", json.Number("1e400")},
		{"not a number", json.Number("five")},
		{"invalid utf-8", "\xff\xfe"},
		{"struct", struct{}{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.Canonicalize(context.Background(), base(tc.v), Limits{}); !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
	bad := map[string]any{"@context": "https://www.w3.org/ns/credentials/v2", "\xff": "x"}
	if err := r.Check(bad, Limits{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid utf-8 key: got %v", err)
	}
}

func jsonNaN() float64 {
	zero := 0.0
	return zero / zero
}

func TestCanonicalizeContextCanceled(t *testing.T) {
	r := testRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := parseJSON(t, []byte(doc(ctxV2AndEx, "")))
	if _, err := r.Canonicalize(ctx, m, Limits{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// countdownContext is a context that ends (context.Canceled) once Err has been asked n
// times: a deadline that passes while the work runs, without a clock.
type countdownContext struct {
	context.Context
	left atomic.Int64
}

func (c *countdownContext) Err() error {
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestCanonicalizeTimeBound checks the time bound of DESIGN §5: a poison graph given a
// work budget far too large to finish stops with the context's error once the context
// ends during canonicalization.
func TestCanonicalizeTimeBound(t *testing.T) {
	r := testRegistry(t)
	for _, tc := range []struct {
		name string
		doc  string
	}{
		{"poison tree", treeDoc(6)},
		{"poison clique", cliqueDoc(10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := &countdownContext{Context: context.Background()}
			ctx.left.Store(50) // ends well inside Hash N-Degree Quads (checked every 64 units)
			_, err := r.Canonicalize(ctx, parseJSON(t, []byte(tc.doc)), Limits{MaxWork: 1 << 40})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want context.Canceled", err)
			}
		})
	}
}

// TestCanonicalizeDoesNotModifyInput checks that the caller's map is left as it was.
func TestCanonicalizeDoesNotModifyInput(t *testing.T) {
	r := testRegistry(t)
	data, err := os.ReadFile(filepath.Join("testdata", "corpus", "vp-with-vc.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := parseJSON(t, data)
	before, _ := json.Marshal(m)
	if _, err := r.Canonicalize(context.Background(), m, Limits{}); err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(m)
	if string(before) != string(after) {
		t.Fatalf("input modified:\nbefore %s\nafter  %s", before, after)
	}
	if _, ok := m["@context"].([]any); !ok {
		t.Fatalf("top-level @context replaced: %T", m["@context"])
	}
}

// TestDeliberateDifferences documents where Canonicalize differs from json-gold's own
// pipeline on purpose: safe mode refuses what json-gold drops, numbers follow JSON-LD 1.1,
// @json literals are JCS of any JSON value, literals are escaped canonically, and a blank
// node repeated within one quad counts once. json-gold's output is computed too, so the
// test notices if json-gold changes.
func TestDeliberateDifferences(t *testing.T) {
	r := testRegistry(t)
	tests := []struct {
		name    string
		doc     string
		wantErr error  // our error, or nil
		want    string // a line our output must contain
	}{
		{"relative id dropped by json-gold", doc(ctxV2AndEx, `"credentialSubject": {"id": "member/1", "name": "x"}`), ErrInvalid, ""},
		{"relative type written by json-gold", doc(ctxV2, `"credentialSubject": {"type": "NotDefined"}`), ErrInvalid, ""},
		{"undefined term dropped by json-gold", doc(ctxV2, `"credentialSubject": {"undefinedTerm": "x"}`), ErrInvalid, ""},
		{"direction dropped by json-gold", doc(ctxV2AndEx, `"name": {"@value": "x", "@language": "ar", "@direction": "rtl"}`), ErrInvalid, ""},
		{"bad language dropped by json-gold", doc(ctxV2AndEx, `"name": {"@value": "x", "@language": "en_US"}`), ErrInvalid, ""},
		{"iri with space written by json-gold", doc(ctxV2AndEx, `"credentialSubject": {"id": "did:example:a b"}`), ErrInvalid, ""},
		{"integer between 2^63 and 1e21", doc(ctxV2AndEx, `"credentialSubject": {"id": "did:example:s", "n": 100000000000000000000}`), nil,
			`<did:example:s> <https://www.w3.org/ns/credentials/examples#n> "100000000000000000000"^^<http://www.w3.org/2001/XMLSchema#integer> .`},
		{"json literal array", `{"@context": ` + ctxV2 + `, "type": "JsonSchema", "id": "urn:ex:schema", "jsonSchema": [1, "two", {"b": 2, "a": 1}]}`, nil,
			`<urn:ex:schema> <https://www.w3.org/2018/credentials#jsonSchema> "[1,\"two\",{\"a\":1,\"b\":2}]"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON> .`},
		{"json literal string", `{"@context": ` + ctxV2 + `, "type": "JsonSchema", "id": "urn:ex:schema", "jsonSchema": "text"}`, nil,
			`<urn:ex:schema> <https://www.w3.org/2018/credentials#jsonSchema> "\"text\""^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON> .`},
		{"control characters", doc(ctxV2AndEx, `"credentialSubject": {"id": "did:example:s", "bell": "a\u0007b\u000cc"}`), nil,
			`<did:example:s> <https://www.w3.org/ns/credentials/examples#bell> "a\u0007b\fc" .`},
		{"blank node in its own graph", doc(ctxV2AndEx, `"credentialSubject": {"name": "s"}, "proof": {"id": "_:g", "@graph": {"id": "_:g", "type": "DataIntegrityProof"}}`), nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Canonicalize(context.Background(), parseJSON(t, []byte(tc.doc)), Limits{})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got error %v, want %v", err, tc.wantErr)
			}
			if tc.want != "" && !strings.Contains(string(got), tc.want+"\n") {
				t.Fatalf("output lacks %s\n--- got\n%s", tc.want, got)
			}
			gold, goldErr := goldNormalize(r, parseJSON(t, []byte(tc.doc)))
			if goldErr != nil {
				t.Fatalf("json-gold fails too (%v): not a difference any more", goldErr)
			}
			if err == nil && string(got) == gold {
				t.Fatalf("json-gold now gives the same output; move this case to the corpus:\n%s", got)
			}
		})
	}
}

// TestConcurrentCanonicalize canonicalizes the corpus from many goroutines sharing one
// Registry (and its context cache, filled concurrently) and compares every result with
// the sequential one. Run with -race.
func TestConcurrentCanonicalize(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	seq := testRegistry(t)
	var docs [][]byte
	var want []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := seq.Canonicalize(context.Background(), parseJSON(t, data), Limits{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		docs = append(docs, data)
		want = append(want, string(out))
	}
	r := NewRegistry() // a cold cache, filled by the goroutines
	if err := r.Add(examplesContextURL, examplesContext); err != nil {
		t.Fatal(err)
	}
	// Parse every document once up front: the goroutines share the maps too.
	shared := make([]map[string]any, len(docs))
	for i, d := range docs {
		shared[i] = parseJSON(t, d)
	}
	const workers = 8
	const rounds = 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds * len(docs) {
				k := (i + w) % len(docs)
				out, err := r.Canonicalize(context.Background(), shared[k], Limits{})
				if err != nil {
					errs <- fmt.Errorf("%s: %w", files[k], err)
					return
				}
				if string(out) != want[k] {
					errs <- fmt.Errorf("%s: concurrent output differs:\n%s", files[k], firstDiff(out, []byte(want[k])))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	for _, c := range embed.Contexts {
		if !r.Has(c.URL) {
			t.Errorf("embedded context %s not registered", c.URL)
		}
	}
	if r.Has(examplesContextURL) {
		t.Fatalf("examples context must not be registered by default")
	}
	if _, err := r.LoadDocument("https://evil.example/c"); !errors.Is(err, ErrUnknownContext) {
		t.Fatalf("LoadDocument of unknown url: %v", err)
	}
	rd, err := r.LoadDocument("https://www.w3.org/ns/credentials/v2")
	if err != nil || rd.Document == nil {
		t.Fatalf("LoadDocument v2: %v", err)
	}
	bad := []struct {
		name, url, content string
	}{
		{"relative url", "contexts/x", `{"@context": {}}`},
		{"not json", "https://civitas.example/c", `{"@context": `},
		{"not an object", "https://civitas.example/c", `["@context"]`},
		{"no @context", "https://civitas.example/c", `{"name": "x"}`},
		{"duplicate key", "https://civitas.example/c", `{"@context": {"a": "urn:a", "a": "urn:b"}}`},
		{"@import", "https://civitas.example/c", `{"@context": {"@import": "https://www.w3.org/ns/credentials/v2"}}`},
	}
	for _, tc := range bad {
		if err := r.Add(tc.url, []byte(tc.content)); !errors.Is(err, ErrInvalid) {
			t.Errorf("Add %s: got %v, want ErrInvalid", tc.name, err)
		}
	}
	if r.Has("https://civitas.example/c") {
		t.Fatalf("rejected context was registered")
	}

	// Replacing a context takes effect at once, past the parsed-context cache.
	const u = "https://civitas.example/ctx/v1"
	m := func() map[string]any {
		return parseJSON(t, []byte(`{"@context": ["https://www.w3.org/ns/credentials/v2", "`+u+`"], "id": "urn:ex:1", "type": "VerifiableCredential", "score": 1}`))
	}
	if err := r.Add(u, []byte(`{"@context": {"score": "https://civitas.example/vocab#score"}}`)); err != nil {
		t.Fatal(err)
	}
	out1, err := r.Canonicalize(context.Background(), m(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add(u, []byte(`{"@context": {"score": "https://civitas.example/vocab#points"}}`)); err != nil {
		t.Fatal(err)
	}
	out2, err := r.Canonicalize(context.Background(), m(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out1), "#score>") || !strings.Contains(string(out2), "#points>") {
		t.Fatalf("context replacement not seen:\n%s\n%s", out1, out2)
	}
}

// TestContextCacheBounded checks that the parsed-context cache stays bounded when
// documents use many different context lists.
func TestContextCacheBounded(t *testing.T) {
	r := NewRegistry()
	urls := make([]string, 0, len(embed.Contexts))
	for _, c := range embed.Contexts {
		if c.URL == "https://www.w3.org/ns/credentials/v2" || c.URL == "https://www.w3.org/2018/credentials/v1" {
			continue // protected terms clash with each other in some orders
		}
		urls = append(urls, c.URL)
	}
	for i := range urls {
		for j := range urls {
			list := []any{urls[i], urls[j]}
			if _, err := r.activeContext(urls[i]+" "+urls[j], list); err != nil {
				continue // some pairs redefine each other's protected terms
			}
		}
	}
	r.mu.RLock()
	n := len(r.cache)
	r.mu.RUnlock()
	if n == 0 || n > r.maxCache {
		t.Fatalf("cache holds %d entries, want 1..%d", n, r.maxCache)
	}
}

func TestNumberLexical(t *testing.T) {
	tests := []struct {
		f       float64
		dt      string
		lex, wt string
	}{
		{0, "", "0", xsdInteger},
		{negZero(), "", "0", xsdInteger},
		{42, "", "42", xsdInteger},
		{-17, "", "-17", xsdInteger},
		{5.0, "", "5", xsdInteger},
		{9007199254740993, "", "9007199254740992", xsdInteger},
		{1e20, "", "100000000000000000000", xsdInteger},
		{999999999999999900000, "", "999999999999999868928", xsdInteger},
		{1e21, "", "1.0E21", xsdDouble},
		{-1e21, "", "-1.0E21", xsdDouble},
		{1.1, "", "1.1E0", xsdDouble},
		{0.75, "", "7.5E-1", xsdDouble},
		{1e-7, "", "1.0E-7", xsdDouble},
		{-0.005, "", "-5.0E-3", xsdDouble},
		{123456.789, "", "1.23456789E5", xsdDouble},
		{1.7976931348623157e308, "", "1.797693134862316E308", xsdDouble},
		{5e-324, "", "4.940656458412465E-324", xsdDouble},
		{7, xsdDouble, "7.0E0", xsdDouble},
		{7, "urn:ex:dt", "7", "urn:ex:dt"},
		{7.5, "urn:ex:dt", "7.5E0", "urn:ex:dt"},
	}
	for _, tc := range tests {
		lex, dt := numberLexical(tc.f, tc.dt)
		if lex != tc.lex || dt != tc.wt {
			t.Errorf("numberLexical(%v, %q) = %q, %q; want %q, %q", tc.f, tc.dt, lex, dt, tc.lex, tc.wt)
		}
	}
}

func negZero() float64 {
	z := 0.0
	return -z
}
