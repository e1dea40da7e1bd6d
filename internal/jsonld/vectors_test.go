package jsonld

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/internal/testvectors"
)

// TestVectorsEddsaRdfc2022 checks the published eddsa-rdfc-2022 vectors: the canonical
// N-Quads of the unsigned credential and of the proof configuration, byte for byte, and
// their SHA-256 hashes.
func TestVectorsEddsaRdfc2022(t *testing.T) {
	dir := testvectors.Dir(t, "eddsa-rdfc-2022")
	r := testRegistry(t)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	combined := strings.TrimSpace(read("combinedHashDataInt.txt"))
	if len(combined) != 128 {
		t.Fatalf("combinedHashDataInt.txt: want 128 hex digits, got %d", len(combined))
	}
	tests := []struct {
		doc, canon string
		wantHash   string
	}{
		{doc: "unsigned.json", canon: "canonDocDataInt.txt", wantHash: strings.TrimSpace(read("docHashDataInt.txt"))},
		{doc: "proofConfigDataInt.json", canon: "proofCanonDataInt.txt", wantHash: strings.TrimSpace(read("proofHashDataInt.txt"))},
	}
	// The combined hash is proof hash then document hash.
	if tests[1].wantHash != combined[:64] || tests[0].wantHash != combined[64:] {
		t.Fatalf("vector hashes disagree with combinedHashDataInt.txt")
	}
	for _, tc := range tests {
		t.Run(tc.doc, func(t *testing.T) {
			doc := readJSON(t, filepath.Join(dir, tc.doc))
			got, err := r.Canonicalize(context.Background(), doc, Limits{})
			if err != nil {
				t.Fatalf("Canonicalize: %v", err)
			}
			want := read(tc.canon)
			if string(got) != want {
				t.Fatalf("canonical N-Quads differ at %s\n--- got\n%s--- want\n%s", firstDiff(got, []byte(want)), got, want)
			}
			sum := sha256.Sum256(got)
			if h := hex.EncodeToString(sum[:]); h != tc.wantHash {
				t.Fatalf("sha-256 = %s, want %s", h, tc.wantHash)
			}
		})
	}
}
