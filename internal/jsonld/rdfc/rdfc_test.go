package rdfc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/piprate/json-gold/ld"
)

// goldCanonicalize runs json-gold's URDNA2015 over the same quads (deduplicated, as
// json-gold's own N-Quads parser does).
func goldCanonicalize(quads []Quad) (string, error) {
	ds := ld.NewRDFDataset()
	seen := make(map[string]bool)
	node := func(t Term) ld.Node {
		switch t.Kind {
		case IRI:
			return ld.NewIRI(t.Value)
		case BlankNode:
			return ld.NewBlankNode("_:" + t.Value)
		case Literal:
			dt := t.Datatype
			switch {
			case t.Language != "":
				dt = RDFLangString
			case dt == "":
				dt = XSDString
			}
			return ld.NewLiteral(t.Value, dt, t.Language)
		}
		return nil
	}
	for _, q := range quads {
		key := string(AppendNQuad(nil, &q))
		if seen[key] {
			continue
		}
		seen[key] = true
		name := "@default"
		switch q.Graph.Kind {
		case IRI:
			name = q.Graph.Value
		case BlankNode:
			name = "_:" + q.Graph.Value
		}
		ds.Graphs[name] = append(ds.Graphs[name], ld.NewQuad(node(q.Subject), node(q.Predicate), node(q.Object), name))
	}
	opts := ld.NewJsonLdOptions("")
	opts.Algorithm = ld.AlgorithmURDNA2015
	opts.Format = "application/n-quads"
	out, err := ld.NewJsonLdApi().Normalize(ds, opts)
	if err != nil {
		return "", err
	}
	s, _ := out.(string)
	return s, nil
}

func mustParse(t testing.TB, s string) []Quad {
	t.Helper()
	q, err := ParseNQuads([]byte(s))
	if err != nil {
		t.Fatalf("ParseNQuads: %v", err)
	}
	return q
}

// datasets are N-Quads inputs exercising the algorithm: unique hashes, shared hashes
// resolved by Hash N-Degree Quads, cycles, named graphs with blank node names, lists,
// duplicates.
var datasets = map[string]string{
	"no blank nodes": `<http://ex/s> <http://ex/p> "o" .
<http://ex/s> <http://ex/p> <http://ex/o> <http://ex/g> .
`,
	"unique first-degree": `_:a <http://ex/name> "A" .
_:b <http://ex/name> "B" .
_:a <http://ex/knows> _:b .
`,
	"symmetric pair": `_:a <http://ex/p> _:b .
_:b <http://ex/p> _:a .
`,
	"triangle": `_:a <http://ex/next> _:b .
_:b <http://ex/next> _:c .
_:c <http://ex/next> _:a .
`,
	"two triangles": `_:a <http://ex/next> _:b .
_:b <http://ex/next> _:c .
_:c <http://ex/next> _:a .
_:d <http://ex/next> _:e .
_:e <http://ex/next> _:f .
_:f <http://ex/next> _:d .
`,
	"star of look-alikes": `_:h <http://ex/p> _:x1 .
_:h <http://ex/p> _:x2 .
_:h <http://ex/p> _:x3 .
_:h <http://ex/p> _:x4 .
_:x1 <http://ex/q> "v" .
_:x2 <http://ex/q> "v" .
_:x3 <http://ex/q> "v" .
_:x4 <http://ex/q> "w" .
`,
	"graph names": `_:s <http://ex/p> "x" _:g1 .
_:s <http://ex/p> "x" _:g2 .
_:g1 <http://ex/about> _:s .
<http://ex/doc> <http://ex/proof> _:g1 .
<http://ex/doc> <http://ex/proof> _:g2 .
_:t <http://ex/type> <http://ex/Proof> _:g2 .
`,
	"node in own graph": `_:g <http://ex/p> _:g _:g .
_:h <http://ex/p> _:h _:h .
`,
	"literals": `<http://ex/s> <http://ex/p> "plain" .
<http://ex/s> <http://ex/p> "chat"@fr .
<http://ex/s> <http://ex/p> "chat"@fr-CA .
<http://ex/s> <http://ex/p> "5"^^<http://www.w3.org/2001/XMLSchema#integer> .
<http://ex/s> <http://ex/p> "typed string"^^<http://www.w3.org/2001/XMLSchema#string> .
<http://ex/s> <http://ex/p> "q\"uo\\te\n\r\t é 🚀" .
`,
	"duplicates": `_:a <http://ex/p> "x" .
_:a <http://ex/p> "x" .
_:b <http://ex/p> "x" .
<http://ex/s> <http://ex/p> _:a .
<http://ex/s> <http://ex/p> _:b .
`,
	"list": `<http://ex/s> <http://ex/list> _:l1 .
_:l1 <http://www.w3.org/1999/02/22-rdf-syntax-ns#first> "a" .
_:l1 <http://www.w3.org/1999/02/22-rdf-syntax-ns#rest> _:l2 .
_:l2 <http://www.w3.org/1999/02/22-rdf-syntax-ns#first> "a" .
_:l2 <http://www.w3.org/1999/02/22-rdf-syntax-ns#rest> <http://www.w3.org/1999/02/22-rdf-syntax-ns#nil> .
`,
	"binary tree depth 3": binaryTree(3),
	"cube": `_:a <http://ex/e> _:b .
_:b <http://ex/e> _:c .
_:c <http://ex/e> _:d .
_:d <http://ex/e> _:a .
_:e <http://ex/e> _:f .
_:f <http://ex/e> _:g .
_:g <http://ex/e> _:h .
_:h <http://ex/e> _:e .
_:a <http://ex/e> _:e .
_:b <http://ex/e> _:f .
_:c <http://ex/e> _:g .
_:d <http://ex/e> _:h .
`,
}

