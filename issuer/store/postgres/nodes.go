package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/civitas-net/civitas/issuer/store"
)

// subjectLock is the first key of the transaction-scoped advisory locks that
// serialize uploads whose admissions share a subject reference; the second is a
// 32-bit hash of the reference (a collision only serializes two uploads that need
// not wait for each other).
const subjectLock = 0x63686b69 // "chki"

// CreateNode registers a node, not yet enrolled; a duplicate ID is
// store.ErrConflict.
func (s *Store) CreateNode(ctx context.Context, n store.Node, audit ...store.AuditEntry) error {
	if err := n.Validate(); err != nil {
		return fmt.Errorf("postgres: create node: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("postgres: create node: %w", err)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO nodes (id, name, enroll_code_hash, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5)`, n.ID, n.Name, n.EnrollCodeHash, ts(n.CreatedAt), n.CreatedBy); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: create node %q: %w", n.ID, err)
	}
	return nil
}

const nodeColumns = `id, name, did, enroll_code_hash, created_at, enrolled_at, created_by`

func scanNode(r pgx.Row) (store.Node, error) {
	var n store.Node
	var did *string
	var enrolled *time.Time
	err := r.Scan(&n.ID, &n.Name, &did, &n.EnrollCodeHash, &n.CreatedAt, &enrolled, &n.CreatedBy)
	if did != nil {
		n.DID = *did
	}
	n.CreatedAt, n.EnrolledAt = n.CreatedAt.UTC(), fromNullTS(enrolled)
	return n, err
}

// Node returns a node by ID.
func (s *Store) Node(ctx context.Context, id string) (store.Node, error) {
	if id == "" || !store.ValidText(id) {
		return store.Node{}, fmt.Errorf("postgres: node: %w: empty ID or not valid text", store.ErrInvalid)
	}
	n, err := scanNode(s.pool.QueryRow(ctx, `SELECT `+nodeColumns+` FROM nodes WHERE id = $1`, id))
	if err != nil {
		return store.Node{}, fmt.Errorf("postgres: node %q: %w", id, mapErr(err))
	}
	return n, nil
}

// Nodes lists every node by ID (byte order: the column is COLLATE "C").
func (s *Store) Nodes(ctx context.Context) ([]store.Node, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+nodeColumns+` FROM nodes ORDER BY id`)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Node, error) { return scanNode(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: nodes: %w", err)
	}
	return nilIfEmpty(out), nil
}

// SetNodeEnrollCode replaces the enrollment code hash of a node that has not
// enrolled, by a conditional update.
func (s *Store) SetNodeEnrollCode(ctx context.Context, id string, codeHash []byte, audit ...store.AuditEntry) error {
	if id == "" || !store.ValidText(id) || !store.ValidHash(codeHash) {
		return fmt.Errorf("postgres: set node enrollment code: %w: empty ID or code hash not 32 bytes", store.ErrInvalid)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("postgres: set node enrollment code: %w", err)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE nodes SET enroll_code_hash = $1 WHERE id = $2 AND enrolled_at IS NULL`, codeHash, id)
		if err != nil {
			return mapErr(err)
		}
		if tag.RowsAffected() == 0 {
			return existsOr(ctx, tx, `SELECT 1 FROM nodes WHERE id = $1`, id, "node already enrolled")
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: set enrollment code of node %q: %w", id, err)
	}
	return nil
}

// EnrollNode records a node's DID and enrollment time, by a conditional update on
// the code hash and the node not being enrolled: of concurrent enrollments the first
// to lock the row wins. A DID of another node is store.ErrConflict through the
// unique index.
func (s *Store) EnrollNode(ctx context.Context, id, did string, codeHash []byte, at time.Time, audit ...store.AuditEntry) error {
	if id == "" || did == "" || !store.ValidText(id, did) || !store.ValidHash(codeHash) || !store.ValidTime(at) {
		return fmt.Errorf("postgres: enroll node: %w: empty ID or DID, code hash not 32 bytes or invalid time", store.ErrInvalid)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("postgres: enroll node: %w", err)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE nodes SET did = $1, enrolled_at = $2
			WHERE id = $3 AND enrolled_at IS NULL AND enroll_code_hash = $4`, did, ts(at), id, codeHash)
		if err != nil {
			return mapErr(err)
		}
		if tag.RowsAffected() == 0 {
			var enrolled bool
			err := tx.QueryRow(ctx, `SELECT enrolled_at IS NOT NULL FROM nodes WHERE id = $1`, id).Scan(&enrolled)
			switch {
			case err != nil:
				return mapErr(err)
			case enrolled:
				return fmt.Errorf("%w: node already enrolled", store.ErrConflict)
			}
			return fmt.Errorf("%w: enrollment code does not match", store.ErrConflict)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: enroll node %q: %w", id, err)
	}
	return nil
}

