package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

// CreateNode registers a node, not yet enrolled; a duplicate ID is
// store.ErrConflict.
func (s *Store) CreateNode(ctx context.Context, n store.Node, audit ...store.AuditEntry) error {
	if err := n.Validate(); err != nil {
		return fmt.Errorf("sqlite: create node: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("sqlite: create node: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO nodes (id, name, enroll_code_hash, created_at, created_by)
			VALUES (?, ?, ?, ?, ?)`, n.ID, n.Name, n.EnrollCodeHash, micros(n.CreatedAt), n.CreatedBy); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("sqlite: create node %q: %w", n.ID, err)
	}
	return nil
}

const nodeColumns = `id, name, did, enroll_code_hash, created_at, enrolled_at, created_by`

func scanNode(sc interface{ Scan(...any) error }) (store.Node, error) {
	var n store.Node
	var did sql.NullString
	var created int64
	var enrolled sql.NullInt64
	err := sc.Scan(&n.ID, &n.Name, &did, &n.EnrollCodeHash, &created, &enrolled, &n.CreatedBy)
	n.DID, n.CreatedAt, n.EnrolledAt = did.String, fromMicros(created), fromNullMicros(enrolled)
	return n, err
}

// Node returns a node by ID.
func (s *Store) Node(ctx context.Context, id string) (store.Node, error) {
	if id == "" || !store.ValidText(id) {
		return store.Node{}, fmt.Errorf("sqlite: node: %w: empty ID or not valid text", store.ErrInvalid)
	}
	n, err := scanNode(s.r.QueryRowContext(ctx, `SELECT `+nodeColumns+` FROM nodes WHERE id = ?`, id))
	if err != nil {
		return store.Node{}, fmt.Errorf("sqlite: node %q: %w", id, mapErr(err))
	}
	return n, nil
}

// Nodes lists every node by ID.
func (s *Store) Nodes(ctx context.Context) ([]store.Node, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+nodeColumns+` FROM nodes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: nodes: %w", err)
	}
	defer rows.Close()
	var out []store.Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: nodes: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: nodes: %w", err)
	}
	return out, nil
}

