package store

import (
	"cmp"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	mrand "math/rand/v2"
	"slices"
	"strings"
)

// The helpers below are pure Go logic every implementation shares; the SQL that
// differs between databases stays in the implementations.

// EncodeStrings encodes a list of strings (a token's nodes, a check-in's reason
// codes) as the JSON array the implementations keep in a text column; nil is "[]".
func EncodeStrings(ss []string) string {
	if ss == nil {
		ss = []string{}
	}
	b, _ := json.Marshal(ss) // a []string always marshals
	return string(b)
}

// DecodeStrings decodes a column written by EncodeStrings; an empty list is nil.
func DecodeStrings(s string) ([]string, error) {
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// CompareCheckIns orders check-ins by node (byte order), then Seq: the order of
// CheckIns and of the entries AddCheckIns reports flagged.
func CompareCheckIns(a, b CheckIn) int {
	return cmp.Or(strings.Compare(a.NodeID, b.NodeID), cmp.Compare(a.Seq, b.Seq))
}

// OverlapRange returns the Seq range [from, to] of a node's stored entries whose
// hashes ContinueChain needs for entries (which passed ValidateCheckIns), given the
// stored chain's last Seq; ok is false when the upload does not overlap the stored
// chain, and then ContinueChain needs none.
func OverlapRange(entries []CheckIn, lastSeq int64) (from, to int64, ok bool) {
	if len(entries) == 0 {
		return 0, 0, false
	}
	from, to = entries[0].Seq, min(lastSeq, entries[len(entries)-1].Seq)
	return from, to, from <= to
}

// SumCounts adds up report rows of the same Type and Node (a query may give one row
// for the issued credentials and another for the status changes), drops the rows
// that count nothing and orders the rest by Type, then Node. The result is not nil.
func SumCounts(rows []Count) []Count {
	type key struct{ typ, node string }
	sums := map[key]*Count{}
	for _, r := range rows {
		k := key{r.Type, r.Node}
		c := sums[k]
		if c == nil {
			c = &Count{Type: r.Type, Node: r.Node}
			sums[k] = c
		}
		c.Issued += r.Issued
		c.Revoked += r.Revoked
		c.Suspended += r.Suspended
	}
	out := make([]Count, 0, len(sums))
	for _, c := range sums {
		if c.Issued+c.Revoked+c.Suspended > 0 {
			out = append(out, *c)
		}
	}
	slices.SortFunc(out, func(a, b Count) int {
		return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.Node, b.Node))
	})
	return out
}

// cryptoSource is a math/rand/v2 source reading crypto/rand, so that status list
// indexes cannot be predicted.
type cryptoSource struct{}

func (cryptoSource) Uint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand.Read crashes the program instead)
	return binary.LittleEndian.Uint64(b[:])
}

// RandomIndex returns an unpredictable index in [0, n) (crypto/rand), for the status
// list slots ReserveSlots hands out. n must be positive.
func RandomIndex(n int) int { return mrand.New(cryptoSource{}).IntN(n) }

// NewListID returns a new random status list ID: 16 lower-case hex digits
// (crypto/rand).
func NewListID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