// AddCheckIns stores a node's new ledger entries and flags double check-ins, in one
// READ COMMITTED transaction that takes its locks in a fixed order: the node's row
// (FOR NO KEY UPDATE, so concurrent uploads for one node, also from other processes,
// run one after the other and each reads the chain the previous one left), then one
// advisory lock per subject reference of the new admissions in ascending key order
// (so that of two uploads admitting one subject at two nodes, the second sees the
// first's entries and flags both), then the audit head. Uploads for other nodes and
// other subjects do not wait.
func (s *Store) AddCheckIns(ctx context.Context, nodeID string, entries []store.CheckIn, window time.Duration, audit ...store.AuditEntry) (int, []store.CheckIn, error) {
	if err := store.ValidateCheckIns(nodeID, entries, window); err != nil {
		return 0, nil, fmt.Errorf("postgres: add check-ins: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return 0, nil, fmt.Errorf("postgres: add check-ins: %w", err)
	}
	w := window.Truncate(time.Microsecond)
	var stored int
	var flagged []store.CheckIn
	err := s.write(ctx, func(tx pgx.Tx) error {
		stored, flagged = 0, nil
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM nodes WHERE id = $1 FOR NO KEY UPDATE`, nodeID).Scan(&one); err != nil {
			return mapErr(err)
		}
		lastSeq, lastHash, err := lastCheckIn(ctx, tx, nodeID)
		if err != nil {
			return err
		}
		var overlap []string
		if from, to, ok := store.OverlapRange(entries, lastSeq); ok {
			rows, _ := tx.Query(ctx, `SELECT hash FROM checkins WHERE node_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`, nodeID, from, to)
			if overlap, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
				return err
			}
		}
		fresh, err := store.ContinueChain(entries, lastSeq, lastHash, overlap)
		if err != nil || len(fresh) == 0 {
			return err
		}
		if w > 0 {
			if err := lockSubjects(ctx, tx, fresh); err != nil {
				return err
			}
		}
		if err := insertCheckIns(ctx, tx, nodeID, fresh); err != nil {
			return err
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
		return 0, nil, fmt.Errorf("postgres: add check-ins of node %q: %w", nodeID, err)
	}
	return stored, flagged, nil
}

// lastCheckIn reads a node's last stored entry (0 and "" when none), or
// store.ErrNotFound when the node does not exist.
func lastCheckIn(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, nodeID string) (int64, string, error) {
	var seq int64
	var hash string
	err := q.QueryRow(ctx, `SELECT COALESCE(c.seq, 0), COALESCE(c.hash, '') FROM nodes n
		LEFT JOIN LATERAL (SELECT seq, hash FROM checkins WHERE node_id = n.id ORDER BY seq DESC LIMIT 1) c ON true
		WHERE n.id = $1`, nodeID).Scan(&seq, &hash)
	if err != nil {
		return 0, "", mapErr(err)
	}
	return seq, hash, nil
}

// lockSubjects takes the advisory lock of each subject reference admitted in fresh,
// in ascending key order, so that two uploads never wait for each other's locks in a
// cycle.
func lockSubjects(ctx context.Context, tx pgx.Tx, fresh []store.CheckIn) error {
	var keys []int32
	for _, e := range fresh {
		if e.IsAdmission() {
			h := fnv.New32a()
			h.Write([]byte(e.SubjectRef))
			keys = append(keys, int32(h.Sum32()))
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, k := range keys {
		b.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, int32(subjectLock), k)
	}
	return tx.SendBatch(ctx, b).Close()
}

// insertCheckIns inserts the entries in one statement.
func insertCheckIns(ctx context.Context, tx pgx.Tx, nodeID string, fresh []store.CheckIn) error {
	n := len(fresh)
	nodes, seqs, ats, types, refs := make([]string, n), make([]int64, n), make([]time.Time, n), make([]string, n), make([]string, n)
	decisions, prevs, hashes, sigs, received := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]time.Time, n)
	challenges, codes := make([]string, n), make([]string, n)
	for i, e := range fresh {
		nodes[i], seqs[i], ats[i], types[i], refs[i] = nodeID, e.Seq, ts(e.At), e.Type, e.SubjectRef
		decisions[i], prevs[i], hashes[i], sigs[i], received[i] = e.Decision, e.PrevHash, e.Hash, e.Signature, ts(e.ReceivedAt)
		challenges[i], codes[i] = e.Challenge, store.EncodeStrings(e.Codes)
	}
	_, err := tx.Exec(ctx, `INSERT INTO checkins (node_id, seq, at, type, subject_ref, decision, codes, prev_hash, hash,
		signature, received_at, challenge)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::text[])`,
		nodes, seqs, ats, types, refs, decisions, codes, prevs, hashes, sigs, received, challenges)
	if err != nil {
		return fmt.Errorf("check-ins: %w", mapErr(err))
	}
	return nil
}

// flagDoubles flags, in one statement, each new admission with an admission of the
// same subject at another node less than w away, and those other entries, and
// returns the flagged entries by node then Seq.
func flagDoubles(ctx context.Context, tx pgx.Tx, nodeID string, fresh []store.CheckIn, w time.Duration) ([]store.CheckIn, error) {
	var refs []string
	var seqs []int64
	var los, his []time.Time
	for _, e := range fresh {
		if e.IsAdmission() {
			t := ts(e.At)
			refs, seqs, los, his = append(refs, e.SubjectRef), append(seqs, e.Seq), append(los, t.Add(-w)), append(his, t.Add(w))
		}
	}
	if len(refs) == 0 {
		return nil, nil
	}
	rows, _ := tx.Query(ctx, `WITH fresh AS (
			SELECT * FROM unnest($2::text[], $3::bigint[], $4::timestamptz[], $5::timestamptz[]) AS f (ref, seq, lo, hi)
		), hits AS (
			SELECT f.seq AS fresh_seq, o.node_id, o.seq FROM fresh f CROSS JOIN LATERAL (
				SELECT node_id, seq FROM checkins WHERE subject_ref = f.ref AND at > f.lo AND at < f.hi
				AND node_id <> $1 AND decision IN ('admitted', 'admitted-flagged')
				OFFSET 0
			) o
		)
		UPDATE checkins c SET flagged = true
		WHERE (c.node_id, c.seq) IN (SELECT node_id, seq FROM hits UNION ALL SELECT $1::text COLLATE "C", fresh_seq FROM hits)
		RETURNING `+checkInColumns("c"), nodeID, refs, seqs, los, his)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.CheckIn, error) { return scanCheckIn(r) })
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, store.CompareCheckIns)
	return nilIfEmpty(out), nil
}

// checkInColumns lists the columns scanCheckIn reads, qualified by table alias t
// when t is not empty.
func checkInColumns(t string) string {
	cols := []string{"node_id", "seq", "at", "type", "subject_ref", "decision", "codes", "challenge", "prev_hash", "hash", "signature", "received_at", "flagged"}
	if t != "" {
		for i := range cols {
			cols[i] = t + "." + cols[i]
		}
	}
	return strings.Join(cols, ", ")
}

func scanCheckIn(r pgx.Row) (store.CheckIn, error) {
	var c store.CheckIn
	var codes string
	if err := r.Scan(&c.NodeID, &c.Seq, &c.At, &c.Type, &c.SubjectRef, &c.Decision, &codes, &c.Challenge, &c.PrevHash, &c.Hash,
		&c.Signature, &c.ReceivedAt, &c.Flagged); err != nil {
		return c, err
	}
	var err error
	if c.Codes, err = store.DecodeStrings(codes); err != nil {
		return c, fmt.Errorf("check-in %s/%d: stored codes: %w", c.NodeID, c.Seq, err)
	}
	c.At, c.ReceivedAt = c.At.UTC(), c.ReceivedAt.UTC()
	return c, nil
}

// LastCheckIn returns the node's last stored entry's Seq and Hash (0 and "" when
// none); store.ErrNotFound for an unknown node.
func (s *Store) LastCheckIn(ctx context.Context, nodeID string) (int64, string, error) {
	if nodeID == "" || !store.ValidText(nodeID) {
		return 0, "", fmt.Errorf("postgres: last check-in: %w: empty node ID or not valid text", store.ErrInvalid)
	}
	seq, hash, err := lastCheckIn(ctx, s.pool, nodeID)
	if err != nil {
		return 0, "", fmt.Errorf("postgres: last check-in of node %q: %w", nodeID, err)
	}
	return seq, hash, nil
}

// CheckIns lists entries matching f by node (byte order) then Seq, at most f.Limit of
// them (store.PageLimit).
func (s *Store) CheckIns(ctx context.Context, f store.CheckInFilter) ([]store.CheckIn, error) {
	limit, err := store.PageLimit(f.Limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: check-ins: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: check-ins: %w", err)
	}
	q := `SELECT ` + checkInColumns("") + ` FROM checkins WHERE (node_id, seq) > ($1, $2)`
	args := []any{f.AfterNode, f.AfterSeq}
	if f.NodeID != "" {
		args = append(args, f.NodeID)
		q += fmt.Sprintf(` AND node_id = $%d`, len(args))
	}
	if f.FlaggedOnly {
		q += ` AND flagged`
	}
	if !f.Since.IsZero() {
		args = append(args, ts(f.Since))
		q += fmt.Sprintf(` AND at >= $%d`, len(args))
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY node_id, seq LIMIT $%d`, len(args))
	rows, _ := s.pool.Query(ctx, q, args...)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.CheckIn, error) { return scanCheckIn(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: check-ins: %w", err)
	}
	return nilIfEmpty(out), nil
}

// MonthlyCheckIns counts, per node, the admissions, refusals and flagged entries
// decided in [from, to), ordered by node.
func (s *Store) MonthlyCheckIns(ctx context.Context, from, to time.Time) ([]store.CheckInCount, error) {
	if !store.ValidPeriod(from, to) {
		return nil, fmt.Errorf("postgres: monthly check-ins: %w: invalid period", store.ErrInvalid)
	}
	rows, _ := s.pool.Query(ctx, `SELECT node_id,
		COUNT(*) FILTER (WHERE decision IN ('admitted', 'admitted-flagged')),
		COUNT(*) FILTER (WHERE decision = 'refused'),
		COUNT(*) FILTER (WHERE flagged)
		FROM checkins WHERE at >= $1 AND at < $2 GROUP BY node_id ORDER BY node_id`, ts(from), ts(to))
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.CheckInCount, error) {
		var c store.CheckInCount
		err := r.Scan(&c.Node, &c.Admitted, &c.Refused, &c.Flagged)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: monthly check-ins: %w", err)
	}
	return nilIfEmpty(out), nil
}
