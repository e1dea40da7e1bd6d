package jsonld

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/piprate/json-gold/ld"

	"github.com/civitas-net/civitas/internal/jsonld/rdfc"
	"github.com/civitas-net/civitas/internal/jsonstrict"
)

// goldDiffers reports canonical output on which json-gold v0.7.0 is known to differ (see
// TestDeliberateDifferences and rdfc's fuzz test): escaped control characters, rdf:JSON
// literals, integers of 2^63 or more, a blank node twice in one quad, and http(s) IRIs
// (also as datatypes) its URL regexp rejects.
func goldDiffers(quads []rdfc.Quad) bool {
	for _, q := range quads {
		if b := q.Subject; b.Kind == rdfc.BlankNode && ((q.Object.Kind == rdfc.BlankNode && q.Object.Value == b.Value) ||
			(q.Graph.Kind == rdfc.BlankNode && q.Graph.Value == b.Value)) {
			return true
		}
		if q.Object.Kind == rdfc.BlankNode && q.Graph.Kind == rdfc.BlankNode && q.Object.Value == q.Graph.Value {
			return true
		}
		for _, t := range []rdfc.Term{q.Subject, q.Predicate, q.Object, q.Graph} {
			switch t.Kind {
			case rdfc.IRI:
				if (strings.HasPrefix(t.Value, "http://") || strings.HasPrefix(t.Value, "https://")) && !ld.IsURL(t.Value) {
					return true
				}
			case rdfc.Literal:
				if (strings.HasPrefix(t.Datatype, "http://") || strings.HasPrefix(t.Datatype, "https://")) && !ld.IsURL(t.Datatype) {
					return true
				}
				if t.Datatype == rdfJSON {
					return true
				}
				if t.Datatype == xsdInteger {
					if f, err := strconv.ParseFloat(t.Value, 64); err == nil && math.Abs(f) >= 1<<63 {
						return true
					}
				}
				for i := 0; i < len(t.Value); i++ {
					if c := t.Value[i]; (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
						return true
					}
				}
			}
		}
	}
	return false
}

// FuzzCanonicalize feeds JSON documents to Canonicalize. It checks that nothing panics,
// that every error wraps one of the package's sentinels, that the output is a fixpoint
// (its own canonical form), that float64 and json.Number decoding agree, and that
// json-gold's own pipeline gives the same bytes wherever no known difference applies.
func FuzzCanonicalize(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*.json"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(doc(ctxV2AndEx, `"credentialSubject": {"a": [1, 2.5, true, {"@list": ["x"]}], "@included": [{"id": "did:ex:2", "b": "c"}]}`)))
	f.Add([]byte(doc(ctxV2AndEx, `"credentialSubject": {"id": "_:x", "knows": {"id": "_:y", "knows": {"id": "_:x"}}}`)))
	r := testRegistry(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var m map[string]any
		if err := jsonstrict.Unmarshal(data, &m, jsonstrict.Limits{MaxBytes: 1 << 16}); err != nil {
			return
		}
		lim := Limits{MaxWork: 2000}
		out, err := r.Canonicalize(context.Background(), m, lim)
		if err != nil {
			for _, s := range []error{ErrUnknownContext, ErrInlineContext, ErrInvalid, ErrLimit, ErrUnsupported} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		quads, err := rdfc.ParseNQuads(out)
		if err != nil {
			t.Fatalf("output is not N-Quads: %v\n%s", err, out)
		}
		again, err := rdfc.Canonicalize(context.Background(), quads, rdfc.Options{MaxWork: 1 << 20, MaxBlankNodes: 1 << 20, MaxQuads: 1 << 20})
		if err != nil || string(again) != string(out) {
			t.Fatalf("output is not its own canonical form (%v)\n--- out\n%s--- again\n%s", err, out, again)
		}
		mf := parseJSONFloat(t, data)
		if outF, err := r.Canonicalize(context.Background(), mf, lim); err != nil || string(outF) != string(out) {
			t.Fatalf("float64 decoding gives %v\n%s\nwant\n%s", err, outF, out)
		}
		if goldDiffers(quads) || r.fastSnapshot().div.check(parseJSON(t, data)) != nil {
			return // a known difference, or json-gold's departure (divergence.go)
		}
		gold, err := goldNormalizeSafe(r, parseJSON(t, data))
		if err != nil {
			return // json-gold failing where safe mode passed is json-gold's business
		}
		if gold != string(out) {
			t.Fatalf("differs from json-gold\n--- input\n%s\n--- got\n%s--- json-gold\n%s", data, out, gold)
		}
	})
}

// goldNormalizeSafe is goldNormalize with json-gold's panics turned into errors.
func goldNormalizeSafe(r *Registry, doc any) (s string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errors.New("json-gold panicked")
		}
	}()
	return goldNormalize(r, doc)
}
