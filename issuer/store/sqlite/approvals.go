package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

// CreateApproval stores a pending approval request; a duplicate ID is
// store.ErrConflict.
func (s *Store) CreateApproval(ctx context.Context, a store.Approval, audit ...store.AuditEntry) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("sqlite: create approval: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("sqlite: create approval: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO approvals (id, type, node, request, requested_by, required, state, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
			a.ID, a.Type, a.Node, a.Request, a.RequestedBy, a.Required, micros(a.CreatedAt), micros(a.ExpiresAt)); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("sqlite: create approval %q: %w", a.ID, err)
	}
	return nil
}

const approvalColumns = `id, type, node, request, requested_by, required, state, created_at, expires_at, credential_id`

func scanApproval(sc interface{ Scan(...any) error }) (store.Approval, error) {
	var a store.Approval
	var created, expires int64
	var cred sql.NullString
	err := sc.Scan(&a.ID, &a.Type, &a.Node, &a.Request, &a.RequestedBy, &a.Required, &a.State, &created, &expires, &cred)
	a.CreatedAt, a.ExpiresAt, a.CredentialID = fromMicros(created), fromMicros(expires), cred.String
	return a, err
}

// loadVotes fills the Votes of as, in vote order.
func loadVotes(ctx context.Context, tx *sql.Tx, as []store.Approval) error {
	if len(as) == 0 {
		return nil
	}
	byID := make(map[string]*store.Approval, len(as))
	args := make([]any, len(as))
	for i := range as {
		byID[as[i].ID] = &as[i]
		args[i] = as[i].ID
	}
	rows, err := tx.QueryContext(ctx, `SELECT approval_id, approver, at FROM approval_votes
		WHERE approval_id IN (?`+strings.Repeat(", ?", len(as)-1)+`) ORDER BY approval_id, ord`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var v store.Vote
		var at int64
		if err := rows.Scan(&id, &v.Approver, &at); err != nil {
			return err
		}
		v.At = fromMicros(at)
		if a := byID[id]; a != nil {
			a.Votes = append(a.Votes, v)
		}
	}
	return rows.Err()
}

// Approval returns an approval request with its votes, read in one snapshot.
func (s *Store) Approval(ctx context.Context, id string) (store.Approval, error) {
	var a store.Approval
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		if a, err = scanApproval(tx.QueryRowContext(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE id = ?`, id)); err != nil {
			return mapErr(err)
		}
		as := []store.Approval{a}
		err = loadVotes(ctx, tx, as)
		a = as[0]
		return err
	})
	if err != nil {
		return store.Approval{}, fmt.Errorf("sqlite: approval %q: %w", id, err)
	}
	return a, nil
}

// Approvals lists approval requests in state (all when empty), newest first, with
// their votes. An unknown state is store.ErrInvalid.
func (s *Store) Approvals(ctx context.Context, state string, limit int) ([]store.Approval, error) {
	if state != "" && !store.ValidState(state) {
		return nil, fmt.Errorf("sqlite: approvals: %w: unknown state %q", store.ErrInvalid, state)
	}
	limit, err := store.PageLimit(limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: approvals: %w", err)
	}
	var out []store.Approval
	err = s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE ? = '' OR state = ?
			ORDER BY created_at DESC, id DESC LIMIT ?`, state, state, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanApproval(rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return loadVotes(ctx, tx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: approvals: %w", err)
	}
	return out, nil
}

// AddVote records approver's vote on a pending approval and returns the number of
// votes.
func (s *Store) AddVote(ctx context.Context, approvalID, approver string, at time.Time, audit ...store.AuditEntry) (int, error) {
	if approvalID == "" || approver == "" || !store.ValidText(approvalID, approver) || !store.ValidTime(at) {
		return 0, fmt.Errorf("sqlite: add vote: %w: empty approval or approver, or invalid time", store.ErrInvalid)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return 0, fmt.Errorf("sqlite: add vote: %w", err)
	}
	var votes int
	err := s.write(ctx, func(tx *sql.Tx) error {
		var state string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM approvals WHERE id = ?`, approvalID).Scan(&state); err != nil {
			return mapErr(err)
		}
		if state != store.ApprovalPending {
			return fmt.Errorf("%w: approval is %s", store.ErrConflict, state)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM approval_votes WHERE approval_id = ?`, approvalID).Scan(&votes); err != nil {
			return err
		}
		votes++
		if _, err := tx.ExecContext(ctx, `INSERT INTO approval_votes (approval_id, approver, at, ord) VALUES (?, ?, ?, ?)`,
			approvalID, approver, micros(at), votes); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: vote of %q on approval %q: %w", approver, approvalID, err)
	}
	return votes, nil
}

// SetApprovalState moves a pending approval to expired or rejected.
func (s *Store) SetApprovalState(ctx context.Context, id, state string, audit ...store.AuditEntry) error {
	if id == "" || !store.ValidText(id) || !store.ValidFinalState(state) {
		return fmt.Errorf("sqlite: set approval state: %w: empty ID or state %q not expired or rejected", store.ErrInvalid, state)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("sqlite: set approval state: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE approvals SET state = ? WHERE id = ? AND state = 'pending'`, state, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return existsOr(ctx, tx, `SELECT 1 FROM approvals WHERE id = ?`, id, "approval is not pending")
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set approval %q %s: %w", id, state, err)
	}
	return nil
}
