package store

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
)

func TestStrings(t *testing.T) {
	for _, c := range []struct {
		in   []string
		enc  string
		back []string
	}{
		{nil, `[]`, nil},
		{[]string{}, `[]`, nil},
		{[]string{"revoked"}, `["revoked"]`, []string{"revoked"}},
		{[]string{"a", `b"c`, "é"}, `["a","b\"c","é"]`, []string{"a", `b"c`, "é"}},
	} {
		enc := EncodeStrings(c.in)
		if enc != c.enc {
			t.Errorf("EncodeStrings(%q) = %s, want %s", c.in, enc, c.enc)
		}
		back, err := DecodeStrings(enc)
		if err != nil || !reflect.DeepEqual(back, c.back) {
			t.Errorf("DecodeStrings(%s) = %#v, %v; want %#v", enc, back, err, c.back)
		}
	}
	for _, bad := range []string{"", "[", `["a",]`, `{"a":"b"}`, `[1]`, `"a"`} {
		if got, err := DecodeStrings(bad); err == nil {
			t.Errorf("DecodeStrings(%q) = %q, want an error", bad, got)
		}
	}
}

func TestCompareCheckIns(t *testing.T) {
	in := []CheckIn{{NodeID: "b", Seq: 1}, {NodeID: "a", Seq: 10}, {NodeID: "B", Seq: 3}, {NodeID: "a", Seq: 2}, {NodeID: "b", Seq: 2}}
	slices.SortFunc(in, CompareCheckIns)
	var got []string
	for _, c := range in {
		got = append(got, fmt.Sprintf("%s/%d", c.NodeID, c.Seq))
	}
	if want := []string{"B/3", "a/2", "a/10", "b/1", "b/2"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v (byte order of nodes, then Seq)", got, want)
	}
	if CompareCheckIns(CheckIn{NodeID: "a", Seq: 1}, CheckIn{NodeID: "a", Seq: 1}) != 0 {
		t.Fatal("an entry does not compare equal to itself")
	}
}

func TestOverlapRange(t *testing.T) {
	c := testChain(6)
	for _, tc := range []struct {
		name     string
		entries  []CheckIn
		lastSeq  int64
		from, to int64
		ok       bool
	}{
		{"empty upload", nil, 3, 0, 0, false},
		{"first upload", c, 0, 0, 0, false},
		{"continues", c[3:], 3, 0, 0, false},
		{"prefix and new", c[1:], 3, 2, 3, true},
		{"all stored", c[:3], 3, 1, 3, true},
		{"inside the stored chain", c[1:2], 5, 2, 2, true},
		{"gap", c[4:], 3, 0, 0, false},
	} {
		from, to, ok := OverlapRange(tc.entries, tc.lastSeq)
		if ok != tc.ok || (ok && (from != tc.from || to != tc.to)) {
			t.Errorf("%s: OverlapRange = %d, %d, %v; want %d, %d, %v", tc.name, from, to, ok, tc.from, tc.to, tc.ok)
		}
	}
}

func TestSumCounts(t *testing.T) {
	const mem, res = "MembershipCredential", "ResidencyCredential"
	got := SumCounts([]Count{
		{Type: res, Node: "lisbon", Issued: 2},
		{Type: mem, Issued: 3},
		{Type: res, Node: "berlin"}, // counts nothing
		{Type: res, Node: "lisbon", Revoked: 1, Suspended: 1},
		{Type: mem, Revoked: 1},
		{Type: res, Node: "Zurich", Suspended: 1},
	})
	want := []Count{
		{Type: mem, Issued: 3, Revoked: 1},
		{Type: res, Node: "Zurich", Suspended: 1},
		{Type: res, Node: "lisbon", Issued: 2, Revoked: 1, Suspended: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SumCounts = %+v, want %+v", got, want)
	}
	for _, rows := range [][]Count{nil, {{Type: mem}}} {
		if got := SumCounts(rows); got == nil || len(got) != 0 {
			t.Fatalf("SumCounts(%v) = %#v, want an empty, non-nil list", rows, got)
		}
	}
}

func TestRandom(t *testing.T) {
	for range 100 {
		if i := RandomIndex(1); i != 0 {
			t.Fatalf("RandomIndex(1) = %d", i)
		}
		if i := RandomIndex(3); i < 0 || i >= 3 {
			t.Fatalf("RandomIndex(3) = %d", i)
		}
	}
	seen := map[string]bool{}
	for range 100 {
		id := NewListID()
		if len(id) != 16 || !validLedgerHash(id) || seen[id] {
			t.Fatalf("NewListID = %q (seen before: %v), want 16 new lower-case hex digits", id, seen[id])
		}
		seen[id] = true
	}
}
