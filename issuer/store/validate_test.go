package store

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// testChain returns n valid entries of node "n" from Seq 1.
func testChain(n int) []CheckIn {
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var out []CheckIn
	prev := ""
	for i := range n {
		h := fmt.Sprintf("%02x", i+1)
		out = append(out, CheckIn{NodeID: "n", Seq: int64(i + 1), At: t0, SubjectRef: "r", Decision: DecisionAdmitted,
			PrevHash: prev, Hash: h, Signature: "s", ReceivedAt: t0})
		prev = h
	}
	return out
}

func TestContinueChain(t *testing.T) {
	c := testChain(6)
	other := testChain(6)
	other[2].Hash, other[3].PrevHash = "ff", "ff"
	for _, tc := range []struct {
		name     string
		entries  []CheckIn
		lastSeq  int64
		lastHash string
		stored   []string
		want     int64 // Seq of the first new entry, 0 for none
		n        int
		err      error
	}{
		{"empty upload", nil, 3, "03", nil, 0, 0, nil},
		{"first upload", c, 0, "", nil, 1, 6, nil},
		{"continues", c[3:], 3, "03", nil, 4, 3, nil},
		{"prefix and new", c[1:], 3, "03", []string{"02", "03"}, 4, 3, nil},
		{"all stored", c[:3], 3, "03", []string{"01", "02", "03"}, 0, 0, nil},
		{"inside the stored chain", c[1:2], 5, "05", []string{"02"}, 0, 0, nil},
		{"gap", c[4:], 3, "03", nil, 0, 0, ErrConflict},
		{"wrong previous hash", c[3:], 3, "0a", nil, 0, 0, ErrConflict},
		{"divergent", other[:4], 3, "03", []string{"01", "02", "03"}, 0, 0, ErrConflict},
		{"first upload not at 1", c[1:], 0, "", nil, 0, 0, ErrConflict},
		{"stored hashes missing", c[1:], 3, "03", []string{"02"}, 0, 0, errStoredGap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := ValidateCheckIns("n", tc.entries, time.Hour); err != nil {
				t.Fatalf("ValidateCheckIns: %v", err)
			}
			fresh, err := ContinueChain(tc.entries, tc.lastSeq, tc.lastHash, tc.stored)
			switch {
			case tc.err == errStoredGap:
				if err == nil || errors.Is(err, ErrConflict) || errors.Is(err, ErrInvalid) {
					t.Fatalf("error %v, want an internal error", err)
				}
				return
			case !errors.Is(err, tc.err):
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if len(fresh) != tc.n || (tc.n > 0 && fresh[0].Seq != tc.want) {
				t.Fatalf("%d new entries from %v, want %d from %d", len(fresh), fresh, tc.n, tc.want)
			}
		})
	}
}

var errStoredGap = errors.New("stored gap")

func TestValidateCheckIns(t *testing.T) {
	c := testChain(3)
	for name, tc := range map[string]struct {
		node    string
		entries []CheckIn
		window  time.Duration
		err     error
	}{
		"valid":                 {"n", c, time.Hour, nil},
		"zero window":           {"n", c, 0, nil},
		"refusal without ref":   {"n", []CheckIn{{NodeID: "n", Seq: 1, At: c[0].At, Decision: DecisionRefused, Hash: "01", Signature: "s", ReceivedAt: c[0].At}}, 0, nil},
		"negative window":       {"n", c, -1, ErrInvalid},
		"empty node":            {"", c, time.Hour, ErrInvalid},
		"another node":          {"m", c, time.Hour, ErrInvalid},
		"break":                 {"n", []CheckIn{c[0], c[2]}, time.Hour, ErrConflict},
		"invalid after a break": {"n", []CheckIn{c[0], c[2], {NodeID: "n"}}, time.Hour, ErrInvalid},
	} {
		if err := ValidateCheckIns(tc.node, tc.entries, tc.window); !errors.Is(err, tc.err) {
			t.Errorf("%s: error %v, want %v", name, err, tc.err)
		}
	}
}
