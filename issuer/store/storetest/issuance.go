package storetest

import (
	"bytes"
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

// jwtPart repeated makes a body of about 1.2 KB, the size of a signed credential.
var body = bytes.Repeat([]byte("eyJhbGciOiJFZERTQSJ9"), 60)

func cred(id, typ, subject, node string, issued time.Time) store.CredentialRecord {
	return store.CredentialRecord{ID: id, Type: typ, Subject: subject, Node: node, Format: "vc+jwt",
		IssuedAt: issued, IssuedBy: "tok-admin", Body: append([]byte(id+"."), body...)}
}

// issuance reserves a revocation and a suspension slot for c (lists of 64) and
// describes its issuance with one audit entry.
func issuance(t *testing.T, s store.Store, c store.CredentialRecord) store.Issuance {
	t.Helper()
	rev := reserve(t, s, store.PurposeRevocation, 1, 64)
	sus := reserve(t, s, store.PurposeSuspension, 1, 64)
	return store.Issuance{Credential: c, Slots: []store.Slot{rev[0], sus[0]}, Audit: []store.AuditEntry{entry("credential.issue", c.ID)}}
}

// issue stores cs in one batch and returns the issuances.
func issue(t *testing.T, s store.Store, cs ...store.CredentialRecord) []store.Issuance {
	t.Helper()
	batch := make([]store.Issuance, len(cs))
	for i, c := range cs {
		batch[i] = issuance(t, s, c)
	}
	must(t, "CommitIssuance", s.CommitIssuance(t.Context(), batch))
	return batch
}

func sortSlots(ss []store.Slot) []store.Slot {
	ss = slices.Clone(ss)
	slices.SortFunc(ss, func(a, b store.Slot) int {
		return cmp.Or(cmp.Compare(a.Purpose, b.Purpose), cmp.Compare(a.ListID, b.ListID), cmp.Compare(a.Index, b.Index))
	})
	return ss
}

// stored is how an issuance reads back.
func stored(is store.Issuance) store.CredentialRecord {
	c := is.Credential
	c.IssuedAt, c.ValidUntil = norm(c.IssuedAt), norm(c.ValidUntil)
	c.Slots = nil
	if len(is.Slots) > 0 {
		c.Slots = sortSlots(is.Slots)
	}
	return c
}

func sameCred(t *testing.T, what string, got, want store.CredentialRecord) {
	t.Helper()
	got.Slots = sortSlots(got.Slots)
	if len(got.Slots) == 0 {
		got.Slots = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testCommitIssuance(t *testing.T, s store.Store) {
	ctx := t.Context()
	h := headOf(t, s)
	must(t, "CommitIssuance of an empty batch", s.CommitIssuance(ctx, nil))
	unchanged(t, s, h, "empty batch")

	a := issuance(t, s, cred("urn:c:a", "MembershipCredential", "did:key:z6a", "", at(time.Nanosecond)))
	b := issuance(t, s, cred("urn:c:b", "ResidencyCredential", "did:key:z6b", "lisbon", at(time.Second)))
	b.Credential.ValidUntil = at(90 * 24 * time.Hour)
	b.Credential.Slots = slices.Clone(b.Slots) // the same slots may be given here too
	b.Audit = append(b.Audit, entry("approval.issue", "urn:c:b"))
	c := store.Issuance{Credential: cred("urn:c:c", "ContributionCredential", "did:key:z6c", "", at(time.Second)),
		Audit: []store.AuditEntry{entry("credential.issue", "urn:c:c")}} // no status slots
	batch := []store.Issuance{a, b, c}
	must(t, "CommitIssuance", s.CommitIssuance(ctx, batch))
	if got := headOf(t, s); got.seq != h.seq+4 {
		t.Fatalf("batch with 4 audit entries moved the head from %d to %d", h.seq, got.seq)
	}
	for _, is := range batch {
		got, err := s.Credential(ctx, is.Credential.ID)
		must(t, "Credential", err)
		sameCred(t, "Credential", got, stored(is))
	}
	_, err := s.Credential(ctx, "urn:c:unknown")
	wantErr(t, "Credential unknown", err, store.ErrNotFound)

	entries, err := s.AuditEntries(ctx, h.seq, 0)
	must(t, "AuditEntries", err)
	var targets []string
	for _, e := range entries {
		targets = append(targets, e.Action+" "+e.Target)
	}
	if want := []string{"credential.issue urn:c:a", "credential.issue urn:c:b", "approval.issue urn:c:b", "credential.issue urn:c:c"}; !slices.Equal(targets, want) {
		t.Fatalf("audit entries %v, want %v", targets, want)
	}
	verify(t, s, 4)
}

func testCommitConflicts(t *testing.T, s store.Store) {
	ctx := t.Context()
	old := issue(t, s, cred("urn:c:old", "MembershipCredential", "did:key:z6o", "", base))[0]
	rejected := store.Approval{ID: "ap-rejected", Type: "ResidencyCredential", Node: "lisbon", Request: []byte(`{}`),
		RequestedBy: "tok-s", Required: 1, CreatedAt: base, ExpiresAt: at(time.Hour)}
	must(t, "CreateApproval", s.CreateApproval(ctx, rejected))
	must(t, "SetApprovalState", s.SetApprovalState(ctx, rejected.ID, store.ApprovalRejected))
	issued := rejected
	issued.ID = "ap-issued"
	must(t, "CreateApproval", s.CreateApproval(ctx, issued))
	done := issuance(t, s, cred("urn:c:done", "ResidencyCredential", "did:key:z6d", "lisbon", base))
	done.ApprovalID = issued.ID
	must(t, "CommitIssuance", s.CommitIssuance(ctx, []store.Issuance{done}))

	// Every reservation of this test goes through issuance, so reserved knows them all.
	reserved := slices.Concat(old.Slots, done.Slots)
	revList := old.Slots[0].ListID
	unreserved := func() int {
		for i := range 64 {
			if !slices.Contains(reserved, store.Slot{ListID: revList, Purpose: store.PurposeRevocation, Index: i}) {
				return i
			}
		}
		t.Fatal("no unreserved index left")
		return 0
	}

	n := 0
	for _, c := range []struct {
		name string
		bad  func(good, bad *store.Issuance)
		want error
	}{
		{"duplicate of a stored credential", func(_, bad *store.Issuance) { bad.Credential.ID = old.Credential.ID }, store.ErrConflict},
		{"duplicate in the batch", func(good, bad *store.Issuance) { bad.Credential.ID = good.Credential.ID }, store.ErrConflict},
		{"slot not reserved", func(_, bad *store.Issuance) { bad.Slots[0].ListID, bad.Slots[0].Index = revList, unreserved() }, store.ErrConflict},
		{"slot in an unknown list", func(_, bad *store.Issuance) { bad.Slots[0].ListID = "ffffffffffffffff" }, store.ErrConflict},
		{"slot used by a stored credential", func(_, bad *store.Issuance) { bad.Slots[0] = old.Slots[0] }, store.ErrConflict},
		{"slot used twice in the batch", func(good, bad *store.Issuance) { bad.Slots[1] = good.Slots[1] }, store.ErrConflict},
		{"slot of another purpose", func(_, bad *store.Issuance) {
			bad.Slots = []store.Slot{{ListID: bad.Slots[0].ListID, Index: bad.Slots[0].Index, Purpose: store.PurposeSuspension}}
		}, store.ErrConflict},
		{"approval rejected", func(_, bad *store.Issuance) { bad.ApprovalID = rejected.ID }, store.ErrConflict},
		{"approval already issued", func(_, bad *store.Issuance) { bad.ApprovalID = issued.ID }, store.ErrConflict},
		{"approval unknown", func(_, bad *store.Issuance) { bad.ApprovalID = "ap-unknown" }, store.ErrNotFound},
	} {
		n++
		good := issuance(t, s, cred(fmt.Sprintf("urn:c:good-%d", n), "MembershipCredential", "did:key:z6g", "", base))
		bad := issuance(t, s, cred(fmt.Sprintf("urn:c:bad-%d", n), "MembershipCredential", "did:key:z6b", "", base))
		reserved = slices.Concat(reserved, good.Slots, bad.Slots)
		c.bad(&good, &bad)
		h := headOf(t, s)
		for _, batch := range [][]store.Issuance{{good, bad}, {bad, good}} {
			wantErr(t, c.name, s.CommitIssuance(ctx, batch), c.want)
			unchanged(t, s, h, c.name)
			for _, is := range batch {
				if is.Credential.ID == old.Credential.ID {
					continue
				}
				_, err := s.Credential(ctx, is.Credential.ID)
				wantErr(t, c.name+": credential of the failed batch", err, store.ErrNotFound)
			}
		}
		// The good half's slots were left unused: it can be stored on its own.
		must(t, c.name+": the good half alone", s.CommitIssuance(ctx, []store.Issuance{good}))
	}
	a, err := s.Approval(ctx, issued.ID)
	must(t, "Approval", err)
	if a.State != store.ApprovalIssued || a.CredentialID != done.Credential.ID {
		t.Fatalf("approval %+v, want issued with %s", a, done.Credential.ID)
	}
	a, err = s.Approval(ctx, rejected.ID)
	must(t, "Approval", err)
	if a.State != store.ApprovalRejected || a.CredentialID != "" {
		t.Fatalf("approval %+v, want rejected without credential", a)
	}
	verify(t, s, 2+int64(n))
}

func testCommitInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	h := headOf(t, s)
	for name, mut := range map[string]func(is *store.Issuance){
		"empty ID":             func(is *store.Issuance) { is.Credential.ID = "" },
		"no type":              func(is *store.Issuance) { is.Credential.Type = "" },
		"no subject":           func(is *store.Issuance) { is.Credential.Subject = "" },
		"no format":            func(is *store.Issuance) { is.Credential.Format = "" },
		"no issuer token":      func(is *store.Issuance) { is.Credential.IssuedBy = "" },
		"no body":              func(is *store.Issuance) { is.Credential.Body = nil },
		"zero issue time":      func(is *store.Issuance) { is.Credential.IssuedAt = time.Time{} },
		"end of validity":      func(is *store.Issuance) { is.Credential.ValidUntil = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"issued revoked":       func(is *store.Issuance) { is.Credential.Revoked = true },
		"issued with a reason": func(is *store.Issuance) { is.Credential.SuspendedReason = "x" },
		"two revocation slots": func(is *store.Issuance) { is.Slots[1] = is.Slots[0]; is.Slots[1].Index++ },
		"negative index":       func(is *store.Issuance) { is.Slots[0].Index = -1 },
		"empty list ID":        func(is *store.Issuance) { is.Slots[0].ListID = "" },
		"unknown purpose":      func(is *store.Issuance) { is.Slots[0].Purpose = "refresh" },
		"slots disagree":       func(is *store.Issuance) { is.Credential.Slots = is.Slots[:1] },
		"only Credential.Slots": func(is *store.Issuance) {
			is.Credential.Slots, is.Slots = is.Slots, nil
		},
		"audit entry without action": func(is *store.Issuance) { is.Audit[0].Action = "" },
	} {
		good := issuance(t, s, cred("urn:c:good", "MembershipCredential", "did:key:z6g", "", base))
		bad := issuance(t, s, cred("urn:c:bad", "MembershipCredential", "did:key:z6b", "", base))
		mut(&bad)
		wantErr(t, name, s.CommitIssuance(ctx, []store.Issuance{good, bad}), store.ErrInvalid)
		unchanged(t, s, h, name)
		_, err := s.Credential(ctx, good.Credential.ID)
		wantErr(t, name+": the valid half", err, store.ErrNotFound)
	}
}

func testCredentials(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0, t1, t2, t3 := at(0), at(time.Minute), at(2*time.Minute), at(3*time.Minute)
	second := issue(t, s,
		cred("urn:c:06", "MembershipCredential", "did:key:c", "", t3),
		cred("urn:c:03", "ResidencyCredential", "did:key:b", "berlin", t1),
		cred("urn:c:05", "ResidencyCredential", "did:key:c", "lisbon", t2),
	)
	first := issue(t, s,
		cred("urn:c:02", "ResidencyCredential", "did:key:a", "lisbon", t0),
		cred("urn:c:04", "ContributionCredential", "did:key:b", "", t2),
		cred("urn:c:01", "MembershipCredential", "did:key:a", "", t0),
	)
	byID := map[string]store.CredentialRecord{}
	for _, is := range slices.Concat(first, second) {
		byID[is.Credential.ID] = stored(is)
	}
	check := func(what string, got []store.CredentialRecord, ids ...string) {
		t.Helper()
		if len(got) != len(ids) {
			t.Fatalf("%s: %d credentials, want %v", what, len(got), ids)
		}
		for i, id := range ids {
			sameCred(t, what, got[i], byID[id])
		}
	}
	for _, c := range []struct {
		f   store.CredentialFilter
		ids []string
	}{
		{store.CredentialFilter{}, []string{"urn:c:01", "urn:c:02", "urn:c:03", "urn:c:04", "urn:c:05", "urn:c:06"}},
		{store.CredentialFilter{Type: "ResidencyCredential"}, []string{"urn:c:02", "urn:c:03", "urn:c:05"}},
		{store.CredentialFilter{Subject: "did:key:b"}, []string{"urn:c:03", "urn:c:04"}},
		{store.CredentialFilter{Node: "lisbon"}, []string{"urn:c:02", "urn:c:05"}},
		{store.CredentialFilter{Type: "ResidencyCredential", Subject: "did:key:c", Node: "lisbon"}, []string{"urn:c:05"}},
		{store.CredentialFilter{Type: "UnknownCredential"}, nil},
		{store.CredentialFilter{After: "urn:c:02"}, []string{"urn:c:03", "urn:c:04", "urn:c:05", "urn:c:06"}},
		{store.CredentialFilter{After: "urn:c:04", Limit: 1}, []string{"urn:c:05"}},
		{store.CredentialFilter{Type: "ResidencyCredential", After: "urn:c:01"}, []string{"urn:c:02", "urn:c:03", "urn:c:05"}},
		{store.CredentialFilter{After: "urn:c:06"}, nil},
	} {
		got, err := s.Credentials(ctx, c.f)
		must(t, "Credentials", err)
		check(fmt.Sprintf("Credentials(%+v)", c.f), got, c.ids...)
	}
	var paged []string
	f := store.CredentialFilter{Limit: 2}
	for range 10 {
		page, err := s.Credentials(ctx, f)
		must(t, "Credentials page", err)
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			paged = append(paged, c.ID)
		}
		f.After = page[len(page)-1].ID
	}
	if want := []string{"urn:c:01", "urn:c:02", "urn:c:03", "urn:c:04", "urn:c:05", "urn:c:06"}; !slices.Equal(paged, want) {
		t.Fatalf("paged Credentials %v, want %v", paged, want)
	}
	_, err := s.Credentials(ctx, store.CredentialFilter{After: "urn:c:unknown"})
	wantErr(t, "Credentials after an unknown ID", err, store.ErrNotFound)
	_, err = s.Credentials(ctx, store.CredentialFilter{Limit: -1})
	wantErr(t, "Credentials negative limit", err, store.ErrInvalid)
}

func change(id, purpose string, value bool, reason string, when time.Time) store.StatusChange {
	return store.StatusChange{CredentialID: id, Purpose: purpose, Value: value, Reason: reason, Actor: "tok-admin", At: when}
}

func testSetStatus(t *testing.T, s store.Store) {
	ctx := t.Context()
	is := issue(t, s, cred("urn:c:a", "MembershipCredential", "did:key:a", "", base))[0]
	bare := store.Issuance{Credential: cred("urn:c:bare", "MembershipCredential", "did:key:b", "", base)}
	must(t, "CommitIssuance", s.CommitIssuance(ctx, []store.Issuance{bare}))
	rev, sus := is.Slots[0], is.Slots[1]

	listState := func(sl store.Slot) (int64, []int) {
		t.Helper()
		l, set, err := s.StatusList(ctx, sl.ListID)
		must(t, "StatusList", err)
		return l.Version, set
	}
	steps := []struct {
		c       store.StatusChange
		changed bool
	}{
		{change(is.Credential.ID, store.PurposeRevocation, true, "key compromised", at(time.Hour)), true},
		{change(is.Credential.ID, store.PurposeRevocation, true, "again", at(2*time.Hour)), false},
		{change(is.Credential.ID, store.PurposeSuspension, false, "never suspended", at(2*time.Hour)), false},
		{change(is.Credential.ID, store.PurposeSuspension, true, "under review", at(3*time.Hour)), true},
		{change(is.Credential.ID, store.PurposeSuspension, false, "cleared", at(4*time.Hour)), true},
		{change(is.Credential.ID, store.PurposeRevocation, false, "revoked in error", at(5*time.Hour)), true},
	}
	want := stored(is)
	for i, st := range steps {
		sl := rev
		if st.c.Purpose == store.PurposeSuspension {
			sl = sus
		}
		h := headOf(t, s)
		v0, _ := listState(sl)
		changed, err := s.SetStatus(ctx, st.c, entry("credential.status", is.Credential.ID))
		must(t, "SetStatus", err)
		if changed != st.changed {
			t.Fatalf("step %d: changed = %v, want %v", i, changed, st.changed)
		}
		v1, set := listState(sl)
		if st.changed {
			if v1 != v0+1 || headOf(t, s).seq != h.seq+1 {
				t.Fatalf("step %d: version %d→%d, audit %d→%d; want one more of each", i, v0, v1, h.seq, headOf(t, s).seq)
			}
			if st.c.Purpose == store.PurposeRevocation {
				want.Revoked, want.RevokedReason = st.c.Value, st.c.Reason
			} else {
				want.Suspended, want.SuspendedReason = st.c.Value, st.c.Reason
			}
		} else {
			if v1 != v0 {
				t.Fatalf("step %d: unchanged bit bumped the version %d→%d", i, v0, v1)
			}
			unchanged(t, s, h, fmt.Sprintf("step %d", i))
		}
		if bit := slices.Contains(set, sl.Index); bit != st.c.Value {
			t.Fatalf("step %d: bit %d of list %s is %v, want %v (set: %v)", i, sl.Index, sl.ListID, bit, st.c.Value, set)
		}
		got, err := s.Credential(ctx, is.Credential.ID)
		must(t, "Credential", err)
		sameCred(t, fmt.Sprintf("step %d", i), got, want)
	}

	h := headOf(t, s)
	_, err := s.SetStatus(ctx, change(bare.Credential.ID, store.PurposeRevocation, true, "x", base), entry("credential.status", "x"))
	wantErr(t, "SetStatus of a credential without slots", err, store.ErrNotFound)
	_, err = s.SetStatus(ctx, change("urn:c:unknown", store.PurposeSuspension, true, "x", base), entry("credential.status", "x"))
	wantErr(t, "SetStatus of an unknown credential", err, store.ErrNotFound)
	for name, c := range map[string]store.StatusChange{
		"unknown purpose": change(is.Credential.ID, "refresh", true, "x", base),
		"empty ID":        change("", store.PurposeRevocation, true, "x", base),
		"zero time":       change(is.Credential.ID, store.PurposeRevocation, true, "x", time.Time{}),
		"no actor":        {CredentialID: is.Credential.ID, Purpose: store.PurposeRevocation, Value: true, At: base},
		"year 10000":      change(is.Credential.ID, store.PurposeRevocation, true, "x", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)),
		"ID not UTF-8":    change("urn:c:\xff", store.PurposeRevocation, true, "x", base),
		"NUL in reason":   change(is.Credential.ID, store.PurposeRevocation, true, "x\x00", base),
		"actor not UTF-8": {CredentialID: is.Credential.ID, Purpose: store.PurposeRevocation, Value: true, Actor: "tok-\xc3", At: base},
	} {
		_, err := s.SetStatus(ctx, c, entry("credential.status", "x"))
		wantErr(t, "SetStatus "+name, err, store.ErrInvalid)
	}
	_, err = s.SetStatus(ctx, change(is.Credential.ID, store.PurposeRevocation, true, "x", base), store.AuditEntry{At: base, Actor: "x"})
	wantErr(t, "SetStatus with a bad audit entry", err, store.ErrInvalid)
	unchanged(t, s, h, "failed SetStatus")
	got, err := s.Credential(ctx, is.Credential.ID)
	must(t, "Credential", err)
	if got.Revoked {
		t.Fatal("a rejected SetStatus changed the credential")
	}

	lists, err := s.StatusLists(ctx)
	must(t, "StatusLists", err)
	versions := map[string]int64{}
	for _, l := range lists {
		versions[l.ID] = l.Version
	}
	if versions[rev.ListID] != 2 || versions[sus.ListID] != 2 {
		t.Fatalf("list versions %v, want 2 each", versions)
	}
	verify(t, s, 1+4) // one issuance, four changes
}

func testSetStatusConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	is := issue(t, s, cred("urn:c:a", "MembershipCredential", "did:key:a", "", base))[0]
	pick := alternate(s, sibling(t, s))
	for round, value := range []bool{true, false, true} {
		changed := make([]bool, 8)
		errs := parallel(len(changed), func(i int) error {
			st := pick(i)
			var err error
			changed[i], err = st.SetStatus(ctx, change(is.Credential.ID, store.PurposeRevocation, value, fmt.Sprint(i), at(time.Duration(round)*time.Hour)),
				entry("credential.status", is.Credential.ID))
			return err
		})
		mustAll(t, "concurrent SetStatus", errs)
		if n := len(slices.DeleteFunc(changed, func(c bool) bool { return !c })); n != 1 {
			t.Fatalf("round %d: %d callers changed the bit, want exactly 1", round, n)
		}
	}
	l, set, err := s.StatusList(ctx, is.Slots[0].ListID)
	must(t, "StatusList", err)
	if l.Version != 3 || !slices.Contains(set, is.Slots[0].Index) {
		t.Fatalf("list version %d, set %v; want version 3 with bit %d set", l.Version, set, is.Slots[0].Index)
	}
	verify(t, s, 1+3)
}
