package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/civitas-net/civitas/issuer/store"
)

// Setting returns a named setting, or store.ErrNotFound.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	if err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v); err != nil {
		return "", fmt.Errorf("postgres: setting %q: %w", name, mapErr(err))
	}
	return v, nil
}

// InitSetting stores value under name unless name has a value, and returns the value
// in force afterwards. A concurrent first writer's insert makes the insert here wait
// for its commit and do nothing; the following read sees the winner's value.
func (s *Store) InitSetting(ctx context.Context, name, value string) (string, error) {
	if name == "" || !store.ValidText(name, value) {
		return "", fmt.Errorf("postgres: init setting: %w: empty name, or not valid text", store.ErrInvalid)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
		return "", fmt.Errorf("postgres: init setting %q: %w", name, mapErr(err))
	}
	return s.Setting(ctx, name)
}

// SigningKeys returns every signing key, oldest first.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, algorithm, public_jwk, sealed, created_at FROM signing_keys ORDER BY created_at, id`)
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SigningKey, error) {
		var k store.SigningKey
		err := r.Scan(&k.ID, &k.Algorithm, &k.PublicJWK, &k.Sealed, &k.CreatedAt)
		k.CreatedAt = k.CreatedAt.UTC()
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: signing keys: %w", err)
	}
	return nilIfEmpty(keys), nil
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// AddSigningKey stores a new signing key; a duplicate ID is store.ErrConflict.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey, audit ...store.AuditEntry) error {
	if err := k.Validate(); err != nil {
		return fmt.Errorf("postgres: add signing key: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("postgres: add signing key: %w", err)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO signing_keys (id, algorithm, public_jwk, sealed, created_at) VALUES ($1, $2, $3, $4, $5)`,
			k.ID, k.Algorithm, k.PublicJWK, k.Sealed, ts(k.CreatedAt)); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: add signing key %q: %w", k.ID, err)
	}
	return nil
}

// CreateToken stores an API token; a duplicate ID or hash is store.ErrConflict.
func (s *Store) CreateToken(ctx context.Context, t store.Token, audit ...store.AuditEntry) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("postgres: create token: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("postgres: create token: %w", err)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tokens (id, hash, name, role, nodes, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			t.ID, t.Hash, t.Name, t.Role, store.EncodeStrings(t.Nodes), ts(t.CreatedAt)); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: create token %q: %w", t.ID, err)
	}
	return nil
}

const tokenColumns = `id, hash, name, role, nodes, created_at, revoked_at`

func scanToken(r pgx.Row) (store.Token, error) {
	var t store.Token
	var nodes string
	var revoked *time.Time
	if err := r.Scan(&t.ID, &t.Hash, &t.Name, &t.Role, &nodes, &t.CreatedAt, &revoked); err != nil {
		return t, err
	}
	var err error
	if t.Nodes, err = store.DecodeStrings(nodes); err != nil {
		return t, fmt.Errorf("token %q: stored nodes: %w", t.ID, err)
	}
	t.CreatedAt, t.RevokedAt = t.CreatedAt.UTC(), fromNullTS(revoked)
	return t, nil
}

// TokenByHash returns the token whose secret hashes to hash, revoked or not.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, blob(hash)))
	if err != nil {
		return store.Token{}, fmt.Errorf("postgres: token by hash: %w", mapErr(err))
	}
	return t, nil
}

// Tokens lists all tokens, oldest first.
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at, id`)
	toks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Token, error) { return scanToken(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: tokens: %w", err)
	}
	return nilIfEmpty(toks), nil
}

// RevokeToken marks a token revoked at the given time.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time, audit ...store.AuditEntry) error {
	if id == "" || !store.ValidText(id) || !store.ValidTime(at) {
		return fmt.Errorf("postgres: revoke token: %w: empty ID or invalid time", store.ErrInvalid)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("postgres: revoke token: %w", err)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, ts(at), id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return existsOr(ctx, tx, `SELECT 1 FROM tokens WHERE id = $1`, id, "already revoked")
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: revoke token %q: %w", id, err)
	}
	return nil
}

// CreateMember registers a member; a duplicate DID is store.ErrConflict.
func (s *Store) CreateMember(ctx context.Context, m store.Member, audit ...store.AuditEntry) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("postgres: create member: %w", err)
	}
	if err := store.ValidateAudit(audit); err != nil {
		return fmt.Errorf("postgres: create member: %w", err)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO members (did, name, created_at, created_by) VALUES ($1, $2, $3, $4)`,
			m.DID, m.Name, ts(m.CreatedAt), m.CreatedBy); err != nil {
			return mapErr(err)
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: create member %q: %w", m.DID, err)
	}
	return nil
}

func scanMember(r pgx.Row) (store.Member, error) {
	var m store.Member
	err := r.Scan(&m.DID, &m.Name, &m.CreatedAt, &m.CreatedBy)
	m.CreatedAt = m.CreatedAt.UTC()
	return m, err
}

// Member returns a registered member by DID.
func (s *Store) Member(ctx context.Context, did string) (store.Member, error) {
	m, err := scanMember(s.pool.QueryRow(ctx, `SELECT did, name, created_at, created_by FROM members WHERE did = $1`, did))
	if err != nil {
		return store.Member{}, fmt.Errorf("postgres: member %q: %w", did, mapErr(err))
	}
	return m, nil
}

// Members lists members ordered by DID, after the given DID, at most limit of them
// (store.PageLimit). DIDs compare byte by byte (the column is COLLATE "C").
func (s *Store) Members(ctx context.Context, after string, limit int) ([]store.Member, error) {
	limit, err := store.PageLimit(limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: members: %w", err)
	}
	rows, _ := s.pool.Query(ctx, `SELECT did, name, created_at, created_by FROM members
		WHERE did > $1 ORDER BY did LIMIT $2`, after, limit)
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Member, error) { return scanMember(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: members: %w", mapErr(err))
	}
	return nilIfEmpty(ms), nil
}
