package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

// Tamperer changes a store's audit log behind its back. Test wrappers of a store
// implement it so that Run can check that VerifyChain catches the change.
type Tamperer interface {
	// TamperAuditDetails overwrites the details of entry seq, leaving its hashes.
	TamperAuditDetails(ctx context.Context, seq int64, details []byte) error
	// DeleteAudit removes entry seq, leaving the recorded head as it is.
	DeleteAudit(ctx context.Context, seq int64) error
}

// Sibling opens a second store on the same database as the receiver, standing in for
// a second issuer process. The second store needs no Migrate, and OpenSibling
// arranges its Close with t.Cleanup.
type Sibling interface {
	OpenSibling(t *testing.T) store.Store
}

// Run runs the conformance suite. open returns a new store on a new, empty database
// (not yet migrated) and arranges its Close and the database's removal with
// t.Cleanup. Subtests run in parallel, each on its own store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		raw  bool // the test migrates the store itself
		fn   func(t *testing.T, s store.Store)
	}{
		{"Migrate", true, testMigrate},
		{"Settings", false, testSettings},
		{"SigningKeys", false, testSigningKeys},
		{"Tokens", false, testTokens},
		{"Members", false, testMembers},
		{"TimePrecision", false, testTimePrecision},
		{"ReserveSlotsInvalid", false, testReserveInvalid},
		{"ReserveSlots", false, testReserveSlots},
		{"ReserveSlotsListSizes", false, testReserveListSizes},
		{"ReserveSlotsConcurrent", false, testReserveConcurrent},
		{"CommitIssuance", false, testCommitIssuance},
		{"CommitIssuanceConflicts", false, testCommitConflicts},
		{"CommitIssuanceInvalid", false, testCommitInvalid},
		{"Credentials", false, testCredentials},
		{"SetStatus", false, testSetStatus},
		{"SetStatusConcurrent", false, testSetStatusConcurrent},
		{"Approvals", false, testApprovals},
		{"ApprovalsConcurrent", false, testApprovalsConcurrent},
		{"Audit", false, testAudit},
		{"AuditConcurrent", false, testAuditConcurrent},
		{"AuditTamper", false, testAuditTamper},
		{"MonthlyCounts", false, testMonthlyCounts},
		{"Offers", false, testOffers},
		{"OfferIssuance", false, testOfferIssuance},
		{"OffersConcurrent", false, testOffersConcurrent},
		{"Nonces", false, testNonces},
		{"NoncesConcurrent", false, testNoncesConcurrent},
		{"MixedConcurrent", false, testMixedConcurrent},
		{"Nodes", false, testNodes},
		{"CheckInsInvalid", false, testCheckInsInvalid},
		{"CheckInChain", false, testCheckInChain},
		{"CheckInFlags", false, testCheckInFlags},
		{"CheckInReports", false, testCheckInReports},
		{"CheckInsConcurrent", false, testCheckInsConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			if !tc.raw {
				if err := s.Migrate(t.Context()); err != nil {
					t.Fatalf("Migrate: %v", err)
				}
			}
			tc.fn(t, s)
		})
	}
}

// base is the suite's clock origin; it has nanoseconds, which the store truncates.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// at returns base plus d.
func at(d time.Duration) time.Time { return base.Add(d) }

// norm is how the store returns a time: UTC, truncated to the microsecond.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

