package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/civitas-net/civitas/issuer/store"
)

// AppendAudit appends entries on their own, in one transaction.
func (s *Store) AppendAudit(ctx context.Context, entries ...store.AuditEntry) error {
	if err := store.ValidateAudit(entries); err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	if err := s.write(ctx, func(tx pgx.Tx) error { return appendAudit(ctx, tx, entries) }); err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	return nil
}

// AuditEntries returns entries with Seq > after in order, at most limit of them
// (store.PageLimit).
func (s *Store) AuditEntries(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	limit, err := store.PageLimit(limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit entries: %w", err)
	}
	if after < 0 {
		return nil, fmt.Errorf("postgres: audit entries: %w: negative sequence number", store.ErrInvalid)
	}
	rows, _ := s.pool.Query(ctx, `SELECT seq, at, actor, action, target, details, prev_hash, hash
		FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	es, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditEntry, error) {
		var e store.AuditEntry
		err := r.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.Target, &e.Details, &e.PrevHash, &e.Hash)
		e.At = e.At.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: audit entries: %w", err)
	}
	return nilIfEmpty(es), nil
}

// AuditHead returns the last entry's sequence number and hash (0 and "" when empty).
func (s *Store) AuditHead(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	if err := s.pool.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return 0, "", fmt.Errorf("postgres: audit head: %w", err)
	}
	return seq, hash, nil
}

// MonthlyCounts counts, per credential type and node, the credentials issued in
// [from, to) and the distinct credentials revoked and suspended in [from, to) (status
// events setting the bit). Rows are ordered by type, then node.
func (s *Store) MonthlyCounts(ctx context.Context, from, to time.Time) ([]store.Count, error) {
	if !store.ValidPeriod(from, to) {
		return nil, fmt.Errorf("postgres: monthly counts: %w: invalid period", store.ErrInvalid)
	}
	rows, _ := s.pool.Query(ctx, `
		SELECT type, node, COUNT(*), 0, 0 FROM credentials
		WHERE issued_at >= $1 AND issued_at < $2 GROUP BY type, node
		UNION ALL
		SELECT c.type, c.node, 0,
			COUNT(DISTINCT e.credential_id) FILTER (WHERE e.purpose = 'revocation'),
			COUNT(DISTINCT e.credential_id) FILTER (WHERE e.purpose = 'suspension')
		FROM status_events e JOIN credentials c ON c.id = e.credential_id
		WHERE e.value AND e.at >= $1 AND e.at < $2 GROUP BY c.type, c.node`, ts(from), ts(to))
	counts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Count, error) {
		var c store.Count
		err := r.Scan(&c.Type, &c.Node, &c.Issued, &c.Revoked, &c.Suspended)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: monthly counts: %w", err)
	}
	return store.SumCounts(counts), nil
}
