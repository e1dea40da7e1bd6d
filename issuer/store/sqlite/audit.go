package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

// AppendAudit appends entries on their own, in one transaction.
func (s *Store) AppendAudit(ctx context.Context, entries ...store.AuditEntry) error {
	if err := store.ValidateAudit(entries); err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	if err := s.write(ctx, func(tx *sql.Tx) error { return appendAudit(ctx, tx, entries) }); err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	return nil
}

// AuditEntries returns entries with Seq > after in order, at most limit of them
// (store.PageLimit).
func (s *Store) AuditEntries(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	limit, err := store.PageLimit(limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit entries: %w", err)
	}
	if after < 0 {
		return nil, fmt.Errorf("sqlite: audit entries: %w: negative sequence number", store.ErrInvalid)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, at, actor, action, target, details, prev_hash, hash
		FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit entries: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Target, &e.Details, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("sqlite: audit entries: %w", err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: audit entries: %w", err)
	}
	return out, nil
}

// AuditHead returns the last entry's sequence number and hash (0 and "" when empty).
func (s *Store) AuditHead(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	if err := s.r.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return 0, "", fmt.Errorf("sqlite: audit head: %w", err)
	}
	return seq, hash, nil
}

// MonthlyCounts counts, per credential type and node, the credentials issued in
// [from, to) and the distinct credentials revoked and suspended in [from, to) (status
// events setting the bit). Rows are ordered by type, then node.
func (s *Store) MonthlyCounts(ctx context.Context, from, to time.Time) ([]store.Count, error) {
	if !store.ValidPeriod(from, to) {
		return nil, fmt.Errorf("sqlite: monthly counts: %w: invalid period", store.ErrInvalid)
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT type, node, COUNT(*), 0, 0 FROM credentials
		WHERE issued_at >= ?1 AND issued_at < ?2 GROUP BY type, node
		UNION ALL
		SELECT c.type, c.node, 0,
			COUNT(DISTINCT CASE WHEN e.purpose = 'revocation' THEN e.credential_id END),
			COUNT(DISTINCT CASE WHEN e.purpose = 'suspension' THEN e.credential_id END)
		FROM status_events e JOIN credentials c ON c.id = e.credential_id
		WHERE e.value = 1 AND e.at >= ?1 AND e.at < ?2 GROUP BY c.type, c.node`, micros(from), micros(to))
	if err != nil {
		return nil, fmt.Errorf("sqlite: monthly counts: %w", err)
	}
	defer rows.Close()
	var counts []store.Count
	for rows.Next() {
		var c store.Count
		if err := rows.Scan(&c.Type, &c.Node, &c.Issued, &c.Revoked, &c.Suspended); err != nil {
			return nil, fmt.Errorf("sqlite: monthly counts: %w", err)
		}
		counts = append(counts, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: monthly counts: %w", err)
	}
	return store.SumCounts(counts), nil
}
