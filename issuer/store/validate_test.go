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

func TestValidPeriod(t *testing.T) {
	mar := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	apr := mar.AddDate(0, 1, 0)
	for name, c := range map[string]struct {
		from, to time.Time
		want     bool
	}{
		"a month":         {mar, apr, true},
		"a microsecond":   {mar, mar.Add(time.Microsecond), true},
		"empty":           {mar, mar, false},
		"reversed":        {apr, mar, false},
		"zero start":      {time.Time{}, mar, false},
		"zero end":        {mar, time.Time{}, false},
		"end in 10000":    {mar, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		"start before 1":  {time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), mar, false},
		"other time zone": {mar.In(time.FixedZone("X", 3600)), apr, true},
	} {
		if got := ValidPeriod(c.from, c.to); got != c.want {
			t.Errorf("%s: ValidPeriod = %v, want %v", name, got, c.want)
		}
	}
}

func TestCheckInFilterValidate(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for name, c := range map[string]struct {
		f   CheckInFilter
		err error
	}{
		"zero":                {CheckInFilter{}, nil},
		"everything":          {CheckInFilter{NodeID: "n", FlaggedOnly: true, Since: t0, AfterNode: "n", AfterSeq: 3, Limit: 5}, nil},
		"negative limit left": {CheckInFilter{Limit: -1}, nil}, // PageLimit's to refuse
		"node not UTF-8":      {CheckInFilter{NodeID: "\xff"}, ErrInvalid},
		"NUL in after node":   {CheckInFilter{AfterNode: "a\x00"}, ErrInvalid},
		"since in 10000":      {CheckInFilter{Since: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrInvalid},
		"negative after seq":  {CheckInFilter{AfterNode: "n", AfterSeq: -1}, ErrInvalid},
	} {
		if err := c.f.Validate(); !errors.Is(err, c.err) {
			t.Errorf("%s: error %v, want %v", name, err, c.err)
		}
	}
}
