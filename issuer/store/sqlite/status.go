package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/civitas-net/civitas/issuer/store"
)

// maxPicks bounds the random draws for one slot. A list is at most half full when a
// draw is made, so each draw finds a free index with probability at least 1/2 and
// maxPicks failures in a row happen with probability at most 2^-64.
const maxPicks = 64

// ReserveSlots reserves n slots for purpose at random unused indexes of the
// purpose's current list, starting a new list of listSize entries whenever the
// current one has reached half its size. All n slots are reserved in one transaction.
func (s *Store) ReserveSlots(ctx context.Context, purpose string, n, listSize int) ([]store.Slot, error) {
	if err := store.ValidateReserve(purpose, n, listSize); err != nil {
		return nil, fmt.Errorf("sqlite: reserve slots: %w", err)
	}
	var out []store.Slot
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = make([]store.Slot, 0, n)
		var id string
		var size, used int
		err := tx.QueryRowContext(ctx, `SELECT l.id, l.size, l.used FROM status_current c JOIN status_lists l ON l.id = c.list_id
			WHERE c.purpose = ?`, purpose).Scan(&id, &size, &used)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO status_slots (list_id, idx) VALUES (?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		added := 0 // slots added to list id in this transaction
		flush := func() error {
			if added == 0 {
				return nil
			}
			_, err := tx.ExecContext(ctx, `UPDATE status_lists SET used = used + ? WHERE id = ?`, added, id)
			added = 0
			return err
		}
		for len(out) < n {
			if id == "" || used >= size/2 {
				if err := flush(); err != nil {
					return err
				}
				if id, err = s.newList(ctx, tx, purpose, listSize); err != nil {
					return err
				}
				size, used = listSize, 0
			}
			idx, err := pickIndex(ctx, ins, id, size)
			if err != nil {
				return err
			}
			out = append(out, store.Slot{ListID: id, Purpose: purpose, Index: idx})
			used++
			added++
		}
		return flush()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: reserve %d %s slots: %w", n, purpose, err)
	}
	return out, nil
}

