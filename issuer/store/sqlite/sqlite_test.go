package sqlite

import (
	"context"
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
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "c.db"), WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.Clock(t, s, t0)
}

// TestMigrateFrom upgrades databases of schema versions 2 and 3: their data stays,
// and the features of the later versions work afterwards.
func TestMigrateFrom(t *testing.T) {
	if len(migrations) != storetest.LatestSchema {
		t.Fatalf("%d migrations, but storetest.Upgrade knows %d schema versions", len(migrations), storetest.LatestSchema)
	}
	for _, from := range []int{2, 3} {
		t.Run(fmt.Sprint("version ", from), func(t *testing.T) {
			s := newTestStore(t)
			if err := s.migrate(t.Context(), from); err != nil {
				t.Fatal(err)
			}
			storetest.Upgrade(t, s, from, func(ctx context.Context) (int, error) {
				var version int
				err := s.r.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&version)
				return version, err
			})
		})
	}
}
