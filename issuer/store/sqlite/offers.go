package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

// pruneBatch bounds the expired nonces one ConsumeNonce deletes, so that a backlog
// does not make a single credential request slow.
const pruneBatch = 1000

// nullHash stores an empty hash as NULL.
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
		return fmt.Errorf("sqlite: create offer: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("sqlite: create offer: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO offers (id, code_hash, tx_code_hash, type, node, format, subject, request,
			created_by, created_at, expires_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'offered')`,
			o.ID, o.CodeHash, nullHash(o.TxCodeHash), o.Type, o.Node, o.Format, o.Subject, o.Request,
			o.CreatedBy, micros(o.CreatedAt), micros(o.ExpiresAt)); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("sqlite: create offer %q: %w", o.ID, err)
	}
	return nil
}

const offerColumns = `id, code_hash, tx_code_hash, type, node, format, subject, request, created_by,
	created_at, expires_at, state, attempts, token_hash, token_expires_at, credential_id`

func scanOffer(sc interface{ Scan(...any) error }) (store.Offer, error) {
	var o store.Offer
	var created, expires int64
	var tokenExpires sql.NullInt64
	var cred sql.NullString
	err := sc.Scan(&o.ID, &o.CodeHash, &o.TxCodeHash, &o.Type, &o.Node, &o.Format, &o.Subject, &o.Request, &o.CreatedBy,
		&created, &expires, &o.State, &o.Attempts, &o.TokenHash, &tokenExpires, &cred)
	o.CreatedAt, o.ExpiresAt, o.TokenExpiresAt = fromMicros(created), fromMicros(expires), fromNullMicros(tokenExpires)
	o.CredentialID = cred.String
	return o, err
}

// offerBy reads the offer whose column equals key.
func (s *Store) offerBy(ctx context.Context, column string, key any) (store.Offer, error) {
	o, err := scanOffer(s.r.QueryRowContext(ctx, `SELECT `+offerColumns+` FROM offers WHERE `+column+` = ?`, key))
	if err != nil {
		return store.Offer{}, mapErr(err)
	}
	return o, nil
}

// Offer returns an offer by ID.
func (s *Store) Offer(ctx context.Context, id string) (store.Offer, error) {
	if id == "" || !store.ValidText(id) {
		return store.Offer{}, fmt.Errorf("sqlite: offer: %w: empty ID or not valid text", store.ErrInvalid)
	}
	o, err := s.offerBy(ctx, "id", id)
	if err != nil {
		return store.Offer{}, fmt.Errorf("sqlite: offer %q: %w", id, err)
	}
	return o, nil
}

// OfferByCode returns the offer whose pre-authorized code hashes to codeHash.
func (s *Store) OfferByCode(ctx context.Context, codeHash []byte) (store.Offer, error) {
	if !store.ValidHash(codeHash) {
		return store.Offer{}, fmt.Errorf("sqlite: offer by code: %w: hash is %d bytes, want 32", store.ErrInvalid, len(codeHash))
	}
	o, err := s.offerBy(ctx, "code_hash", codeHash)
	if err != nil {
		return store.Offer{}, fmt.Errorf("sqlite: offer by code: %w", err)
	}
	return o, nil
}

// OfferByToken returns the offer whose access token hashes to tokenHash.
func (s *Store) OfferByToken(ctx context.Context, tokenHash []byte) (store.Offer, error) {
	if !store.ValidHash(tokenHash) {
		return store.Offer{}, fmt.Errorf("sqlite: offer by token: %w: hash is %d bytes, want 32", store.ErrInvalid, len(tokenHash))
	}
	o, err := s.offerBy(ctx, "token_hash", tokenHash)
	if err != nil {
		return store.Offer{}, fmt.Errorf("sqlite: offer by token: %w", err)
	}
	return o, nil
}

// Offers lists offers in state (all when empty), newest first, at most limit of them
// (store.PageLimit). An unknown state is store.ErrInvalid.
func (s *Store) Offers(ctx context.Context, state string, limit int) ([]store.Offer, error) {
	if state != "" && !store.ValidOfferState(state) {
		return nil, fmt.Errorf("sqlite: offers: %w: unknown state %q", store.ErrInvalid, state)
	}
	limit, err := store.PageLimit(limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: offers: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+offerColumns+` FROM offers WHERE ?1 = '' OR state = ?1
		ORDER BY created_at DESC, id DESC LIMIT ?2`, state, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: offers: %w", err)
	}
	defer rows.Close()
	var out []store.Offer
	for rows.Next() {
		o, err := scanOffer(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: offers: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: offers: %w", err)
	}
	return out, nil
}

// RedeemOffer moves an offered offer to redeemed with its access token's hash and
// expiry, by a conditional update.
func (s *Store) RedeemOffer(ctx context.Context, id string, tokenHash []byte, tokenExpires time.Time, audit ...store.AuditEntry) error {
	if id == "" || !store.ValidText(id) || !store.ValidHash(tokenHash) || !store.ValidTime(tokenExpires) {
		return fmt.Errorf("sqlite: redeem offer: %w: empty ID, token hash not 32 bytes or invalid expiry", store.ErrInvalid)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("sqlite: redeem offer: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE offers SET state = 'redeemed', token_hash = ?, token_expires_at = ?
			WHERE id = ? AND state = 'offered'`, tokenHash, micros(tokenExpires), id)
		if err != nil {
			return mapErr(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return existsOr(ctx, tx, `SELECT 1 FROM offers WHERE id = ?`, id, "offer is not in state offered")
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("sqlite: redeem offer %q: %w", id, err)
	}
	return nil
}