// binaryTree returns a complete binary tree of anonymous nodes: every inner node looks
// like every other, so Hash N-Degree Quads recurses through permutations of children.
func binaryTree(depth int) string {
	var sb strings.Builder
	n := 0
	var build func(d int) string
	build = func(d int) string {
		id := fmt.Sprintf("_:n%d", n)
		n++
		if d > 0 {
			for range 2 {
				c := build(d - 1)
				fmt.Fprintf(&sb, "%s <http://ex/child> %s .\n", id, c)
			}
		} else {
			fmt.Fprintf(&sb, "%s <http://ex/leaf> \"x\" .\n", id)
		}
		return id
	}
	build(depth)
	return sb.String()
}

// clique returns n blank nodes all linked to each other.
func clique(n int, prefix string) string {
	var sb strings.Builder
	for i := range n {
		for j := range n {
			if i != j {
				fmt.Fprintf(&sb, "_:%s%d <http://ex/knows> _:%s%d .\n", prefix, i, prefix, j)
			}
		}
	}
	return sb.String()
}

func TestCanonicalizeMatchesJSONGold(t *testing.T) {
	for name, in := range datasets {
		t.Run(name, func(t *testing.T) {
			quads := mustParse(t, in)
			got, err := Canonicalize(context.Background(), quads, Options{})
			if err != nil {
				t.Fatalf("Canonicalize: %v", err)
			}
			want, err := goldCanonicalize(quads)
			if err != nil {
				t.Fatalf("json-gold: %v", err)
			}
			if string(got) != want {
				t.Fatalf("differs from json-gold\n--- got\n%s--- json-gold\n%s", got, want)
			}
		})
	}
}

// TestCanonicalizeInvariance checks the defining property of canonicalization: renaming
// blank nodes and reordering quads does not change the output.
func TestCanonicalizeInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, in := range datasets {
		t.Run(name, func(t *testing.T) {
			quads := mustParse(t, in)
			want, err := Canonicalize(context.Background(), quads, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for trial := range 20 {
				perm := rng.Perm(1000)
				rename := func(tm Term) Term {
					if tm.Kind == BlankNode {
						h := 0
						for _, c := range tm.Value {
							h = h*31 + int(c)
						}
						tm.Value = fmt.Sprintf("r%d_%d", perm[(h%1000+1000)%1000], trial)
					}
					return tm
				}
				shuffled := make([]Quad, len(quads))
				for i, j := range rng.Perm(len(quads)) {
					q := quads[j]
					shuffled[i] = Quad{rename(q.Subject), q.Predicate, rename(q.Object), rename(q.Graph)}
				}
				got, err := Canonicalize(context.Background(), shuffled, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Fatalf("trial %d: output changed after renaming and shuffling\n--- got\n%s--- want\n%s", trial, got, want)
				}
			}
		})
	}
}

