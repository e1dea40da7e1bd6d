package jsonld

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sync"
	"testing"

	"github.com/piprate/json-gold/ld"

	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/internal/testvectors"
	"github.com/civitas-net/civitas/schemas"
)

// errClass names the sentinel an error wraps, for comparing the two paths.
func errClass(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, errFallback):
		return "fallback"
	case errors.Is(err, ErrUnknownContext):
		return "unknown-context"
	case errors.Is(err, ErrInlineContext):
		return "inline-context"
	case errors.Is(err, ErrLimit):
		return "limit"
	case errors.Is(err, ErrUnsupported):
		return "unsupported"
	case errors.Is(err, ErrInvalid):
		return "invalid"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "context"
	}
	return "other: " + err.Error()
}

// diffResult is what comparing the two expansion paths on one document found.
type diffResult struct {
	fellBack bool // the fast path left the document to the general path
	// unsupported: the general path refuses the document because json-gold departs
	// from JSON-LD 1.1 on it (divergence.go); nothing was compared, and class is the
	// fast path's expansion outcome.
	unsupported bool
	class       string // the error class both paths gave ("ok" when they succeeded)
}

// compareFastGeneral runs one document (JSON bytes, decoded afresh for each run, with
// json.Number numbers or, when float is set, float64 ones) through the fast path alone
// and the general path alone and fails t unless they agree:
//
//   - the expanded documents are deeply equal (same maps, arrays, values), or both
//     expansions fail with the same error class;
//   - the canonical N-Quads are byte-identical, or both fail with the same error class
//     (where both expansions were equal, a difference in class can only come from the
//     shared later steps, which meet a document's errors in map order; it is accepted);
//   - neither path modifies its input.
//
// Documents the general path refuses with ErrUnsupported are not compared (see
// diffResult.unsupported); TestFastPathDifferential checks those against an oracle.
func compareFastGeneral(t testing.TB, r *Registry, data []byte, lim Limits, float bool) diffResult {
	t.Helper()
	decode := func() map[string]any {
		var m map[string]any
		var err error
		if float {
			err = json.Unmarshal(data, &m)
		} else {
			err = jsonstrict.Unmarshal(data, &m, jsonstrict.Limits{MaxBytes: 1 << 24, MaxDepth: 1 << 12, MaxKeys: 1 << 20})
		}
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		return m
	}
	lim = lim.withDefaults()
	docF, docG := decode(), decode()
	before, _ := json.Marshal(docF)

	if err := r.Check(docF, lim); err != nil {
		// Check runs before either path (and which of several faults it reports first
		// depends on map order).
		return diffResult{class: errClass(err)}
	}
	expF, errF := r.expandFast(r.fastSnapshot(), docF)
	if errors.Is(errF, errFastPanic) {
		t.Fatalf("the fast path panicked: %v\n--- input\n%s", errF, data)
	}
	if errors.Is(errF, errFallback) {
		return diffResult{fellBack: true}
	}
	expG, errG := r.expand(r.fastSnapshot(), docG)
	if errors.Is(errG, ErrUnsupported) {
		if after, _ := json.Marshal(docF); string(after) != string(before) {
			t.Fatalf("the fast path modified its input:\n%s\n%s", before, after)
		}
		return diffResult{unsupported: true, class: errClass(errF)}
	}
	if errClass(errF) != errClass(errG) {
		t.Fatalf("expansion: fast path %v, general path %v\n--- input\n%s", errF, errG, data)
	}
	if errF == nil && !reflect.DeepEqual(expF, expG) {
		f, _ := json.Marshal(expF)
		g, _ := json.Marshal(expG)
		t.Fatalf("expanded documents differ\n--- input\n%s\n--- fast\n%s\n--- general\n%s", data, f, g)
	}
	if after, _ := json.Marshal(docF); string(after) != string(before) {
		t.Fatalf("the fast path modified its input:\n%s\n%s", before, after)
	}
	if errF != nil {
		return diffResult{class: errClass(errF)}
	}

	ctx := context.Background()
	outF, errF := r.canonicalize(ctx, decode(), lim, pathFast)
	outG, errG := r.canonicalize(ctx, decode(), lim, pathGeneral)
	if errClass(errF) != errClass(errG) {
		if errF == nil || errG == nil {
			t.Fatalf("canonicalize: fast path %v, general path %v\n--- input\n%s", errF, errG, data)
		}
		return diffResult{class: errClass(errF)}
	}
	if string(outF) != string(outG) {
		t.Fatalf("canonical N-Quads differ at %s\n--- input\n%s\n--- fast\n%s--- general\n%s", firstDiff(outF, outG), data, outF, outG)
	}
	return diffResult{class: errClass(errF)}
}