// newList creates an empty list for purpose with a random ID and makes it current.
func (s *Store) newList(ctx context.Context, tx *sql.Tx, purpose string, size int) (string, error) {
	for range 3 {
		id := store.NewListID()
		res, err := tx.ExecContext(ctx, `INSERT INTO status_lists (id, purpose, size, used, version, created_at)
			VALUES (?, ?, ?, 0, 0, ?) ON CONFLICT DO NOTHING`, id, purpose, size, micros(s.now()))
		if err != nil {
			return "", err
		}
		if n, err := res.RowsAffected(); err != nil {
			return "", err
		} else if n == 0 {
			continue // a 64-bit collision; draw again
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO status_current (purpose, list_id) VALUES (?, ?)
			ON CONFLICT (purpose) DO UPDATE SET list_id = excluded.list_id`, purpose, id)
		return id, err
	}
	return "", errors.New("no unused list ID found")
}

// pickIndex inserts a slot at a random index of the list that no slot holds yet.
func pickIndex(ctx context.Context, ins *sql.Stmt, list string, size int) (int, error) {
	for range maxPicks {
		idx := store.RandomIndex(size)
		res, err := ins.ExecContext(ctx, list, idx)
		if err != nil {
			return 0, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return 0, err
		} else if n == 1 {
			return idx, nil
		}
	}
	return 0, fmt.Errorf("no free index found in list %s", list)
}

// CommitIssuance stores a batch of issued credentials in one transaction.
func (s *Store) CommitIssuance(ctx context.Context, batch []store.Issuance) error {
	for _, is := range batch {
		if err := is.Validate(); err != nil {
			return fmt.Errorf("sqlite: commit issuance: %w", err)
		}
	}
	if len(batch) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		insCred, err := tx.PrepareContext(ctx, `INSERT INTO credentials (id, type, subject, node, format, issued_at, valid_until, issued_by, body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insCred.Close()
		useSlot, err := tx.PrepareContext(ctx, `UPDATE status_slots SET credential_id = ?
			WHERE list_id = ? AND idx = ? AND credential_id IS NULL
			AND list_id IN (SELECT id FROM status_lists WHERE purpose = ?)`)
		if err != nil {
			return err
		}
		defer useSlot.Close()
		var audit []store.AuditEntry
		for _, is := range batch {
			c := is.Credential
			if _, err := insCred.ExecContext(ctx, c.ID, c.Type, c.Subject, c.Node, c.Format, micros(c.IssuedAt),
				nullMicros(c.ValidUntil), c.IssuedBy, c.Body); err != nil {
				return fmt.Errorf("credential %q: %w", c.ID, mapErr(err))
			}
			for _, sl := range is.Slots {
				res, err := useSlot.ExecContext(ctx, c.ID, sl.ListID, sl.Index, sl.Purpose)
				if err != nil {
					return err
				}
				if n, err := res.RowsAffected(); err != nil {
					return err
				} else if n != 1 {
					return fmt.Errorf("credential %q: %w: %s slot %s/%d is not reserved, already used or of another purpose",
						c.ID, store.ErrConflict, sl.Purpose, sl.ListID, sl.Index)
				}
			}
			if is.ApprovalID != "" {
				res, err := tx.ExecContext(ctx, `UPDATE approvals SET state = 'issued', credential_id = ? WHERE id = ? AND state = 'pending'`,
					c.ID, is.ApprovalID)
				if err != nil {
					return err
				}
				if n, err := res.RowsAffected(); err != nil {
					return err
				} else if n != 1 {
					err := existsOr(ctx, tx, `SELECT 1 FROM approvals WHERE id = ?`, is.ApprovalID, "approval is not pending")
					return fmt.Errorf("credential %q: approval %q: %w", c.ID, is.ApprovalID, err)
				}
			}
			if is.OfferID != "" {
				res, err := tx.ExecContext(ctx, `UPDATE offers SET state = 'issued', credential_id = ? WHERE id = ? AND state = 'redeemed'`,
					c.ID, is.OfferID)
				if err != nil {
					return err
				}
				if n, err := res.RowsAffected(); err != nil {
					return err
				} else if n != 1 {
					err := existsOr(ctx, tx, `SELECT 1 FROM offers WHERE id = ?`, is.OfferID, "offer is not redeemed")
					return fmt.Errorf("credential %q: offer %q: %w", c.ID, is.OfferID, err)
				}
			}
			audit = append(audit, is.Audit...)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("sqlite: commit issuance of %d credentials: %w", len(batch), err)
	}
	return nil
}

const credentialColumns = `id, type, subject, node, format, issued_at, valid_until, issued_by, body,
	revoked, revoked_reason, suspended, suspended_reason`

func scanCredential(sc interface{ Scan(...any) error }) (store.CredentialRecord, error) {
	var c store.CredentialRecord
	var issued int64
	var until sql.NullInt64
	err := sc.Scan(&c.ID, &c.Type, &c.Subject, &c.Node, &c.Format, &issued, &until, &c.IssuedBy, &c.Body,
		&c.Revoked, &c.RevokedReason, &c.Suspended, &c.SuspendedReason)
	c.IssuedAt, c.ValidUntil = fromMicros(issued), fromNullMicros(until)
	return c, err
}

// Credential returns an issued credential with its slots.
func (s *Store) Credential(ctx context.Context, id string) (store.CredentialRecord, error) {
	var c store.CredentialRecord
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = scanCredential(tx.QueryRowContext(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE id = ?`, id))
		if err != nil {
			return mapErr(err)
		}
		cs := []store.CredentialRecord{c}
		err = loadSlots(ctx, tx, cs)
		c = cs[0]
		return err
	})
	if err != nil {
		return store.CredentialRecord{}, fmt.Errorf("sqlite: credential %q: %w", id, err)
	}
	return c, nil
}

// loadSlots fills the Slots of cs.
func loadSlots(ctx context.Context, tx *sql.Tx, cs []store.CredentialRecord) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[string]*store.CredentialRecord, len(cs))
	args := make([]any, len(cs))
	for i := range cs {
		byID[cs[i].ID] = &cs[i]
		args[i] = cs[i].ID
	}
	rows, err := tx.QueryContext(ctx, `SELECT s.credential_id, s.list_id, l.purpose, s.idx
		FROM status_slots s JOIN status_lists l ON l.id = s.list_id
		WHERE s.credential_id IN (?`+strings.Repeat(", ?", len(cs)-1)+`)
		ORDER BY l.purpose, s.list_id, s.idx`, args...)
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
		return nil, fmt.Errorf("sqlite: credentials: %w", err)
	}
	var out []store.CredentialRecord
	err = s.read(ctx, func(tx *sql.Tx) error {
		q := `SELECT ` + credentialColumns + ` FROM credentials WHERE 1 = 1`
		var args []any
		for _, w := range []struct{ col, val string }{{"type", f.Type}, {"subject", f.Subject}, {"node", f.Node}} {
			if w.val != "" {
				q += ` AND ` + w.col + ` = ?`
				args = append(args, w.val)
			}
		}
		if f.After != "" {
			var at int64
			if err := tx.QueryRowContext(ctx, `SELECT issued_at FROM credentials WHERE id = ?`, f.After).Scan(&at); err != nil {
				return fmt.Errorf("page after %q: %w", f.After, mapErr(err))
			}
			q += ` AND (issued_at, id) > (?, ?)`
			args = append(args, at, f.After)
		}
		q += ` ORDER BY issued_at, id LIMIT ?`
		args = append(args, limit)
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCredential(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return loadSlots(ctx, tx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: credentials: %w", err)
	}
	return out, nil
}

// errUnchanged rolls back a SetStatus whose bit already has the value.
var errUnchanged = errors.New("status unchanged")

// SetStatus sets or clears a credential's status bit for c.Purpose.
func (s *Store) SetStatus(ctx context.Context, c store.StatusChange, audit ...store.AuditEntry) (bool, error) {
	if err := c.Validate(); err != nil {
		return false, fmt.Errorf("sqlite: set status: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return false, fmt.Errorf("sqlite: set status: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var list string
		var idx int
		var set bool
		err := tx.QueryRowContext(ctx, `SELECT s.list_id, s.idx, s.is_set FROM status_slots s JOIN status_lists l ON l.id = s.list_id
			WHERE s.credential_id = ? AND l.purpose = ?`, c.CredentialID, c.Purpose).Scan(&list, &idx, &set)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no %s slot", store.ErrNotFound, c.Purpose)
		} else if err != nil {
			return err
		}
		if set == c.Value {
			return errUnchanged
		}
		if _, err := tx.ExecContext(ctx, `UPDATE status_slots SET is_set = ? WHERE list_id = ? AND idx = ?`, c.Value, list, idx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE status_lists SET version = version + 1 WHERE id = ?`, list); err != nil {
			return err
		}
		col := "revoked"
		if c.Purpose == store.PurposeSuspension {
			col = "suspended"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE credentials SET `+col+` = ?, `+col+`_reason = ? WHERE id = ?`,
			c.Value, c.Reason, c.CredentialID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO status_events (credential_id, purpose, value, reason, actor, at) VALUES (?, ?, ?, ?, ?, ?)`,
			c.CredentialID, c.Purpose, c.Value, c.Reason, c.Actor, micros(c.At)); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
	if errors.Is(err, errUnchanged) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: set %s of %q: %w", c.Purpose, c.CredentialID, err)
	}
	return true, nil
}

const listColumns = `id, purpose, size, used, version, created_at`

func scanList(sc interface{ Scan(...any) error }) (store.StatusList, error) {
	var l store.StatusList
	var at int64
	err := sc.Scan(&l.ID, &l.Purpose, &l.Size, &l.Used, &l.Version, &at)
	l.CreatedAt = fromMicros(at)
	return l, err
}

// StatusList returns a list and the indexes of its set bits, ascending, read in one
// snapshot (so the version matches the bits).
func (s *Store) StatusList(ctx context.Context, id string) (store.StatusList, []int, error) {
	var l store.StatusList
	var set []int
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		if l, err = scanList(tx.QueryRowContext(ctx, `SELECT `+listColumns+` FROM status_lists WHERE id = ?`, id)); err != nil {
			return mapErr(err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT idx FROM status_slots WHERE list_id = ? AND is_set = 1 ORDER BY idx`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var i int
			if err := rows.Scan(&i); err != nil {
				return err
			}
			set = append(set, i)
		}
		return rows.Err()
	})
	if err != nil {
		return store.StatusList{}, nil, fmt.Errorf("sqlite: status list %q: %w", id, err)
	}
	return l, set, nil
}

// StatusLists lists every status list by purpose, then creation.
func (s *Store) StatusLists(ctx context.Context) ([]store.StatusList, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+listColumns+` FROM status_lists ORDER BY purpose, created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: status lists: %w", err)
	}
	defer rows.Close()
	var out []store.StatusList
	for rows.Next() {
		l, err := scanList(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: status lists: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: status lists: %w", err)
	}
	return out, nil
}
