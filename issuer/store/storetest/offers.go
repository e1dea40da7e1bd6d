package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

// offer returns a new offer for a membership credential, valid ten minutes, whose
// pre-authorized code is "code:"+id.
func offer(id string, created time.Time) store.Offer {
	return store.Offer{ID: id, CodeHash: tokenHash("code:" + id), Type: "MembershipCredential", Format: "jwt_vc_json",
		Subject: "did:key:z6o", Request: []byte(`{"type":"MembershipCredential","subject":"did:key:z6o"}`),
		CreatedBy: "tok-admin", CreatedAt: created, ExpiresAt: created.Add(10 * time.Minute)}
}

// offeredStored is how a new offer reads back.
func offeredStored(o store.Offer) store.Offer {
	o.State = store.OfferOffered
	o.CreatedAt, o.ExpiresAt = norm(o.CreatedAt), norm(o.ExpiresAt)
	if len(o.TxCodeHash) == 0 {
		o.TxCodeHash = nil
	}
	return o
}

func sameOffer(t *testing.T, what string, got, want store.Offer) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func offerIDs(list []store.Offer) []string {
	var out []string
	for _, o := range list {
		out = append(out, o.ID)
	}
	return out
}

// redeemedOffer creates an offer and redeems it with the access token "token:"+id,
// each with one audit entry.
func redeemedOffer(t *testing.T, s store.Store, id string) store.Offer {
	t.Helper()
	o := offer(id, base)
	must(t, "CreateOffer", s.CreateOffer(t.Context(), o, entry("offer.create", id)))
	must(t, "RedeemOffer", s.RedeemOffer(t.Context(), id, tokenHash("token:"+id), at(time.Hour), entry("offer.redeem", id)))
	return o
}

func offerState(t *testing.T, s store.Store, id string) store.Offer {
	t.Helper()
	o, err := s.Offer(t.Context(), id)
	must(t, "Offer", err)
	return o
}

