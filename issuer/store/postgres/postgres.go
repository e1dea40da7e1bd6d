package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civitas-net/civitas/issuer/store"
)

// Store is the PostgreSQL implementation of store.Store. It is safe for concurrent
// use, also by several processes on one database.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

var _ store.Store = (*Store)(nil)

// Option configures Open and OpenConfig.
type Option func(*Store)

// WithClock sets the clock the store reads for the times it picks itself: the creation
// time of a status list made by ReserveSlots and the time a migration is applied.
// Everything else is timed by the caller. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// Open connects to the database named by dsn (a postgres:// URL or key=value
// string, as pgx accepts) and checks that it answers. Call Migrate before anything
// else on a new database.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: connection string: %w", err)
	}
	return OpenConfig(ctx, cfg, opts...)
}

// OpenConfig is Open with a parsed pool configuration, for settings a connection
// string does not carry (for example a search_path in cfg.ConnConfig.RuntimeParams).
func OpenConfig(ctx context.Context, cfg *pgxpool.Config, opts ...Option) (*Store, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s := &Store{pool: pool, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// migrateLock is the first key of the advisory lock around migrations; the second
// is the hash of the current schema, so deployments in different schemas do not wait
// for each other.
const migrateLock = 0x63697669 // "civi"

// Migrate applies the pending migrations, each in its own transaction that first
// takes the schema's migration lock (pg_advisory_xact_lock) and then reads the
// applied version, so concurrent callers in several processes apply each migration
// exactly once.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrate(ctx, len(migrations))
}

// migrate brings the schema to version upto (tests stop short of the latest to
// check upgrades).
func (s *Store) migrate(ctx context.Context, upto int) error {
	for i, m := range migrations[:upto] {
		version := i + 1
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, int32(migrateLock)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
				return err
			}
			var cur int
			if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
				return err
			}
			if cur > len(migrations) {
				return fmt.Errorf("database schema version %d is newer than this program's %d", cur, len(migrations))
			}
			if cur >= version {
				return nil
			}
			if _, err := tx.Exec(ctx, m); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, version, s.now())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %d: %w", version, err)
		}
	}
	return nil
}

// write runs fn in a READ COMMITTED transaction and commits it, or rolls it back when
// fn fails.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// read runs fn in a read-only REPEATABLE READ transaction: one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// appendAudit chains entries to the head and writes them with the new head, inside
// tx. It locks the head row, and must be the last lock its transaction takes, so that
// transactions waiting for the head hold nothing another appender needs. The caller's
// entries are not modified.
func appendAudit(ctx context.Context, tx pgx.Tx, entries []store.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	entries = slices.Clone(entries)
	var seq int64
	var hash string
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&seq, &hash); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	seq, hash = store.Chain(entries, seq, hash)
	n := len(entries)
	seqs, ats := make([]int64, n), make([]time.Time, n)
	actors, actions, targets := make([]string, n), make([]string, n), make([]string, n)
	details, prevs, hashes := make([][]byte, n), make([]string, n), make([]string, n)
	for i, e := range entries {
		seqs[i], ats[i], actors[i], actions[i], targets[i] = e.Seq, e.At, e.Actor, e.Action, e.Target
		details[i], prevs[i], hashes[i] = e.Details, e.PrevHash, e.Hash
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash)
		SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::text[], $8::text[])`,
		seqs, ats, actors, actions, targets, details, prevs, hashes)
	b.Queue(`UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, seq, hash)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("audit entries: %w", mapErr(err))
	}
	return nil
}

// mapErr turns unique and foreign key violations and broken deadlocks into
// store.ErrConflict, text the database cannot hold into store.ErrInvalid, and a
// missing row into store.ErrNotFound, keeping the driver error in the chain.
func mapErr(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505", "23503", "40P01": // unique_violation, foreign_key_violation, deadlock_detected
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case "22021", "22P05": // character_not_in_repertoire, untranslatable_character
			return fmt.Errorf("%w: %w", store.ErrInvalid, err)
		}
	}
	return err
}

// existsOr explains a conditional update that changed nothing: store.ErrConflict
// (with why) when the row exists, store.ErrNotFound when it does not.
func existsOr(ctx context.Context, tx pgx.Tx, query, id, why string) error {
	var one int
	err := tx.QueryRow(ctx, query, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", store.ErrConflict, why)
}

// ts is how a time is written: UTC, microseconds (the server drops the rest).
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nullTS writes the zero time as NULL.
func nullTS(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := ts(t)
	return &u
}

func fromNullTS(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// blob keeps a nil slice from being written as NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// randomIndexes draws k distinct indexes in [0, size) that are not in skip.
func randomIndexes(k, size int, skip map[int32]bool) []int32 {
	out := make([]int32, 0, k)
	seen := make(map[int32]bool, k)
	for len(out) < k {
		i := int32(store.RandomIndex(size))
		if !seen[i] && !skip[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out
}
