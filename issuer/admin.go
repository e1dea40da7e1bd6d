package issuer

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/schemas"
)

// requireAdmin refuses, and audits, any principal but an admin.
func (s *Service) requireAdmin(ctx context.Context, p Principal, action string) error {
	if p.Role != store.RoleAdmin {
		return s.forbid(ctx, p, action, "this needs an admin token")
	}
	return nil
}

// RegisterMember registers a member by DID (admins only). Issuing to a DID requires
// that it be registered.
func (s *Service) RegisterMember(ctx context.Context, p Principal, memberDID, name string) (store.Member, error) {
	if err := s.requireAdmin(ctx, p, "register member"); err != nil {
		return store.Member{}, err
	}
	if _, err := did.Parse(memberDID); err != nil {
		return store.Member{}, errorf(CodeMalformedRequest, "id must be a DID")
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 200 || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' }) {
		return store.Member{}, errorf(CodeMalformedRequest, "name must be 1 to 200 printable characters")
	}
	m := store.Member{DID: memberDID, Name: name, CreatedAt: s.now(), CreatedBy: p.TokenID}
	err := s.store.CreateMember(ctx, m, s.entry(p.TokenID, "member.register", memberDID, nil))
	switch {
	case errors.Is(err, store.ErrConflict):
		return store.Member{}, errorf(CodeMemberExists, "the member is already registered")
	case err != nil:
		return store.Member{}, internal("register member", err)
	}
	return m, nil
}

// Member returns a registered member (admins only).
func (s *Service) Member(ctx context.Context, p Principal, memberDID string) (store.Member, error) {
	if err := s.requireAdmin(ctx, p, "read member"); err != nil {
		return store.Member{}, err
	}
	m, err := s.store.Member(ctx, memberDID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return m, errorf(CodeNotFound, "no member %s", truncate(memberDID))
	case err != nil:
		return m, internal("read member", err)
	}
	return m, nil
}

// Members lists members (admins only), by DID after the given one.
func (s *Service) Members(ctx context.Context, p Principal, after string, limit int) ([]store.Member, error) {
	if err := s.requireAdmin(ctx, p, "list members"); err != nil {
		return nil, err
	}
	ms, err := s.store.Members(ctx, after, clampLimit(limit))
	if err != nil {
		return nil, internal("list members", err)
	}
	return ms, nil
}

// TokenView is a token as listed: never its secret or hash.
type TokenView struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Role      string   `json:"role"`
	Nodes     []string `json:"nodes,omitempty"`
	CreatedAt string   `json:"createdAt"`
	Revoked   bool     `json:"revoked"`
}

func tokenView(t store.Token) TokenView {
	return TokenView{ID: t.ID, Name: t.Name, Role: t.Role, Nodes: t.Nodes, CreatedAt: t.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), Revoked: !t.RevokedAt.IsZero()}
}

// CreateToken makes an API token (admins only) and returns its secret, shown once.
// Stewards must name the nodes they steward.
func (s *Service) CreateToken(ctx context.Context, p Principal, name, role string, nodes []string) (string, TokenView, error) {
	if err := s.requireAdmin(ctx, p, "create token"); err != nil {
		return "", TokenView{}, err
	}
	name = strings.TrimSpace(name)
	switch {
	case !validRole(role):
		return "", TokenView{}, errorf(CodeMalformedRequest, "role must be admin, steward or badge-issuer")
	case name == "" || utf8.RuneCountInString(name) > 200:
		return "", TokenView{}, errorf(CodeMalformedRequest, "name must be 1 to 200 characters")
	case role == store.RoleSteward && len(nodes) == 0:
		return "", TokenView{}, errorf(CodeMalformedRequest, "a steward token names the nodes it stewards")
	case role != store.RoleSteward && len(nodes) > 0:
		return "", TokenView{}, errorf(CodeMalformedRequest, "only steward tokens name nodes")
	case len(nodes) > 100 || slices.ContainsFunc(nodes, func(n string) bool { return n == "" || len(n) > 500 }):
		return "", TokenView{}, errorf(CodeMalformedRequest, "nodes must be up to 100 node identifiers")
	}
	secret, t := newToken(name, role, nodes, s.now())
	details := map[string]any{"role": role, "name": name}
	if len(nodes) > 0 {
		details["nodes"] = nodes
	}
	if err := s.store.CreateToken(ctx, t, s.entry(p.TokenID, "token.create", t.ID, details)); err != nil {
		return "", TokenView{}, internal("create token", err)
	}
	return secret, tokenView(t), nil
}

// Tokens lists API tokens (admins only).
func (s *Service) Tokens(ctx context.Context, p Principal) ([]TokenView, error) {
	if err := s.requireAdmin(ctx, p, "list tokens"); err != nil {
		return nil, err
	}
	ts, err := s.store.Tokens(ctx)
	if err != nil {
		return nil, internal("list tokens", err)
	}
	out := make([]TokenView, len(ts))
	for i, t := range ts {
		out[i] = tokenView(t)
	}
	return out, nil
}

// RevokeToken revokes an API token (admins only).
func (s *Service) RevokeToken(ctx context.Context, p Principal, id string) error {
	if err := s.requireAdmin(ctx, p, "revoke token"); err != nil {
		return err
	}
	err := s.store.RevokeToken(ctx, id, s.now(), s.entry(p.TokenID, "token.revoke", id, nil))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(CodeNotFound, "no token %s", truncate(id))
	case errors.Is(err, store.ErrConflict):
		return nil // already revoked: the outcome the caller asked for
	case err != nil:
		return internal("revoke token", err)
	}
	return nil
}

// Credentials lists issued credentials p may manage: admins all, stewards residencies of
// their nodes, badge issuers contributions.
func (s *Service) Credentials(ctx context.Context, p Principal, f store.CredentialFilter) ([]store.CredentialRecord, error) {
	switch p.Role {
	case store.RoleSteward:
		if f.Type != "" && f.Type != schemas.Residency {
			return []store.CredentialRecord{}, nil
		}
		f.Type = schemas.Residency
		if f.Node == "" && len(p.Nodes) == 1 {
			f.Node = p.Nodes[0]
		}
	case store.RoleBadgeIssuer:
		if f.Type != "" && f.Type != schemas.Contribution {
			return []store.CredentialRecord{}, nil
		}
		f.Type = schemas.Contribution
	}
	f.Limit = clampLimit(f.Limit)
	recs, err := s.store.Credentials(ctx, f)
	if err != nil {
		return nil, internal("list credentials", err)
	}
	out := recs[:0]
	for _, r := range recs {
		if p.mayManage(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Credential returns one issued credential that p may manage.
func (s *Service) Credential(ctx context.Context, p Principal, id string) (store.CredentialRecord, error) {
	rec, err := s.credential(ctx, id)
	if err != nil {
		return rec, err
	}
	if !p.mayManage(rec) {
		return store.CredentialRecord{}, s.forbid(ctx, p, "read credential "+id, "the token may not see this credential")
	}
	return rec, nil
}

func clampLimit(n int) int {
	if n <= 0 || n > 500 {
		return 100
	}
	return n
}
