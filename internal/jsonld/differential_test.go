package jsonld

import (
	"context"
	"strings"
	"testing"
)

// TestDifferentialJSONGold checks that Canonicalize gives byte-identical output to
// json-gold's own pipeline (Normalize, URDNA2015, same loader, no cache) over the corpus
// in testdata/corpus and the JSON-LD documents among the published vectors, with numbers
// decoded both as json.Number and as float64, except on documents json-gold is known to
// get wrong (a credentials v2 presentation holding credentials), which are compared with
// presentationOracle.
func TestDifferentialJSONGold(t *testing.T) {
	r := testRegistry(t)
	for _, d := range append(corpusDocuments(t), vectorDocuments(t, true)...) {
		data := d.data
		for _, mode := range []string{"number", "float64"} {
			t.Run(d.name+"/"+mode, func(t *testing.T) {
				doc := parseJSON(t, data)
				goldDoc := parseJSON(t, data)
				if mode == "float64" {
					doc, goldDoc = parseJSONFloat(t, data), parseJSONFloat(t, data)
				}
				got, err := r.Canonicalize(context.Background(), doc, Limits{})
				if err != nil {
					t.Fatalf("Canonicalize: %v", err)
				}
				if r.fastSnapshot().div.check(goldDoc) != nil {
					// A credentials v2 presentation, which json-gold gets wrong: compare
					// with the oracle built from its parts (presentation_test.go).
					if want := presentationOracle(t, r, goldDoc); string(got) != string(want) {
						t.Fatalf("output differs from the presentation oracle at %s", firstDiff(got, want))
					}
					return
				}
				want, err := goldNormalize(r, goldDoc)
				if err != nil {
					t.Fatalf("json-gold Normalize: %v", err)
				}
				if want == "" || strings.Count(want, "\n") < 3 {
					t.Fatalf("json-gold output suspiciously small:\n%s", want)
				}
				if string(got) != want {
					t.Fatalf("output differs from json-gold at %s\n--- got\n%s--- json-gold\n%s", firstDiff(got, []byte(want)), got, want)
				}
			})
		}
	}
}
