package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/civitas-net/civitas/issuer/store"
)

// maxRounds bounds the insert rounds for one list. A list is at most half full when
// indexes are drawn, so each drawn index is free with probability at least 1/2; an
// index still taken after maxRounds draws has probability at most 2^-64.
const maxRounds = 64

// ReserveSlots reserves n slots for purpose at random unused indexes of the
// purpose's current list, starting a new list of listSize entries whenever the
// current one has reached half its size. Reservations for one purpose are serialized
// on the purpose's status_current row, across processes; each slot is inserted with
// ON CONFLICT DO NOTHING, and a taken index is replaced by a new random one.
func (s *Store) ReserveSlots(ctx context.Context, purpose string, n, listSize int) ([]store.Slot, error) {
	if err := store.ValidateReserve(purpose, n, listSize); err != nil {
		return nil, fmt.Errorf("postgres: reserve slots: %w", err)
	}
	var out []store.Slot
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = make([]store.Slot, 0, n)
		if _, err := tx.Exec(ctx, `INSERT INTO status_current (purpose) VALUES ($1) ON CONFLICT DO NOTHING`, purpose); err != nil {
			return err
		}
		var id *string
		if err := tx.QueryRow(ctx, `SELECT list_id FROM status_current WHERE purpose = $1 FOR UPDATE`, purpose).Scan(&id); err != nil {
			return err
		}
		var size, used int
		if id != nil {
			if err := tx.QueryRow(ctx, `SELECT size, used FROM status_lists WHERE id = $1`, *id).Scan(&size, &used); err != nil {
				return err
			}
		}
		for len(out) < n {
			if id == nil || used >= size/2 {
				newID, err := s.newList(ctx, tx, purpose, listSize)
				if err != nil {
					return err
				}
				id, size, used = &newID, listSize, 0
			}
			k := min(n-len(out), size/2-used)
			idx, err := insertSlots(ctx, tx, *id, size, k)
			if err != nil {
				return err
			}
			for _, i := range idx {
				out = append(out, store.Slot{ListID: *id, Purpose: purpose, Index: int(i)})
			}
			if _, err := tx.Exec(ctx, `UPDATE status_lists SET used = used + $1 WHERE id = $2`, k, *id); err != nil {
				return err
			}
			used += k
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reserve %d %s slots: %w", n, purpose, err)
	}
	return out, nil
}

// newList creates an empty list for purpose with a random ID and makes it current.
func (s *Store) newList(ctx context.Context, tx pgx.Tx, purpose string, size int) (string, error) {
	for range 3 {
		id := store.NewListID()
		tag, err := tx.Exec(ctx, `INSERT INTO status_lists (id, purpose, size, used, version, created_at)
			VALUES ($1, $2, $3, 0, 0, $4) ON CONFLICT DO NOTHING`, id, purpose, size, ts(s.now()))
		if err != nil {
			return "", err
		}
		if tag.RowsAffected() == 0 {
			continue // a 64-bit collision; draw again
		}
		_, err = tx.Exec(ctx, `UPDATE status_current SET list_id = $1 WHERE purpose = $2`, id, purpose)
		return id, err
	}
	return "", errors.New("no unused list ID found")
}

// insertSlots inserts k slots at distinct random free indexes of the list and returns
// the indexes.
func insertSlots(ctx context.Context, tx pgx.Tx, list string, size, k int) ([]int32, error) {
	got := make([]int32, 0, k)
	taken := map[int32]bool{}
	for range maxRounds {
		cand := randomIndexes(k-len(got), size, taken)
		rows, _ := tx.Query(ctx, `INSERT INTO status_slots (list_id, idx) SELECT $1, unnest($2::integer[])
			ON CONFLICT DO NOTHING RETURNING idx`, list, cand)
		ins, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return nil, err
		}
		got = append(got, ins...)
		if len(got) == k {
			return got, nil
		}
		for _, i := range cand {
			taken[i] = true // inserted now or held before: either way not free
		}
	}
	return nil, fmt.Errorf("no free index found in list %s", list)
}