func entry(action, target string) store.AuditEntry {
	return store.AuditEntry{At: base, Actor: "tok-admin", Action: action, Target: target,
		Details: []byte(`{"target":"` + target + `"}`)}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

type head struct {
	seq  int64
	hash string
}

func headOf(t *testing.T, s store.Store) head {
	t.Helper()
	seq, hash, err := s.AuditHead(t.Context())
	must(t, "AuditHead", err)
	return head{seq, hash}
}

// unchanged fails unless the audit head is still h: a failed write appended nothing.
func unchanged(t *testing.T, s store.Store, h head, what string) {
	t.Helper()
	if got := headOf(t, s); got != h {
		t.Fatalf("%s: audit head moved from %d to %d", what, h.seq, got.seq)
	}
}

// verify checks the audit chain and that it holds want entries.
func verify(t *testing.T, s store.Store, want int64) {
	t.Helper()
	n, _, err := store.VerifyChain(t.Context(), s)
	must(t, "VerifyChain", err)
	if n != want {
		t.Fatalf("VerifyChain: %d entries, want %d", n, want)
	}
}

// sibling returns a second store on s's database when s can open one, else s.
func sibling(t *testing.T, s store.Store) store.Store {
	if sb, ok := s.(Sibling); ok {
		return sb.OpenSibling(t)
	}
	return s
}

// badPeriods are report periods around start that the store refuses.
func badPeriods(start time.Time) map[string][2]time.Time {
	next := start.AddDate(0, 1, 0)
	return map[string][2]time.Time{
		"empty period":    {start, start},
		"reversed period": {next, start},
		"zero start":      {{}, start},
		"zero end":        {start, {}},
		"end in 10000":    {start, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
}

// alternate returns a function giving s for even i and other for odd i, so that
// concurrent callers split between two stores on one database.
func alternate(s, other store.Store) func(i int) store.Store {
	return func(i int) store.Store {
		if i%2 == 1 {
			return other
		}
		return s
	}
}

// parallel runs fn(i) for i in [0, n) at once and returns the errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	done := make(chan struct{})
	start := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	for range n {
		<-done
	}
	return errs
}

func mustAll(t *testing.T, what string, errs []error) {
	t.Helper()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func testMigrate(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, "Ping", s.Ping(ctx))
	pick := alternate(s, sibling(t, s))
	errs := parallel(8, func(i int) error { return pick(i).Migrate(ctx) })
	mustAll(t, "concurrent Migrate", errs)
	must(t, "Migrate again", s.Migrate(ctx))
	if h := headOf(t, s); h != (head{}) {
		t.Fatalf("new store has audit head %+v", h)
	}
	lists, err := s.StatusLists(ctx)
	must(t, "StatusLists", err)
	if len(lists) != 0 {
		t.Fatalf("new store has %d status lists", len(lists))
	}
	offers, err := s.Offers(ctx, "", 0)
	must(t, "Offers", err)
	if len(offers) != 0 {
		t.Fatalf("new store has %d offers", len(offers))
	}
	nodes, err := s.Nodes(ctx)
	must(t, "Nodes", err)
	if len(nodes) != 0 {
		t.Fatalf("new store has %d nodes", len(nodes))
	}
	verify(t, s, 0)
}

func testSettings(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.Setting(ctx, "issuer.did")
	wantErr(t, "Setting of a missing name", err, store.ErrNotFound)
	_, err = s.InitSetting(ctx, "", "x")
	wantErr(t, "InitSetting with an empty name", err, store.ErrInvalid)
	_, err = s.InitSetting(ctx, "issuer.did", "did:web:\x00")
	wantErr(t, "InitSetting with a NUL byte", err, store.ErrInvalid)

	v, err := s.InitSetting(ctx, "issuer.did", "did:web:a.example")
	must(t, "InitSetting", err)
	if v != "did:web:a.example" {
		t.Fatalf("InitSetting = %q", v)
	}
	v, err = s.InitSetting(ctx, "issuer.did", "did:web:b.example")
	must(t, "InitSetting again", err)
	if v != "did:web:a.example" {
		t.Fatalf("second InitSetting = %q, want the first value", v)
	}
	v, err = s.Setting(ctx, "issuer.did")
	must(t, "Setting", err)
	if v != "did:web:a.example" {
		t.Fatalf("Setting = %q", v)
	}

	// Concurrent first starts agree on one value.
	pick := alternate(s, sibling(t, s))
	got := make([]string, 16)
	errs := parallel(len(got), func(i int) error {
		st := pick(i)
		var err error
		got[i], err = st.InitSetting(ctx, "race", fmt.Sprintf("value-%d", i))
		return err
	})
	mustAll(t, "concurrent InitSetting", errs)
	v, err = s.Setting(ctx, "race")
	must(t, "Setting", err)
	for i, g := range got {
		if g != v {
			t.Fatalf("caller %d got %q, stored value is %q", i, g, v)
		}
	}
}

func testSigningKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	keys, err := s.SigningKeys(ctx)
	must(t, "SigningKeys", err)
	if len(keys) != 0 {
		t.Fatalf("new store has %d keys", len(keys))
	}
	k2 := store.SigningKey{ID: "key-2", Algorithm: "P-256", PublicJWK: []byte(`{"kty":"EC"}`), Sealed: []byte{0, 1, 2, 0xff}, CreatedAt: at(time.Hour)}
	k1 := store.SigningKey{ID: "key-1", Algorithm: "Ed25519", PublicJWK: []byte(`{"kty":"OKP"}`), Sealed: []byte{9, 8, 7}, CreatedAt: at(0)}
	must(t, "AddSigningKey", s.AddSigningKey(ctx, k2, entry("key.add", "key-2")))
	must(t, "AddSigningKey", s.AddSigningKey(ctx, k1, entry("key.add", "key-1")))

	h := headOf(t, s)
	dup := k1
	dup.Sealed = []byte{1}
	wantErr(t, "AddSigningKey duplicate", s.AddSigningKey(ctx, dup, entry("key.add", "key-1")), store.ErrConflict)
	unchanged(t, s, h, "duplicate key")

	for name, mut := range map[string]func(k *store.SigningKey){
		"empty ID":         func(k *store.SigningKey) { k.ID = "" },
		"no algorithm":     func(k *store.SigningKey) { k.Algorithm = "" },
		"no public JWK":    func(k *store.SigningKey) { k.PublicJWK = nil },
		"no sealed key":    func(k *store.SigningKey) { k.Sealed = nil },
		"zero created":     func(k *store.SigningKey) { k.CreatedAt = time.Time{} },
		"year 10000":       func(k *store.SigningKey) { k.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"ID not UTF-8":     func(k *store.SigningKey) { k.ID = "key-\xff" },
		"NUL in algorithm": func(k *store.SigningKey) { k.Algorithm = "Ed25519\x00" },
		"bad audit entry":  func(k *store.SigningKey) {},
	} {
		k := store.SigningKey{ID: "key-x", Algorithm: "Ed25519", PublicJWK: []byte("{}"), Sealed: []byte{1}, CreatedAt: base}
		mut(&k)
		e := entry("key.add", "key-x")
		if name == "bad audit entry" {
			e.Action = ""
		}
		wantErr(t, "AddSigningKey "+name, s.AddSigningKey(ctx, k, e), store.ErrInvalid)
		unchanged(t, s, h, name)
	}

	keys, err = s.SigningKeys(ctx)
	must(t, "SigningKeys", err)
	k1.CreatedAt, k2.CreatedAt = norm(k1.CreatedAt), norm(k2.CreatedAt)
	if want := []store.SigningKey{k1, k2}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("SigningKeys = %+v, want %+v (oldest first)", keys, want)
	}
	verify(t, s, 2)
}

func tokenHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func testTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	admin := store.Token{ID: "tok-admin", Hash: tokenHash("a"), Name: "Ada", Role: store.RoleAdmin, CreatedAt: at(0)}
	steward := store.Token{ID: "tok-steward", Hash: tokenHash("s"), Name: "Sam", Role: store.RoleSteward,
		Nodes: []string{"lisbon", "berlin"}, CreatedAt: at(time.Minute)}
	must(t, "CreateToken", s.CreateToken(ctx, steward, entry("token.create", steward.ID)))
	must(t, "CreateToken", s.CreateToken(ctx, admin, entry("token.create", admin.ID)))
	h := headOf(t, s)

	dupID := admin
	dupID.Hash = tokenHash("other")
	wantErr(t, "CreateToken duplicate ID", s.CreateToken(ctx, dupID, entry("token.create", "x")), store.ErrConflict)
	dupHash := admin
	dupHash.ID = "tok-other"
	wantErr(t, "CreateToken duplicate hash", s.CreateToken(ctx, dupHash, entry("token.create", "x")), store.ErrConflict)
	unchanged(t, s, h, "duplicate token")

	for name, mut := range map[string]func(k *store.Token){
		"empty ID":        func(k *store.Token) { k.ID = "" },
		"short hash":      func(k *store.Token) { k.Hash = k.Hash[:31] },
		"no hash":         func(k *store.Token) { k.Hash = nil },
		"unknown role":    func(k *store.Token) { k.Role = "root" },
		"empty node":      func(k *store.Token) { k.Nodes = []string{"lisbon", ""} },
		"zero created":    func(k *store.Token) { k.CreatedAt = time.Time{} },
		"created revoked": func(k *store.Token) { k.RevokedAt = base },
		"ID not UTF-8":    func(k *store.Token) { k.ID = "tok-\xff" },
		"NUL in name":     func(k *store.Token) { k.Name = "Ada\x00" },
		"node not UTF-8":  func(k *store.Token) { k.Nodes = []string{"lis\xc3"} },
	} {
		k := store.Token{ID: "tok-new", Hash: tokenHash("new"), Role: store.RoleBadgeIssuer, CreatedAt: base}
		mut(&k)
		wantErr(t, "CreateToken "+name, s.CreateToken(ctx, k, entry("token.create", "tok-new")), store.ErrInvalid)
		unchanged(t, s, h, name)
	}

	got, err := s.TokenByHash(ctx, tokenHash("s"))
	must(t, "TokenByHash", err)
	steward.CreatedAt = norm(steward.CreatedAt)
	if !reflect.DeepEqual(got, steward) {
		t.Fatalf("TokenByHash = %+v, want %+v", got, steward)
	}
	for _, hash := range [][]byte{tokenHash("unknown"), nil, {1, 2}} {
		_, err = s.TokenByHash(ctx, hash)
		wantErr(t, "TokenByHash of an unknown hash", err, store.ErrNotFound)
	}

	revokedAt := at(time.Hour + 1234*time.Nanosecond)
	wantErr(t, "RevokeToken unknown", s.RevokeToken(ctx, "tok-nobody", revokedAt, entry("token.revoke", "x")), store.ErrNotFound)
	wantErr(t, "RevokeToken zero time", s.RevokeToken(ctx, admin.ID, time.Time{}, entry("token.revoke", "x")), store.ErrInvalid)
	wantErr(t, "RevokeToken empty ID", s.RevokeToken(ctx, "", revokedAt, entry("token.revoke", "x")), store.ErrInvalid)
	unchanged(t, s, h, "failed revocation")
	must(t, "RevokeToken", s.RevokeToken(ctx, admin.ID, revokedAt, entry("token.revoke", admin.ID)))
	h = headOf(t, s)
	wantErr(t, "RevokeToken twice", s.RevokeToken(ctx, admin.ID, revokedAt.Add(time.Hour), entry("token.revoke", admin.ID)), store.ErrConflict)
	unchanged(t, s, h, "second revocation")

	toks, err := s.Tokens(ctx)
	must(t, "Tokens", err)
	admin.CreatedAt, admin.RevokedAt = norm(admin.CreatedAt), norm(revokedAt)
	if want := []store.Token{admin, steward}; !reflect.DeepEqual(toks, want) {
		t.Fatalf("Tokens = %+v, want %+v (oldest first)", toks, want)
	}
	verify(t, s, 3)
}

func testMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []store.Member
	for i, did := range []string{"did:key:z6e", "did:key:z6a", "did:web:c.example", "did:key:z6b", "did:jwk:d"} {
		m := store.Member{DID: did, Name: fmt.Sprintf("member %d", i), CreatedAt: at(time.Duration(i) * time.Second), CreatedBy: "tok-admin"}
		must(t, "CreateMember", s.CreateMember(ctx, m, entry("member.create", did)))
		m.CreatedAt = norm(m.CreatedAt)
		want = append(want, m)
	}
	slices.SortFunc(want, func(a, b store.Member) int { return strings.Compare(a.DID, b.DID) })

	h := headOf(t, s)
	dup := store.Member{DID: "did:key:z6a", Name: "impostor", CreatedAt: base, CreatedBy: "tok-x"}
	wantErr(t, "CreateMember duplicate", s.CreateMember(ctx, dup, entry("member.create", dup.DID)), store.ErrConflict)
	unchanged(t, s, h, "conflicting CreateMember")
	badAudit := entry("member.create", "did:key:new")
	badAudit.Details = []byte("{not json")
	for name, c := range map[string]struct {
		m store.Member
		e store.AuditEntry
	}{
		"empty DID":        {store.Member{CreatedAt: base}, entry("member.create", "")},
		"zero time":        {store.Member{DID: "did:key:new"}, entry("member.create", "did:key:new")},
		"audit no time":    {store.Member{DID: "did:key:new", CreatedAt: base}, store.AuditEntry{Actor: "a", Action: "b"}},
		"audit no actor":   {store.Member{DID: "did:key:new", CreatedAt: base}, store.AuditEntry{At: base, Action: "b"}},
		"audit bad detail": {store.Member{DID: "did:key:new", CreatedAt: base}, badAudit},
		"DID not UTF-8":    {store.Member{DID: "did:key:\xff", CreatedAt: base}, entry("member.create", "x")},
		"NUL in name":      {store.Member{DID: "did:key:new", Name: "a\x00b", CreatedAt: base}, entry("member.create", "x")},
		"audit target":     {store.Member{DID: "did:key:new", CreatedAt: base}, entry("member.create", "did:key:\xc3")},
	} {
		wantErr(t, "CreateMember "+name, s.CreateMember(ctx, c.m, c.e), store.ErrInvalid)
		unchanged(t, s, h, name)
	}
	_, err := s.Member(ctx, "did:key:new")
	wantErr(t, "Member after failed creates", err, store.ErrNotFound)

	got, err := s.Member(ctx, "did:key:z6a")
	must(t, "Member", err)
	if got != want[1] {
		t.Fatalf("Member = %+v, want %+v", got, want[1])
	}
	_, err = s.Member(ctx, "did:key:unknown")
	wantErr(t, "Member unknown", err, store.ErrNotFound)

	all, err := s.Members(ctx, "", 0)
	must(t, "Members", err)
	if !reflect.DeepEqual(all, want) {
		t.Fatalf("Members = %+v, want %+v", all, want)
	}
	var paged []store.Member
	after := ""
	for range 10 {
		page, err := s.Members(ctx, after, 2)
		must(t, "Members page", err)
		if len(page) > 2 {
			t.Fatalf("page of %d members with limit 2", len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].DID
	}
	if !reflect.DeepEqual(paged, want) {
		t.Fatalf("paged Members = %+v, want %+v", paged, want)
	}
	_, err = s.Members(ctx, "", -1)
	wantErr(t, "Members negative limit", err, store.ErrInvalid)
	verify(t, s, 5)
}

