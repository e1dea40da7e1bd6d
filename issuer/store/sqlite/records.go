package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

// Setting returns a named setting, or store.ErrNotFound.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("sqlite: setting %q: %w", name, mapErr(err))
	}
	return v, nil
}

// InitSetting stores value under name unless name has a value, and returns the value
// in force afterwards.
func (s *Store) InitSetting(ctx context.Context, name, value string) (string, error) {
	if name == "" || !store.ValidText(name, value) {
		return "", fmt.Errorf("sqlite: init setting: %w: empty name, or not valid text", store.ErrInvalid)
	}
	var v string
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	})
	if err != nil {
		return "", fmt.Errorf("sqlite: init setting %q: %w", name, err)
	}
	return v, nil
}

// SigningKeys returns every signing key, oldest first.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, algorithm, public_jwk, sealed, created_at FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: signing keys: %w", err)
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var k store.SigningKey
		var at int64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PublicJWK, &k.Sealed, &at); err != nil {
			return nil, fmt.Errorf("sqlite: signing keys: %w", err)
		}
		k.CreatedAt = fromMicros(at)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: signing keys: %w", err)
	}
	return out, nil
}

// AddSigningKey stores a new signing key; a duplicate ID is store.ErrConflict.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey, audit ...store.AuditEntry) error {
	if err := k.Validate(); err != nil {
		return fmt.Errorf("sqlite: add signing key: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("sqlite: add signing key: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (id, algorithm, public_jwk, sealed, created_at) VALUES (?, ?, ?, ?, ?)`,
			k.ID, k.Algorithm, k.PublicJWK, k.Sealed, micros(k.CreatedAt)); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("sqlite: add signing key %q: %w", k.ID, err)
	}
	return nil
}

// CreateToken stores an API token; a duplicate ID or hash is store.ErrConflict.
func (s *Store) CreateToken(ctx context.Context, t store.Token, audit ...store.AuditEntry) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("sqlite: create token: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("sqlite: create token: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, hash, name, role, nodes, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, t.Hash, t.Name, t.Role, store.EncodeStrings(t.Nodes), micros(t.CreatedAt)); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("sqlite: create token %q: %w", t.ID, err)
	}
	return nil
}

const tokenColumns = `id, hash, name, role, nodes, created_at, revoked_at`

func scanToken(sc interface{ Scan(...any) error }) (store.Token, error) {
	var t store.Token
	var nodes string
	var created int64
	var revoked sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Hash, &t.Name, &t.Role, &nodes, &created, &revoked); err != nil {
		return t, err
	}
	var err error
	if t.Nodes, err = store.DecodeStrings(nodes); err != nil {
		return t, fmt.Errorf("token %q: stored nodes: %w", t.ID, err)
	}
	t.CreatedAt, t.RevokedAt = fromMicros(created), fromNullMicros(revoked)
	return t, nil
}

// TokenByHash returns the token whose secret hashes to hash, revoked or not.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, blob(hash)))
	if err != nil {
		return store.Token{}, fmt.Errorf("sqlite: token by hash: %w", mapErr(err))
	}
	return t, nil
}

// Tokens lists all tokens, oldest first.
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: tokens: %w", err)
	}
	return out, nil
}

// RevokeToken marks a token revoked at the given time.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time, audit ...store.AuditEntry) error {
	if id == "" || !store.ValidText(id) || !store.ValidTime(at) {
		return fmt.Errorf("sqlite: revoke token: %w: empty ID or invalid time", store.ErrInvalid)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("sqlite: revoke token: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(at), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return existsOr(ctx, tx, `SELECT 1 FROM tokens WHERE id = ?`, id, "already revoked")
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("sqlite: revoke token %q: %w", id, err)
	}
	return nil
}

// existsOr explains a conditional update that changed nothing: store.ErrConflict
// (with why) when the row exists, store.ErrNotFound when it does not.
func existsOr(ctx context.Context, tx *sql.Tx, query, id, why string) error {
	var one int
	err := tx.QueryRowContext(ctx, query, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", store.ErrConflict, why)
}

// CreateMember registers a member; a duplicate DID is store.ErrConflict.
func (s *Store) CreateMember(ctx context.Context, m store.Member, audit ...store.AuditEntry) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("sqlite: create member: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("sqlite: create member: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO members (did, name, created_at, created_by) VALUES (?, ?, ?, ?)`,
			m.DID, m.Name, micros(m.CreatedAt), m.CreatedBy); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("sqlite: create member %q: %w", m.DID, err)
	}
	return nil
}

// Member returns a registered member by DID.
func (s *Store) Member(ctx context.Context, did string) (store.Member, error) {
	m := store.Member{}
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT did, name, created_at, created_by FROM members WHERE did = ?`, did).
		Scan(&m.DID, &m.Name, &at, &m.CreatedBy)
	if err != nil {
		return store.Member{}, fmt.Errorf("sqlite: member %q: %w", did, mapErr(err))
	}
	m.CreatedAt = fromMicros(at)
	return m, nil
}

// Members lists members ordered by DID, after the given DID, at most limit of them
// (store.PageLimit).
func (s *Store) Members(ctx context.Context, after string, limit int) ([]store.Member, error) {
	limit, err := store.PageLimit(limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: members: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT did, name, created_at, created_by FROM members WHERE did > ? ORDER BY did LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: members: %w", err)
	}
	defer rows.Close()
	var out []store.Member
	for rows.Next() {
		var m store.Member
		var at int64
		if err := rows.Scan(&m.DID, &m.Name, &at, &m.CreatedBy); err != nil {
			return nil, fmt.Errorf("sqlite: members: %w", err)
		}
		m.CreatedAt = fromMicros(at)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: members: %w", err)
	}
	return out, nil
}