func testOffers(t *testing.T, s store.Store) {
	ctx := t.Context()
	o1, o2, o3, o4 := offer("of-1", at(0)), offer("of-2", at(time.Minute)), offer("of-3", at(2*time.Minute)), offer("of-4", at(3*time.Minute))
	o1.TxCodeHash = tokenHash("tx:1234")
	o2.Type, o2.Node, o2.Format = "ResidencyCredential", "lisbon", "dc+sd-jwt"
	o2.TxCodeHash = []byte{}                          // empty: no transaction code
	o3.ExpiresAt = o3.CreatedAt.Add(time.Microsecond) // the shortest life that survives truncation
	for _, o := range []store.Offer{o1, o2, o3, o4} {
		must(t, "CreateOffer", s.CreateOffer(ctx, o, entry("offer.create", o.ID)))
	}
	audited := int64(4)
	h := headOf(t, s)

	dupID := offer(o1.ID, base)
	dupID.CodeHash = tokenHash("another code")
	wantErr(t, "CreateOffer duplicate ID", s.CreateOffer(ctx, dupID, entry("offer.create", "x")), store.ErrConflict)
	dupCode := offer("of-dup", base)
	dupCode.CodeHash = o2.CodeHash
	wantErr(t, "CreateOffer duplicate code hash", s.CreateOffer(ctx, dupCode, entry("offer.create", "x")), store.ErrConflict)
	unchanged(t, s, h, "duplicate offer")
	_, err := s.Offer(ctx, dupCode.ID)
	wantErr(t, "Offer after a duplicate code", err, store.ErrNotFound)

	for name, mut := range map[string]func(o *store.Offer){
		"empty ID":             func(o *store.Offer) { o.ID = "" },
		"no code hash":         func(o *store.Offer) { o.CodeHash = nil },
		"short code hash":      func(o *store.Offer) { o.CodeHash = o.CodeHash[:31] },
		"long code hash":       func(o *store.Offer) { o.CodeHash = append(o.CodeHash, 0) },
		"short tx code hash":   func(o *store.Offer) { o.TxCodeHash = []byte("1234") },
		"no type":              func(o *store.Offer) { o.Type = "" },
		"no format":            func(o *store.Offer) { o.Format = "" },
		"no subject":           func(o *store.Offer) { o.Subject = "" },
		"no creator":           func(o *store.Offer) { o.CreatedBy = "" },
		"no request":           func(o *store.Offer) { o.Request = nil },
		"zero created":         func(o *store.Offer) { o.CreatedAt = time.Time{} },
		"zero expiry":          func(o *store.Offer) { o.ExpiresAt = time.Time{} },
		"expiry in year 10000": func(o *store.Offer) { o.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"expires when created": func(o *store.Offer) { o.ExpiresAt = o.CreatedAt },
		"expires before":       func(o *store.Offer) { o.ExpiresAt = o.CreatedAt.Add(-time.Minute) },
		"expires within a µs":  func(o *store.Offer) { o.ExpiresAt = o.CreatedAt.Add(time.Nanosecond) },
		"created redeemed":     func(o *store.Offer) { o.State = store.OfferRedeemed },
		"unknown state":        func(o *store.Offer) { o.State = "pending" },
		"with attempts":        func(o *store.Offer) { o.Attempts = 1 },
		"with a token":         func(o *store.Offer) { o.TokenHash = tokenHash("t") },
		"with a token expiry":  func(o *store.Offer) { o.TokenExpiresAt = base },
		"with a credential":    func(o *store.Offer) { o.CredentialID = "urn:c:x" },
		"subject not UTF-8":    func(o *store.Offer) { o.Subject = "did:key:\xff" },
		"NUL in node":          func(o *store.Offer) { o.Node = "lis\x00bon" },
		"bad audit entry":      func(o *store.Offer) {},
	} {
		o := offer("of-new", base)
		mut(&o)
		e := entry("offer.create", "of-new")
		if name == "bad audit entry" {
			e.Actor = ""
		}
		wantErr(t, "CreateOffer "+name, s.CreateOffer(ctx, o, e), store.ErrInvalid)
	}
	unchanged(t, s, h, "invalid offers")
	_, err = s.Offer(ctx, "of-new")
	wantErr(t, "Offer after invalid creates", err, store.ErrNotFound)

	// Reading back, by ID and by code.
	want := map[string]store.Offer{}
	for _, o := range []store.Offer{o1, o2, o3, o4} {
		want[o.ID] = offeredStored(o)
		got, err := s.Offer(ctx, o.ID)
		must(t, "Offer", err)
		sameOffer(t, "Offer", got, want[o.ID])
		got, err = s.OfferByCode(ctx, o.CodeHash)
		must(t, "OfferByCode", err)
		sameOffer(t, "OfferByCode", got, want[o.ID])
	}
	_, err = s.Offer(ctx, "of-unknown")
	wantErr(t, "Offer unknown", err, store.ErrNotFound)
	_, err = s.OfferByCode(ctx, tokenHash("code:unknown"))
	wantErr(t, "OfferByCode unknown", err, store.ErrNotFound)
	_, err = s.OfferByToken(ctx, tokenHash("token:unknown"))
	wantErr(t, "OfferByToken unknown", err, store.ErrNotFound)
	_, err = s.Offer(ctx, "")
	wantErr(t, "Offer empty ID", err, store.ErrInvalid)
	for _, hash := range [][]byte{nil, {}, tokenHash("x")[:31], append(tokenHash("x"), 1)} {
		_, err = s.OfferByCode(ctx, hash)
		wantErr(t, fmt.Sprintf("OfferByCode of %d bytes", len(hash)), err, store.ErrInvalid)
		_, err = s.OfferByToken(ctx, hash)
		wantErr(t, fmt.Sprintf("OfferByToken of %d bytes", len(hash)), err, store.ErrInvalid)
	}

	// Redemption, once.
	tok1 := tokenHash("token:1")
	must(t, "RedeemOffer", s.RedeemOffer(ctx, o1.ID, tok1, at(time.Hour+time.Nanosecond), entry("offer.redeem", o1.ID)))
	audited++
	w := want[o1.ID]
	w.State, w.TokenHash, w.TokenExpiresAt = store.OfferRedeemed, tok1, norm(at(time.Hour+time.Nanosecond))
	want[o1.ID] = w
	got, err := s.OfferByToken(ctx, tok1)
	must(t, "OfferByToken", err)
	sameOffer(t, "redeemed OfferByToken", got, w)
	sameOffer(t, "redeemed Offer", offerState(t, s, o1.ID), w)

	h = headOf(t, s)
	wantErr(t, "RedeemOffer twice", s.RedeemOffer(ctx, o1.ID, tokenHash("token:again"), at(time.Hour), entry("offer.redeem", o1.ID)), store.ErrConflict)
	wantErr(t, "RedeemOffer unknown", s.RedeemOffer(ctx, "of-unknown", tokenHash("token:u"), at(time.Hour), entry("offer.redeem", "x")), store.ErrNotFound)
	wantErr(t, "RedeemOffer with another offer's token", s.RedeemOffer(ctx, o2.ID, tok1, at(time.Hour), entry("offer.redeem", o2.ID)), store.ErrConflict)
	badAudit := entry("offer.redeem", o2.ID)
	badAudit.Details = []byte("{")
	for name, c := range map[string]struct {
		id    string
		hash  []byte
		until time.Time
		e     store.AuditEntry
	}{
		"empty ID":        {"", tokenHash("token:2"), at(time.Hour), entry("offer.redeem", "x")},
		"no token hash":   {o2.ID, nil, at(time.Hour), entry("offer.redeem", "x")},
		"short token":     {o2.ID, tokenHash("token:2")[:16], at(time.Hour), entry("offer.redeem", "x")},
		"zero expiry":     {o2.ID, tokenHash("token:2"), time.Time{}, entry("offer.redeem", "x")},
		"year 10000":      {o2.ID, tokenHash("token:2"), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), entry("offer.redeem", "x")},
		"bad audit entry": {o2.ID, tokenHash("token:2"), at(time.Hour), badAudit},
	} {
		wantErr(t, "RedeemOffer "+name, s.RedeemOffer(ctx, c.id, c.hash, c.until, c.e), store.ErrInvalid)
	}
	unchanged(t, s, h, "failed RedeemOffer")
	sameOffer(t, "offer after failed redemptions", offerState(t, s, o2.ID), want[o2.ID])
	sameOffer(t, "redeemed offer after failed redemptions", offerState(t, s, o1.ID), want[o1.ID])
	_, err = s.OfferByToken(ctx, tokenHash("token:again"))
	wantErr(t, "OfferByToken of a refused token", err, store.ErrNotFound)

	// Wrong transaction codes: o2 burns at the third.
	for i := 1; i <= 3; i++ {
		n, err := s.FailOfferAttempt(ctx, o2.ID, 3, entry("offer.attempt", o2.ID))
		must(t, "FailOfferAttempt", err)
		audited++
		if n != i {
			t.Fatalf("attempt %d counted %d", i, n)
		}
		w := want[o2.ID]
		w.Attempts = i
		if i == 3 {
			w.State = store.OfferBurned
		}
		want[o2.ID] = w
		sameOffer(t, fmt.Sprintf("offer after attempt %d", i), offerState(t, s, o2.ID), w)
	}
	// A lower maximum than the attempts so far burns at once; a higher one counts.
	n, err := s.FailOfferAttempt(ctx, o3.ID, 5, entry("offer.attempt", o3.ID))
	must(t, "FailOfferAttempt", err)
	audited++
	if n != 1 {
		t.Fatalf("first attempt on o3 counted %d", n)
	}
	w = want[o3.ID]
	w.Attempts = 1
	want[o3.ID] = w
	sameOffer(t, "offer below the maximum", offerState(t, s, o3.ID), w)

	h = headOf(t, s)
	_, err = s.FailOfferAttempt(ctx, o2.ID, 3, entry("offer.attempt", o2.ID))
	wantErr(t, "FailOfferAttempt on a burned offer", err, store.ErrConflict)
	_, err = s.FailOfferAttempt(ctx, o2.ID, 10, entry("offer.attempt", o2.ID))
	wantErr(t, "FailOfferAttempt on a burned offer with a higher maximum", err, store.ErrConflict)
	wantErr(t, "RedeemOffer of a burned offer", s.RedeemOffer(ctx, o2.ID, tokenHash("token:2"), at(time.Hour), entry("offer.redeem", o2.ID)), store.ErrConflict)
	_, err = s.FailOfferAttempt(ctx, o1.ID, 3, entry("offer.attempt", o1.ID))
	wantErr(t, "FailOfferAttempt on a redeemed offer", err, store.ErrConflict)
	_, err = s.FailOfferAttempt(ctx, "of-unknown", 3, entry("offer.attempt", "x"))
	wantErr(t, "FailOfferAttempt on an unknown offer", err, store.ErrNotFound)
	for name, c := range map[string]struct {
		id  string
		max int
		e   store.AuditEntry
	}{
		"empty ID":        {"", 3, entry("offer.attempt", "x")},
		"zero maximum":    {o3.ID, 0, entry("offer.attempt", "x")},
		"negative max":    {o3.ID, -1, entry("offer.attempt", "x")},
		"bad audit entry": {o3.ID, 3, store.AuditEntry{At: base, Actor: "tok-admin"}},
	} {
		_, err := s.FailOfferAttempt(ctx, c.id, c.max, c.e)
		wantErr(t, "FailOfferAttempt "+name, err, store.ErrInvalid)
	}
	unchanged(t, s, h, "failed FailOfferAttempt")
	for _, id := range []string{o1.ID, o2.ID, o3.ID} {
		sameOffer(t, "offer after refused attempts", offerState(t, s, id), want[id])
	}

	// The credential request completes o4.
	tok4 := tokenHash("token:4")
	must(t, "RedeemOffer", s.RedeemOffer(ctx, o4.ID, tok4, at(time.Hour), entry("offer.redeem", o4.ID)))
	is := issuance(t, s, cred("urn:c:offer-4", o4.Type, o4.Subject, "", at(4*time.Minute)))
	is.OfferID = o4.ID
	must(t, "CommitIssuance", s.CommitIssuance(ctx, []store.Issuance{is}))
	audited += 2
	w = want[o4.ID]
	w.State, w.TokenHash, w.TokenExpiresAt, w.CredentialID = store.OfferIssued, tok4, norm(at(time.Hour)), is.Credential.ID
	want[o4.ID] = w
	sameOffer(t, "issued offer", offerState(t, s, o4.ID), w)
	h = headOf(t, s)
	wantErr(t, "RedeemOffer of an issued offer", s.RedeemOffer(ctx, o4.ID, tokenHash("token:x"), at(time.Hour), entry("offer.redeem", o4.ID)), store.ErrConflict)
	_, err = s.FailOfferAttempt(ctx, o4.ID, 3, entry("offer.attempt", o4.ID))
	wantErr(t, "FailOfferAttempt on an issued offer", err, store.ErrConflict)
	unchanged(t, s, h, "changes to an issued offer")

	// Listing, newest first.
	for _, c := range []struct {
		state string
		limit int
		want  []string
	}{
		{"", 0, []string{"of-4", "of-3", "of-2", "of-1"}},
		{"", 3, []string{"of-4", "of-3", "of-2"}},
		{store.OfferOffered, 0, []string{"of-3"}},
		{store.OfferRedeemed, 0, []string{"of-1"}},
		{store.OfferBurned, 0, []string{"of-2"}},
		{store.OfferIssued, 1, []string{"of-4"}},
	} {
		list, err := s.Offers(ctx, c.state, c.limit)
		must(t, "Offers", err)
		if !slices.Equal(offerIDs(list), c.want) {
			t.Fatalf("Offers(%q, %d) = %v, want %v", c.state, c.limit, offerIDs(list), c.want)
		}
		for _, o := range list {
			sameOffer(t, "listed offer", o, want[o.ID])
		}
	}
	_, err = s.Offers(ctx, "pending", 0)
	wantErr(t, "Offers of an unknown state", err, store.ErrInvalid)
	_, err = s.Offers(ctx, "", -1)
	wantErr(t, "Offers negative limit", err, store.ErrInvalid)
	verify(t, s, audited)
}

