package issuer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/statuslist"
	"github.com/civitas-net/civitas/verifier"
)

// StatusRequest is a VC-API status update: set (true) or clear (false) a credential's
// revocation or suspension bit.
type StatusRequest struct {
	CredentialID string
	Purpose      string
	Value        bool
	// Reason is recorded in the audit log and the credential record.
	Reason string
}

// StatusResult says what a status update did.
type StatusResult struct {
	CredentialID string `json:"credentialId"`
	Purpose      string `json:"statusPurpose"`
	Status       bool   `json:"status"`
	// Changed is false when the bit already had the requested value.
	Changed bool `json:"changed"`
}

// SetStatus revokes, suspends or unsuspends a credential. Admins may change any
// credential, stewards residencies of their nodes, badge issuers contributions. A
// revocation is final.
func (s *Service) SetStatus(ctx context.Context, p Principal, r StatusRequest) (StatusResult, error) {
	if r.Purpose != store.PurposeRevocation && r.Purpose != store.PurposeSuspension {
		return StatusResult{}, errorf(CodeMalformedRequest, "credentialStatus.statusPurpose must be revocation or suspension")
	}
	if len(r.Reason) > 500 {
		return StatusResult{}, errorf(CodeMalformedRequest, "the reason is longer than 500 characters")
	}
	rec, err := s.credential(ctx, r.CredentialID)
	if err != nil {
		return StatusResult{}, err
	}
	if !p.mayManage(rec) {
		return StatusResult{}, s.forbid(ctx, p, "change status of "+rec.ID, "the token may not change this credential")
	}
	if r.Purpose == store.PurposeRevocation && !r.Value && rec.Revoked {
		return StatusResult{}, errorf(CodeRevocationFinal, "a revoked credential stays revoked; issue a new one instead")
	}
	action := map[string]string{"revocation/true": "credential.revoke", "revocation/false": "credential.unrevoke",
		"suspension/true": "credential.suspend", "suspension/false": "credential.unsuspend"}[fmt.Sprintf("%s/%t", r.Purpose, r.Value)]
	details := map[string]any{"type": rec.Type}
	if r.Reason != "" {
		details["reason"] = r.Reason
	}
	now := s.now()
	changed, err := s.store.SetStatus(ctx, store.StatusChange{
		CredentialID: rec.ID, Purpose: r.Purpose, Value: r.Value, Reason: r.Reason, Actor: p.TokenID, At: now,
	}, s.entry(p.TokenID, action, rec.ID, details))
	if err != nil {
		return StatusResult{}, internal("change status", err)
	}
	for _, sl := range rec.Slots {
		s.forgetList(sl.ListID)
	}
	if changed {
		s.metrics.statusSet.WithLabelValues(r.Purpose, fmt.Sprint(r.Value)).Inc()
	}
	return StatusResult{CredentialID: rec.ID, Purpose: r.Purpose, Status: r.Value, Changed: changed}, nil
}

// mayManage reports whether p may see and change the status of a credential.
func (p Principal) mayManage(rec store.CredentialRecord) bool {
	switch p.Role {
	case store.RoleAdmin:
		return true
	case store.RoleSteward:
		return rec.Type == schemas.Residency && slices.Contains(p.Nodes, rec.Node)
	case store.RoleBadgeIssuer:
		return rec.Type == schemas.Contribution
	}
	return false
}

// credential loads a credential record.
func (s *Service) credential(ctx context.Context, id string) (store.CredentialRecord, error) {
	rec, err := s.store.Credential(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return rec, errorf(CodeNotFound, "no credential %s", truncate(id))
	case err != nil:
		return rec, internal("read credential", err)
	}
	return rec, nil
}

// StatusListCredential is a signed BitstringStatusListCredential ready to serve.
type StatusListCredential struct {
	// Body is the compact vc+jwt.
	Body []byte
	// ETag changes whenever a bit or the signing key changes.
	ETag string
}

// statusCache keeps the last signed credential of each list, keyed by list version and
// signing key, so that a list is signed once per change rather than once per request.
type statusCache struct {
	mu      sync.Mutex
	entries map[string]StatusListCredential
}

