package issuer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

// ApprovalView is an approval request as clients see it.
type ApprovalView struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Node        string    `json:"node,omitempty"`
	State       string    `json:"state"`
	Required    int       `json:"required"`
	Approvals   []string  `json:"approvals"`
	RequestedBy string    `json:"requestedBy"`
	CreatedAt   time.Time `json:"createdAt"`
	ExpiresAt   time.Time `json:"expiresAt"`
	// CredentialID is set once the credential is issued.
	CredentialID string `json:"credentialId,omitempty"`
	// Credential is the issued credential, returned to the vote that issued it.
	Credential *Issued `json:"-"`
}

func (s *Service) view(a store.Approval) ApprovalView {
	v := ApprovalView{
		ID: a.ID, Type: a.Type, Node: a.Node, State: a.State, Required: a.Required,
		RequestedBy: a.RequestedBy, CreatedAt: a.CreatedAt, ExpiresAt: a.ExpiresAt, CredentialID: a.CredentialID,
		Approvals: []string{},
	}
	for _, vote := range a.Votes {
		v.Approvals = append(v.Approvals, vote.Approver)
	}
	if v.State == store.ApprovalPending && !s.now().Before(a.ExpiresAt) {
		v.State = store.ApprovalExpired
	}
	return v
}

// requestApproval stores a pending approval for an issuance that needs required votes.
func (s *Service) requestApproval(ctx context.Context, p Principal, sp issueSpec, required int) (ApprovalView, error) {
	req, err := json.Marshal(sp)
	if err != nil {
		return ApprovalView{}, internal("encode request", err)
	}
	var id [12]byte
	rand.Read(id[:])
	now := s.now()
	a := store.Approval{
		ID: "apr_" + hex.EncodeToString(id[:]), Type: sp.Type, Node: sp.node(), Request: req,
		RequestedBy: p.TokenID, Required: required, State: store.ApprovalPending,
		CreatedAt: now, ExpiresAt: now.Add(s.approvalT),
	}
	details := map[string]any{"type": a.Type, "required": required}
	if a.Node != "" {
		details["node"] = a.Node
	}
	if err := s.store.CreateApproval(ctx, a, s.entry(p.TokenID, "approval.request", a.ID, details)); err != nil {
		return ApprovalView{}, internal("store approval request", err)
	}
	return s.view(a), nil
}

// Approve records p's approval of a pending request. The requester cannot approve their
// own request, nobody can approve twice, and only admins and (for residency) stewards of
// the node may approve. The vote that reaches the required number issues the credential
// and returns it in the view.
func (s *Service) Approve(ctx context.Context, p Principal, id string) (ApprovalView, error) {
	a, err := s.approval(ctx, id)
	if err != nil {
		return ApprovalView{}, err
	}
	if !p.mayApprove(a.Type, a.Node) {
		return ApprovalView{}, s.forbid(ctx, p, "approve "+id, "the token may not approve this request")
	}
	if p.TokenID == a.RequestedBy {
		s.auditDenied(ctx, p.TokenID, "auth.forbidden", "approve "+id+": own request")
		return ApprovalView{}, errorf(CodeOwnRequest, "a requester cannot approve their own request")
	}
	if err := s.checkOpen(ctx, a); err != nil {
		return ApprovalView{}, err
	}
	votes, err := s.store.AddVote(ctx, id, p.TokenID, s.now(), s.entry(p.TokenID, "approval.vote", id, nil))
	if errors.Is(err, store.ErrConflict) {
		cur, _ := s.store.Approval(ctx, id)
		if slices.ContainsFunc(cur.Votes, func(v store.Vote) bool { return v.Approver == p.TokenID }) {
			s.auditDenied(ctx, p.TokenID, "auth.forbidden", "approve "+id+": second vote")
			return ApprovalView{}, errorf(CodeAlreadyVoted, "this token has already approved the request")
		}
		return ApprovalView{}, errorf(CodeApprovalClosed, "the request is no longer pending")
	}
	if err != nil {
		return ApprovalView{}, internal("record vote", err)
	}
	var issued *Issued
	if votes >= a.Required {
		var sp issueSpec
		if err := json.Unmarshal(a.Request, &sp); err != nil {
			return ApprovalView{}, internal("decode approval request", err)
		}
		issued, err = s.issueNow(ctx, p.TokenID, sp, issueLink{approvalID: id}, map[string]any{"requestedBy": a.RequestedBy})
		if err != nil && CodeOf(err) != CodeApprovalClosed {
			return ApprovalView{}, err
		}
	}
	cur, err := s.store.Approval(ctx, id)
	if err != nil {
		return ApprovalView{}, internal("read approval", err)
	}
	v := s.view(cur)
	v.Credential = issued
	return v, nil
}

// approval loads an approval request.
func (s *Service) approval(ctx context.Context, id string) (store.Approval, error) {
	a, err := s.store.Approval(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return a, errorf(CodeNotFound, "no approval request %s", truncate(id))
	case err != nil:
		return a, internal("read approval", err)
	}
	return a, nil
}

// checkOpen refuses a request that is decided or expired, marking an expired one.
func (s *Service) checkOpen(ctx context.Context, a store.Approval) error {
	if a.State != store.ApprovalPending {
		return errorf(CodeApprovalClosed, "the request is %s", a.State)
	}
	if !s.now().Before(a.ExpiresAt) {
		err := s.store.SetApprovalState(ctx, a.ID, store.ApprovalExpired, s.entry("system", "approval.expire", a.ID, nil))
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return internal("expire approval", err)
		}
		return errorf(CodeApprovalClosed, "the request expired at %s", a.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// GetApproval returns an approval request to an admin, its requester, or a token that
// may approve it. Once issued, the requester can fetch the credential by its ID.
func (s *Service) GetApproval(ctx context.Context, p Principal, id string) (ApprovalView, error) {
	a, err := s.approval(ctx, id)
	if err != nil {
		return ApprovalView{}, err
	}
	if p.TokenID != a.RequestedBy && !p.mayApprove(a.Type, a.Node) {
		return ApprovalView{}, s.forbid(ctx, p, "read approval "+id, "the token may not see this request")
	}
	return s.view(a), nil
}

// Approvals lists approval requests that p may see, in state (all when empty).
func (s *Service) Approvals(ctx context.Context, p Principal, state string, limit int) ([]ApprovalView, error) {
	all, err := s.store.Approvals(ctx, state, limit)
	if err != nil {
		return nil, internal("list approvals", err)
	}
	out := []ApprovalView{}
	for _, a := range all {
		if p.TokenID == a.RequestedBy || p.mayApprove(a.Type, a.Node) {
			out = append(out, s.view(a))
		}
	}
	return out, nil
}