// SetNodeEnrollCode replaces the enrollment code hash of a node that has not
// enrolled, by a conditional update.
func (s *Store) SetNodeEnrollCode(ctx context.Context, id string, codeHash []byte, audit ...store.AuditEntry) error {
	if id == "" || !store.ValidText(id) || !store.ValidHash(codeHash) {
		return fmt.Errorf("sqlite: set node enrollment code: %w: empty ID or code hash not 32 bytes", store.ErrInvalid)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("sqlite: set node enrollment code: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE nodes SET enroll_code_hash = ? WHERE id = ? AND enrolled_at IS NULL`, codeHash, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return existsOr(ctx, tx, `SELECT 1 FROM nodes WHERE id = ?`, id, "node already enrolled")
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set enrollment code of node %q: %w", id, err)
	}
	return nil
}

// EnrollNode records a node's DID and enrollment time, by a conditional update on
// the code hash and the node not being enrolled; a DID of another node is
// store.ErrConflict through the unique index.
func (s *Store) EnrollNode(ctx context.Context, id, did string, codeHash []byte, at time.Time, audit ...store.AuditEntry) error {
	if id == "" || did == "" || !store.ValidText(id, did) || !store.ValidHash(codeHash) || !store.ValidTime(at) {
		return fmt.Errorf("sqlite: enroll node: %w: empty ID or DID, code hash not 32 bytes or invalid time", store.ErrInvalid)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("sqlite: enroll node: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE nodes SET did = ?, enrolled_at = ?
			WHERE id = ? AND enrolled_at IS NULL AND enroll_code_hash = ?`, did, micros(at), id, codeHash)
		if err != nil {
			return mapErr(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return whyNotEnrolled(ctx, tx, id)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("sqlite: enroll node %q: %w", id, err)
	}
	return nil
}

// whyNotEnrolled explains an enrollment that changed nothing.
func whyNotEnrolled(ctx context.Context, tx *sql.Tx, id string) error {
	var enrolled bool
	err := tx.QueryRowContext(ctx, `SELECT enrolled_at IS NOT NULL FROM nodes WHERE id = ?`, id).Scan(&enrolled)
	switch {
	case err != nil:
		return mapErr(err)
	case enrolled:
		return fmt.Errorf("%w: node already enrolled", store.ErrConflict)
	}
	return fmt.Errorf("%w: enrollment code does not match", store.ErrConflict)
}

// lastCheckIn reads a node's last stored entry (0 and "" when none), or
// store.ErrNotFound when the node does not exist.
func lastCheckIn(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, nodeID string) (int64, string, error) {
	var seq int64
	var hash string
	err := q.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT seq FROM checkins WHERE node_id = n.id ORDER BY seq DESC LIMIT 1), 0),
		COALESCE((SELECT hash FROM checkins WHERE node_id = n.id ORDER BY seq DESC LIMIT 1), '')
		FROM nodes n WHERE n.id = ?`, nodeID).Scan(&seq, &hash)
	if err != nil {
		return 0, "", mapErr(err)
	}
	return seq, hash, nil
}

// AddCheckIns stores a node's new ledger entries and flags double check-ins. Write
// transactions are serialized, so the chain read at the start is the one the entries
// are appended to, and every admission stored before is visible to the flagging.
func (s *Store) AddCheckIns(ctx context.Context, nodeID string, entries []store.CheckIn, window time.Duration, audit ...store.AuditEntry) (int, []store.CheckIn, error) {
	if err := store.ValidateCheckIns(nodeID, entries, window); err != nil {
		return 0, nil, fmt.Errorf("sqlite: add check-ins: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return 0, nil, fmt.Errorf("sqlite: add check-ins: %w", err)
	}
	w := window.Microseconds()
	var stored int
	var flagged []store.CheckIn
	err := s.write(ctx, func(tx *sql.Tx) error {
		stored, flagged = 0, nil
		lastSeq, lastHash, err := lastCheckIn(ctx, tx, nodeID)
		if err != nil {
			return err
		}
		var overlap []string
		if from, to, ok := store.OverlapRange(entries, lastSeq); ok {
			if overlap, err = storedHashes(ctx, tx, nodeID, from, to); err != nil {
				return err
			}
		}
		fresh, err := store.ContinueChain(entries, lastSeq, lastHash, overlap)
		if err != nil || len(fresh) == 0 {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO checkins (node_id, seq, at, type, subject_ref, decision, codes,
			challenge, prev_hash, hash, signature, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, e := range fresh {
			if _, err := ins.ExecContext(ctx, nodeID, e.Seq, micros(e.At), e.Type, e.SubjectRef, e.Decision, store.EncodeStrings(e.Codes),
				e.Challenge, e.PrevHash, e.Hash, e.Signature, micros(e.ReceivedAt)); err != nil {
				return fmt.Errorf("check-in %d: %w", e.Seq, mapErr(err))
			}
		}
		stored = len(fresh)
		if w > 0 {
			if flagged, err = flagDoubles(ctx, tx, nodeID, fresh, w); err != nil {
				return err
			}
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return 0, nil, fmt.Errorf("sqlite: add check-ins of node %q: %w", nodeID, err)
	}
	return stored, flagged, nil
}

// storedHashes reads the hashes of the node's entries from seq from to seq to.
func storedHashes(ctx context.Context, tx *sql.Tx, nodeID string, from, to int64) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT hash FROM checkins WHERE node_id = ? AND seq BETWEEN ? AND ? ORDER BY seq`, nodeID, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

type checkInKey struct {
	node string
	seq  int64
}

// flagDoubles flags each new admission with an admission of the same subject at
// another node less than w microseconds away, and those other entries, and returns
// the flagged entries by node then Seq.
func flagDoubles(ctx context.Context, tx *sql.Tx, nodeID string, fresh []store.CheckIn, w int64) ([]store.CheckIn, error) {
	find, err := tx.PrepareContext(ctx, `SELECT node_id, seq FROM checkins
		WHERE subject_ref = ? AND at > ? AND at < ? AND node_id <> ? AND decision IN ('admitted', 'admitted-flagged')`)
	if err != nil {
		return nil, err
	}
	defer find.Close()
	hits := map[checkInKey]bool{}
	for _, e := range fresh {
		if !e.IsAdmission() {
			continue
		}
		t := micros(e.At)
		rows, err := find.QueryContext(ctx, e.SubjectRef, t-w, t+w, nodeID)
		if err != nil {
			return nil, err
		}
		found := false
		for rows.Next() {
			var k checkInKey
			if err := rows.Scan(&k.node, &k.seq); err != nil {
				rows.Close()
				return nil, err
			}
			hits[k], found = true, true
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if found {
			hits[checkInKey{nodeID, e.Seq}] = true
		}
	}
	if len(hits) == 0 {
		return nil, nil
	}
	flag, err := tx.PrepareContext(ctx, `UPDATE checkins SET flagged = 1 WHERE node_id = ? AND seq = ? RETURNING `+checkInColumns)
	if err != nil {
		return nil, err
	}
	defer flag.Close()
	out := make([]store.CheckIn, 0, len(hits))
	for k := range hits {
		c, err := scanCheckIn(flag.QueryRowContext(ctx, k.node, k.seq))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	slices.SortFunc(out, store.CompareCheckIns)
	return out, nil
}

const checkInColumns = `node_id, seq, at, type, subject_ref, decision, codes, challenge, prev_hash, hash, signature, received_at, flagged`

func scanCheckIn(sc interface{ Scan(...any) error }) (store.CheckIn, error) {
	var c store.CheckIn
	var at, received int64
	var codes string
	if err := sc.Scan(&c.NodeID, &c.Seq, &at, &c.Type, &c.SubjectRef, &c.Decision, &codes, &c.Challenge, &c.PrevHash, &c.Hash,
		&c.Signature, &received, &c.Flagged); err != nil {
		return c, err
	}
	var err error
	if c.Codes, err = store.DecodeStrings(codes); err != nil {
		return c, fmt.Errorf("check-in %s/%d: stored codes: %w", c.NodeID, c.Seq, err)
	}
	c.At, c.ReceivedAt = fromMicros(at), fromMicros(received)
	return c, nil
}

// LastCheckIn returns the node's last stored entry's Seq and Hash (0 and "" when
// none); store.ErrNotFound for an unknown node.
func (s *Store) LastCheckIn(ctx context.Context, nodeID string) (int64, string, error) {
	if nodeID == "" || !store.ValidText(nodeID) {
		return 0, "", fmt.Errorf("sqlite: last check-in: %w: empty node ID or not valid text", store.ErrInvalid)
	}
	seq, hash, err := lastCheckIn(ctx, s.r, nodeID)
	if err != nil {
		return 0, "", fmt.Errorf("sqlite: last check-in of node %q: %w", nodeID, err)
	}
	return seq, hash, nil
}

// CheckIns lists entries matching f by node then Seq, at most f.Limit of them
// (store.PageLimit).
func (s *Store) CheckIns(ctx context.Context, f store.CheckInFilter) ([]store.CheckIn, error) {
	limit, err := store.PageLimit(f.Limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: check-ins: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: check-ins: %w", err)
	}
	q := `SELECT ` + checkInColumns + ` FROM checkins WHERE (node_id, seq) > (?, ?)`
	args := []any{f.AfterNode, f.AfterSeq}
	if f.NodeID != "" {
		q += ` AND node_id = ?`
		args = append(args, f.NodeID)
	}
	if f.FlaggedOnly {
		q += ` AND flagged = 1`
	}
	if !f.Since.IsZero() {
		q += ` AND at >= ?`
		args = append(args, micros(f.Since))
	}
	q += ` ORDER BY node_id, seq LIMIT ?`
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: check-ins: %w", err)
	}
	defer rows.Close()
	var out []store.CheckIn
	for rows.Next() {
		c, err := scanCheckIn(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: check-ins: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: check-ins: %w", err)
	}
	return out, nil
}

// MonthlyCheckIns counts, per node, the admissions, refusals and flagged entries
// decided in [from, to), ordered by node.
func (s *Store) MonthlyCheckIns(ctx context.Context, from, to time.Time) ([]store.CheckInCount, error) {
	if !store.ValidPeriod(from, to) {
		return nil, fmt.Errorf("sqlite: monthly check-ins: %w: invalid period", store.ErrInvalid)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT node_id,
		SUM(decision IN ('admitted', 'admitted-flagged')), SUM(decision = 'refused'), SUM(flagged)
		FROM checkins WHERE at >= ? AND at < ? GROUP BY node_id ORDER BY node_id`, micros(from), micros(to))
	if err != nil {
		return nil, fmt.Errorf("sqlite: monthly check-ins: %w", err)
	}
	defer rows.Close()
	var out []store.CheckInCount
	for rows.Next() {
		var c store.CheckInCount
		if err := rows.Scan(&c.Node, &c.Admitted, &c.Refused, &c.Flagged); err != nil {
			return nil, fmt.Errorf("sqlite: monthly check-ins: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: monthly check-ins: %w", err)
	}
	return out, nil
}