func testTimePrecision(t *testing.T, s store.Store) {
	ctx := t.Context()
	lisbon := time.FixedZone("WEST", 3600)
	for i, tm := range []time.Time{
		time.Date(2025, 7, 1, 12, 0, 0, 999_999_999, lisbon),
		time.Date(1969, 12, 31, 23, 59, 59, 999_999_500, time.UTC), // before the epoch: truncation is toward the past
		time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
	} {
		did := fmt.Sprintf("did:key:t%d", i)
		e := entry("member.create", did)
		e.At = tm
		must(t, "CreateMember", s.CreateMember(ctx, store.Member{DID: did, CreatedAt: tm}, e))
		m, err := s.Member(ctx, did)
		must(t, "Member", err)
		if want := tm.UTC().Truncate(time.Microsecond); !m.CreatedAt.Equal(want) || m.CreatedAt.Location() != time.UTC {
			t.Fatalf("time %v came back as %v, want %v in UTC", tm, m.CreatedAt, want)
		}
	}
	// The audit entries' hashes recompute from the stored times.
	verify(t, s, 4)
}

func reserve(t *testing.T, s store.Store, purpose string, n, size int) []store.Slot {
	t.Helper()
	slots, err := s.ReserveSlots(t.Context(), purpose, n, size)
	must(t, "ReserveSlots", err)
	if len(slots) != n {
		t.Fatalf("ReserveSlots(%d) gave %d slots", n, len(slots))
	}
	return slots
}

