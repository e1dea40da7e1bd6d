package issuer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/schemas"
)

// tokenPrefix starts every API token secret, so that leaked tokens are easy to find
// with secret scanners.
const tokenPrefix = "civ_"

// Principal is an authenticated API client: the token it presented and what the token
// may do.
type Principal struct {
	// TokenID identifies the token; it is the actor in audit entries.
	TokenID string `json:"tokenId"`
	// Name describes who holds the token.
	Name string `json:"name"`
	// Role is store.RoleAdmin, store.RoleSteward or store.RoleBadgeIssuer.
	Role string `json:"role"`
	// Nodes lists the nodes a steward stewards.
	Nodes []string `json:"nodes,omitempty"`
}

// newToken makes a token secret and the record that stores its hash.
func newToken(name, role string, nodes []string, now time.Time) (string, store.Token) {
	var secret, id [16]byte
	rand.Read(secret[:])
	rand.Read(id[:8])
	s := tokenPrefix + base64.RawURLEncoding.EncodeToString(secret[:])
	return s, store.Token{
		ID:        "tok_" + hex.EncodeToString(id[:8]),
		Hash:      hashToken(s),
		Name:      name,
		Role:      role,
		Nodes:     nodes,
		CreatedAt: now,
	}
}

// hashToken returns the SHA-256 of a token secret. Secrets are 128 random bits, so a
// fast hash is enough: there is nothing to guess.
func hashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// validRole reports whether role is one of the three roles.
func validRole(role string) bool {
	return role == store.RoleAdmin || role == store.RoleSteward || role == store.RoleBadgeIssuer
}

// Authenticate checks an Authorization header value ("Bearer civ_…") and returns the
// token's principal. Failures are CodeUnauthorized and are written to the audit log
// (rate-limited, so that a flood of bad tokens cannot flood the log).
func (s *Service) Authenticate(ctx context.Context, authorization string) (Principal, error) {
	secret, ok := strings.CutPrefix(authorization, "Bearer ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 128 {
		s.auditDenied(ctx, "anonymous", "auth.denied", "missing or malformed bearer token")
		return Principal{}, errorf(CodeUnauthorized, "a valid bearer token is required")
	}
	t, err := s.store.TokenByHash(ctx, hashToken(secret))
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.auditDenied(ctx, "anonymous", "auth.denied", "unknown token")
		return Principal{}, errorf(CodeUnauthorized, "a valid bearer token is required")
	case err != nil:
		return Principal{}, internal("look up token", err)
	case !t.RevokedAt.IsZero():
		s.auditDenied(ctx, t.ID, "auth.denied", "revoked token")
		return Principal{}, errorf(CodeUnauthorized, "the token has been revoked")
	}
	return Principal{TokenID: t.ID, Name: t.Name, Role: t.Role, Nodes: t.Nodes}, nil
}

// forbid records a refused action and returns the CodeForbidden error for it.
func (s *Service) forbid(ctx context.Context, p Principal, action, why string) error {
	s.auditDenied(ctx, p.TokenID, "auth.forbidden", action+": "+why)
	return errorf(CodeForbidden, "%s", why)
}

// mayIssue reports whether p may request a credential of typ for node (residency).
func (p Principal) mayIssue(typ, node string) (bool, string) {
	switch p.Role {
	case store.RoleAdmin:
		return true, ""
	case store.RoleSteward:
		if typ != schemas.Residency {
			return false, "stewards issue residency credentials only"
		}
		if !slices.Contains(p.Nodes, node) {
			return false, "the token does not steward this node"
		}
		return true, ""
	case store.RoleBadgeIssuer:
		if typ != schemas.Contribution {
			return false, "badge issuers issue contribution credentials only"
		}
		return true, ""
	}
	return false, "unknown role"
}

// mayApprove reports whether p may vote on an approval of typ for node: admins, and
// stewards of the node for residency.
func (p Principal) mayApprove(typ, node string) bool {
	if p.Role == store.RoleAdmin {
		return true
	}
	return p.Role == store.RoleSteward && typ == schemas.Residency && slices.Contains(p.Nodes, node)
}

// rateLimiter lets through at most max events per second; the rest are counted, and
// the count is reported with the next event that gets through.
type rateLimiter struct {
	max        int
	mu         sync.Mutex
	window     time.Time
	written    int
	suppressed int
}

// Rates of the service's limiters.
const (
	// maxDeniedPerSecond bounds auth-failure audit entries.
	maxDeniedPerSecond = 20
	// maxNoncesPerSecond bounds OpenID4VCI nonces handed out (each is a row until it
	// is used or expires), so the unauthenticated nonce endpoint cannot fill the store.
	maxNoncesPerSecond = 200
)

// allow reports whether an event may happen now, and how many were refused since the
// last one allowed.
func (l *rateLimiter) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= time.Second {
		l.window, l.written = now, 0
	}
	if l.written >= l.max {
		l.suppressed++
		return false, 0
	}
	l.written++
	n := l.suppressed
	l.suppressed = 0
	return true, n
}

// auditDenied writes an authentication or authorization failure to the audit log.
func (s *Service) auditDenied(ctx context.Context, actor, action, reason string) {
	ok, suppressed := s.denied.allow(s.now())
	if !ok {
		s.metrics.deniedSuppressed()
		return
	}
	details := map[string]any{"reason": reason}
	if suppressed > 0 {
		details["suppressedBefore"] = suppressed
	}
	if err := s.store.AppendAudit(ctx, s.entry(actor, action, "", details)); err != nil {
		s.log.ErrorContext(ctx, "audit append failed", "action", action, "err", err)
	}
}

// entry builds an audit entry; details must be JSON-encodable and hold no secrets.
func (s *Service) entry(actor, action, target string, details map[string]any) store.AuditEntry {
	raw := []byte("{}")
	if len(details) > 0 {
		if b, err := json.Marshal(details); err == nil {
			raw = b
		}
	}
	return store.AuditEntry{At: s.now(), Actor: actor, Action: action, Target: target, Details: raw}
}
