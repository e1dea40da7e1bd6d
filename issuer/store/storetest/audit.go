package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, "AppendAudit of nothing", s.AppendAudit(ctx))
	if h := headOf(t, s); h != (head{}) {
		t.Fatalf("head %+v after appending nothing", h)
	}
	e1 := store.AuditEntry{At: base, Actor: "anonymous", Action: "auth.denied", Target: ""} // no details
	e2 := entry("key.use", "key-1")
	e2.Details = []byte(`{"alg":"EdDSA", "n": 1.50}`) // kept byte for byte
	e3 := entry("auth.denied", "tok-x")
	e3.At = time.Date(2025, 3, 14, 10, 0, 0, 123456789, time.FixedZone("X", -5*3600))
	in := []store.AuditEntry{e1, e2, e3}
	must(t, "AppendAudit", s.AppendAudit(ctx, in...))

	entries, err := s.AuditEntries(ctx, 0, 0)
	must(t, "AuditEntries", err)
	if len(entries) != 3 {
		t.Fatalf("%d entries, want 3", len(entries))
	}
	prev := ""
	for i, e := range entries {
		want := in[i]
		want.At = norm(want.At)
		if len(want.Details) == 0 {
			want.Details = []byte("{}")
		}
		want.Seq, want.PrevHash, want.Hash = int64(i+1), prev, e.Hash
		if !reflect.DeepEqual(e, want) {
			t.Fatalf("entry %d:\n got %+v\nwant %+v", i+1, e, want)
		}
		if e.Hash != e.ComputeHash() || len(e.Hash) != 64 {
			t.Fatalf("entry %d: hash %q does not recompute", i+1, e.Hash)
		}
		prev = e.Hash
	}
	if h := headOf(t, s); h != (head{3, prev}) {
		t.Fatalf("head %+v, want 3 and the last hash", h)
	}
	page, err := s.AuditEntries(ctx, 1, 1)
	must(t, "AuditEntries page", err)
	if len(page) != 1 || page[0].Seq != 2 {
		t.Fatalf("AuditEntries(1, 1) = %+v", page)
	}
	page, err = s.AuditEntries(ctx, 3, 10)
	must(t, "AuditEntries past the end", err)
	if len(page) != 0 {
		t.Fatalf("AuditEntries(3, 10) = %d entries", len(page))
	}
	_, err = s.AuditEntries(ctx, -1, 10)
	wantErr(t, "AuditEntries negative seq", err, store.ErrInvalid)
	_, err = s.AuditEntries(ctx, 0, -1)
	wantErr(t, "AuditEntries negative limit", err, store.ErrInvalid)

	h := headOf(t, s)
	bad := entry("x", "y")
	bad.Details = []byte(`{"a":`)
	for name, es := range map[string][]store.AuditEntry{
		"no action":          {{At: base, Actor: "a"}},
		"no actor":           {{At: base, Action: "a"}},
		"no time":            {{Actor: "a", Action: "b"}},
		"details not JSON":   {bad},
		"second entry wrong": {entry("ok", "ok"), {At: base, Actor: "a"}},
	} {
		wantErr(t, "AppendAudit "+name, s.AppendAudit(ctx, es...), store.ErrInvalid)
	}
	unchanged(t, s, h, "failed AppendAudit")

	// More entries than one page of VerifyChain, in one call.
	many := make([]store.AuditEntry, store.MaxPage+200)
	for i := range many {
		many[i] = entry("bulk", fmt.Sprint(i))
	}
	must(t, "AppendAudit", s.AppendAudit(ctx, many...))
	page, err = s.AuditEntries(ctx, 0, 10*store.MaxPage)
	must(t, "AuditEntries", err)
	if len(page) != store.MaxPage {
		t.Fatalf("AuditEntries with a huge limit returned %d, want MaxPage", len(page))
	}

	// Every kind of write, then the whole chain verifies.
	must(t, "CreateMember", s.CreateMember(ctx, store.Member{DID: "did:key:m", CreatedAt: base}, entry("member.create", "did:key:m")))
	must(t, "AddSigningKey", s.AddSigningKey(ctx, store.SigningKey{ID: "key-1", Algorithm: "Ed25519", PublicJWK: []byte("{}"), Sealed: []byte{1}, CreatedAt: base},
		entry("key.add", "key-1"), entry("key.activate", "key-1")))
	must(t, "CreateToken", s.CreateToken(ctx, store.Token{ID: "tok-1", Hash: tokenHash("1"), Role: store.RoleSteward, CreatedAt: base}, entry("token.create", "tok-1")))
	must(t, "RevokeToken", s.RevokeToken(ctx, "tok-1", base, entry("token.revoke", "tok-1")))
	is := issue(t, s, cred("urn:c:1", "MembershipCredential", "did:key:m", "", base))[0]
	_, err = s.SetStatus(ctx, change(is.Credential.ID, store.PurposeSuspension, true, "r", base), entry("credential.suspend", is.Credential.ID))
	must(t, "SetStatus", err)
	must(t, "CreateApproval", s.CreateApproval(ctx, approval("ap-1", base), entry("approval.create", "ap-1")))
	_, err = s.AddVote(ctx, "ap-1", "tok-s", base, entry("approval.vote", "ap-1"))
	must(t, "AddVote", err)
	must(t, "SetApprovalState", s.SetApprovalState(ctx, "ap-1", store.ApprovalExpired, entry("approval.expire", "ap-1")))
	verify(t, s, int64(3+len(many)+10))
}

func testAuditConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	pick := alternate(s, sibling(t, s))
	const workers, calls = 16, 10
	errs := parallel(workers, func(i int) error {
		st := pick(i)
		for c := range calls {
			target := fmt.Sprintf("%d/%d", i, c)
			if err := st.AppendAudit(ctx, entry("concurrent.a", target), entry("concurrent.b", target)); err != nil {
				return err
			}
		}
		return nil
	})
	mustAll(t, "concurrent AppendAudit", errs)
	verify(t, s, workers*calls*2)
	// Each call's two entries are adjacent: one call, one transaction.
	entries, err := s.AuditEntries(ctx, 0, store.MaxPage)
	must(t, "AuditEntries", err)
	seen := map[string]bool{}
	for i := 0; i < len(entries); i += 2 {
		a, b := entries[i], entries[i+1]
		if a.Action != "concurrent.a" || b.Action != "concurrent.b" || a.Target != b.Target || seen[a.Target] {
			t.Fatalf("entries %d and %d: %s %s, %s %s", a.Seq, b.Seq, a.Action, a.Target, b.Action, b.Target)
		}
		seen[a.Target] = true
	}
}

func testAuditTamper(t *testing.T, s store.Store) {
	tm, ok := s.(Tamperer)
	if !ok {
		t.Skip("the store under test does not implement storetest.Tamperer")
	}
	ctx := t.Context()
	for i := range 6 {
		must(t, "AppendAudit", s.AppendAudit(ctx, entry("event", fmt.Sprint(i+1))))
	}
	verify(t, s, 6)
	orig, err := s.AuditEntries(ctx, 3, 1)
	must(t, "AuditEntries", err)

	broken := func(what string, seq int64) {
		t.Helper()
		_, _, err := store.VerifyChain(ctx, s)
		var ce *store.ChainError
		if !errors.As(err, &ce) || !errors.Is(err, store.ErrChainBroken) {
			t.Fatalf("%s: VerifyChain = %v, want a *store.ChainError", what, err)
		}
		if ce.Seq != seq {
			t.Fatalf("%s: VerifyChain names entry %d (%s), want %d", what, ce.Seq, ce.Reason, seq)
		}
	}
	// Each step leaves the earlier breaks in place, so each must be found at the
	// lowest broken entry.
	must(t, "tamper", tm.TamperAuditDetails(ctx, 4, []byte(`{"target":"40"}`)))
	broken("changed details of entry 4", 4)
	must(t, "untamper", tm.TamperAuditDetails(ctx, 4, bytes.Clone(orig[0].Details)))
	verify(t, s, 6)
	must(t, "delete", tm.DeleteAudit(ctx, 6))
	broken("deleted the last entry", 6)
	must(t, "tamper", tm.TamperAuditDetails(ctx, 5, []byte(`{}`)))
	broken("changed details of entry 5", 5)
	must(t, "delete", tm.DeleteAudit(ctx, 3))
	broken("deleted entry 3", 3)
	must(t, "tamper", tm.TamperAuditDetails(ctx, 1, []byte(`{"target":"one"}`)))
	broken("changed details of entry 1", 1)
}

func testMonthlyCounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	feb := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	mar := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	apr := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	may := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	const mem, res = "MembershipCredential", "ResidencyCredential"
	issue(t, s,
		cred("f1", mem, "did:key:1", "", feb.Add(19*24*time.Hour)),
		cred("m1", mem, "did:key:2", "", mar), // first instant of March
		cred("m2", mem, "did:key:3", "", mar.Add(9*24*time.Hour)),
		cred("r1", res, "did:key:4", "lisbon", mar.Add(4*24*time.Hour)),
		cred("r2", res, "did:key:5", "berlin", apr.Add(-time.Microsecond)), // last instant of March
		cred("a1", res, "did:key:6", "lisbon", apr),
	)
	for _, c := range []store.StatusChange{
		change("f1", store.PurposeRevocation, true, "", mar.Add(24*time.Hour)), // issued in February, revoked in March
		change("r1", store.PurposeSuspension, true, "", mar.Add(5*24*time.Hour)),
		change("r1", store.PurposeSuspension, false, "", mar.Add(6*24*time.Hour)),
		change("r1", store.PurposeSuspension, true, "", mar.Add(7*24*time.Hour)), // r1 counts once
		change("m1", store.PurposeSuspension, true, "", apr.Add(-time.Hour)),
		change("m1", store.PurposeSuspension, false, "", apr.Add(time.Hour)), // clearing is not counted
		change("a1", store.PurposeRevocation, true, "", mar.Add(14*24*time.Hour)),
		change("r2", store.PurposeRevocation, true, "", apr), // April
	} {
		_, err := s.SetStatus(ctx, c, entry("credential.status", c.CredentialID))
		must(t, "SetStatus", err)
	}
	for _, c := range []struct {
		from, to time.Time
		want     []store.Count
	}{
		{feb, mar, []store.Count{{Type: mem, Issued: 1}}},
		{mar, apr, []store.Count{
			{Type: mem, Issued: 2, Revoked: 1, Suspended: 1},
			{Type: res, Node: "berlin", Issued: 1},
			{Type: res, Node: "lisbon", Issued: 1, Revoked: 1, Suspended: 1},
		}},
		{apr, may, []store.Count{
			{Type: res, Node: "berlin", Revoked: 1},
			{Type: res, Node: "lisbon", Issued: 1},
		}},
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), feb, nil},
		{feb, may, []store.Count{
			{Type: mem, Issued: 3, Revoked: 1, Suspended: 1},
			{Type: res, Node: "berlin", Issued: 1, Revoked: 1},
			{Type: res, Node: "lisbon", Issued: 2, Revoked: 1, Suspended: 1},
		}},
	} {
		got, err := s.MonthlyCounts(ctx, c.from, c.to)
		must(t, "MonthlyCounts", err)
		if len(got) == 0 {
			got = nil
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Fatalf("MonthlyCounts(%s, %s) = %+v, want %+v", c.from.Format(time.DateOnly), c.to.Format(time.DateOnly), got, c.want)
		}
	}
	for name, p := range badPeriods(mar) {
		_, err := s.MonthlyCounts(ctx, p[0], p[1])
		wantErr(t, "MonthlyCounts "+name, err, store.ErrInvalid)
	}
}

func testMixedConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	other := sibling(t, s)
	pick := alternate(s, other)
	const workers = 8
	errs := parallel(workers, func(i int) error {
		st := pick(i)
		did := fmt.Sprintf("did:key:w%d", i)
		if err := st.CreateMember(ctx, store.Member{DID: did, CreatedAt: base}, entry("member.create", did)); err != nil {
			return err
		}
		rev, err := st.ReserveSlots(ctx, store.PurposeRevocation, 1, 64)
		if err != nil {
			return err
		}
		id := fmt.Sprintf("urn:c:w%d", i)
		is := store.Issuance{Credential: cred(id, "MembershipCredential", did, "", base), Slots: rev, Audit: []store.AuditEntry{entry("credential.issue", id)}}
		if err := st.CommitIssuance(ctx, []store.Issuance{is}); err != nil {
			return err
		}
		if _, err := st.SetStatus(ctx, change(id, store.PurposeRevocation, true, "", base), entry("credential.revoke", id)); err != nil {
			return err
		}
		ap := fmt.Sprintf("ap-w%d", i)
		if err := st.CreateApproval(ctx, approval(ap, base), entry("approval.create", ap)); err != nil {
			return err
		}
		if _, err := st.AddVote(ctx, ap, "tok-s", base, entry("approval.vote", ap)); err != nil {
			return err
		}
		of := offer(fmt.Sprintf("of-w%d", i), base)
		if err := st.CreateOffer(ctx, of, entry("offer.create", of.ID)); err != nil {
			return err
		}
		if err := st.RedeemOffer(ctx, of.ID, tokenHash("token:"+of.ID), at(time.Hour), entry("offer.redeem", of.ID)); err != nil {
			return err
		}
		if err := st.CreateNonce(ctx, tokenHash("nonce:"+of.ID), at(time.Hour)); err != nil {
			return err
		}
		if err := st.ConsumeNonce(ctx, tokenHash("nonce:"+of.ID), base); err != nil {
			return err
		}
		oid := fmt.Sprintf("urn:c:o%d", i)
		ois := store.Issuance{Credential: cred(oid, "MembershipCredential", did, "", base), OfferID: of.ID, Audit: []store.AuditEntry{entry("credential.issue", oid)}}
		if err := st.CommitIssuance(ctx, []store.Issuance{ois}); err != nil {
			return err
		}
		return st.AppendAudit(ctx, entry("auth.denied", did))
	})
	mustAll(t, "concurrent writes", errs)
	verify(t, s, workers*9)
	verify(t, other, workers*9)
}
