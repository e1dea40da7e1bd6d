package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/civitas-net/civitas/issuer/store"
)

// busyTimeout is how long a connection waits for a lock held by another connection
// (another process, or a checkpoint) before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Store is the SQLite implementation of store.Store. It is safe for concurrent use.
type Store struct {
	w   *sql.DB // exactly one connection: every write transaction, BEGIN IMMEDIATE
	r   *sql.DB // read-only connections (query_only)
	now func() time.Time
}

var _ store.Store = (*Store)(nil)

// Option configures Open.
type Option func(*Store)

// WithClock sets the clock the store reads for the times it picks itself: the creation
// time of a status list made by ReserveSlots and the time a migration is applied.
// Everything else is timed by the caller. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// Open opens the database file at path, creating it (mode 0600) if it does not exist.
// Call Migrate before anything else on a new file.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: database path: %w", err)
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: open database file: %w", err)
	}
	s := &Store{now: time.Now}
	for _, o := range opts {
		o(s)
	}
	timeout := fmt.Sprint(busyTimeout.Milliseconds())
	s.w, err = sql.Open("sqlite", dsn(abs, url.Values{
		"_busy_timeout": {timeout},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_foreign_keys": {"1"},
		"_txlock":       {"immediate"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	if mode != "wal" {
		s.w.Close()
		return nil, fmt.Errorf("sqlite: open: journal mode is %q, want wal", mode)
	}
	s.r, err = sql.Open("sqlite", dsn(abs, url.Values{
		"_busy_timeout": {timeout},
		"_foreign_keys": {"1"},
		"_query_only":   {"1"},
	}))
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(readers)
	s.r.SetMaxIdleConns(readers)
	if err := s.r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	return s, nil
}

func dsn(path string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// Close closes the read pool and then the write connection (which checkpoints the
// write-ahead log).
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Ping reports whether both connection pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Migrate applies the pending migrations, each in its own BEGIN IMMEDIATE
// transaction that first reads the applied version, so concurrent callers (also in
// other processes) apply each migration once.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrate(ctx, len(migrations))
}

// migrate brings the schema to version upto (tests stop short of the latest to
// check upgrades).
func (s *Store) migrate(ctx context.Context, upto int) error {
	for i, m := range migrations[:upto] {
		version := i + 1
		err := s.write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`); err != nil {
				return err
			}
			var cur int
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
				return err
			}
			if cur > len(migrations) {
				return fmt.Errorf("database schema version %d is newer than this program's %d", cur, len(migrations))
			}
			if cur >= version {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, s.now().UnixMicro())
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: migration %d: %w", version, err)
		}
	}
	return nil
}

// write runs fn in a write transaction (BEGIN IMMEDIATE on the single write
// connection) and commits it, or rolls it back when fn fails.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// read runs fn in a read transaction: one snapshot of the database.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// appendAudit chains entries to the head and writes them with the new head, inside
// the write transaction tx. The caller's entries are not modified.
func appendAudit(ctx context.Context, tx *sql.Tx, entries []store.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	entries = slices.Clone(entries)
	var seq int64
	var hash string
	if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	seq, hash = store.Chain(entries, seq, hash)
	ins, err := tx.PrepareContext(ctx, `INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for _, e := range entries {
		if _, err := ins.ExecContext(ctx, e.Seq, e.At.UnixMicro(), e.Actor, e.Action, e.Target, e.Details, e.PrevHash, e.Hash); err != nil {
			return fmt.Errorf("audit entry %d: %w", e.Seq, mapErr(err))
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, seq, hash); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	return nil
}

// mapErr turns constraint violations into store.ErrConflict and a missing row into
// store.ErrNotFound, keeping the driver error in the chain.
func mapErr(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
	}
	return err
}

// micros is how times are stored: unix microseconds, UTC.
func micros(t time.Time) int64 { return t.UnixMicro() }

// nullMicros stores the zero time as NULL.
func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// blob keeps a nil slice from being written as NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