func testOfferIssuance(t *testing.T, s store.Store) {
	ctx := t.Context()
	offered := offer("of-offered", base)
	must(t, "CreateOffer", s.CreateOffer(ctx, offered))
	burned := offer("of-burned", base)
	must(t, "CreateOffer", s.CreateOffer(ctx, burned))
	_, err := s.FailOfferAttempt(ctx, burned.ID, 1)
	must(t, "FailOfferAttempt", err)
	issued := redeemedOffer(t, s, "of-issued")
	done := issuance(t, s, cred("urn:c:done", "MembershipCredential", "did:key:z6o", "", base))
	done.OfferID = issued.ID
	must(t, "CommitIssuance", s.CommitIssuance(ctx, []store.Issuance{done}))
	audited := int64(2 + 1)

	n := 0
	for _, c := range []struct {
		name string
		bad  func(bad *store.Issuance)
		want error
	}{
		{"offer not redeemed", func(bad *store.Issuance) { bad.OfferID = offered.ID }, store.ErrConflict},
		{"offer burned", func(bad *store.Issuance) { bad.OfferID = burned.ID }, store.ErrConflict},
		{"offer already issued", func(bad *store.Issuance) { bad.OfferID = issued.ID }, store.ErrConflict},
		{"offer unknown", func(bad *store.Issuance) { bad.OfferID = "of-unknown" }, store.ErrNotFound},
		{"offer of the good half", func(bad *store.Issuance) { bad.OfferID = fmt.Sprintf("of-good-%d", n) }, store.ErrConflict},
		{"offer not valid text", func(bad *store.Issuance) { bad.OfferID = "of-\xff" }, store.ErrInvalid},
	} {
		n++
		// The good half completes its own redeemed offer and a pending approval.
		goodOffer := redeemedOffer(t, s, fmt.Sprintf("of-good-%d", n))
		ap := approval(fmt.Sprintf("ap-good-%d", n), base)
		must(t, "CreateApproval", s.CreateApproval(ctx, ap, entry("approval.create", ap.ID)))
		audited += 3
		good := issuance(t, s, cred(fmt.Sprintf("urn:c:good-%d", n), "MembershipCredential", "did:key:z6g", "", base))
		good.OfferID, good.ApprovalID = goodOffer.ID, ap.ID
		bad := issuance(t, s, cred(fmt.Sprintf("urn:c:bad-%d", n), "MembershipCredential", "did:key:z6b", "", base))
		c.bad(&bad)
		before := map[string]store.Offer{}
		for _, id := range []string{offered.ID, burned.ID, issued.ID, goodOffer.ID} {
			before[id] = offerState(t, s, id)
		}
		h := headOf(t, s)
		for _, batch := range [][]store.Issuance{{good, bad}, {bad, good}} {
			wantErr(t, c.name, s.CommitIssuance(ctx, batch), c.want)
			unchanged(t, s, h, c.name)
			for _, is := range batch {
				_, err := s.Credential(ctx, is.Credential.ID)
				wantErr(t, c.name+": credential of the failed batch", err, store.ErrNotFound)
			}
			for id, o := range before {
				sameOffer(t, c.name+": offer after the failed batch", offerState(t, s, id), o)
			}
			a, err := s.Approval(ctx, ap.ID)
			must(t, "Approval", err)
			if a.State != store.ApprovalPending || a.CredentialID != "" {
				t.Fatalf("%s: approval of the failed batch is %s with %q", c.name, a.State, a.CredentialID)
			}
		}
		// The good half can be stored on its own, completing its offer and approval.
		must(t, c.name+": the good half alone", s.CommitIssuance(ctx, []store.Issuance{good}))
		audited++
		if o := offerState(t, s, goodOffer.ID); o.State != store.OfferIssued || o.CredentialID != good.Credential.ID {
			t.Fatalf("%s: offer %+v, want issued with %s", c.name, o, good.Credential.ID)
		}
		if a, err := s.Approval(ctx, ap.ID); err != nil || a.State != store.ApprovalIssued || a.CredentialID != good.Credential.ID {
			t.Fatalf("%s: approval %+v, %v; want issued with %s", c.name, a, err, good.Credential.ID)
		}
	}
	if o := offerState(t, s, issued.ID); o.State != store.OfferIssued || o.CredentialID != done.Credential.ID {
		t.Fatalf("offer %+v, want issued with %s", o, done.Credential.ID)
	}
	verify(t, s, audited)
}

