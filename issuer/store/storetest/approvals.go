package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

func approval(id string, created time.Time) store.Approval {
	return store.Approval{ID: id, Type: "ResidencyCredential", Node: "lisbon",
		Request:     []byte(`{"type":"ResidencyCredential","subject":"did:key:z6r","validFrom":"2025-04-01"}`),
		RequestedBy: "tok-requester", Required: 2, CreatedAt: created, ExpiresAt: created.Add(72 * time.Hour)}
}

// pendingStored is how a new approval reads back.
func pendingStored(a store.Approval) store.Approval {
	a.State = store.ApprovalPending
	a.CreatedAt, a.ExpiresAt = norm(a.CreatedAt), norm(a.ExpiresAt)
	return a
}

func ids(as []store.Approval) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func testApprovals(t *testing.T, s store.Store) {
	ctx := t.Context()
	a1, a2, a3 := approval("ap-1", at(0)), approval("ap-2", at(time.Minute)), approval("ap-3", at(2*time.Minute))
	for _, a := range []store.Approval{a1, a2, a3} {
		must(t, "CreateApproval", s.CreateApproval(ctx, a, entry("approval.create", a.ID)))
	}
	h := headOf(t, s)
	wantErr(t, "CreateApproval duplicate", s.CreateApproval(ctx, a1, entry("approval.create", a1.ID)), store.ErrConflict)
	for name, mut := range map[string]func(a *store.Approval){
		"empty ID":          func(a *store.Approval) { a.ID = "" },
		"no type":           func(a *store.Approval) { a.Type = "" },
		"no requester":      func(a *store.Approval) { a.RequestedBy = "" },
		"no request":        func(a *store.Approval) { a.Request = nil },
		"no approvers":      func(a *store.Approval) { a.Required = 0 },
		"already issued":    func(a *store.Approval) { a.State = store.ApprovalIssued },
		"unknown state":     func(a *store.Approval) { a.State = "approved" },
		"with votes":        func(a *store.Approval) { a.Votes = []store.Vote{{Approver: "x", At: base}} },
		"with a credential": func(a *store.Approval) { a.CredentialID = "urn:c:x" },
		"zero created":      func(a *store.Approval) { a.CreatedAt = time.Time{} },
		"zero expiry":       func(a *store.Approval) { a.ExpiresAt = time.Time{} },
		"ID not UTF-8":      func(a *store.Approval) { a.ID = "ap-\xff" },
		"NUL in requester":  func(a *store.Approval) { a.RequestedBy = "tok\x00" },
		"node not UTF-8":    func(a *store.Approval) { a.Node = "lis\xc3" },
	} {
		a := approval("ap-new", base)
		mut(&a)
		wantErr(t, "CreateApproval "+name, s.CreateApproval(ctx, a, entry("approval.create", "ap-new")), store.ErrInvalid)
	}
	unchanged(t, s, h, "failed CreateApproval")
	_, err := s.Approval(ctx, "ap-new")
	wantErr(t, "Approval after failed creates", err, store.ErrNotFound)

	got, err := s.Approval(ctx, a1.ID)
	must(t, "Approval", err)
	if want := pendingStored(a1); !reflect.DeepEqual(got, want) {
		t.Fatalf("Approval = %+v, want %+v", got, want)
	}

	// Votes.
	for i, approver := range []string{"tok-s1", "tok-s2"} {
		n, err := s.AddVote(ctx, a1.ID, approver, at(time.Duration(i+1)*time.Hour), entry("approval.vote", a1.ID))
		must(t, "AddVote", err)
		if n != i+1 {
			t.Fatalf("vote %d counted %d", i+1, n)
		}
	}
	h = headOf(t, s)
	_, err = s.AddVote(ctx, a1.ID, "tok-s1", at(3*time.Hour), entry("approval.vote", a1.ID))
	wantErr(t, "AddVote twice by one approver", err, store.ErrConflict)
	_, err = s.AddVote(ctx, "ap-unknown", "tok-s1", base, entry("approval.vote", "x"))
	wantErr(t, "AddVote on an unknown approval", err, store.ErrNotFound)
	for name, c := range map[string]struct {
		id, approver string
		when         time.Time
	}{
		"empty approval":     {"", "tok-s3", base},
		"empty approver":     {a1.ID, "", base},
		"zero time":          {a1.ID, "tok-s3", time.Time{}},
		"year 10000":         {a1.ID, "tok-s3", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"approver not UTF-8": {a1.ID, "tok-\xff", base},
		"NUL in approval ID": {"ap-1\x00", "tok-s3", base},
	} {
		_, err = s.AddVote(ctx, c.id, c.approver, c.when, entry("approval.vote", "x"))
		wantErr(t, "AddVote "+name, err, store.ErrInvalid)
	}
	badVote := entry("approval.vote", a1.ID)
	badVote.Details = []byte("{")
	_, err = s.AddVote(ctx, a1.ID, "tok-s3", base, badVote)
	wantErr(t, "AddVote with a bad audit entry", err, store.ErrInvalid)
	unchanged(t, s, h, "failed AddVote")

	// Final states.
	must(t, "SetApprovalState", s.SetApprovalState(ctx, a2.ID, store.ApprovalRejected, entry("approval.reject", a2.ID)))
	h = headOf(t, s)
	wantErr(t, "SetApprovalState twice", s.SetApprovalState(ctx, a2.ID, store.ApprovalExpired, entry("approval.expire", a2.ID)), store.ErrConflict)
	_, err = s.AddVote(ctx, a2.ID, "tok-s1", base, entry("approval.vote", a2.ID))
	wantErr(t, "AddVote on a rejected approval", err, store.ErrConflict)
	wantErr(t, "SetApprovalState unknown", s.SetApprovalState(ctx, "ap-unknown", store.ApprovalExpired), store.ErrNotFound)
	for _, st := range []string{store.ApprovalIssued, store.ApprovalPending, "", "approved"} {
		wantErr(t, "SetApprovalState "+st, s.SetApprovalState(ctx, a3.ID, st), store.ErrInvalid)
	}
	for _, id := range []string{"", "ap-\xff", "ap-3\x00"} {
		wantErr(t, fmt.Sprintf("SetApprovalState of %q", id), s.SetApprovalState(ctx, id, store.ApprovalRejected), store.ErrInvalid)
	}
	wantErr(t, "SetApprovalState with a bad audit entry",
		s.SetApprovalState(ctx, a3.ID, store.ApprovalRejected, store.AuditEntry{At: base, Actor: "tok-admin"}), store.ErrInvalid)
	unchanged(t, s, h, "failed SetApprovalState")

	// Issuance completes a1.
	is := issuance(t, s, cred("urn:c:res", "ResidencyCredential", "did:key:z6r", "lisbon", at(4*time.Hour)))
	is.ApprovalID = a1.ID
	must(t, "CommitIssuance", s.CommitIssuance(ctx, []store.Issuance{is}))
	h = headOf(t, s)
	_, err = s.AddVote(ctx, a1.ID, "tok-s3", base, entry("approval.vote", a1.ID))
	wantErr(t, "AddVote on an issued approval", err, store.ErrConflict)
	wantErr(t, "SetApprovalState of an issued approval", s.SetApprovalState(ctx, a1.ID, store.ApprovalExpired), store.ErrConflict)
	unchanged(t, s, h, "changes to an issued approval")

	got, err = s.Approval(ctx, a1.ID)
	must(t, "Approval", err)
	want := pendingStored(a1)
	want.State, want.CredentialID = store.ApprovalIssued, is.Credential.ID
	want.Votes = []store.Vote{{Approver: "tok-s1", At: norm(at(time.Hour))}, {Approver: "tok-s2", At: norm(at(2 * time.Hour))}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("issued Approval = %+v, want %+v", got, want)
	}

	// Listing, newest first.
	for _, c := range []struct {
		state string
		limit int
		want  []string
	}{
		{"", 0, []string{"ap-3", "ap-2", "ap-1"}},
		{"", 2, []string{"ap-3", "ap-2"}},
		{store.ApprovalPending, 0, []string{"ap-3"}},
		{store.ApprovalRejected, 0, []string{"ap-2"}},
		{store.ApprovalIssued, 0, []string{"ap-1"}},
		{store.ApprovalExpired, 0, nil},
	} {
		as, err := s.Approvals(ctx, c.state, c.limit)
		must(t, "Approvals", err)
		if !slices.Equal(ids(as), c.want) {
			t.Fatalf("Approvals(%q, %d) = %v, want %v", c.state, c.limit, ids(as), c.want)
		}
		for _, a := range as {
			if a.ID == a1.ID && !reflect.DeepEqual(a, want) {
				t.Fatalf("listed approval %+v, want %+v", a, want)
			}
		}
	}
	_, err = s.Approvals(ctx, "approved", 0)
	wantErr(t, "Approvals of an unknown state", err, store.ErrInvalid)
	_, err = s.Approvals(ctx, "", -1)
	wantErr(t, "Approvals negative limit", err, store.ErrInvalid)
	verify(t, s, 3+2+1+1)
}

func testApprovalsConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	pick := alternate(s, sibling(t, s))

	// Votes from 8 approvers at once are counted 1 to 8, each once.
	a := approval("ap-votes", base)
	must(t, "CreateApproval", s.CreateApproval(ctx, a))
	counts := make([]int, 8)
	errs := parallel(len(counts), func(i int) error {
		var err error
		counts[i], err = pick(i).AddVote(ctx, a.ID, fmt.Sprintf("tok-s%d", i), at(time.Duration(i)*time.Second), entry("approval.vote", a.ID))
		return err
	})
	mustAll(t, "concurrent AddVote", errs)
	got, err := s.Approval(ctx, a.ID)
	must(t, "Approval", err)
	if sorted := slices.Sorted(slices.Values(counts)); !slices.Equal(sorted, []int{1, 2, 3, 4, 5, 6, 7, 8}) || len(got.Votes) != 8 {
		t.Fatalf("vote counts %v with %d votes stored, want 1..8", counts, len(got.Votes))
	}
	for i, c := range counts {
		if got.Votes[c-1].Approver != fmt.Sprintf("tok-s%d", i) {
			t.Fatalf("vote counted %d is %s's, want tok-s%d's", c, got.Votes[c-1].Approver, i)
		}
	}

	// Two issuances completing one approval: one wins.
	b := approval("ap-race", base)
	must(t, "CreateApproval", s.CreateApproval(ctx, b))
	batches := make([]store.Issuance, 4)
	for i := range batches {
		batches[i] = issuance(t, s, cred(fmt.Sprintf("urn:c:race-%d", i), "ResidencyCredential", "did:key:z6r", "lisbon", base))
		batches[i].ApprovalID = b.ID
	}
	errs = parallel(len(batches), func(i int) error {
		return pick(i).CommitIssuance(ctx, []store.Issuance{batches[i]})
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("issuances %d and %d both completed the approval", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("losing issuance: %v, want ErrConflict", err)
		}
	}
	if winner < 0 {
		t.Fatal("no issuance completed the approval")
	}
	got, err = s.Approval(ctx, b.ID)
	must(t, "Approval", err)
	if got.State != store.ApprovalIssued || got.CredentialID != batches[winner].Credential.ID {
		t.Fatalf("approval %+v, want issued with %s", got, batches[winner].Credential.ID)
	}
	for i, is := range batches {
		if _, err := s.Credential(ctx, is.Credential.ID); (err == nil) != (i == winner) {
			t.Fatalf("credential %d: %v", i, err)
		}
	}
	verify(t, s, 8+1)
}
