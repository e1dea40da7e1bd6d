package storetest

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

// node returns a new node whose enrollment code is "enroll:"+id.
func node(id string) store.Node {
	return store.Node{ID: id, Name: "Node " + id, EnrollCodeHash: tokenHash("enroll:" + id), CreatedAt: base, CreatedBy: "tok-admin"}
}

// nodeStored is how a node reads back.
func nodeStored(n store.Node) store.Node {
	n.CreatedAt, n.EnrolledAt = norm(n.CreatedAt), norm(n.EnrolledAt)
	return n
}

func nodeState(t *testing.T, s store.Store, id string) store.Node {
	t.Helper()
	n, err := s.Node(t.Context(), id)
	must(t, "Node", err)
	return n
}

func sameNode(t *testing.T, what string, got, want store.Node) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// createNodes registers the nodes, each with one audit entry.
func createNodes(t *testing.T, s store.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		must(t, "CreateNode", s.CreateNode(t.Context(), node(id), entry("node.create", id)))
	}
}

func testNodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	createNodes(t, s, "lisbon", "berlin", "a-node")
	audited := int64(3)
	h := headOf(t, s)

	dup := node("lisbon")
	dup.EnrollCodeHash = tokenHash("another code")
	wantErr(t, "CreateNode duplicate", s.CreateNode(ctx, dup, entry("node.create", "lisbon")), store.ErrConflict)
	unchanged(t, s, h, "duplicate node")

	for name, mut := range map[string]func(n *store.Node){
		"empty ID":            func(n *store.Node) { n.ID = "" },
		"ID not UTF-8":        func(n *store.Node) { n.ID = "x-\xff" },
		"NUL in name":         func(n *store.Node) { n.Name = "x\x00" },
		"no creator":          func(n *store.Node) { n.CreatedBy = "" },
		"no code hash":        func(n *store.Node) { n.EnrollCodeHash = nil },
		"short code hash":     func(n *store.Node) { n.EnrollCodeHash = n.EnrollCodeHash[:31] },
		"long code hash":      func(n *store.Node) { n.EnrollCodeHash = append(n.EnrollCodeHash, 0) },
		"zero created":        func(n *store.Node) { n.CreatedAt = time.Time{} },
		"created in 10000":    func(n *store.Node) { n.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"created with a DID":  func(n *store.Node) { n.DID = "did:key:z6x" },
		"created enrolled":    func(n *store.Node) { n.EnrolledAt = base },
		"bad audit entry":     func(n *store.Node) {},
		"audit not JSON":      func(n *store.Node) {},
		"audit without actor": func(n *store.Node) {},
	} {
		n := node("x-new")
		mut(&n)
		e := entry("node.create", "x-new")
		switch name {
		case "bad audit entry":
			e.Action = ""
		case "audit not JSON":
			e.Details = []byte("{")
		case "audit without actor":
			e.Actor = ""
		}
		wantErr(t, "CreateNode "+name, s.CreateNode(ctx, n, e), store.ErrInvalid)
	}
	unchanged(t, s, h, "invalid nodes")
	_, err := s.Node(ctx, "x-new")
	wantErr(t, "Node after invalid creates", err, store.ErrNotFound)

	want := map[string]store.Node{}
	for _, id := range []string{"lisbon", "berlin", "a-node"} {
		want[id] = nodeStored(node(id))
		sameNode(t, "Node", nodeState(t, s, id), want[id])
	}
	_, err = s.Node(ctx, "unknown")
	wantErr(t, "Node unknown", err, store.ErrNotFound)
	for _, id := range []string{"", "x-\xff", "x\x00"} {
		_, err = s.Node(ctx, id)
		wantErr(t, fmt.Sprintf("Node(%q)", id), err, store.ErrInvalid)
	}
	all, err := s.Nodes(ctx)
	must(t, "Nodes", err)
	if w := []store.Node{want["a-node"], want["berlin"], want["lisbon"]}; !reflect.DeepEqual(all, w) {
		t.Fatalf("Nodes = %+v, want %+v (by ID)", all, w)
	}

	// A new enrollment code replaces the first before enrollment.
	code2 := tokenHash("enroll:lisbon:2")
	must(t, "SetNodeEnrollCode", s.SetNodeEnrollCode(ctx, "lisbon", code2, entry("node.code", "lisbon")))
	audited++
	w := want["lisbon"]
	w.EnrollCodeHash = code2
	want["lisbon"] = w
	sameNode(t, "node with a new code", nodeState(t, s, "lisbon"), w)
	h = headOf(t, s)
	wantErr(t, "SetNodeEnrollCode unknown", s.SetNodeEnrollCode(ctx, "unknown", code2, entry("node.code", "x")), store.ErrNotFound)
	for name, c := range map[string]struct {
		id   string
		hash []byte
		e    store.AuditEntry
	}{
		"empty ID":        {"", tokenHash("c"), entry("node.code", "x")},
		"no hash":         {"berlin", nil, entry("node.code", "x")},
		"short hash":      {"berlin", tokenHash("c")[:16], entry("node.code", "x")},
		"bad audit entry": {"berlin", tokenHash("c"), store.AuditEntry{At: base, Actor: "tok-admin"}},
	} {
		wantErr(t, "SetNodeEnrollCode "+name, s.SetNodeEnrollCode(ctx, c.id, c.hash, c.e), store.ErrInvalid)
	}
	unchanged(t, s, h, "failed SetNodeEnrollCode")
	sameNode(t, "node after failed code changes", nodeState(t, s, "berlin"), want["berlin"])

	// Enrollment: the current code, once.
	enrolledAt := at(time.Hour + time.Nanosecond)
	wantErr(t, "EnrollNode with the replaced code", s.EnrollNode(ctx, "lisbon", "did:key:z6L", tokenHash("enroll:lisbon"), enrolledAt, entry("node.enroll", "lisbon")), store.ErrConflict)
	wantErr(t, "EnrollNode with a wrong code", s.EnrollNode(ctx, "lisbon", "did:key:z6L", tokenHash("guess"), enrolledAt, entry("node.enroll", "lisbon")), store.ErrConflict)
	wantErr(t, "EnrollNode with another node's code", s.EnrollNode(ctx, "lisbon", "did:key:z6L", tokenHash("enroll:berlin"), enrolledAt, entry("node.enroll", "lisbon")), store.ErrConflict)
	wantErr(t, "EnrollNode unknown", s.EnrollNode(ctx, "unknown", "did:key:z6L", code2, enrolledAt, entry("node.enroll", "x")), store.ErrNotFound)
	for name, c := range map[string]struct {
		id, did string
		hash    []byte
		at      time.Time
		e       store.AuditEntry
	}{
		"empty ID":        {"", "did:key:z6L", code2, enrolledAt, entry("node.enroll", "x")},
		"empty DID":       {"lisbon", "", code2, enrolledAt, entry("node.enroll", "x")},
		"DID not UTF-8":   {"lisbon", "did:key:\xff", code2, enrolledAt, entry("node.enroll", "x")},
		"no code hash":    {"lisbon", "did:key:z6L", nil, enrolledAt, entry("node.enroll", "x")},
		"short code hash": {"lisbon", "did:key:z6L", code2[:31], enrolledAt, entry("node.enroll", "x")},
		"zero time":       {"lisbon", "did:key:z6L", code2, time.Time{}, entry("node.enroll", "x")},
		"year 10000":      {"lisbon", "did:key:z6L", code2, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), entry("node.enroll", "x")},
		"bad audit entry": {"lisbon", "did:key:z6L", code2, enrolledAt, store.AuditEntry{Actor: "a", Action: "b"}},
	} {
		wantErr(t, "EnrollNode "+name, s.EnrollNode(ctx, c.id, c.did, c.hash, c.at, c.e), store.ErrInvalid)
	}
	unchanged(t, s, h, "failed enrollments")
	sameNode(t, "node after failed enrollments", nodeState(t, s, "lisbon"), want["lisbon"])

	must(t, "EnrollNode", s.EnrollNode(ctx, "lisbon", "did:key:z6L", code2, enrolledAt, entry("node.enroll", "lisbon")))
	audited++
	w = want["lisbon"]
	w.DID, w.EnrolledAt = "did:key:z6L", norm(enrolledAt)
	want["lisbon"] = w
	sameNode(t, "enrolled node", nodeState(t, s, "lisbon"), w)
	h = headOf(t, s)
	wantErr(t, "EnrollNode twice", s.EnrollNode(ctx, "lisbon", "did:key:z6L", code2, enrolledAt, entry("node.enroll", "lisbon")), store.ErrConflict)
	wantErr(t, "EnrollNode again with another DID", s.EnrollNode(ctx, "lisbon", "did:key:z6L2", code2, at(2*time.Hour), entry("node.enroll", "lisbon")), store.ErrConflict)
	wantErr(t, "SetNodeEnrollCode after enrollment", s.SetNodeEnrollCode(ctx, "lisbon", tokenHash("c3"), entry("node.code", "lisbon")), store.ErrConflict)
	wantErr(t, "EnrollNode with another node's DID", s.EnrollNode(ctx, "berlin", "did:key:z6L", tokenHash("enroll:berlin"), enrolledAt, entry("node.enroll", "berlin")), store.ErrConflict)
	unchanged(t, s, h, "refused enrollments")
	sameNode(t, "enrolled node after refused changes", nodeState(t, s, "lisbon"), want["lisbon"])
	sameNode(t, "node refused another's DID", nodeState(t, s, "berlin"), want["berlin"])

	must(t, "EnrollNode", s.EnrollNode(ctx, "berlin", "did:key:z6B", tokenHash("enroll:berlin"), enrolledAt, entry("node.enroll", "berlin")))
	audited++
	if n := nodeState(t, s, "berlin"); n.DID != "did:key:z6B" || !n.EnrolledAt.Equal(norm(enrolledAt)) {
		t.Fatalf("berlin after enrollment: %+v", n)
	}
	verify(t, s, audited)
}