// outcome sorts concurrent results: the indexes that succeeded, and a failure for an
// error other than want.
func outcome(t *testing.T, what string, errs []error, want error) []int {
	t.Helper()
	var won []int
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, i)
		case !errors.Is(err, want):
			t.Fatalf("%s: caller %d: %v, want nil or %v", what, i, err, want)
		}
	}
	return won
}

func testOffersConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	other := sibling(t, s)
	pick := alternate(s, other)
	audited := int64(0)

	// One code, eight redemptions with different tokens: one wins.
	r := offer("of-redeem", base)
	must(t, "CreateOffer", s.CreateOffer(ctx, r))
	errs := parallel(8, func(i int) error {
		return pick(i).RedeemOffer(ctx, r.ID, tokenHash(fmt.Sprint("token:", i)), at(time.Hour), entry("offer.redeem", r.ID))
	})
	won := outcome(t, "concurrent RedeemOffer", errs, store.ErrConflict)
	if len(won) != 1 {
		t.Fatalf("%d redemptions of one code succeeded, want 1", len(won))
	}
	audited++
	if o := offerState(t, s, r.ID); o.State != store.OfferRedeemed || !bytes.Equal(o.TokenHash, tokenHash(fmt.Sprint("token:", won[0]))) {
		t.Fatalf("offer %+v, want redeemed with the winner's token", o)
	}
	for i := range 8 {
		_, err := s.OfferByToken(ctx, tokenHash(fmt.Sprint("token:", i)))
		if (err == nil) != (i == won[0]) {
			t.Fatalf("OfferByToken of caller %d's token: %v", i, err)
		}
	}

	// Twelve wrong codes at once against a maximum of five: five count, 1 to 5, and
	// the offer burns.
	f := offer("of-fail", base)
	must(t, "CreateOffer", s.CreateOffer(ctx, f))
	counts := make([]int, 12)
	errs = parallel(len(counts), func(i int) error {
		var err error
		counts[i], err = pick(i).FailOfferAttempt(ctx, f.ID, 5, entry("offer.attempt", f.ID))
		return err
	})
	won = outcome(t, "concurrent FailOfferAttempt", errs, store.ErrConflict)
	var got []int
	for _, i := range won {
		got = append(got, counts[i])
	}
	if slices.Sort(got); !slices.Equal(got, []int{1, 2, 3, 4, 5}) {
		t.Fatalf("counted attempts %v, want 1 to 5", got)
	}
	audited += 5
	if o := offerState(t, s, f.ID); o.State != store.OfferBurned || o.Attempts != 5 {
		t.Fatalf("offer %s with %d attempts, want burned with 5", o.State, o.Attempts)
	}

	// A redemption racing wrong codes (maximum 3): either it wins and fewer than 3
	// attempts count, or the offer burns and the redemption is refused.
	for round := range 4 {
		m := offer(fmt.Sprintf("of-mixed-%d", round), base)
		must(t, "CreateOffer", s.CreateOffer(ctx, m))
		counts := make([]int, 6)
		errs := parallel(len(counts), func(i int) error {
			if i == 0 {
				return pick(round).RedeemOffer(ctx, m.ID, tokenHash("token:"+m.ID), at(time.Hour), entry("offer.redeem", m.ID))
			}
			var err error
			counts[i], err = pick(i).FailOfferAttempt(ctx, m.ID, 3, entry("offer.attempt", m.ID))
			return err
		})
		won := outcome(t, "redemption racing wrong codes", errs, store.ErrConflict)
		redeemed := len(won) > 0 && won[0] == 0
		var got []int
		for _, i := range won {
			if i != 0 {
				got = append(got, counts[i])
			}
		}
		slices.Sort(got)
		o := offerState(t, s, m.ID)
		switch {
		case redeemed && (o.State != store.OfferRedeemed || len(got) >= 3):
			t.Fatalf("round %d: redeemed, but offer %s after %v attempts", round, o.State, got)
		case !redeemed && (o.State != store.OfferBurned || len(got) != 3):
			t.Fatalf("round %d: redemption refused, but offer %s after %v attempts", round, o.State, got)
		case o.Attempts != len(got) || (len(got) > 0 && !slices.Equal(got, []int{1, 2, 3}[:len(got)])):
			t.Fatalf("round %d: attempts counted %v, stored %d", round, got, o.Attempts)
		}
		audited += int64(len(won))
	}

	// Four credential requests completing one redeemed offer: one is stored.
	c := redeemedOffer(t, s, "of-issue")
	audited += 2
	batches := make([]store.Issuance, 4)
	for i := range batches {
		batches[i] = issuance(t, s, cred(fmt.Sprintf("urn:c:offer-race-%d", i), "MembershipCredential", "did:key:z6o", "", base))
		batches[i].OfferID = c.ID
	}
	errs = parallel(len(batches), func(i int) error { return pick(i).CommitIssuance(ctx, []store.Issuance{batches[i]}) })
	won = outcome(t, "concurrent CommitIssuance of one offer", errs, store.ErrConflict)
	if len(won) != 1 {
		t.Fatalf("%d issuances completed one offer, want 1", len(won))
	}
	audited++
	if o := offerState(t, s, c.ID); o.State != store.OfferIssued || o.CredentialID != batches[won[0]].Credential.ID {
		t.Fatalf("offer %+v, want issued with %s", o, batches[won[0]].Credential.ID)
	}
	for i, is := range batches {
		if _, err := s.Credential(ctx, is.Credential.ID); (err == nil) != (i == won[0]) {
			t.Fatalf("credential %d: %v", i, err)
		}
	}
	verify(t, s, audited)
	verify(t, other, audited)
}