func testReserveInvalid(t *testing.T, s store.Store) {
	for _, c := range []struct {
		purpose     string
		n, listSize int
	}{
		{"", 1, 64}, {"refresh", 1, 64}, {"Revocation", 1, 64},
		{store.PurposeRevocation, 0, 64}, {store.PurposeRevocation, -1, 64}, {store.PurposeRevocation, store.MaxReserve + 1, 1 << 20},
		{store.PurposeRevocation, 1, 0}, {store.PurposeRevocation, 1, 1}, {store.PurposeRevocation, 1, -64},
		{store.PurposeSuspension, 1, store.MaxListSize + 1},
	} {
		_, err := s.ReserveSlots(t.Context(), c.purpose, c.n, c.listSize)
		wantErr(t, fmt.Sprintf("ReserveSlots(%q, %d, %d)", c.purpose, c.n, c.listSize), err, store.ErrInvalid)
	}
	lists, err := s.StatusLists(t.Context())
	must(t, "StatusLists", err)
	if len(lists) != 0 {
		t.Fatalf("rejected reservations made %d lists", len(lists))
	}
}

// checkLists checks that the slots are distinct, in range, and that every list's Used
// counts exactly the slots handed out from it and stays within half its size.
func checkLists(t *testing.T, s store.Store, slots []store.Slot) map[string][]int {
	t.Helper()
	seen := map[store.Slot]bool{}
	byList := map[string][]int{}
	for _, sl := range slots {
		if seen[sl] {
			t.Fatalf("slot %s/%d handed out twice", sl.ListID, sl.Index)
		}
		seen[sl] = true
		byList[sl.ListID] = append(byList[sl.ListID], sl.Index)
	}
	lists, err := s.StatusLists(t.Context())
	must(t, "StatusLists", err)
	known := map[string]store.StatusList{}
	for _, l := range lists {
		known[l.ID] = l
		if l.Used*2 > l.Size {
			t.Fatalf("list %s is %d/%d used, more than half", l.ID, l.Used, l.Size)
		}
		if l.Used != len(byList[l.ID]) {
			t.Fatalf("list %s counts %d used, %d slots were handed out", l.ID, l.Used, len(byList[l.ID]))
		}
	}
	for _, sl := range slots {
		l, ok := known[sl.ListID]
		switch {
		case !ok:
			t.Fatalf("slot in unknown list %q", sl.ListID)
		case l.Purpose != sl.Purpose:
			t.Fatalf("slot of purpose %s in a %s list", sl.Purpose, l.Purpose)
		case sl.Index < 0 || sl.Index >= l.Size:
			t.Fatalf("index %d out of list of size %d", sl.Index, l.Size)
		}
	}
	return byList
}