// CommitIssuance stores a batch of issued credentials in one transaction. The
// credential inserts, slot, approval and offer updates go to the server in one round
// trip.
func (s *Store) CommitIssuance(ctx context.Context, batch []store.Issuance) error {
	for _, is := range batch {
		if err := is.Validate(); err != nil {
			return fmt.Errorf("postgres: commit issuance: %w", err)
		}
	}
	if len(batch) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		// expect[i] explains a queued statement that must change exactly one row; the
		// error is only built for the one that did not.
		type expect struct {
			cred string // the credential's ID; "" for its insert, which fails by error instead
			slot store.Slot
			// exists, when set, tells a missing row (store.ErrNotFound) from one in
			// the wrong state (store.ErrConflict, because notWhy); when not set, the
			// statement used slot.
			exists, id, kind, notWhy string
		}
		var expects []expect
		b := &pgx.Batch{}
		var audit []store.AuditEntry
		for _, is := range batch {
			c := is.Credential
			b.Queue(`INSERT INTO credentials (id, type, subject, node, format, issued_at, valid_until, issued_by, body)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				c.ID, c.Type, c.Subject, c.Node, c.Format, ts(c.IssuedAt), nullTS(c.ValidUntil), c.IssuedBy, c.Body)
			expects = append(expects, expect{})
			for _, sl := range is.Slots {
				b.Queue(`UPDATE status_slots s SET credential_id = $1 FROM status_lists l
					WHERE s.list_id = $2 AND s.idx = $3 AND s.credential_id IS NULL AND l.id = s.list_id AND l.purpose = $4`,
					c.ID, sl.ListID, sl.Index, sl.Purpose)
				expects = append(expects, expect{cred: c.ID, slot: sl})
			}
			if is.ApprovalID != "" {
				b.Queue(`UPDATE approvals SET state = 'issued', credential_id = $1 WHERE id = $2 AND state = 'pending'`, c.ID, is.ApprovalID)
				expects = append(expects, expect{cred: c.ID,
					exists: `SELECT 1 FROM approvals WHERE id = $1`, id: is.ApprovalID, kind: "approval", notWhy: "approval is not pending"})
			}
			if is.OfferID != "" {
				b.Queue(`UPDATE offers SET state = 'issued', credential_id = $1 WHERE id = $2 AND state = 'redeemed'`, c.ID, is.OfferID)
				expects = append(expects, expect{cred: c.ID,
					exists: `SELECT 1 FROM offers WHERE id = $1`, id: is.OfferID, kind: "offer", notWhy: "offer is not redeemed"})
			}
			audit = append(audit, is.Audit...)
		}
		br := tx.SendBatch(ctx, b)
		var failed *expect
		for i := range expects {
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				return mapErr(err)
			}
			if expects[i].cred != "" && tag.RowsAffected() != 1 {
				failed = &expects[i]
				break
			}
		}
		if err := br.Close(); err != nil {
			return mapErr(err)
		}
		if failed != nil {
			if failed.exists == "" {
				sl := failed.slot
				return fmt.Errorf("credential %q: %w: %s slot %s/%d is not reserved, already used or of another purpose",
					failed.cred, store.ErrConflict, sl.Purpose, sl.ListID, sl.Index)
			}
			err := existsOr(ctx, tx, failed.exists, failed.id, failed.notWhy)
			return fmt.Errorf("credential %q: %s %q: %w", failed.cred, failed.kind, failed.id, err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: commit issuance of %d credentials: %w", len(batch), err)
	}
	return nil
}

const credentialColumns = `id, type, subject, node, format, issued_at, valid_until, issued_by, body,
	revoked, revoked_reason, suspended, suspended_reason`

func scanCredential(r pgx.Row) (store.CredentialRecord, error) {
	var c store.CredentialRecord
	var until *time.Time
	err := r.Scan(&c.ID, &c.Type, &c.Subject, &c.Node, &c.Format, &c.IssuedAt, &until, &c.IssuedBy, &c.Body,
		&c.Revoked, &c.RevokedReason, &c.Suspended, &c.SuspendedReason)
	c.IssuedAt, c.ValidUntil = c.IssuedAt.UTC(), fromNullTS(until)
	return c, err
}

// Credential returns an issued credential with its slots.
func (s *Store) Credential(ctx context.Context, id string) (store.CredentialRecord, error) {
	var c store.CredentialRecord
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		if c, err = scanCredential(tx.QueryRow(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE id = $1`, id)); err != nil {
			return mapErr(err)
		}
		cs := []store.CredentialRecord{c}
		err = loadSlots(ctx, tx, cs)
		c = cs[0]
		return err
	})
	if err != nil {
		return store.CredentialRecord{}, fmt.Errorf("postgres: credential %q: %w", id, err)
	}
	return c, nil
}

// loadSlots fills the Slots of cs.
func loadSlots(ctx context.Context, tx pgx.Tx, cs []store.CredentialRecord) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[string]*store.CredentialRecord, len(cs))
	ids := make([]string, len(cs))
	for i := range cs {
		byID[cs[i].ID] = &cs[i]
		ids[i] = cs[i].ID
	}
	rows, err := tx.Query(ctx, `SELECT s.credential_id, s.list_id, l.purpose, s.idx
		FROM status_slots s JOIN status_lists l ON l.id = s.list_id
		WHERE s.credential_id = ANY($1) ORDER BY l.purpose, s.list_id, s.idx`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var cid string
		var sl store.Slot
		if err := rows.Scan(&cid, &sl.ListID, &sl.Purpose, &sl.Index); err != nil {
			return err
		}
		if c := byID[cid]; c != nil {
			c.Slots = append(c.Slots, sl)
		}
	}
	return rows.Err()
}