func nonce(i int) []byte { return tokenHash(fmt.Sprint("nonce:", i)) }

func testNonces(t *testing.T, s store.Store) {
	ctx := t.Context()
	h := headOf(t, s)
	must(t, "CreateNonce", s.CreateNonce(ctx, nonce(1), at(5*time.Minute)))
	must(t, "CreateNonce", s.CreateNonce(ctx, nonce(2), at(5*time.Minute)))
	wantErr(t, "CreateNonce duplicate", s.CreateNonce(ctx, nonce(1), at(time.Hour)), store.ErrConflict)
	for name, c := range map[string]struct {
		hash    []byte
		expires time.Time
	}{
		"no hash":     {nil, at(time.Hour)},
		"empty hash":  {[]byte{}, at(time.Hour)},
		"short hash":  {nonce(3)[:31], at(time.Hour)},
		"long hash":   {append(nonce(3), 0), at(time.Hour)},
		"zero expiry": {nonce(3), time.Time{}},
		"year 10000":  {nonce(3), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		wantErr(t, "CreateNonce "+name, s.CreateNonce(ctx, c.hash, c.expires), store.ErrInvalid)
		wantErr(t, "ConsumeNonce "+name, s.ConsumeNonce(ctx, c.hash, c.expires), store.ErrInvalid)
	}
	wantErr(t, "ConsumeNonce of a nonce refused at creation", s.ConsumeNonce(ctx, nonce(3), base), store.ErrNotFound)
	wantErr(t, "ConsumeNonce unknown", s.ConsumeNonce(ctx, nonce(99), base), store.ErrNotFound)

	// Single use.
	must(t, "ConsumeNonce", s.ConsumeNonce(ctx, nonce(1), at(time.Minute)))
	wantErr(t, "ConsumeNonce twice", s.ConsumeNonce(ctx, nonce(1), at(time.Minute)), store.ErrNotFound)
	// Expiry: valid before expires, not at it or after.
	wantErr(t, "ConsumeNonce at its expiry", s.ConsumeNonce(ctx, nonce(2), at(5*time.Minute)), store.ErrNotFound)
	must(t, "CreateNonce", s.CreateNonce(ctx, nonce(4), at(5*time.Minute)))
	wantErr(t, "ConsumeNonce after its expiry", s.ConsumeNonce(ctx, nonce(4), at(6*time.Minute)), store.ErrNotFound)
	must(t, "CreateNonce", s.CreateNonce(ctx, nonce(5), at(5*time.Minute)))
	must(t, "ConsumeNonce a microsecond before its expiry", s.ConsumeNonce(ctx, nonce(5), at(5*time.Minute-time.Microsecond)))

	// Pruning expired nonces keeps the valid ones.
	const many = 60
	for i := range many {
		expires := at(time.Minute)
		if i%2 == 0 {
			expires = at(2 * time.Hour)
		}
		must(t, "CreateNonce", s.CreateNonce(ctx, nonce(100+i), expires))
	}
	wantErr(t, "ConsumeNonce unknown", s.ConsumeNonce(ctx, nonce(98), at(time.Hour)), store.ErrNotFound)
	for i := range many {
		err := s.ConsumeNonce(ctx, nonce(100+i), at(time.Hour))
		if i%2 == 0 {
			must(t, "ConsumeNonce of a valid nonce after pruning", err)
		} else {
			wantErr(t, "ConsumeNonce of an expired nonce", err, store.ErrNotFound)
		}
	}
	unchanged(t, s, h, "nonces")
}

func testNoncesConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	pick := alternate(s, sibling(t, s))
	const nonces, consumers, expired = 16, 8, 300
	for i := range nonces {
		must(t, "CreateNonce", s.CreateNonce(ctx, nonce(i), at(time.Hour)))
	}
	// Expired nonces give every consumer pruning to do at the same time.
	for i := range expired {
		must(t, "CreateNonce", s.CreateNonce(ctx, nonce(1000+i), at(time.Duration(i)*time.Millisecond)))
	}
	errs := parallel(nonces*consumers, func(i int) error {
		st := pick(i)
		return st.ConsumeNonce(ctx, nonce(i%nonces), at(time.Minute+time.Duration(i)*time.Microsecond))
	})
	wins := make([]int, nonces)
	for _, i := range outcome(t, "concurrent ConsumeNonce", errs, store.ErrNotFound) {
		wins[i%nonces]++
	}
	for i, w := range wins {
		if w != 1 {
			t.Fatalf("nonce %d consumed %d times, want exactly once", i, w)
		}
	}
	for i := range nonces {
		wantErr(t, "ConsumeNonce after the race", s.ConsumeNonce(ctx, nonce(i), at(time.Minute)), store.ErrNotFound)
	}
	// An expired nonce is refused under concurrency too.
	errs = parallel(8, func(i int) error {
		st := pick(i)
		return st.ConsumeNonce(ctx, nonce(1000+expired-1), at(time.Hour))
	})
	if won := outcome(t, "concurrent ConsumeNonce of an expired nonce", errs, store.ErrNotFound); len(won) != 0 {
		t.Fatalf("callers %v consumed an expired nonce", won)
	}
}