func testReserveSlots(t *testing.T, s store.Store) {
	const size = 64
	var rev []store.Slot
	for i := 0; len(rev) < 200; i++ {
		rev = append(rev, reserve(t, s, store.PurposeRevocation, min(1+i%7, 200-len(rev)), size)...)
	}
	sus := reserve(t, s, store.PurposeSuspension, 40, size)
	byList := checkLists(t, s, append(slices.Clone(rev), sus...))

	// Lists roll over exactly at half: 200 slots fill six lists of 32 and start a seventh.
	var order []string
	for _, sl := range rev {
		if len(order) == 0 || order[len(order)-1] != sl.ListID {
			if slices.Contains(order, sl.ListID) {
				t.Fatalf("went back to list %s after leaving it", sl.ListID)
			}
			order = append(order, sl.ListID)
		}
	}
	if len(order) != 7 {
		t.Fatalf("200 slots of lists of %d used %d lists, want 7", size, len(order))
	}
	for _, id := range order[:6] {
		idx := byList[id]
		if len(idx) != size/2 {
			t.Fatalf("list %s left with %d slots, want %d", id, len(idx), size/2)
		}
		// Random, not sequential: 32 of 64 in order 0..31 or all in the lower half
		// happen by chance with probability 1/C(64,32), about 5e-19.
		if slices.IsSorted(idx) || slices.Max(idx) < size/2 {
			t.Fatalf("list %s indexes look sequential: %v", id, idx)
		}
		if len(id) < 16 {
			t.Fatalf("list ID %q is shorter than 16 characters", id)
		}
	}
	for _, sl := range sus {
		if slices.Contains(order, sl.ListID) {
			t.Fatalf("suspension slot in revocation list %s", sl.ListID)
		}
	}
	if n := len(byList[sus[0].ListID]) + len(byList[sus[len(sus)-1].ListID]); n != 40 || sus[0].ListID == sus[39].ListID {
		t.Fatalf("40 suspension slots should fill one list and start another")
	}
	for _, id := range order {
		l, set, err := s.StatusList(t.Context(), id)
		must(t, "StatusList", err)
		if l.ID != id || l.Purpose != store.PurposeRevocation || l.Size != size || l.Version != 0 || len(set) != 0 || l.CreatedAt.IsZero() {
			t.Fatalf("new list %+v with set bits %v", l, set)
		}
	}
}

