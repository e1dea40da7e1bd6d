package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/civitas-net/civitas/issuer/store"
)

// pruneBatch bounds the expired nonces one ConsumeNonce deletes, so that a backlog
// does not make a single credential request slow.
const pruneBatch = 1000

// nullHash writes an empty hash as NULL.
func nullHash(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreateOffer stores a new offer in state offered; a duplicate ID or code hash is
// store.ErrConflict.
func (s *Store) CreateOffer(ctx context.Context, o store.Offer, audit ...store.AuditEntry) error {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("postgres: create offer: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("postgres: create offer: %w", err)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO offers (id, code_hash, tx_code_hash, type, node, format, subject, request,
			created_by, created_at, expires_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'offered')`,
			o.ID, o.CodeHash, nullHash(o.TxCodeHash), o.Type, o.Node, o.Format, o.Subject, o.Request,
			o.CreatedBy, ts(o.CreatedAt), ts(o.ExpiresAt)); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: create offer %q: %w", o.ID, err)
	}
	return nil
}

const offerColumns = `id, code_hash, tx_code_hash, type, node, format, subject, request, created_by,
	created_at, expires_at, state, attempts, token_hash, token_expires_at, credential_id`

func scanOffer(r pgx.Row) (store.Offer, error) {
	var o store.Offer
	var tokenExpires *time.Time
	var cred *string
	err := r.Scan(&o.ID, &o.CodeHash, &o.TxCodeHash, &o.Type, &o.Node, &o.Format, &o.Subject, &o.Request, &o.CreatedBy,
		&o.CreatedAt, &o.ExpiresAt, &o.State, &o.Attempts, &o.TokenHash, &tokenExpires, &cred)
	o.CreatedAt, o.ExpiresAt, o.TokenExpiresAt = o.CreatedAt.UTC(), o.ExpiresAt.UTC(), fromNullTS(tokenExpires)
	if cred != nil {
		o.CredentialID = *cred
	}
	return o, err
}

// offerBy reads the offer whose column equals key.
func (s *Store) offerBy(ctx context.Context, column string, key any) (store.Offer, error) {
	o, err := scanOffer(s.pool.QueryRow(ctx, `SELECT `+offerColumns+` FROM offers WHERE `+column+` = $1`, key))
	if err != nil {
		return store.Offer{}, mapErr(err)
	}
	return o, nil
}

// Offer returns an offer by ID.
func (s *Store) Offer(ctx context.Context, id string) (store.Offer, error) {
	if id == "" || !store.ValidText(id) {
		return store.Offer{}, fmt.Errorf("postgres: offer: %w: empty ID or not valid text", store.ErrInvalid)
	}
	o, err := s.offerBy(ctx, "id", id)
	if err != nil {
		return store.Offer{}, fmt.Errorf("postgres: offer %q: %w", id, err)
	}
	return o, nil
}

// OfferByCode returns the offer whose pre-authorized code hashes to codeHash.
func (s *Store) OfferByCode(ctx context.Context, codeHash []byte) (store.Offer, error) {
	if !store.ValidHash(codeHash) {
		return store.Offer{}, fmt.Errorf("postgres: offer by code: %w: hash is %d bytes, want 32", store.ErrInvalid, len(codeHash))
	}
	o, err := s.offerBy(ctx, "code_hash", codeHash)
	if err != nil {
		return store.Offer{}, fmt.Errorf("postgres: offer by code: %w", err)
	}
	return o, nil
}

// OfferByToken returns the offer whose access token hashes to tokenHash.
func (s *Store) OfferByToken(ctx context.Context, tokenHash []byte) (store.Offer, error) {
	if !store.ValidHash(tokenHash) {
		return store.Offer{}, fmt.Errorf("postgres: offer by token: %w: hash is %d bytes, want 32", store.ErrInvalid, len(tokenHash))
	}
	o, err := s.offerBy(ctx, "token_hash", tokenHash)
	if err != nil {
		return store.Offer{}, fmt.Errorf("postgres: offer by token: %w", err)
	}
	return o, nil
}

// Offers lists offers in state (all when empty), newest first, at most limit of them
// (store.PageLimit). An unknown state is store.ErrInvalid.
func (s *Store) Offers(ctx context.Context, state string, limit int) ([]store.Offer, error) {
	if state != "" && !store.ValidOfferState(state) {
		return nil, fmt.Errorf("postgres: offers: %w: unknown state %q", store.ErrInvalid, state)
	}
	limit, err := store.PageLimit(limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: offers: %w", err)
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+offerColumns+` FROM offers WHERE $1 = '' OR state = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, state, limit)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Offer, error) { return scanOffer(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: offers: %w", err)
	}
	return nilIfEmpty(out), nil
}

