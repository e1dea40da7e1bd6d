package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/issuer/store/storetest"
)

// testStore is a Store with the suite's test-only abilities.
type testStore struct {
	*Store
	path string
}

// TamperAuditDetails implements storetest.Tamperer.
func (s testStore) TamperAuditDetails(ctx context.Context, seq int64, details []byte) error {
	return execOne(s.w.ExecContext(ctx, `UPDATE audit_log SET details = ? WHERE seq = ?`, details, seq))
}

// DeleteAudit implements storetest.Tamperer.
func (s testStore) DeleteAudit(ctx context.Context, seq int64) error {
	return execOne(s.w.ExecContext(ctx, `DELETE FROM audit_log WHERE seq = ?`, seq))
}

func execOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%d rows changed (%v), want 1", n, err)
	}
	return nil
}

// OpenSibling implements storetest.Sibling: a second Store on the same file.
func (s testStore) OpenSibling(t *testing.T) store.Store {
	return testStore{openTest(t, s.path), s.path}
}

func openTest(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func newTestStore(tb testing.TB) testStore {
	path := filepath.Join(tb.TempDir(), "civitas.db")
	return testStore{openTest(tb, path), path}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newTestStore(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(tb testing.TB) store.Store { return newTestStore(tb) })
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

func audit(action string) store.AuditEntry {
	return store.AuditEntry{At: t0, Actor: "system", Action: action, Target: "t"}
}

// TestReopen writes through one Store, closes it, and reads everything back through
// a new one: acknowledged writes are in the file.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "civitas.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InitSetting(ctx, "issuer.did", "did:web:example.org"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMember(ctx, store.Member{DID: "did:key:z6a", Name: "A", CreatedAt: t0, CreatedBy: "tok"}, audit("member.create")); err != nil {
		t.Fatal(err)
	}
	slots, err := s.ReserveSlots(ctx, store.PurposeRevocation, 1, 1024)
	if err != nil {
		t.Fatal(err)
	}
	c := store.CredentialRecord{ID: "urn:c:1", Type: "MembershipCredential", Subject: "did:key:z6a", Format: "vc+jwt",
		IssuedAt: t0, IssuedBy: "tok", Body: []byte("header.payload.signature")}
	if err := s.CommitIssuance(ctx, []store.Issuance{{Credential: c, Slots: slots, Audit: []store.AuditEntry{audit("credential.issue")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetStatus(ctx, store.StatusChange{CredentialID: c.ID, Purpose: store.PurposeRevocation, Value: true, Reason: "r", Actor: "tok", At: t0},
		audit("credential.revoke")); err != nil {
		t.Fatal(err)
	}
	seq, hash, err := s.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("write-ahead log left after Close (checkpoint missing): %v", err)
	}

	s2 := openTest(t, path)
	if err := s2.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := s2.Setting(ctx, "issuer.did"); err != nil || v != "did:web:example.org" {
		t.Fatalf("Setting = %q, %v", v, err)
	}
	if m, err := s2.Member(ctx, "did:key:z6a"); err != nil || !m.CreatedAt.Equal(t0.Truncate(time.Microsecond)) {
		t.Fatalf("Member = %+v, %v", m, err)
	}
	got, err := s2.Credential(ctx, c.ID)
	if err != nil || !got.Revoked || string(got.Body) != string(c.Body) || len(got.Slots) != 1 || got.Slots[0] != slots[0] {
		t.Fatalf("Credential = %+v, %v", got, err)
	}
	l, set, err := s2.StatusList(ctx, slots[0].ListID)
	if err != nil || l.Version != 1 || l.Used != 1 || len(set) != 1 || set[0] != slots[0].Index {
		t.Fatalf("StatusList = %+v %v, %v", l, set, err)
	}
	seq2, hash2, err := s2.AuditHead(ctx)
	if err != nil || seq2 != seq || hash2 != hash {
		t.Fatalf("AuditHead after reopen = %d %s, %v; want %d %s", seq2, hash2, err, seq, hash)
	}
	if n, _, err := store.VerifyChain(ctx, s2); err != nil || n != 3 {
		t.Fatalf("VerifyChain = %d, %v", n, err)
	}
}

// TestPragmas checks the connection settings durability and isolation rest on.
func TestPragmas(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		db     *sql.DB
		pragma string
		want   string
	}{
		{s.w, "journal_mode", "wal"},
		{s.w, "synchronous", "2"}, // FULL
		{s.w, "foreign_keys", "1"},
		{s.w, "busy_timeout", "10000"},
		{s.w, "query_only", "0"},
		{s.r, "journal_mode", "wal"},
		{s.r, "busy_timeout", "10000"},
		{s.r, "query_only", "1"},
	} {
		var got string
		if err := c.db.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", c.pragma, err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %s, want %s", c.pragma, got, c.want)
		}
	}
	if st := s.w.Stats(); st.MaxOpenConnections != 1 {
		t.Errorf("write pool allows %d connections, want 1", st.MaxOpenConnections)
	}
	if _, err := s.r.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('x', 'y')`); err == nil {
		t.Error("the read pool accepted a write")
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestWriteTxIsImmediate checks that a write transaction takes the write lock when it
// begins (BEGIN IMMEDIATE), before its first write: another connection cannot start
// a write transaction meanwhile.
func TestWriteTxIsImmediate(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", dsn(s.path, url.Values{"_busy_timeout": {"0"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	if err == nil {
		t.Fatal("a second writer began while a write transaction of the store was open")
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("BEGIN IMMEDIATE after the store's rollback: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err == nil {
		t.Fatal("Migrate accepted a database from a newer program")
	}
}

func TestOpenErrors(t *testing.T) {
	for _, path := range []string{"", filepath.Join(t.TempDir(), "missing", "dir", "civitas.db")} {
		if s, err := Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

// TestClock checks that new status lists take their creation time from the clock.
func TestClock(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"), WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	slots, err := s.ReserveSlots(ctx, store.PurposeSuspension, 1, 8)
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := s.StatusList(ctx, slots[0].ListID)
	if err != nil || !l.CreatedAt.Equal(t0.Truncate(time.Microsecond)) {
		t.Fatalf("list %+v, %v; want created at %v", l, err, t0)
	}
}

// TestMigrateFromVersion2 upgrades a database of schema version 2: its data stays,
// and the offers and nonces of version 3 work afterwards.
func TestMigrateFromVersion2(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	if err := s.migrate(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMember(ctx, store.Member{DID: "did:key:z6old", CreatedAt: t0}, audit("member.create")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Offers(ctx, "", 0); err == nil {
		t.Fatal("a version 2 database lists offers")
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var version int
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil || version != len(migrations) {
		t.Fatalf("schema version %d, %v; want %d", version, err, len(migrations))
	}
	if _, err := s.Member(ctx, "did:key:z6old"); err != nil {
		t.Fatalf("member written before the upgrade: %v", err)
	}
	code := sha256.Sum256([]byte("code"))
	o := store.Offer{ID: "of-1", CodeHash: code[:], Type: "MembershipCredential", Format: "jwt_vc_json", Subject: "did:key:z6old",
		Request: []byte("{}"), CreatedBy: "tok", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	if err := s.CreateOffer(ctx, o, audit("offer.create")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateNonce(ctx, code[:], t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.ConsumeNonce(ctx, code[:], t0); err != nil {
		t.Fatal(err)
	}
	if n, _, err := store.VerifyChain(ctx, s); err != nil || n != 2 {
		t.Fatalf("VerifyChain = %d, %v", n, err)
	}
}

// TestMigrateFromVersion3 upgrades a database of schema version 3: its data stays,
// and the nodes and check-ins of version 4 work afterwards.
func TestMigrateFromVersion3(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	if err := s.migrate(ctx, 3); err != nil {
		t.Fatal(err)
	}
	code := sha256.Sum256([]byte("code"))
	o := store.Offer{ID: "of-1", CodeHash: code[:], Type: "MembershipCredential", Format: "jwt_vc_json", Subject: "did:key:z6old",
		Request: []byte("{}"), CreatedBy: "tok", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	if err := s.CreateOffer(ctx, o, audit("offer.create")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Nodes(ctx); err == nil {
		t.Fatal("a version 3 database lists nodes")
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var version int
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil || version != len(migrations) || version != 4 {
		t.Fatalf("schema version %d, %v; want 4", version, err)
	}
	if _, err := s.Offer(ctx, o.ID); err != nil {
		t.Fatalf("offer written before the upgrade: %v", err)
	}
	n := store.Node{ID: "lisbon", Name: "Lisbon", EnrollCodeHash: code[:], CreatedAt: t0, CreatedBy: "tok"}
	if err := s.CreateNode(ctx, n, audit("node.create")); err != nil {
		t.Fatal(err)
	}
	if err := s.EnrollNode(ctx, n.ID, "did:key:z6node", code[:], t0, audit("node.enroll")); err != nil {
		t.Fatal(err)
	}
	e := store.CheckIn{NodeID: n.ID, Seq: 1, At: t0, Type: "MembershipCredential", SubjectRef: "ref", Decision: store.DecisionAdmitted,
		Hash: "00ff", Signature: "sig", ReceivedAt: t0}
	if stored, _, err := s.AddCheckIns(ctx, n.ID, []store.CheckIn{e}, time.Hour, audit("checkin.sync")); err != nil || stored != 1 {
		t.Fatalf("AddCheckIns = %d, %v", stored, err)
	}
	if seq, hash, err := s.LastCheckIn(ctx, n.ID); err != nil || seq != 1 || hash != "00ff" {
		t.Fatalf("LastCheckIn = %d %q, %v", seq, hash, err)
	}
	if n, _, err := store.VerifyChain(ctx, s); err != nil || n != 4 {
		t.Fatalf("VerifyChain = %d, %v", n, err)
	}
}