// chain builds a node's ledger. Hashes derive from history, so two chains of one
// node with different histories diverge from their first entry.
type chain struct {
	node, history string
	entries       []store.CheckIn
}

func newChain(node, history string) *chain { return &chain{node: node, history: history} }

// add appends an entry deciding on subject ref at when.
func (c *chain) add(decision, ref string, when time.Time) *chain {
	seq := int64(len(c.entries) + 1)
	prev := ""
	if seq > 1 {
		prev = c.entries[seq-2].Hash
	}
	var codes []string
	if decision == store.DecisionRefused {
		codes = []string{"revoked", "status.checked"}
	}
	hash := fmt.Sprintf("%x", tokenHash(fmt.Sprint(c.history, "|", c.node, "|", seq, "|", prev, "|", decision, "|", ref, "|", when.UnixNano())))
	c.entries = append(c.entries, store.CheckIn{NodeID: c.node, Seq: seq, At: when, Type: "MembershipCredential", SubjectRef: ref,
		Decision: decision, Codes: codes, Challenge: hash[len(hash)-32:], PrevHash: prev, Hash: hash, Signature: "sig." + hash[:16],
		ReceivedAt: when.Add(time.Hour + time.Nanosecond)})
	return c
}

// admit appends an admission.
func (c *chain) admit(ref string, when time.Time) *chain {
	return c.add(store.DecisionAdmitted, ref, when)
}