// corpusDocuments returns the documents of testdata/corpus.
func corpusDocuments(t testing.TB) []namedDoc {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	var out []namedDoc
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, namedDoc{"corpus/" + filepath.Base(f), data})
	}
	return out
}

// vectorDocuments returns the JSON-LD documents among the published vectors, or nothing
// when they are missing and optional is set (testvectors stops the test otherwise).
func vectorDocuments(t testing.TB, optional bool) []namedDoc {
	t.Helper()
	if optional {
		if _, ok := testvectors.Find(t); !ok {
			return nil
		}
	}
	var out []namedDoc
	for _, name := range []string{
		"eddsa-rdfc-2022/unsigned.json",
		"eddsa-rdfc-2022/signedDataInt.json",
		"eddsa-rdfc-2022/proofConfigDataInt.json",
		"eddsa-jcs-2022/unsigned.json",
		"eddsa-jcs-2022/signedJCS.json",
		"eddsa-jcs-2022/proofConfigJCS.json",
		"bitstring-status-list/ex0-vc-with-revocation-and-suspension-entries.json",
		"bitstring-status-list/ex2-BitstringStatusListCredential-unsigned.json",
		"bitstring-status-list/ex3-revocable-vc-unsigned.json",
	} {
		out = append(out, namedDoc{"vectors/" + name, testvectors.Read(t, filepath.FromSlash(name))})
	}
	return out
}

// TestFastPathDifferential compares the fast path with the general path on the corpus,
// on Civitas credentials of every type (unsigned, signed, proof configurations, a
// presentation holding them, status lists), and on the published vectors, with both
// number decodings. Every document except the corpus's one with "@reverse" must be taken
// by the fast path.
//
// The presentations holding credentials are not compared with json-gold, which does not
// put the credentials in named graphs (divergence.go) and whose path refuses them: the
// fast path, and Canonicalize, must give what presentationOracle composes from the
// presentation's parts, each expanded by json-gold, and the golden presentations of
// presentation_test.go pin that oracle to hand-written quads.
func TestFastPathDifferential(t *testing.T) {
	r := testRegistry(t)
	docs := append(corpusDocuments(t), civitasDocuments(t)...)
	docs = append(docs, vectorDocuments(t, true)...)
	mayFallBack := map[string]bool{"corpus/vc-lists-reverse-included.json": true}
	presentations := map[string]bool{"corpus/vp-with-vc.json": true, "presentation/unsigned": true, "presentation/signed": true}
	for _, d := range docs {
		for _, float := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/float=%v", d.name, float), func(t *testing.T) {
				res := compareFastGeneral(t, r, d.data, Limits{}, float)
				if res.fellBack && !mayFallBack[d.name] {
					t.Fatalf("the fast path fell back")
				}
				if res.unsupported != presentations[d.name] {
					t.Fatalf("general path refusal %v, want %v", res.unsupported, presentations[d.name])
				}
				if !res.fellBack && res.class != "ok" {
					t.Fatalf("the paths failed: %s", res.class)
				}
				if !res.unsupported {
					return
				}
				decode := parseJSON
				if float {
					decode = parseJSONFloat
				}
				want := presentationOracle(t, r, decode(t, d.data))
				for _, p := range []expansionPath{pathFast, pathAuto} {
					got, err := r.canonicalize(context.Background(), decode(t, d.data), Limits{}, p)
					if err != nil {
						t.Fatalf("path %d: %v", p, err)
					}
					if string(got) != string(want) {
						t.Fatalf("path %d differs from the oracle at %s", p, firstDiff(got, want))
					}
				}
			})
		}
	}
}