func testReserveListSizes(t *testing.T, s store.Store) {
	// The current list keeps its own size; listSize applies to new lists.
	a := reserve(t, s, store.PurposeRevocation, 30, 64)
	b := reserve(t, s, store.PurposeRevocation, 4, 128)
	checkLists(t, s, append(slices.Clone(a), b...))
	if b[0].ListID != a[0].ListID || b[1].ListID != a[0].ListID || b[2].ListID == a[0].ListID {
		t.Fatalf("slots 31 and 32 belong in the first list, 33 in a new one: %v", b)
	}
	l, _, err := s.StatusList(t.Context(), b[3].ListID)
	must(t, "StatusList", err)
	if l.Size != 128 || l.Used != 2 {
		t.Fatalf("new list %+v, want size 128 with 2 used", l)
	}
	// The smallest list holds one slot.
	c := reserve(t, s, store.PurposeSuspension, 3, 2)
	checkLists(t, s, slices.Concat(a, b, c))
	if c[0].ListID == c[1].ListID || c[1].ListID == c[2].ListID {
		t.Fatalf("lists of size 2 hold one slot each: %v", c)
	}
	_, _, err = s.StatusList(t.Context(), "0000000000000000")
	wantErr(t, "StatusList unknown", err, store.ErrNotFound)
}

func testReserveConcurrent(t *testing.T, s store.Store) {
	const workers, calls, n, size = 16, 8, 3, 64
	pick := alternate(s, sibling(t, s))
	got := make([][]store.Slot, workers)
	errs := parallel(workers, func(i int) error {
		st := pick(i)
		for c := range calls {
			purpose := store.PurposeRevocation
			if c%4 == 3 {
				purpose = store.PurposeSuspension
			}
			slots, err := st.ReserveSlots(t.Context(), purpose, n, size)
			if err != nil {
				return err
			}
			got[i] = append(got[i], slots...)
		}
		return nil
	})
	mustAll(t, "concurrent ReserveSlots", errs)
	all := slices.Concat(got...)
	if len(all) != workers*calls*n {
		t.Fatalf("%d slots, want %d", len(all), workers*calls*n)
	}
	byList := checkLists(t, s, all)
	// Serialized per purpose, lists fill to exactly half before the next one starts.
	full := 0
	for _, idx := range byList {
		if len(idx) == size/2 {
			full++
		}
	}
	// 288 revocation and 96 suspension slots fill exactly 9 + 3 lists.
	if want := (workers * calls * n) / (size / 2); full != want || len(byList) != want {
		t.Fatalf("%d lists, %d of them full; want %d, all full", len(byList), full, want)
	}
}
