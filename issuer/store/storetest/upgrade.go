package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

// LatestSchema is the schema version Upgrade expects Migrate to reach: 3 added
// offers and nonces, 4 nodes and check-ins. A new migration extends Upgrade.
const LatestSchema = 4

// Upgrade checks an upgrade of an older database. s is a new store whose schema the
// caller has brought to version from (2 or 3) and no further; version reads the
// schema version the database records. Upgrade writes data of version from, checks
// that the tables of version from+1 are missing, calls Migrate, and checks that
// version reports LatestSchema, that the data is still there and that the features
// of the newer versions work.
func Upgrade(t *testing.T, s store.Store, from int, version func(ctx context.Context) (int, error)) {
	t.Helper()
	ctx := t.Context()
	code := tokenHash("code")
	o := store.Offer{ID: "of-1", CodeHash: code, Type: "MembershipCredential", Format: "jwt_vc_json", Subject: "did:key:z6old",
		Request: []byte("{}"), CreatedBy: "tok", CreatedAt: base, ExpiresAt: at(time.Minute)}
	var err error
	switch from {
	case 2:
		must(t, "CreateMember", s.CreateMember(ctx, store.Member{DID: "did:key:z6old", CreatedAt: base}, entry("member.create", "did:key:z6old")))
		_, err = s.Offers(ctx, "", 0)
	case 3:
		must(t, "CreateOffer", s.CreateOffer(ctx, o, entry("offer.create", o.ID)))
		_, err = s.Nodes(ctx)
	default:
		t.Fatalf("Upgrade from schema version %d: only 2 and 3 are known", from)
	}
	if err == nil {
		t.Fatalf("a version %d database has the tables of version %d", from, from+1)
	}

	must(t, "Migrate", s.Migrate(ctx))
	if v, err := version(ctx); err != nil || v != LatestSchema {
		t.Fatalf("schema version %d, %v; want %d", v, err, LatestSchema)
	}
	audited := int64(1)
	if from == 2 {
		_, err := s.Member(ctx, "did:key:z6old")
		must(t, "member written before the upgrade", err)
		must(t, "CreateOffer", s.CreateOffer(ctx, o, entry("offer.create", o.ID)))
		audited++
		must(t, "CreateNonce", s.CreateNonce(ctx, code, at(time.Minute)))
		must(t, "ConsumeNonce", s.ConsumeNonce(ctx, code, base))
	} else {
		_, err := s.Offer(ctx, o.ID)
		must(t, "offer written before the upgrade", err)
		n := store.Node{ID: "lisbon", Name: "Lisbon", EnrollCodeHash: code, CreatedAt: base, CreatedBy: "tok"}
		must(t, "CreateNode", s.CreateNode(ctx, n, entry("node.create", n.ID)))
		must(t, "EnrollNode", s.EnrollNode(ctx, n.ID, "did:key:z6node", code, base, entry("node.enroll", n.ID)))
		e := store.CheckIn{NodeID: n.ID, Seq: 1, At: base, Type: "MembershipCredential", SubjectRef: "ref", Decision: store.DecisionAdmitted,
			Hash: "00ff", Signature: "sig", ReceivedAt: base}
		upload(t, s, n.ID, []store.CheckIn{e}, time.Hour, 1)
		if seq, hash := last(t, s, n.ID); seq != 1 || hash != "00ff" {
			t.Fatalf("LastCheckIn = %d %q, want 1 and the entry's hash", seq, hash)
		}
		audited += 3
	}
	verify(t, s, audited)
}

// Clock checks that a store made with a clock reading now takes the creation time
// of a new status list from it. s is a new store on a new database.
func Clock(t *testing.T, s store.Store, now time.Time) {
	t.Helper()
	ctx := t.Context()
	must(t, "Migrate", s.Migrate(ctx))
	slots, err := s.ReserveSlots(ctx, store.PurposeSuspension, 1, 8)
	must(t, "ReserveSlots", err)
	l, _, err := s.StatusList(ctx, slots[0].ListID)
	must(t, "StatusList", err)
	if !l.CreatedAt.Equal(norm(now)) {
		t.Fatalf("list %+v; want created at %v", l, norm(now))
	}
}