// seqs returns the entries from Seq from to Seq to.
func (c *chain) seqs(from, to int64) []store.CheckIn { return slices.Clone(c.entries[from-1 : to]) }

// all returns every entry.
func (c *chain) all() []store.CheckIn { return slices.Clone(c.entries) }

// checkInStored is how an uploaded entry reads back.
func checkInStored(e store.CheckIn, flagged bool) store.CheckIn {
	e.At, e.ReceivedAt = norm(e.At), norm(e.ReceivedAt)
	if len(e.Codes) == 0 {
		e.Codes = nil
	}
	e.Flagged = flagged
	return e
}

func checkInsOf(t *testing.T, s store.Store, f store.CheckInFilter) []store.CheckIn {
	t.Helper()
	if f.Limit == 0 {
		f.Limit = store.MaxPage
	}
	got, err := s.CheckIns(t.Context(), f)
	must(t, "CheckIns", err)
	return got
}

func sameCheckIns(t *testing.T, what string, got, want []store.CheckIn) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// upload calls AddCheckIns with one audit entry and checks how many entries were new.
func upload(t *testing.T, s store.Store, node string, entries []store.CheckIn, window time.Duration, wantNew int) []store.CheckIn {
	t.Helper()
	n, flagged, err := s.AddCheckIns(t.Context(), node, entries, window, entry("checkin.sync", node))
	must(t, "AddCheckIns", err)
	if n != wantNew {
		t.Fatalf("AddCheckIns stored %d new entries, want %d", n, wantNew)
	}
	return flagged
}

func last(t *testing.T, s store.Store, node string) (int64, string) {
	t.Helper()
	seq, hash, err := s.LastCheckIn(t.Context(), node)
	must(t, "LastCheckIn", err)
	return seq, hash
}

func testCheckInsInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	createNodes(t, s, "lisbon", "berlin")
	good := newChain("lisbon", "a").admit("ref-1", at(0)).add(store.DecisionRefused, "", at(time.Minute))
	upload(t, s, "lisbon", good.seqs(1, 1), time.Hour, 1)
	good.admit("ref-2", at(2*time.Minute))
	h := headOf(t, s)
	before := checkInsOf(t, s, store.CheckInFilter{})

	for name, mut := range map[string]func(e *store.CheckIn){
		"empty node ID":        func(e *store.CheckIn) { e.NodeID = "" },
		"other node ID":        func(e *store.CheckIn) { e.NodeID = "berlin" },
		"seq 0":                func(e *store.CheckIn) { e.Seq = 0 },
		"negative seq":         func(e *store.CheckIn) { e.Seq = -1 },
		"zero time":            func(e *store.CheckIn) { e.At = time.Time{} },
		"time in 10000":        func(e *store.CheckIn) { e.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"zero receipt":         func(e *store.CheckIn) { e.ReceivedAt = time.Time{} },
		"unknown decision":     func(e *store.CheckIn) { e.Decision = "maybe" },
		"empty decision":       func(e *store.CheckIn) { e.Decision = "" },
		"decision in capitals": func(e *store.CheckIn) { e.Decision = "Admitted" },
		"admitted without ref": func(e *store.CheckIn) { e.SubjectRef = "" },
		"admitted-flagged no ref": func(e *store.CheckIn) {
			e.Decision, e.SubjectRef = store.DecisionAdmittedFlagged, ""
		},
		"empty hash":              func(e *store.CheckIn) { e.Hash = "" },
		"hash not hex":            func(e *store.CheckIn) { e.Hash = "zz" + e.Hash[2:] },
		"hash in capitals":        func(e *store.CheckIn) { e.Hash = "AB" + e.Hash[2:] },
		"hash of odd length":      func(e *store.CheckIn) { e.Hash = e.Hash[1:] },
		"hash too long":           func(e *store.CheckIn) { e.Hash = e.Hash + e.Hash + e.Hash },
		"empty previous hash":     func(e *store.CheckIn) { e.PrevHash = "" },
		"previous hash not hex":   func(e *store.CheckIn) { e.PrevHash = "0x" + e.PrevHash[2:] },
		"challenge not hex":       func(e *store.CheckIn) { e.Challenge = "Z" + e.Challenge[1:] },
		"empty signature":         func(e *store.CheckIn) { e.Signature = "" },
		"empty reason code":       func(e *store.CheckIn) { e.Codes = []string{"ok", ""} },
		"code not UTF-8":          func(e *store.CheckIn) { e.Codes = []string{"\xff"} },
		"ref with NUL":            func(e *store.CheckIn) { e.SubjectRef = "ref\x00" },
		"type not UTF-8":          func(e *store.CheckIn) { e.Type = "\xc3" },
		"uploaded flagged":        func(e *store.CheckIn) { e.Flagged = true },
		"signature with NUL byte": func(e *store.CheckIn) { e.Signature = "s\x00" },
	} {
		entries := good.seqs(1, 3)
		mut(&entries[2])
		_, _, err := s.AddCheckIns(ctx, "lisbon", entries, time.Hour, entry("checkin.sync", "lisbon"))
		wantErr(t, "AddCheckIns "+name, err, store.ErrInvalid)
	}
	first := good.seqs(1, 1)
	first[0].PrevHash = first[0].Hash
	_, _, err := s.AddCheckIns(ctx, "lisbon", first, time.Hour, entry("checkin.sync", "lisbon"))
	wantErr(t, "AddCheckIns of entry 1 with a previous hash", err, store.ErrInvalid)
	for name, c := range map[string]struct {
		node    string
		entries []store.CheckIn
		window  time.Duration
		e       store.AuditEntry
	}{
		"empty node ID":   {"", good.seqs(2, 3), time.Hour, entry("checkin.sync", "x")},
		"node not UTF-8":  {"lis\xff", good.seqs(2, 3), time.Hour, entry("checkin.sync", "x")},
		"another node":    {"berlin", good.seqs(2, 3), time.Hour, entry("checkin.sync", "x")},
		"negative window": {"lisbon", good.seqs(2, 3), -time.Nanosecond, entry("checkin.sync", "x")},
		"bad audit entry": {"lisbon", good.seqs(2, 3), time.Hour, store.AuditEntry{At: base, Action: "checkin.sync"}},
		"too many":        {"lisbon", make([]store.CheckIn, store.MaxCheckIns+1), time.Hour, entry("checkin.sync", "x")},
	} {
		_, _, err := s.AddCheckIns(ctx, c.node, c.entries, c.window, c.e)
		wantErr(t, "AddCheckIns "+name, err, store.ErrInvalid)
	}
	_, _, err = s.AddCheckIns(ctx, "unknown", []store.CheckIn{newChain("unknown", "a").admit("r", base).entries[0]}, time.Hour, entry("checkin.sync", "unknown"))
	wantErr(t, "AddCheckIns for an unknown node", err, store.ErrNotFound)
	_, _, err = s.AddCheckIns(ctx, "unknown", nil, time.Hour, entry("checkin.sync", "unknown"))
	wantErr(t, "AddCheckIns of nothing for an unknown node", err, store.ErrNotFound)
	unchanged(t, s, h, "invalid uploads")
	sameCheckIns(t, "check-ins after invalid uploads", checkInsOf(t, s, store.CheckInFilter{}), before)

	// Lookups.
	for _, id := range []string{"", "lis\xff"} {
		_, _, err = s.LastCheckIn(ctx, id)
		wantErr(t, fmt.Sprintf("LastCheckIn(%q)", id), err, store.ErrInvalid)
	}
	_, _, err = s.LastCheckIn(ctx, "unknown")
	wantErr(t, "LastCheckIn of an unknown node", err, store.ErrNotFound)
	for name, f := range map[string]store.CheckInFilter{
		"negative limit":     {Limit: -1},
		"since year 10000":   {Since: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"negative after seq": {AfterNode: "lisbon", AfterSeq: -1},
		"node not UTF-8":     {NodeID: "\xff"},
		"after not UTF-8":    {AfterNode: "\xff"},
	} {
		_, err := s.CheckIns(ctx, f)
		wantErr(t, "CheckIns "+name, err, store.ErrInvalid)
	}
	mar := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for name, p := range badPeriods(mar) {
		_, err := s.MonthlyCheckIns(ctx, p[0], p[1])
		wantErr(t, "MonthlyCheckIns "+name, err, store.ErrInvalid)
	}
}

func testCheckInChain(t *testing.T, s store.Store) {
	ctx := t.Context()
	createNodes(t, s, "lisbon", "berlin")
	audited := int64(2)
	if seq, hash := last(t, s, "lisbon"); seq != 0 || hash != "" {
		t.Fatalf("LastCheckIn of a new node = %d %q", seq, hash)
	}
	c := newChain("lisbon", "a")
	for i := range 8 {
		if i%3 == 2 {
			c.add(store.DecisionRefused, fmt.Sprint("ref-", i), at(time.Duration(i)*time.Minute))
		} else {
			c.admit(fmt.Sprint("ref-", i), at(time.Duration(i)*time.Minute))
		}
	}
	other := newChain("lisbon", "b") // a divergent history of the same node
	for i := range 8 {
		other.admit(fmt.Sprint("ref-", i), at(time.Duration(i)*time.Minute))
	}

	// Nothing to upload is nothing to audit.
	upload(t, s, "lisbon", nil, time.Hour, 0)
	if h := headOf(t, s); h.seq != audited {
		t.Fatalf("audit head %d after an empty upload, want %d", h.seq, audited)
	}

	upload(t, s, "lisbon", c.seqs(1, 3), time.Hour, 3)
	audited++
	if seq, hash := last(t, s, "lisbon"); seq != 3 || hash != c.entries[2].Hash {
		t.Fatalf("LastCheckIn = %d %q, want 3 and entry 3's hash", seq, hash)
	}

	// Re-uploads of what is stored are skipped and not audited.
	h := headOf(t, s)
	for _, r := range [][2]int64{{1, 3}, {1, 1}, {2, 3}, {3, 3}} {
		again := c.seqs(r[0], r[1])
		for i := range again {
			again[i].ReceivedAt = at(48 * time.Hour) // a later receipt does not change what is stored
		}
		if flagged := upload(t, s, "lisbon", again, time.Hour, 0); len(flagged) != 0 {
			t.Fatalf("re-upload flagged %+v", flagged)
		}
	}
	unchanged(t, s, h, "re-uploads")

	// Conflicts: nothing stored, nothing audited.
	wrongPrev := c.seqs(4, 5)
	wrongPrev[0].PrevHash = c.entries[1].Hash
	gapInside := append(c.seqs(4, 4), c.seqs(6, 6)...)
	divergentLast := c.seqs(3, 4)
	divergentLast[0].Hash = other.entries[2].Hash
	divergentLast[1].PrevHash = divergentLast[0].Hash
	for name, entries := range map[string][]store.CheckIn{
		"gap after the stored chain":        c.seqs(5, 6),
		"gap inside the upload":             gapInside,
		"wrong previous hash":               wrongPrev,
		"divergent history":                 other.seqs(1, 4),
		"divergent stored entry only":       other.seqs(2, 3),
		"divergent last stored entry":       divergentLast,
		"divergent first entry":             other.seqs(1, 1),
		"new entries after a divergent one": append(c.seqs(1, 2), other.seqs(3, 4)...),
		"entries out of order":              append(c.seqs(5, 5), c.seqs(4, 4)...),
		"the same entry twice":              append(c.seqs(4, 4), c.seqs(4, 4)...),
	} {
		n, flagged, err := s.AddCheckIns(ctx, "lisbon", entries, time.Hour, entry("checkin.sync", "lisbon"))
		wantErr(t, "AddCheckIns "+name, err, store.ErrConflict)
		if n != 0 || flagged != nil {
			t.Fatalf("AddCheckIns %s: stored %d, flagged %v with an error", name, n, flagged)
		}
	}
	unchanged(t, s, h, "conflicting uploads")
	if seq, hash := last(t, s, "lisbon"); seq != 3 || hash != c.entries[2].Hash {
		t.Fatalf("LastCheckIn after conflicts = %d %q, want 3", seq, hash)
	}
	sameCheckIns(t, "ledger after conflicts", checkInsOf(t, s, store.CheckInFilter{NodeID: "lisbon"}), storedAll(c.seqs(1, 3)))

	// A prefix of what is stored plus new entries: only the new ones count.
	upload(t, s, "lisbon", c.seqs(2, 6), time.Hour, 3)
	audited++
	upload(t, s, "lisbon", c.seqs(7, 7), time.Hour, 1)
	audited++
	upload(t, s, "lisbon", c.all(), time.Hour, 1)
	audited++
	if seq, hash := last(t, s, "lisbon"); seq != 8 || hash != c.entries[7].Hash {
		t.Fatalf("LastCheckIn = %d %q, want 8", seq, hash)
	}
	// Another node's chain is its own and starts at 1.
	_, _, err := s.AddCheckIns(ctx, "berlin", c.seqs(4, 5), time.Hour, entry("checkin.sync", "berlin"))
	wantErr(t, "another node's entries", err, store.ErrInvalid)
	b := newChain("berlin", "a").admit("ref-b", at(24*time.Hour)).admit("ref-b2", at(25*time.Hour))
	_, _, err = s.AddCheckIns(ctx, "berlin", b.seqs(2, 2), time.Hour, entry("checkin.sync", "berlin"))
	wantErr(t, "a node's first upload not starting at 1", err, store.ErrConflict)
	upload(t, s, "berlin", b.all(), time.Hour, 2)
	audited++

	// Reading back, paged and filtered.
	want := append(storedAll(b.all()), storedAll(c.all())...)
	sameCheckIns(t, "CheckIns", checkInsOf(t, s, store.CheckInFilter{}), want)
	var paged []store.CheckIn
	var f store.CheckInFilter
	f.Limit = 3
	for range 10 {
		page := checkInsOf(t, s, f)
		if len(page) > 3 {
			t.Fatalf("page of %d with limit 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		f.AfterNode, f.AfterSeq = page[len(page)-1].NodeID, page[len(page)-1].Seq
	}
	sameCheckIns(t, "paged CheckIns", paged, want)
	sameCheckIns(t, "CheckIns of lisbon", checkInsOf(t, s, store.CheckInFilter{NodeID: "lisbon"}), storedAll(c.all()))
	sameCheckIns(t, "CheckIns of lisbon after 5", checkInsOf(t, s, store.CheckInFilter{NodeID: "lisbon", AfterNode: "lisbon", AfterSeq: 5}), storedAll(c.seqs(6, 8)))
	sameCheckIns(t, "CheckIns since minute 6", checkInsOf(t, s, store.CheckInFilter{Since: at(6 * time.Minute)}), append(storedAll(b.all()), storedAll(c.seqs(7, 8))...))
	sameCheckIns(t, "CheckIns of berlin since just after its first", checkInsOf(t, s, store.CheckInFilter{NodeID: "berlin", Since: at(24*time.Hour + time.Microsecond)}), storedAll(b.seqs(2, 2)))
	sameCheckIns(t, "CheckIns of an unknown node", checkInsOf(t, s, store.CheckInFilter{NodeID: "unknown"}), nil)
	sameCheckIns(t, "flagged CheckIns", checkInsOf(t, s, store.CheckInFilter{FlaggedOnly: true}), nil)
	if got, err := s.CheckIns(ctx, store.CheckInFilter{Limit: 2}); err != nil || len(got) != 2 {
		t.Fatalf("CheckIns with limit 2: %d entries, %v", len(got), err)
	}
	verify(t, s, audited)
}

func storedAll(entries []store.CheckIn) []store.CheckIn {
	out := make([]store.CheckIn, len(entries))
	for i, e := range entries {
		out[i] = checkInStored(e, false)
	}
	return out
}

// flags lists entries as node/seq.
func flags(entries []store.CheckIn) []string {
	var out []string
	for _, e := range entries {
		if !e.Flagged {
			out = append(out, fmt.Sprintf("%s/%d unflagged", e.NodeID, e.Seq))
			continue
		}
		out = append(out, fmt.Sprintf("%s/%d", e.NodeID, e.Seq))
	}
	return out
}

func testCheckInFlags(t *testing.T, s store.Store) {
	const window = time.Hour
	createNodes(t, s, "a", "b", "c", "d")
	A, B, C, D := newChain("a", "h"), newChain("b", "h"), newChain("c", "h"), newChain("d", "h")
	step := func(what string, c *chain, n int, want ...string) {
		t.Helper()
		entries := c.all()
		got := upload(t, s, c.node, entries[len(entries)-n:], window, n)
		if !slices.Equal(flags(got), want) {
			t.Fatalf("%s: flagged %v, want %v", what, flags(got), want)
		}
	}

	A.admit("r1", at(0))
	step("a first admission", A, 1)
	B.admit("r1", at(30*time.Minute))
	step("the same credential at b 30 minutes later", B, 1, "a/1", "b/1")
	C.admit("r1", at(2*time.Hour))
	step("at c two hours later", C, 1)
	A.admit("r1", at(40*time.Minute))
	step("at a again, near b's", A, 1, "a/2", "b/1")
	A.admit("r2", at(3*time.Hour)).admit("r2", at(3*time.Hour+time.Minute))
	step("twice at the same node", A, 2)
	B.add(store.DecisionRefused, "r3", at(4*time.Hour))
	step("a refusal", B, 1)
	A.admit("r3", at(4*time.Hour+time.Minute))
	step("an admission near a refusal elsewhere", A, 1)
	C.add(store.DecisionRefused, "r3", at(4*time.Hour+2*time.Minute))
	step("a refusal near admissions elsewhere", C, 1)
	C.add(store.DecisionAdmittedFlagged, "r4", at(5*time.Hour))
	step("an admission under the stale-bundle fallback", C, 1)
	A.admit("r4", at(5*time.Hour+10*time.Minute))
	step("near an admitted-flagged entry", A, 1, "a/6", "c/3")
	// Exactly the window apart is outside; a microsecond less is inside.
	B.admit("r5", at(10*time.Hour))
	step("r5 at b", B, 1)
	D.admit("r5", at(10*time.Hour+window))
	step("exactly the window later", D, 1)
	C.admit("r5", at(10*time.Hour+window-time.Microsecond))
	step("a microsecond inside the window", C, 1, "b/3", "c/4", "d/1")
	// An entry uploaded late, earlier than the one it matches.
	D.admit("r6", at(12*time.Hour))
	step("r6 at d", D, 1)
	B.admit("r6", at(12*time.Hour-59*time.Minute))
	step("an earlier admission uploaded later", B, 1, "b/4", "d/2")
	// Two new entries match one old one: it is listed once.
	C.admit("r7", at(20*time.Hour))
	step("r7 at c", C, 1)
	D.admit("r7", at(20*time.Hour+time.Minute)).add(store.DecisionRefused, "r7", at(20*time.Hour+2*time.Minute)).admit("r7", at(20*time.Hour+3*time.Minute))
	step("two admissions near one elsewhere", D, 3, "c/5", "d/3", "d/5")
	// A zero window flags nothing.
	A.admit("r8", at(30*time.Hour))
	upload(t, s, "a", A.seqs(7, 7), 0, 1)
	B.admit("r8", at(30*time.Hour))
	if got := upload(t, s, "b", B.seqs(5, 5), 0, 1); len(got) != 0 {
		t.Fatalf("zero window flagged %v", flags(got))
	}
	// Refusals without a subject never match.
	A.add(store.DecisionRefused, "", at(40*time.Hour))
	B.add(store.DecisionRefused, "", at(40*time.Hour))
	step("refusals without subject at a", A, 1)
	step("refusals without subject at b", B, 1)

	flagged := map[string]bool{}
	for _, k := range []string{"a/1", "b/1", "a/2", "a/6", "c/3", "b/3", "c/4", "d/1", "b/4", "d/2", "c/5", "d/3", "d/5"} {
		flagged[k] = true
	}
	var want []store.CheckIn
	for _, c := range []*chain{A, B, C, D} {
		for _, e := range c.entries {
			want = append(want, checkInStored(e, flagged[fmt.Sprintf("%s/%d", e.NodeID, e.Seq)]))
		}
	}
	sameCheckIns(t, "ledgers", checkInsOf(t, s, store.CheckInFilter{}), want)
	var wantFlagged []store.CheckIn
	for _, e := range want {
		if e.Flagged {
			wantFlagged = append(wantFlagged, e)
		}
	}
	sameCheckIns(t, "flagged CheckIns", checkInsOf(t, s, store.CheckInFilter{FlaggedOnly: true}), wantFlagged)
	sameCheckIns(t, "flagged CheckIns of c", checkInsOf(t, s, store.CheckInFilter{FlaggedOnly: true, NodeID: "c"}), slices.DeleteFunc(slices.Clone(wantFlagged), func(e store.CheckIn) bool { return e.NodeID != "c" }))

	// Re-uploading a flagged admission flags nothing more.
	h := headOf(t, s)
	if got := upload(t, s, "b", B.seqs(1, 1), window, 0); len(got) != 0 {
		t.Fatalf("re-upload flagged %v", flags(got))
	}
	unchanged(t, s, h, "re-upload")
}

func testCheckInReports(t *testing.T, s store.Store) {
	ctx := t.Context()
	feb := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	mar := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	apr := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	may := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	createNodes(t, s, "lisbon", "berlin", "empty")
	L, B := newChain("lisbon", "h"), newChain("berlin", "h")
	L.admit("m1", feb.Add(10*24*time.Hour)).
		admit("m2", mar). // first instant of March
		add(store.DecisionAdmittedFlagged, "m3", mar.Add(24*time.Hour)).
		add(store.DecisionRefused, "m4", mar.Add(2*24*time.Hour)).
		admit("m5", mar.Add(3*24*time.Hour)).                       // flagged with berlin's m5
		add(store.DecisionRefused, "", apr.Add(-time.Microsecond)). // last instant of March
		admit("m6", apr)
	B.admit("m5", mar.Add(3*24*time.Hour+time.Minute)).
		add(store.DecisionRefused, "m7", mar.Add(5*24*time.Hour)).
		admit("m8", apr.Add(24*time.Hour))
	upload(t, s, "lisbon", L.all(), time.Hour, 7)
	if got := upload(t, s, "berlin", B.all(), time.Hour, 3); !slices.Equal(flags(got), []string{"berlin/1", "lisbon/5"}) {
		t.Fatalf("flagged %v", flags(got))
	}
	for _, c := range []struct {
		from, to time.Time
		want     []store.CheckInCount
	}{
		{feb, mar, []store.CheckInCount{{Node: "lisbon", Admitted: 1}}},
		{mar, apr, []store.CheckInCount{
			{Node: "berlin", Admitted: 1, Refused: 1, Flagged: 1},
			{Node: "lisbon", Admitted: 3, Refused: 2, Flagged: 1},
		}},
		{apr, may, []store.CheckInCount{{Node: "berlin", Admitted: 1}, {Node: "lisbon", Admitted: 1}}},
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), feb, nil},
		{feb, may, []store.CheckInCount{
			{Node: "berlin", Admitted: 2, Refused: 1, Flagged: 1},
			{Node: "lisbon", Admitted: 5, Refused: 2, Flagged: 1},
		}},
		{mar.Add(3 * 24 * time.Hour), mar.Add(3*24*time.Hour + time.Minute), []store.CheckInCount{{Node: "lisbon", Admitted: 1, Flagged: 1}}},
	} {
		got, err := s.MonthlyCheckIns(ctx, c.from, c.to)
		must(t, "MonthlyCheckIns", err)
		if len(got) == 0 {
			got = nil
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Fatalf("MonthlyCheckIns(%s, %s) = %+v, want %+v", c.from.Format(time.DateTime), c.to.Format(time.DateTime), got, c.want)
		}
	}
}

func testCheckInsConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	other := sibling(t, s)
	pick := alternate(s, other)
	audited := int64(0)

	// Concurrent enrollments of one node: one wins.
	createNodes(t, s, "door")
	audited++
	errs := parallel(8, func(i int) error {
		return pick(i).EnrollNode(ctx, "door", fmt.Sprint("did:key:z6door", i), tokenHash("enroll:door"), base, entry("node.enroll", "door"))
	})
	won := outcome(t, "concurrent EnrollNode", errs, store.ErrConflict)
	if len(won) != 1 {
		t.Fatalf("%d enrollments of one node succeeded, want 1", len(won))
	}
	audited++
	if n := nodeState(t, s, "door"); n.DID != fmt.Sprint("did:key:z6door", won[0]) {
		t.Fatalf("node DID %q, want the winner's", n.DID)
	}

	// One node's ledger uploaded by eight callers at once: one stores it, the others
	// find it stored.
	createNodes(t, s, "same")
	audited++
	c := newChain("same", "h")
	for i := range 20 {
		c.admit(fmt.Sprint("ref-", i), at(time.Duration(i)*time.Minute))
	}
	counts := make([]int, 8)
	errs = parallel(len(counts), func(i int) error {
		var err error
		counts[i], _, err = pick(i).AddCheckIns(ctx, "same", c.all(), time.Hour, entry("checkin.sync", "same"))
		return err
	})
	mustAll(t, "concurrent AddCheckIns of one ledger", errs)
	slices.Sort(counts)
	if !slices.Equal(counts, []int{0, 0, 0, 0, 0, 0, 0, 20}) {
		t.Fatalf("concurrent uploads stored %v new entries, want one 20 and the rest 0", counts)
	}
	audited++
	sameCheckIns(t, "ledger after concurrent uploads", checkInsOf(t, s, store.CheckInFilter{NodeID: "same"}), storedAll(c.all()))

	// Divergent histories of one node at once: one is stored, the others conflict.
	createNodes(t, s, "fork")
	audited++
	forks := make([]*chain, 8)
	for i := range forks {
		forks[i] = newChain("fork", fmt.Sprint("history-", i))
		for j := range 5 {
			forks[i].admit(fmt.Sprint("fork-ref-", j), at(time.Duration(j)*time.Minute))
		}
	}
	errs = parallel(len(forks), func(i int) error {
		n, _, err := pick(i).AddCheckIns(ctx, "fork", forks[i].all(), time.Hour, entry("checkin.sync", "fork"))
		if err == nil && n != 5 {
			return fmt.Errorf("stored %d entries, want 5", n)
		}
		return err
	})
	won = outcome(t, "concurrent divergent uploads", errs, store.ErrConflict)
	if len(won) != 1 {
		t.Fatalf("%d divergent histories stored, want 1", len(won))
	}
	audited++
	sameCheckIns(t, "ledger after divergent uploads", checkInsOf(t, s, store.CheckInFilter{NodeID: "fork"}), storedAll(forks[won[0]].all()))

	// Different nodes in parallel, each admitting the same subjects at nearly the same
	// time: all store, and every admission is flagged, whichever upload came first.
	const nodes, rounds = 8, 4
	chains := make([]*chain, nodes)
	for i := range chains {
		id := fmt.Sprint("n", i)
		createNodes(t, s, id)
		audited++
		chains[i] = newChain(id, "h")
	}
	for r := range rounds {
		errs = parallel(nodes, func(i int) error {
			c := chains[i]
			c.admit(fmt.Sprint("shared-", r), at(time.Duration(r)*24*time.Hour+time.Duration(i)*time.Minute)).
				admit(fmt.Sprint("own-", i, "-", r), at(time.Duration(r)*24*time.Hour))
			n, _, err := pick(i).AddCheckIns(ctx, c.node, c.seqs(int64(2*r+1), int64(2*r+2)), time.Hour, entry("checkin.sync", c.node))
			if err == nil && n != 2 {
				return fmt.Errorf("node %s stored %d entries, want 2", c.node, n)
			}
			return err
		})
		mustAll(t, fmt.Sprintf("round %d of parallel uploads", r), errs)
		audited += nodes
	}
	for _, c := range chains {
		seq, hash := last(t, s, c.node)
		if seq != 2*rounds || hash != c.entries[2*rounds-1].Hash {
			t.Fatalf("node %s ends at %d, want %d", c.node, seq, 2*rounds)
		}
		for _, e := range checkInsOf(t, s, store.CheckInFilter{NodeID: c.node}) {
			if shared := e.Seq%2 == 1; e.Flagged != shared {
				t.Fatalf("entry %s/%d (%s) flagged %v, want %v", e.NodeID, e.Seq, e.SubjectRef, e.Flagged, shared)
			}
		}
	}
	verify(t, s, audited)
	verify(t, other, audited)
	if !bytes.Equal(nodeState(t, other, "door").EnrollCodeHash, tokenHash("enroll:door")) {
		t.Fatal("the sibling reads another node")
	}
}