// TestFastPathVectors checks the fast path alone against the published canonical forms
// of the eddsa-rdfc-2022 vectors.
func TestFastPathVectors(t *testing.T) {
	dir := testvectors.Dir(t, "eddsa-rdfc-2022")
	r := testRegistry(t)
	for doc, canon := range map[string]string{
		"unsigned.json":           "canonDocDataInt.txt",
		"proofConfigDataInt.json": "proofCanonDataInt.txt",
	} {
		t.Run(doc, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(dir, canon))
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.canonicalize(context.Background(), readJSON(t, filepath.Join(dir, doc)), Limits{}, pathFast)
			if err != nil {
				t.Fatalf("fast path: %v", err)
			}
			if string(got) != string(want) {
				t.Fatalf("differs at %s", firstDiff(got, want))
			}
		})
	}
}

// TestFastPathUnsupportedContexts checks that a context using something outside the fast
// path sends documents naming it to the general path, and that both paths then agree.
func TestFastPathUnsupportedContexts(t *testing.T) {
	contexts := []struct{ name, content string }{
		{"language", `{"@context": {"@language": "en", "title": "https://ex.example/title"}}`},
		{"base", `{"@context": {"@base": "https://ex.example/", "title": "https://ex.example/title"}}`},
		{"reverse", `{"@context": {"title": "https://ex.example/title", "parentOf": {"@reverse": "https://ex.example/child"}}}`},
		{"index container", `{"@context": {"title": {"@id": "https://ex.example/title", "@container": "@index"}}}`},
		{"language container", `{"@context": {"title": {"@id": "https://ex.example/title", "@container": "@language"}}}`},
		{"container array", `{"@context": {"title": {"@id": "https://ex.example/title", "@container": ["@set"]}}}`},
		{"nest", `{"@context": {"title": {"@id": "https://ex.example/title", "@nest": "@nest"}}}`},
		{"propagate", `{"@context": {"@propagate": true, "title": "https://ex.example/title"}}`},
		{"relative vocab", `{"@context": {"@vocab": "ex:", "ex": "https://ex.example/", "title": "https://ex.example/title"}}`},
		{"term with language", `{"@context": {"title": {"@id": "https://ex.example/title", "@language": "de"}}}`},
	}
	for _, c := range contexts {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRegistry()
			const u = "https://ex.example/ctx"
			if err := r.Add(u, []byte(c.content)); err != nil {
				t.Fatal(err)
			}
			data := []byte(`{"@context": ["https://www.w3.org/ns/credentials/v2", "` + u + `"], "type": "VerifiableCredential", "credentialSubject": {"id": "did:example:s", "title": {"a": "x"}}}`)
			res := compareFastGeneral(t, r, data, Limits{}, false)
			if !res.fellBack {
				t.Fatalf("the fast path took the document (%s)", res.class)
			}
			// A document not naming the context stays on the fast path.
			res = compareFastGeneral(t, r, []byte(doc(ctxV2, `"credentialSubject": {"id": "did:example:s", "name": "x"}`)), Limits{}, false)
			if res.fellBack {
				t.Fatalf("the fast path fell back on a document not naming the context")
			}
		})
	}
}

// TestFastPathContextReplaced checks that replacing a context with Add reaches the fast
// path's compiled contexts at once.
func TestFastPathContextReplaced(t *testing.T) {
	r := newTestRegistry()
	const u = "https://civitas.example/ctx/v1"
	m := func() map[string]any {
		return parseJSON(t, []byte(`{"@context": ["https://www.w3.org/ns/credentials/v2", "`+u+`"], "id": "urn:ex:1", "type": "VerifiableCredential", "score": 1}`))
	}
	for _, iri := range []string{"https://civitas.example/vocab#score", "https://civitas.example/vocab#points"} {
		if err := r.Add(u, []byte(`{"@context": {"score": "`+iri+`"}}`)); err != nil {
			t.Fatal(err)
		}
		out, err := r.canonicalize(context.Background(), m(), Limits{}, pathFast)
		if err != nil {
			t.Fatal(err)
		}
		if want := "<" + iri + ">"; !regexp.MustCompile(regexp.QuoteMeta(want)).Match(out) {
			t.Fatalf("output lacks %s:\n%s", want, out)
		}
	}
}

