package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/issuer/store/storetest"
)

// envDSN names the environment variable holding the test database's URL.
const envDSN = "CIVITAS_TEST_POSTGRES"

func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(envDSN)
	if dsn == "" {
		msg := envDSN + " is not set; set it to a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run the PostgreSQL store tests"
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return dsn
}

// testStore is a Store with the suite's test-only abilities.
type testStore struct {
	*Store
	cfg *pgxpool.Config
}

// TamperAuditDetails implements storetest.Tamperer.
func (s testStore) TamperAuditDetails(ctx context.Context, seq int64, details []byte) error {
	return execOne(s.pool.Exec(ctx, `UPDATE audit_log SET details = $1 WHERE seq = $2`, details, seq))
}

// DeleteAudit implements storetest.Tamperer.
func (s testStore) DeleteAudit(ctx context.Context, seq int64) error {
	return execOne(s.pool.Exec(ctx, `DELETE FROM audit_log WHERE seq = $1`, seq))
}

func execOne(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("%d rows changed, want 1", tag.RowsAffected())
	}
	return nil
}

// OpenSibling implements storetest.Sibling: a second Store, with its own pool, on the
// same schema, as a second issuer process would have.
func (s testStore) OpenSibling(t *testing.T) store.Store {
	return testStore{openTest(t, s.cfg), s.cfg}
}

func openTest(tb testing.TB, cfg *pgxpool.Config) *Store {
	tb.Helper()
	s, err := OpenConfig(tb.Context(), cfg.Copy())
	if err != nil {
		tb.Fatalf("OpenConfig: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// newSchema creates a schema with a random name, dropped when the test ends, and
// returns a pool configuration whose connections work in it.
func newSchema(tb testing.TB) *pgxpool.Config {
	tb.Helper()
	dsn := testDSN(tb)
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "civitas_test_" + hex.EncodeToString(b[:])
	admin := func(format string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, fmt.Sprintf(format, pgx.Identifier{name}.Sanitize()))
		return err
	}
	if err := admin("CREATE SCHEMA %s"); err != nil {
		tb.Fatalf("create test schema: %v", err)
	}
	tb.Cleanup(func() {
		if err := admin("DROP SCHEMA IF EXISTS %s CASCADE"); err != nil {
			tb.Errorf("drop test schema: %v", err)
		}
	})
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		tb.Fatalf("%s: %v", envDSN, err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = name
	return cfg
}

func newTestStore(tb testing.TB) testStore {
	cfg := newSchema(tb)
	return testStore{openTest(tb, cfg), cfg}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newTestStore(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(tb testing.TB) store.Store { return newTestStore(tb) })
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err == nil {
		t.Fatal("Migrate accepted a database from a newer program")
	}
}

// TestSchemaIsolation checks that two schemas are two independent stores.
func TestSchemaIsolation(t *testing.T) {
	ctx := t.Context()
	a, b := newTestStore(t), newTestStore(t)
	for _, s := range []testStore{a, b} {
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.AppendAudit(ctx, store.AuditEntry{At: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Actor: "system", Action: "start"}); err != nil {
		t.Fatal(err)
	}
	if seq, _, err := b.AuditHead(ctx); err != nil || seq != 0 {
		t.Fatalf("the other schema's head is %d, %v", seq, err)
	}
}

// TestOpenErrors checks that a failed Open says why without showing the password.
func TestOpenErrors(t *testing.T) {
	for _, dsn := range []string{
		"postgres://civitas:s3cretpw@127.0.0.1:1/db?connect_timeout=2&sslmode=disable",
		"postgres://civitas:s3cretpw@127.0.0.1:notaport/db",
		"host=127.0.0.1 port=1 user=civitas password=s3cretpw connect_timeout=2 sslmode=disable",
	} {
		s, err := Open(t.Context(), dsn)
		if err == nil {
			s.Close()
			t.Fatalf("Open(%q) succeeded", dsn)
		}
		if strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
}

// TestClock checks that new status lists take their creation time from the clock.
func TestClock(t *testing.T) {
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	s, err := OpenConfig(ctx, newSchema(t), WithClock(func() time.Time { return t0 }))
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
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	entry := func(action string) store.AuditEntry { return store.AuditEntry{At: t0, Actor: "system", Action: action} }
	s := newTestStore(t)
	if err := s.migrate(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMember(ctx, store.Member{DID: "did:key:z6old", CreatedAt: t0}, entry("member.create")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Offers(ctx, "", 0); err == nil {
		t.Fatal("a version 2 database lists offers")
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var version int
	if err := s.pool.QueryRow(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil || version != len(migrations) {
		t.Fatalf("schema version %d, %v; want %d", version, err, len(migrations))
	}
	if _, err := s.Member(ctx, "did:key:z6old"); err != nil {
		t.Fatalf("member written before the upgrade: %v", err)
	}
	code := sha256.Sum256([]byte("code"))
	o := store.Offer{ID: "of-1", CodeHash: code[:], Type: "MembershipCredential", Format: "jwt_vc_json", Subject: "did:key:z6old",
		Request: []byte("{}"), CreatedBy: "tok", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	if err := s.CreateOffer(ctx, o, entry("offer.create")); err != nil {
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
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	entry := func(action string) store.AuditEntry { return store.AuditEntry{At: t0, Actor: "system", Action: action} }
	s := newTestStore(t)
	if err := s.migrate(ctx, 3); err != nil {
		t.Fatal(err)
	}
	code := sha256.Sum256([]byte("code"))
	o := store.Offer{ID: "of-1", CodeHash: code[:], Type: "MembershipCredential", Format: "jwt_vc_json", Subject: "did:key:z6old",
		Request: []byte("{}"), CreatedBy: "tok", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	if err := s.CreateOffer(ctx, o, entry("offer.create")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Nodes(ctx); err == nil {
		t.Fatal("a version 3 database lists nodes")
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var version int
	if err := s.pool.QueryRow(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil || version != len(migrations) || version != 4 {
		t.Fatalf("schema version %d, %v; want 4", version, err)
	}
	if _, err := s.Offer(ctx, o.ID); err != nil {
		t.Fatalf("offer written before the upgrade: %v", err)
	}
	n := store.Node{ID: "lisbon", Name: "Lisbon", EnrollCodeHash: code[:], CreatedAt: t0, CreatedBy: "tok"}
	if err := s.CreateNode(ctx, n, entry("node.create")); err != nil {
		t.Fatal(err)
	}
	if err := s.EnrollNode(ctx, n.ID, "did:key:z6node", code[:], t0, entry("node.enroll")); err != nil {
		t.Fatal(err)
	}
	e := store.CheckIn{NodeID: n.ID, Seq: 1, At: t0, Type: "MembershipCredential", SubjectRef: "ref", Decision: store.DecisionAdmitted,
		Hash: "00ff", Signature: "sig", ReceivedAt: t0}
	if stored, _, err := s.AddCheckIns(ctx, n.ID, []store.CheckIn{e}, time.Hour, entry("checkin.sync")); err != nil || stored != 1 {
		t.Fatalf("AddCheckIns = %d, %v", stored, err)
	}
	if seq, hash, err := s.LastCheckIn(ctx, n.ID); err != nil || seq != 1 || hash != "00ff" {
		t.Fatalf("LastCheckIn = %d %q, %v", seq, hash, err)
	}
	if n, _, err := store.VerifyChain(ctx, s); err != nil || n != 4 {
		t.Fatalf("VerifyChain = %d, %v", n, err)
	}
}