// FailOfferAttempt counts a wrong transaction code on an offered offer and burns it
// when the count reaches max, in one conditional update.
func (s *Store) FailOfferAttempt(ctx context.Context, id string, max int, audit ...store.AuditEntry) (int, error) {
	if id == "" || !store.ValidText(id) || max < 1 {
		return 0, fmt.Errorf("sqlite: fail offer attempt: %w: empty ID or maximum %d below 1", store.ErrInvalid, max)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return 0, fmt.Errorf("sqlite: fail offer attempt: %w", err)
	}
	var attempts int
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE offers SET attempts = attempts + 1,
			state = CASE WHEN attempts + 1 >= ? THEN 'burned' ELSE state END
			WHERE id = ? AND state = 'offered'`, max, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return existsOr(ctx, tx, `SELECT 1 FROM offers WHERE id = ?`, id, "offer is not in state offered")
		}
		if err := tx.QueryRowContext(ctx, `SELECT attempts FROM offers WHERE id = ?`, id).Scan(&attempts); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: fail attempt on offer %q: %w", id, err)
	}
	return attempts, nil
}

// CreateNonce stores a nonce's hash valid until expires; a duplicate is
// store.ErrConflict.
func (s *Store) CreateNonce(ctx context.Context, hash []byte, expires time.Time) error {
	if !store.ValidHash(hash) || !store.ValidTime(expires) {
		return fmt.Errorf("sqlite: create nonce: %w: hash not 32 bytes or invalid expiry", store.ErrInvalid)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO nonces (hash, expires_at) VALUES (?, ?)`, hash, micros(expires))
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: create nonce: %w", err)
	}
	return nil
}

// ConsumeNonce deletes the nonce if it has not expired at now, and then up to
// pruneBatch expired nonces. Write transactions are serialized, so of two calls for
// one nonce the second finds it gone.
func (s *Store) ConsumeNonce(ctx context.Context, hash []byte, now time.Time) error {
	if !store.ValidHash(hash) || !store.ValidTime(now) {
		return fmt.Errorf("sqlite: consume nonce: %w: hash not 32 bytes or invalid time", store.ErrInvalid)
	}
	var found bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM nonces WHERE hash = ? AND expires_at > ?`, hash, micros(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		found = n == 1
		_, err = tx.ExecContext(ctx, `DELETE FROM nonces WHERE hash IN
			(SELECT hash FROM nonces WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`, micros(now), pruneBatch)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: consume nonce: %w", err)
	}
	if !found {
		return fmt.Errorf("sqlite: consume nonce: %w: unknown, used or expired", store.ErrNotFound)
	}
	return nil
}