// TestCanonicalEscaping checks the canonical N-Quads literal escapes of RDFC-1.0 §4.3 /
// RDF 1.2 N-Quads canonical form.
func TestCanonicalEscaping(t *testing.T) {
	q := []Quad{{
		Subject:   NewIRI("urn:ex:s"),
		Predicate: NewIRI("urn:ex:p"),
		Object:    NewLiteral("\u0008\u0009\u000a\u000b\u000c\u000d\u0022\u005c\u007f\u0000\u001f é", "", ""),
	}}
	got, err := Canonicalize(context.Background(), q, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `<urn:ex:s> <urn:ex:p> "\b\t\n\u000B\f\r\"\\\u007F\u0000\u001F é" .` + "\n"
	if string(got) != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	// The escaped form parses back to the same literal.
	back := mustParse(t, string(got))
	if back[0].Object != q[0].Object {
		t.Fatalf("round trip: got %q, want %q", back[0].Object.Value, q[0].Object.Value)
	}
}

func TestCanonicalizeErrors(t *testing.T) {
	s, p, o := NewIRI("urn:ex:s"), NewIRI("urn:ex:p"), NewLiteral("o", "", "")
	ok := Quad{Subject: s, Predicate: p, Object: o}
	tests := []struct {
		name  string
		quads []Quad
		opts  Options
		want  error
	}{
		{"relative subject iri", []Quad{{NewIRI("foo/bar"), p, o, Term{}}}, Options{}, ErrInvalid},
		{"iri with space", []Quad{{NewIRI("urn:ex:a b"), p, o, Term{}}}, Options{}, ErrInvalid},
		{"iri with bad percent escape", []Quad{{NewIRI("urn:ex:a%zz"), p, o, Term{}}}, Options{}, ErrInvalid},
		{"iri with truncated percent escape", []Quad{{s, p, NewIRI("urn:ex:a%4"), Term{}}}, Options{}, ErrInvalid},
		{"iri with >", []Quad{{s, p, NewIRI("urn:ex:a> <urn:ex:b"), Term{}}}, Options{}, ErrInvalid},
		{"blank predicate", []Quad{{s, NewBlankNode("p"), o, Term{}}}, Options{}, ErrInvalid},
		{"literal subject", []Quad{{o, p, o, Term{}}}, Options{}, ErrInvalid},
		{"literal graph", []Quad{{s, p, o, o}}, Options{}, ErrInvalid},
		{"missing object", []Quad{{s, p, Term{}, Term{}}}, Options{}, ErrInvalid},
		{"empty blank label", []Quad{{NewBlankNode(""), p, o, Term{}}}, Options{}, ErrInvalid},
		{"bad language", []Quad{{s, p, NewLiteral("x", "", "en_US"), Term{}}}, Options{}, ErrInvalid},
		{"language with datatype", []Quad{{s, p, NewLiteral("x", XSDString, "en"), Term{}}}, Options{}, ErrInvalid},
		{"langString without language", []Quad{{s, p, NewLiteral("x", RDFLangString, ""), Term{}}}, Options{}, ErrInvalid},
		{"relative datatype", []Quad{{s, p, NewLiteral("x", "integer", ""), Term{}}}, Options{}, ErrInvalid},
		{"invalid utf-8 literal", []Quad{{s, p, NewLiteral("\xff", "", ""), Term{}}}, Options{}, ErrInvalid},
		{"unknown kind", []Quad{{Term{Kind: 9, Value: "x"}, p, o, Term{}}}, Options{}, ErrInvalid},
		{"too many quads", []Quad{ok, {s, p, NewLiteral("2", "", ""), Term{}}}, Options{MaxQuads: 1}, ErrLimit},
		{"too many blank nodes", mustParse(t, "_:a <urn:ex:p> _:b .\n"), Options{MaxBlankNodes: 1}, ErrLimit},
		{"clique poison", mustParse(t, clique(10, "k")), Options{}, ErrLimit},
		{"disjoint cliques poison", mustParse(t, clique(6, "a")+clique(6, "b")+clique(6, "c")), Options{}, ErrLimit},
		{"binary tree poison", mustParse(t, binaryTree(6)), Options{}, ErrLimit},
		{"work budget", mustParse(t, datasets["triangle"]), Options{MaxWork: 2}, ErrLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Canonicalize(context.Background(), tc.quads, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestDuplicatesDoNotCount checks that repeated quads count once against MaxQuads.
func TestDuplicatesDoNotCount(t *testing.T) {
	q := Quad{Subject: NewIRI("urn:ex:s"), Predicate: NewIRI("urn:ex:p"), Object: NewLiteral("o", "", "")}
	out, err := Canonicalize(context.Background(), []Quad{q, q, q}, Options{MaxQuads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(out), "\n") != 1 {
		t.Fatalf("want one line, got %q", out)
	}
}

func TestCanonicalizeContext(t *testing.T) {
	quads := mustParse(t, datasets["triangle"])
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Canonicalize(ctx, quads, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled context: got %v", err)
	}
	// A context canceled while Hash N-Degree Quads runs stops it: a poison graph under a
	// budget far too large to finish, with a context already done, must return the
	// context's error rather than run.
	quads = mustParse(t, binaryTree(7))
	st, err := prepare(context.Background(), quads, Options{MaxWork: 1 << 30, MaxBlankNodes: 1000}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	st.ctx = ctx
	if err := st.label(); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled during labelling: got %v", err)
	}
}

func TestParseNQuadsErrors(t *testing.T) {
	bad := []string{
		`<urn:ex:s> <urn:ex:p> "o"`,               // no dot
		`<urn:ex:s> <urn:ex:p> .`,                 // no object
		`"s" <urn:ex:p> "o" .`,                    // literal subject
		`<urn:ex:s> _:p "o" .`,                    // blank predicate
		`<urn:ex:s> <urn:ex:p> "o" "g" .`,         // literal graph
		`<urn:ex:s> <urn:ex:p> "o .`,              // unterminated literal
		`<urn:ex:s <urn:ex:p> "o" .`,              // space in iri
		`<foo> <urn:ex:p> "o" .`,                  // relative iri
		`<urn:ex:s> <urn:ex:p> "o"@ .`,            // empty language
		`<urn:ex:s> <urn:ex:p> "o"@en_US .`,       // bad language
		`<urn:ex:s> <urn:ex:p> "\q" .`,            // bad escape
		`<urn:ex:s> <urn:ex:p> "\uD800" .`,        // surrogate escape
		`<urn:ex:s> <urn:ex:p> "\u12" .`,          // short escape
		`<urn:ex:\u0020> <urn:ex:p> "o" .`,        // escaped space in iri
		`_: <urn:ex:p> "o" .`,                     // empty label
		`<urn:ex:s> <urn:ex:p> "o" . extra`,       // trailing text
		`<urn:ex:s> <urn:ex:p> "o"^^<xsd:x y> .`,  // bad datatype
		"<urn:ex:s> <urn:ex:p> \"\xff\" .",        // invalid utf-8
		`<urn:ex:s> <urn:ex:p> "o"^^"string" .`,   // datatype not an iri
		`<urn:ex:s> <urn:ex:p> "x"@en <urn:ex:g>`, // no dot after graph
	}
	for _, in := range bad {
		if q, err := ParseNQuads([]byte(in)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseNQuads(%q) = %v, %v; want ErrInvalid", in, q, err)
		}
	}
	good := "# comment\n\n<urn:ex:s> <urn:ex:p> \"a\\u00E9\\U0001F680\" . # trailing\r\n_:b.1 <urn:ex:p> _:c.\n_:x <urn:ex:p> \"x\"@en-GB <urn:ex:g> .\n"
	q, err := ParseNQuads([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 3 || q[0].Object.Value != "aé🚀" || q[1].Subject.Value != "b.1" || q[1].Object.Value != "c" ||
		q[2].Object.Language != "en-GB" || q[2].Graph.Value != "urn:ex:g" {
		t.Fatalf("unexpected parse: %+v", q)
	}
}