// StatusList returns the signed status list credential of a list. It is signed as a
// vc+jwt with the active key, and re-signed only when a bit or the key changed.
func (s *Service) StatusList(ctx context.Context, listID string) (StatusListCredential, error) {
	meta, set, err := s.store.StatusList(ctx, listID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return StatusListCredential{}, errorf(CodeNotFound, "no status list %s", truncate(listID))
	case err != nil:
		return StatusListCredential{}, internal("read status list", err)
	}
	iss := s.activeIssuer()
	etag := fmt.Sprintf(`"%s-%d-%s"`, meta.ID, meta.Version, iss.key.KeyID[strings.LastIndexByte(iss.key.KeyID, '#')+1:])
	s.lists.mu.Lock()
	cached, ok := s.lists.entries[listID]
	s.lists.mu.Unlock()
	if ok && cached.ETag == etag {
		return cached, nil
	}
	bits, err := statuslist.New(meta.Size)
	if err != nil {
		return StatusListCredential{}, internal("status list size", err)
	}
	for _, i := range set {
		if err := bits.Set(i, true); err != nil {
			return StatusListCredential{}, internal("status list index", err)
		}
	}
	doc, err := statuslist.Credential(s.statusListURL(meta.ID), s.did, meta.Purpose, bits, s.now(), time.Time{})
	if err != nil {
		return StatusListCredential{}, internal("build status list credential", err)
	}
	sec, err := iss.Sign(ctx, doc, FormatJWT)
	if err != nil {
		return StatusListCredential{}, internal("sign status list", err)
	}
	out := StatusListCredential{Body: []byte(sec.JWT), ETag: etag}
	s.lists.mu.Lock()
	if s.lists.entries == nil {
		s.lists.entries = map[string]StatusListCredential{}
	}
	s.lists.entries[listID] = out
	s.lists.mu.Unlock()
	return out, nil
}

// localStatus is the status checker of the service's own verifier: it reads this
// issuer's lists from the store instead of fetching them over HTTP, and refuses (so
// verification fails closed) lists of other issuers. Lists are cached for at most
// Options.StatusCacheTTL; a status change made through this process invalidates its
// list at once, so only changes made by another replica can take that long to show.
type localStatus struct{ s *Service }

// CheckStatus implements verifier.StatusChecker.
func (l localStatus) CheckStatus(ctx context.Context, q verifier.StatusQuery) (bool, error) {
	prefix := l.s.urlFor("/status/")
	listID, ok := strings.CutPrefix(q.Entry.StatusListCredential, prefix)
	if q.Issuer != l.s.did || !ok || strings.Contains(listID, "/") {
		return false, errors.New("this service checks the status of its own credentials only")
	}
	bits, err := l.s.listBits(ctx, listID)
	if err != nil {
		return false, err
	}
	if bits.purpose != q.Entry.StatusPurpose {
		return false, fmt.Errorf("status list %s is for %s, not %s", listID, bits.purpose, q.Entry.StatusPurpose)
	}
	idx, err := q.Entry.Index()
	if err != nil || idx >= bits.size {
		return false, fmt.Errorf("status list index out of range")
	}
	_, set := bits.set[idx]
	return set, nil
}

// listBits is a cached read of a status list's set bits.
type listBits struct {
	purpose string
	size    int
	set     map[int]struct{}
	read    time.Time
}

// bitsCache holds listBits by list ID.
type bitsCache struct {
	mu    sync.Mutex
	lists map[string]listBits
}

// listBits returns a list's set bits, from the cache when fresh enough.
func (s *Service) listBits(ctx context.Context, listID string) (listBits, error) {
	now := time.Now()
	s.bits.mu.Lock()
	b, ok := s.bits.lists[listID]
	s.bits.mu.Unlock()
	if ok && now.Sub(b.read) < s.statusTTL {
		return b, nil
	}
	meta, set, err := s.store.StatusList(ctx, listID)
	if err != nil {
		return listBits{}, fmt.Errorf("status list %s: %w", listID, err)
	}
	b = listBits{purpose: meta.Purpose, size: meta.Size, set: make(map[int]struct{}, len(set)), read: now}
	for _, i := range set {
		b.set[i] = struct{}{}
	}
	s.bits.mu.Lock()
	if s.bits.lists == nil {
		s.bits.lists = map[string]listBits{}
	}
	if len(s.bits.lists) > 4096 {
		clear(s.bits.lists)
	}
	s.bits.lists[listID] = b
	s.bits.mu.Unlock()
	return b, nil
}

// forgetList drops a list from the bits cache after a change.
func (s *Service) forgetList(listID string) {
	s.bits.mu.Lock()
	delete(s.bits.lists, listID)
	s.bits.mu.Unlock()
}
