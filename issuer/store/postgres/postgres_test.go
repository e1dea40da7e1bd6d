package postgres

import (
	"context"
	"crypto/rand"
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
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	s, err := OpenConfig(t.Context(), newSchema(t), WithClock(func() time.Time { return t0 }))
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
				err := s.pool.QueryRow(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&version)
				return version, err
			})
		})
	}
}