// RedeemOffer moves an offered offer to redeemed with its access token's hash and
// expiry, by a conditional update: of concurrent redemptions, the first to lock the
// row wins and the others find it no longer offered.
func (s *Store) RedeemOffer(ctx context.Context, id string, tokenHash []byte, tokenExpires time.Time, audit ...store.AuditEntry) error {
	if id == "" || !store.ValidText(id) || !store.ValidHash(tokenHash) || !store.ValidTime(tokenExpires) {
		return fmt.Errorf("postgres: redeem offer: %w: empty ID, token hash not 32 bytes or invalid expiry", store.ErrInvalid)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("postgres: redeem offer: %w", err)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE offers SET state = 'redeemed', token_hash = $1, token_expires_at = $2
			WHERE id = $3 AND state = 'offered'`, tokenHash, ts(tokenExpires), id)
		if err != nil {
			return mapErr(err)
		}
		if tag.RowsAffected() == 0 {
			return existsOr(ctx, tx, `SELECT 1 FROM offers WHERE id = $1`, id, "offer is not in state offered")
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: redeem offer %q: %w", id, err)
	}
	return nil
}

// FailOfferAttempt counts a wrong transaction code on an offered offer and burns it
// when the count reaches max, in one conditional update, so concurrent failures are
// counted one after the other and none is counted after the burn.
func (s *Store) FailOfferAttempt(ctx context.Context, id string, max int, audit ...store.AuditEntry) (int, error) {
	if id == "" || !store.ValidText(id) || max < 1 {
		return 0, fmt.Errorf("postgres: fail offer attempt: %w: empty ID or maximum %d below 1", store.ErrInvalid, max)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return 0, fmt.Errorf("postgres: fail offer attempt: %w", err)
	}
	var attempts int
	err := s.write(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE offers SET attempts = attempts + 1,
			state = CASE WHEN attempts + 1 >= $1 THEN 'burned' ELSE state END
			WHERE id = $2 AND state = 'offered' RETURNING attempts`, max, id).Scan(&attempts)
		if errors.Is(err, pgx.ErrNoRows) {
			return existsOr(ctx, tx, `SELECT 1 FROM offers WHERE id = $1`, id, "offer is not in state offered")
		} else if err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: fail attempt on offer %q: %w", id, err)
	}
	return attempts, nil
}

// CreateNonce stores a nonce's hash valid until expires; a duplicate is
// store.ErrConflict.
func (s *Store) CreateNonce(ctx context.Context, hash []byte, expires time.Time) error {
	if !store.ValidHash(hash) || !store.ValidTime(expires) {
		return fmt.Errorf("postgres: create nonce: %w: hash not 32 bytes or invalid expiry", store.ErrInvalid)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO nonces (hash, expires_at) VALUES ($1, $2)`, hash, ts(expires)); err != nil {
		return fmt.Errorf("postgres: create nonce: %w", mapErr(err))
	}
	return nil
}

// ConsumeNonce deletes the nonce if it has not expired at now, and then up to
// pruneBatch expired nonces. Of concurrent deletes of one nonce, also from other
// processes, the first locks the row and the others, once it commits, find it gone.
// Pruning skips rows another transaction holds (FOR UPDATE SKIP LOCKED), so it never
// waits and cannot deadlock with other consumers.
func (s *Store) ConsumeNonce(ctx context.Context, hash []byte, now time.Time) error {
	if !store.ValidHash(hash) || !store.ValidTime(now) {
		return fmt.Errorf("postgres: consume nonce: %w: hash not 32 bytes or invalid time", store.ErrInvalid)
	}
	var found bool
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM nonces WHERE hash = $1 AND expires_at > $2`, hash, ts(now))
		if err != nil {
			return err
		}
		found = tag.RowsAffected() == 1
		_, err = tx.Exec(ctx, `DELETE FROM nonces WHERE hash IN (SELECT hash FROM nonces WHERE expires_at <= $1
			ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(now), pruneBatch)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: consume nonce: %w", mapErr(err))
	}
	if !found {
		return fmt.Errorf("postgres: consume nonce: %w: unknown, used or expired", store.ErrNotFound)
	}
	return nil
}