// Credentials lists issued credentials matching f, ordered by issue time then ID.
// f.After names the last credential of the previous page (store.ErrNotFound if it
// does not exist); f.Limit goes through store.PageLimit.
func (s *Store) Credentials(ctx context.Context, f store.CredentialFilter) ([]store.CredentialRecord, error) {
	limit, err := store.PageLimit(f.Limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: credentials: %w", err)
	}
	var out []store.CredentialRecord
	err = s.read(ctx, func(tx pgx.Tx) error {
		q := `SELECT ` + credentialColumns + ` FROM credentials WHERE true`
		var args []any
		for _, w := range []struct{ col, val string }{{"type", f.Type}, {"subject", f.Subject}, {"node", f.Node}} {
			if w.val != "" {
				args = append(args, w.val)
				q += fmt.Sprintf(` AND %s = $%d`, w.col, len(args))
			}
		}
		if f.After != "" {
			var at time.Time
			if err := tx.QueryRow(ctx, `SELECT issued_at FROM credentials WHERE id = $1`, f.After).Scan(&at); err != nil {
				return fmt.Errorf("page after %q: %w", f.After, mapErr(err))
			}
			args = append(args, at, f.After)
			q += fmt.Sprintf(` AND (issued_at, id) > ($%d, $%d)`, len(args)-1, len(args))
		}
		args = append(args, limit)
		q += fmt.Sprintf(` ORDER BY issued_at, id LIMIT $%d`, len(args))
		rows, _ := tx.Query(ctx, q, args...)
		var err error
		if out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.CredentialRecord, error) { return scanCredential(r) }); err != nil {
			return mapErr(err)
		}
		return loadSlots(ctx, tx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: credentials: %w", err)
	}
	return nilIfEmpty(out), nil
}

// errUnchanged rolls back a SetStatus whose bit already has the value.
var errUnchanged = errors.New("status unchanged")

// SetStatus sets or clears a credential's status bit for c.Purpose. The bit changes
// by a conditional update (WHERE is_set <> value), so of concurrent callers setting
// the same value exactly one reports a change.
func (s *Store) SetStatus(ctx context.Context, c store.StatusChange, audit ...store.AuditEntry) (bool, error) {
	if err := c.Validate(); err != nil {
		return false, fmt.Errorf("postgres: set status: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return false, fmt.Errorf("postgres: set status: %w", err)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		var list string
		err := tx.QueryRow(ctx, `UPDATE status_slots s SET is_set = $3 FROM status_lists l
			WHERE l.id = s.list_id AND s.credential_id = $1 AND l.purpose = $2 AND s.is_set <> $3
			RETURNING s.list_id`, c.CredentialID, c.Purpose, c.Value).Scan(&list)
		if errors.Is(err, pgx.ErrNoRows) {
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM status_slots s JOIN status_lists l ON l.id = s.list_id
				WHERE s.credential_id = $1 AND l.purpose = $2`, c.CredentialID, c.Purpose).Scan(&one)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("%w: no %s slot", store.ErrNotFound, c.Purpose)
			} else if err != nil {
				return err
			}
			return errUnchanged
		} else if err != nil {
			return mapErr(err)
		}
		col := "revoked"
		if c.Purpose == store.PurposeSuspension {
			col = "suspended"
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE status_lists SET version = version + 1 WHERE id = $1`, list)
		b.Queue(`UPDATE credentials SET `+col+` = $1, `+col+`_reason = $2 WHERE id = $3`, c.Value, c.Reason, c.CredentialID)
		b.Queue(`INSERT INTO status_events (credential_id, purpose, value, reason, actor, at) VALUES ($1, $2, $3, $4, $5, $6)`,
			c.CredentialID, c.Purpose, c.Value, c.Reason, c.Actor, ts(c.At))
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if errors.Is(err, errUnchanged) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: set %s of %q: %w", c.Purpose, c.CredentialID, err)
	}
	return true, nil
}

const listColumns = `id, purpose, size, used, version, created_at`

func scanList(r pgx.Row) (store.StatusList, error) {
	var l store.StatusList
	err := r.Scan(&l.ID, &l.Purpose, &l.Size, &l.Used, &l.Version, &l.CreatedAt)
	l.CreatedAt = l.CreatedAt.UTC()
	return l, err
}

// StatusList returns a list and the indexes of its set bits, ascending, read in one
// snapshot (so the version matches the bits).
func (s *Store) StatusList(ctx context.Context, id string) (store.StatusList, []int, error) {
	var l store.StatusList
	var set []int
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		if l, err = scanList(tx.QueryRow(ctx, `SELECT `+listColumns+` FROM status_lists WHERE id = $1`, id)); err != nil {
			return mapErr(err)
		}
		rows, _ := tx.Query(ctx, `SELECT idx FROM status_slots WHERE list_id = $1 AND is_set ORDER BY idx`, id)
		set, err = pgx.CollectRows(rows, pgx.RowTo[int])
		return err
	})
	if err != nil {
		return store.StatusList{}, nil, fmt.Errorf("postgres: status list %q: %w", id, err)
	}
	return l, nilIfEmpty(set), nil
}

// StatusLists lists every status list by purpose, then creation.
func (s *Store) StatusLists(ctx context.Context) ([]store.StatusList, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+listColumns+` FROM status_lists ORDER BY purpose, created_at, id`)
	ls, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.StatusList, error) { return scanList(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: status lists: %w", err)
	}
	return nilIfEmpty(ls), nil
}
