package jsonld

import (
	"bytes"
	"encoding/json"
	"os"
	"sync"
	"testing"

	"github.com/piprate/json-gold/ld"

	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/schemas"
)

// examplesContextURL is the context the published vectors use; it is registered only in
// tests.
const examplesContextURL = "https://www.w3.org/ns/credentials/examples/v2"

var examplesContext = []byte(`{"@context":{"@vocab":"https://www.w3.org/ns/credentials/examples#"}}`)

var (
	sharedRegOnce sync.Once
	sharedReg     *Registry
)

// testRegistry returns a Registry with the standard contexts, the examples context and
// the Civitas context.
func testRegistry(t testing.TB) *Registry {
	t.Helper()
	sharedRegOnce.Do(func() {
		sharedReg = newTestRegistry()
	})
	return sharedReg
}

// newTestRegistry returns a new Registry holding what testRegistry's holds.
func newTestRegistry() *Registry {
	r := NewRegistry()
	if err := r.Add(examplesContextURL, examplesContext); err != nil {
		panic(err)
	}
	if err := r.Add(schemas.ContextURL, schemas.Context()); err != nil {
		panic(err)
	}
	return r
}

// readJSON reads a JSON object through the strict decoder (numbers as json.Number).
func readJSON(t testing.TB, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseJSON(t, data)
}

func parseJSON(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := jsonstrict.Unmarshal(data, &m, jsonstrict.Limits{}); err != nil {
		t.Fatalf("parse json: %v", err)
	}
	return m
}

// parseJSONFloat decodes with plain float64 numbers.
func parseJSONFloat(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("parse json: %v", err)
	}
	return m
}

// goldNormalize runs json-gold's own full pipeline (expansion, ToRDF, URDNA2015) with the
// registry as its only document loader and no context cache.
func goldNormalize(r *Registry, doc any) (string, error) {
	opts := ld.NewJsonLdOptions("")
	opts.ProcessingMode = ld.JsonLd_1_1
	opts.Algorithm = ld.AlgorithmURDNA2015
	opts.Format = "application/n-quads"
	opts.DocumentLoader = r
	out, err := ld.NewJsonLdProcessor().Normalize(doc, opts)
	if err != nil {
		return "", err
	}
	s, _ := out.(string)
	return s, nil
}

// firstDiff describes where two outputs first differ.
func firstDiff(a, b []byte) string {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y []byte
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if !bytes.Equal(x, y) {
			return "line " + itoa(i+1) + ":\n  got:  " + string(x) + "\n  want: " + string(y)
		}
	}
	return "identical"
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
