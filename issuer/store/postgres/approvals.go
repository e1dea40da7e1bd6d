package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/civitas-net/civitas/issuer/store"
)

// CreateApproval stores a pending approval request; a duplicate ID is
// store.ErrConflict.
func (s *Store) CreateApproval(ctx context.Context, a store.Approval, audit ...store.AuditEntry) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("postgres: create approval: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("postgres: create approval: %w", err)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO approvals (id, type, node, request, requested_by, required, state, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)`,
			a.ID, a.Type, a.Node, a.Request, a.RequestedBy, a.Required, ts(a.CreatedAt), ts(a.ExpiresAt)); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: create approval %q: %w", a.ID, err)
	}
	return nil
}

const approvalColumns = `id, type, node, request, requested_by, required, state, created_at, expires_at, credential_id`

func scanApproval(r pgx.Row) (store.Approval, error) {
	var a store.Approval
	var cred *string
	err := r.Scan(&a.ID, &a.Type, &a.Node, &a.Request, &a.RequestedBy, &a.Required, &a.State, &a.CreatedAt, &a.ExpiresAt, &cred)
	a.CreatedAt, a.ExpiresAt = a.CreatedAt.UTC(), a.ExpiresAt.UTC()
	if cred != nil {
		a.CredentialID = *cred
	}
	return a, err
}

// loadVotes fills the Votes of as, in vote order.
func loadVotes(ctx context.Context, tx pgx.Tx, as []store.Approval) error {
	if len(as) == 0 {
		return nil
	}
	byID := make(map[string]*store.Approval, len(as))
	ids := make([]string, len(as))
	for i := range as {
		byID[as[i].ID] = &as[i]
		ids[i] = as[i].ID
	}
	rows, err := tx.Query(ctx, `SELECT approval_id, approver, at FROM approval_votes
		WHERE approval_id = ANY($1) ORDER BY approval_id, ord`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var v store.Vote
		if err := rows.Scan(&id, &v.Approver, &v.At); err != nil {
			return err
		}
		v.At = v.At.UTC()
		if a := byID[id]; a != nil {
			a.Votes = append(a.Votes, v)
		}
	}
	return rows.Err()
}

// Approval returns an approval request with its votes, read in one snapshot.
func (s *Store) Approval(ctx context.Context, id string) (store.Approval, error) {
	var a store.Approval
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		if a, err = scanApproval(tx.QueryRow(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE id = $1`, id)); err != nil {
			return mapErr(err)
		}
		as := []store.Approval{a}
		err = loadVotes(ctx, tx, as)
		a = as[0]
		return err
	})
	if err != nil {
		return store.Approval{}, fmt.Errorf("postgres: approval %q: %w", id, err)
	}
	return a, nil
}

// Approvals lists approval requests in state (all when empty), newest first, with
// their votes. An unknown state is store.ErrInvalid.
func (s *Store) Approvals(ctx context.Context, state string, limit int) ([]store.Approval, error) {
	if state != "" && !store.ValidState(state) {
		return nil, fmt.Errorf("postgres: approvals: %w: unknown state %q", store.ErrInvalid, state)
	}
	limit, err := store.PageLimit(limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: approvals: %w", err)
	}
	var out []store.Approval
	err = s.read(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE $1 = '' OR state = $1
			ORDER BY created_at DESC, id DESC LIMIT $2`, state, limit)
		var err error
		if out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Approval, error) { return scanApproval(r) }); err != nil {
			return err
		}
		return loadVotes(ctx, tx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: approvals: %w", err)
	}
	return nilIfEmpty(out), nil
}

// AddVote records approver's vote on a pending approval and returns the number of
// votes. It locks the approval row, so concurrent votes are counted one after the
// other and a vote cannot slip in beside the issuance that completes the approval.
func (s *Store) AddVote(ctx context.Context, approvalID, approver string, at time.Time, audit ...store.AuditEntry) (int, error) {
	if approvalID == "" || approver == "" || !store.ValidText(approvalID, approver) || !store.ValidTime(at) {
		return 0, fmt.Errorf("postgres: add vote: %w: empty approval or approver, or invalid time", store.ErrInvalid)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return 0, fmt.Errorf("postgres: add vote: %w", err)
	}
	var votes int
	err := s.write(ctx, func(tx pgx.Tx) error {
		var state string
		if err := tx.QueryRow(ctx, `SELECT state FROM approvals WHERE id = $1 FOR UPDATE`, approvalID).Scan(&state); err != nil {
			return mapErr(err)
		}
		if state != store.ApprovalPending {
			return fmt.Errorf("%w: approval is %s", store.ErrConflict, state)
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM approval_votes WHERE approval_id = $1`, approvalID).Scan(&votes); err != nil {
			return err
		}
		votes++
		if _, err := tx.Exec(ctx, `INSERT INTO approval_votes (approval_id, approver, at, ord) VALUES ($1, $2, $3, $4)`,
			approvalID, approver, ts(at), votes); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: vote of %q on approval %q: %w", approver, approvalID, err)
	}
	return votes, nil
}

// SetApprovalState moves a pending approval to expired or rejected.
func (s *Store) SetApprovalState(ctx context.Context, id, state string, audit ...store.AuditEntry) error {
	if id == "" || !store.ValidText(id) || !store.ValidFinalState(state) {
		return fmt.Errorf("postgres: set approval state: %w: empty ID or state %q not expired or rejected", store.ErrInvalid, state)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("postgres: set approval state: %w", err)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE approvals SET state = $1 WHERE id = $2 AND state = 'pending'`, state, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return existsOr(ctx, tx, `SELECT 1 FROM approvals WHERE id = $1`, id, "approval is not pending")
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: set approval %q %s: %w", id, state, err)
	}
	return nil
}