// TestFastPathConcurrent canonicalizes Civitas documents and the corpus from several
// goroutines sharing one Registry whose fast-path cache starts cold, with a state limit
// small enough that the snapshot is replaced again and again while they run, and
// compares every result with the general path's. Run with -race.
func TestFastPathConcurrent(t *testing.T) {
	docs := append(civitasDocuments(t), corpusDocuments(t)...)
	r := newTestRegistry()
	want := make([]string, len(docs))
	shared := make([]map[string]any, len(docs))
	for i, d := range docs {
		out, err := r.canonicalize(context.Background(), parseJSON(t, d.data), Limits{}, pathGeneral)
		if errors.Is(err, ErrUnsupported) {
			// A presentation: checked against its oracle in TestFastPathDifferential.
			out, err = r.canonicalize(context.Background(), parseJSON(t, d.data), Limits{}, pathFast)
		}
		if err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		want[i] = string(out)
		shared[i] = parseJSON(t, d.data) // the goroutines share the maps too
	}
	for _, limit := range []int64{maxFastStates, 5} {
		t.Run(fmt.Sprint("states=", limit), func(t *testing.T) {
			old := fastStateLimit.Swap(limit)
			defer fastStateLimit.Store(old)
			r := newTestRegistry()
			const workers, rounds = 6, 10
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range rounds * len(docs) {
						k := (i*7 + w) % len(docs)
						out, err := r.Canonicalize(context.Background(), shared[k], Limits{})
						if err != nil {
							errs <- fmt.Errorf("%s: %w", docs[k].name, err)
							return
						}
						if string(out) != want[k] {
							errs <- fmt.Errorf("%s: output differs:\n%s", docs[k].name, firstDiff(out, []byte(want[k])))
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
		})
	}
}

// TestFastHelpers compares the fast path's string tests with json-gold's.
func TestFastHelpers(t *testing.T) {
	ignored := regexp.MustCompile("^@[a-zA-Z]+$")
	iriLike := regexp.MustCompile(`(?::[^:])|/`)
	inputs := []string{"", "@", "@@", "@id", "@ID", "@foo", "@foo1", "@a-b", "@Zz", "@vocab", "@none", "@json",
		"@included", "@omitDefault", "@requireAll", "@preserve", "@first", "@embed", "@explicit", "@import",
		"id", "a:b", "a::", "a::b", "::", ":", "a/b", "http://x", "x:", "é:ü", "@é", "@\x7f"}
	for _, k := range []string{"@base", "@container", "@context", "@default", "@direction", "@embed", "@explicit",
		"@json", "@id", "@included", "@index", "@first", "@graph", "@import", "@language", "@list", "@nest",
		"@none", "@omitDefault", "@prefix", "@preserve", "@propagate", "@protected", "@requireAll", "@reverse",
		"@set", "@type", "@value", "@version", "@vocab"} {
		inputs = append(inputs, k, k+"x", k[:len(k)-1])
	}
	for _, s := range inputs {
		if got, want := isKeyword(s), ld.IsKeyword(s); got != want {
			t.Errorf("isKeyword(%q) = %v, json-gold %v", s, got, want)
		}
		if got, want := ignoredKeyword(s), !ld.IsKeyword(s) && ignored.MatchString(s); got != want {
			t.Errorf("ignoredKeyword(%q) = %v, want %v", s, got, want)
		}
		if got, want := iriLikeTerm(s), iriLike.MatchString(s); got != want {
			t.Errorf("iriLikeTerm(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzFastPath mutates documents the fast path takes (Civitas credentials of every type,
// signed and unsigned, proof configurations, a presentation, status lists, the corpus and
// the vectors) and requires both expansion paths to agree on each mutant: the same
// expanded document and canonical N-Quads, or the same error class. The fuzzer's bytes
// choose a seed document and a list of structural mutations (mutate below): values
// replaced by others of every JSON type, members dropped, added, renamed or moved,
// arrays wrapped and unwrapped, subtrees copied into other places (nesting), types
// switched to other known types, "@context" URLs added, and JSON-LD keywords inserted.
func FuzzFastPath(f *testing.F) {
	r := testRegistry(f)
	seeds := append(civitasDocuments(f), corpusDocuments(f)...)
	seeds = append(seeds, vectorDocuments(f, true)...)
	for i := range seeds {
		f.Add(uint8(i), []byte{})
		f.Add(uint8(i), []byte{byte(i), 5, 3, 17, 6, 1, 9, 200, 4})
		f.Add(uint8(i), []byte{1, byte(i * 7), 2, 8, 33, 7, 3, 1, 0, 6, 5, 2})
	}
	f.Fuzz(func(t *testing.T, seed uint8, ops []byte) {
		var doc any
		if err := json.Unmarshal(seeds[int(seed)%len(seeds)].data, &doc); err != nil {
			t.Fatal(err)
		}
		m := &mutator{ops: ops}
		for range 16 {
			// Copying subtrees can double the document; past Check's limits the paths
			// are not reached.
			if m.done() || countValues(doc, DefaultMaxNodes+1) > DefaultMaxNodes {
				break
			}
			doc = m.mutate(doc)
		}
		top, ok := doc.(map[string]any)
		if !ok {
			return
		}
		data, err := json.Marshal(top)
		if err != nil {
			t.Fatal(err)
		}
		lim := Limits{MaxWork: 2000}
		compareFastGeneral(t, r, data, lim, false)
		compareFastGeneral(t, r, data, lim, true)
	})
}

// mutator applies structural mutations to a decoded JSON document, steered by ops.
type mutator struct {
	ops []byte
	pos int
}

func (m *mutator) done() bool { return m.pos >= len(m.ops) }

func (m *mutator) next() int {
	if m.pos >= len(m.ops) {
		return 0
	}
	b := m.ops[m.pos]
	m.pos++
	return int(b)
}

// Palettes of names and values the mutations draw from: terms of the contexts in use,
// keywords, IRIs of every kind, and scalars of every JSON type.
var (
	fuzzKeys = []string{"id", "type", "name", "description", "credentialSubject", "proof", "issuer",
		"validFrom", "validUntil", "credentialSchema", "credentialStatus", "evidence", "holder",
		"verifiableCredential", "jsonSchema", "encodedList", "statusPurpose", "statusListIndex",
		"statusListCredential", "proofPurpose", "proofValue", "cryptosuite", "verificationMethod",
		"created", "challenge", "domain", "community", "role", "membershipLevel", "memberSince",
		"node", "location", "locality", "residencePeriod", "from", "until", "unit", "points",
		"achievement", "achievementType", "criteria", "narrative", "statusMessage", "message",
		"cnf", "kid", "_sd", "undefinedTerm", "https://ex.example/p", "ex:p", "_:p", "alumniOf",
		"@id", "@type", "@value", "@language", "@list", "@graph", "@included", "@context",
		"@direction", "@reverse", "@nest", "@set", "@index", ""}
	fuzzTypes = []any{"VerifiableCredential", "VerifiablePresentation", "DataIntegrityProof",
		"JsonSchema", "BitstringStatusList", "BitstringStatusListEntry", "BitstringStatusListCredential",
		"MembershipCredential", "Member", "ResidencyCredential", "Resident", "ContributionCredential",
		"AchievementCredential", "AchievementSubject", "Achievement", "Criteria",
		"EnvelopedVerifiableCredential", "https://ex.example/T", "Unknown", "_:t", "ex:T"}
	fuzzScalars = []any{"did:example:abc", "urn:uuid:1", "https://ex.example/a", "relative/iri", "_:b0",
		"_:b1", "", "@id", "@json", "assertionMethod", "authentication", "en", "EN-us", "x y",
		"2025-01-01", json.Number("1"), json.Number("1.5"), json.Number("-0"), json.Number("1e21"),
		json.Number("12345678901234567890"), true, false, nil, "ltr", "mailto:a@b.example", "a\u0007b"}
	fuzzContexts = []any{schemas.CredentialsV2URL, schemas.ContextURL, examplesContextURL,
		"https://www.w3.org/2018/credentials/v1", "https://w3id.org/security/v2",
		[]any{schemas.CredentialsV2URL, schemas.ContextURL}, []any{schemas.CredentialsV2URL, examplesContextURL}}
)

func (m *mutator) pick(n int) int { return m.next() % n }

// slots lists the places in doc where a value sits: object members and array items.
type slot struct {
	obj map[string]any
	key string
	arr []any
	idx int
}

func (s slot) get() any {
	if s.obj != nil {
		return s.obj[s.key]
	}
	return s.arr[s.idx]
}

func (s slot) set(v any) {
	if s.obj != nil {
		s.obj[s.key] = v
	} else {
		s.arr[s.idx] = v
	}
}

func collectSlots(v any, out *[]slot, objs *[]map[string]any) {
	switch v := v.(type) {
	case map[string]any:
		*objs = append(*objs, v)
		for _, k := range sortedKeys(v, false) {
			*out = append(*out, slot{obj: v, key: k})
			collectSlots(v[k], out, objs)
		}
	case []any:
		for i := range v {
			*out = append(*out, slot{arr: v, idx: i})
			collectSlots(v[i], out, objs)
		}
	}
}

// countValues counts the JSON values in v, stopping once past max.
func countValues(v any, max int) int {
	n := 1
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			if n > max {
				break
			}
			n += countValues(e, max-n)
		}
	case []any:
		for _, e := range v {
			if n > max {
				break
			}
			n += countValues(e, max-n)
		}
	}
	return n
}

// deepCopy copies a decoded JSON value.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, e := range v {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

// mutate applies one mutation to doc and returns the (possibly new) document.
func (m *mutator) mutate(doc any) any {
	var slots []slot
	var objs []map[string]any
	collectSlots(doc, &slots, &objs)
	op := m.pick(11)
	if len(slots) == 0 || len(objs) == 0 {
		return doc
	}
	s := slots[m.pick(len(slots))]
	o := objs[m.pick(len(objs))]
	switch op {
	case 0: // drop a member or an array item
		if s.obj != nil {
			delete(s.obj, s.key)
		} else {
			s.set(nil)
		}
	case 1: // replace a value by a scalar
		s.set(fuzzScalars[m.pick(len(fuzzScalars))])
	case 2: // wrap in an array
		s.set([]any{s.get()})
	case 3: // unwrap an array, or empty it
		if a, ok := s.get().([]any); ok {
			if len(a) > 0 && m.pick(2) == 0 {
				s.set(a[0])
			} else {
				s.set([]any{})
			}
		}
	case 4: // replace a value by an object made from it
		v := s.get()
		switch m.pick(6) {
		case 0:
			s.set(map[string]any{"id": fuzzScalars[m.pick(len(fuzzScalars))]})
		case 1:
			s.set(map[string]any{"@value": v})
		case 2:
			s.set(map[string]any{"@value": v, "@language": fuzzScalars[m.pick(len(fuzzScalars))]})
		case 3:
			s.set(map[string]any{"@list": []any{v}})
		case 4:
			s.set(map[string]any{"@value": v, "@type": fuzzScalars[m.pick(len(fuzzScalars))]})
		case 5:
			s.set(map[string]any{"type": fuzzTypes[m.pick(len(fuzzTypes))], fuzzKeys[m.pick(len(fuzzKeys))]: v})
		}
	case 5: // add a member with a scalar
		o[fuzzKeys[m.pick(len(fuzzKeys))]] = fuzzScalars[m.pick(len(fuzzScalars))]
	case 6: // switch types
		if m.pick(3) == 0 {
			o["type"] = []any{fuzzTypes[m.pick(len(fuzzTypes))], fuzzTypes[m.pick(len(fuzzTypes))]}
		} else {
			o["type"] = fuzzTypes[m.pick(len(fuzzTypes))]
		}
	case 7: // copy a subtree into another place (nesting)
		v := deepCopy(slots[m.pick(len(slots))].get())
		if m.pick(2) == 0 {
			s.set(v)
		} else {
			o[fuzzKeys[m.pick(len(fuzzKeys))]] = v
		}
	case 8: // add or replace a nested "@context"
		o["@context"] = deepCopy(fuzzContexts[m.pick(len(fuzzContexts))])
	case 9: // rename a member
		if s.obj != nil {
			v := s.obj[s.key]
			delete(s.obj, s.key)
			s.obj[fuzzKeys[m.pick(len(fuzzKeys))]] = v
		}
	case 10: // add a member holding a copy of an object of the document
		o[fuzzKeys[m.pick(len(fuzzKeys))]] = deepCopy(objs[m.pick(len(objs))])
	}
	return doc
}

// TestFastPathCoversRegisteredContexts checks that every registered context, and every
// scoped context inside one, is within what the fast path supports, and that processing
// each registered context on its own takes the fast path (json-gold accepts them all).
func TestFastPathCoversRegisteredContexts(t *testing.T) {
	r := testRegistry(t)
	f := r.fastSnapshot()
	var walk func(name string, lc *localCtx)
	walk = func(name string, lc *localCtx) {
		if lc.bad {
			t.Errorf("%s: compiled as unsupported", name)
		}
		for _, it := range lc.items {
			if it.kind != itemObject {
				continue
			}
			for _, k := range it.obj.termKeys {
				if tc := it.obj.terms[k]; tc.ctx != nil {
					walk(name+" > "+k, tc.ctx)
				}
			}
		}
	}
	if len(f.docs) < 20 {
		t.Fatalf("only %d registered contexts", len(f.docs))
	}
	for u, lc := range f.docs {
		walk(u, lc)
		if _, err := f.apply(f.root, lc, true, false); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

// TestFastPathContextSweep compares the two paths on documents made from every term of
// every registered context, scoped ones included: each term in turn, with values of
// every kind, on a node typed with one of the context's types that carry a scoped
// context (cycling through them), so that every type-scoped and property-scoped context
// is processed somewhere.
func TestFastPathContextSweep(t *testing.T) {
	r := testRegistry(t)
	f := r.fastSnapshot()
	urls := make([]string, 0, len(f.docs))
	for u := range f.docs {
		urls = append(urls, u)
	}
	slices.Sort(urls)
	values := []func(typ string, term string) any{
		func(string, string) any { return "did:example:v" },
		func(string, string) any { return "https://ex.example/v#x" },
		func(string, string) any { return "plain text" },
		func(string, string) any { return json.Number("7") },
		func(string, string) any { return json.Number("2.5") },
		func(string, string) any { return true },
		func(string, string) any { return map[string]any{"@id": "urn:o"} },
		func(typ, term string) any { return map[string]any{"@type": typ, term: "x"} },
		func(string, string) any { return []any{"a", map[string]any{"@value": "b"}} },
		func(string, string) any { return map[string]any{"@list": []any{"a", json.Number("1")}} },
		func(typ, term string) any {
			return map[string]any{"@id": "urn:n", "@type": []any{typ, "urn:t"}, term: map[string]any{"@type": typ}}
		},
	}
	tally := map[string]int{}
	for _, u := range urls {
		terms := map[string]bool{}
		var scopedTypes []string
		var walk func(lc *localCtx)
		walk = func(lc *localCtx) {
			for _, it := range lc.items {
				if it.kind != itemObject {
					continue
				}
				for _, k := range it.obj.termKeys {
					terms[k] = true
					if tc := it.obj.terms[k]; tc.ctx != nil {
						scopedTypes = append(scopedTypes, k)
						walk(tc.ctx)
					}
				}
			}
		}
		walk(f.docs[u])
		if len(scopedTypes) == 0 {
			scopedTypes = []string{"urn:ex:T"}
		}
		names := slices.Sorted(maps.Keys(terms))
		for i, term := range names {
			typ := scopedTypes[i%len(scopedTypes)]
			for j, v := range values {
				if (i+j)%3 != 0 {
					continue // a third of the combinations keeps the test quick
				}
				doc := map[string]any{"@context": u, "@id": "urn:s", "@type": typ, term: v(typ, term)}
				data, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				res := compareFastGeneral(t, r, data, Limits{}, false)
				if res.fellBack {
					tally["fallback"]++
				} else {
					tally[res.class]++
				}
			}
		}
	}
	t.Logf("outcomes: %v", tally)
	if tally["ok"] < 1000 {
		t.Fatalf("too few documents expanded: %v", tally)
	}
}
