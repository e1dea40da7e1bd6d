package issuer

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/verifier"
	"github.com/civitas-net/civitas/verifier/node"
)

// Physical nodes: the issuer makes each node a signed bundle to check members in
// offline, lets a node enroll its DID once, and receives the nodes' service ledgers.

// DefaultNodePolicy admits an active membership, or a residency at the node covering
// today; a bundle older than a day refuses rather than trust stale status lists.
var DefaultNodePolicy = node.Policy{
	Rules: []node.Rule{
		{Type: schemas.Membership},
		{Type: schemas.Residency, ResidentHere: true, CurrentResidency: true},
	},
	MaxStaleness:  int64((24 * time.Hour).Seconds()),
	StaleFallback: node.FallbackRefuse,
	ChallengeTTL:  120,
	Leeway:        60,
}

// Defaults of node bundles and sync.
const (
	bundleTTL            = 7 * 24 * time.Hour
	defaultCheckInWindow = time.Hour
	pseudonymKeySetting  = "nodes.pseudonym-key"
	maxUpload            = 1000
)

// mayManageNode reports whether p may make bundles for a node: admins, and its
// stewards.
func (p Principal) mayManageNode(id string) bool {
	return p.Role == store.RoleAdmin || (p.Role == store.RoleSteward && slices.Contains(p.Nodes, id))
}

// NodeBundle makes a signed bundle for a node. The first bundles of a node, until it
// enrolls, carry a fresh one-time enrollment code (an earlier code stops working).
func (s *Service) NodeBundle(ctx context.Context, p Principal, nodeID, name string) ([]byte, error) {
	nodeID = strings.TrimSpace(nodeID)
	if nodeID == "" || len(nodeID) > 500 || !store.ValidText(nodeID, name) || len(name) > 200 {
		return nil, errorf(CodeMalformedRequest, "a node ID (up to 500 characters) is required")
	}
	if !p.mayManageNode(nodeID) {
		return nil, s.forbid(ctx, p, "bundle for "+nodeID, "the token may not manage this node")
	}
	n, err := s.store.Node(ctx, nodeID)
	var code string
	switch {
	case errors.Is(err, store.ErrNotFound):
		code = newCode()
		n = store.Node{ID: nodeID, Name: name, EnrollCodeHash: sha(code), CreatedAt: s.now(), CreatedBy: p.TokenID}
		if err := s.store.CreateNode(ctx, n, s.entry(p.TokenID, "node.create", nodeID, nil)); err != nil {
			return nil, internal("register node", err)
		}
	case err != nil:
		return nil, internal("read node", err)
	case n.DID == "":
		code = newCode()
		if err := s.store.SetNodeEnrollCode(ctx, nodeID, sha(code), s.entry(p.TokenID, "node.enroll-code", nodeID, nil)); err != nil {
			return nil, internal("renew enrollment code", err)
		}
	}
	var enroll *node.Enrollment
	if code != "" {
		enroll = &node.Enrollment{URL: s.urlFor("/nodes/"), Code: code}
	}
	raw, err := s.buildBundle(ctx, n, enroll)
	if err != nil {
		return nil, err
	}
	if err := s.store.AppendAudit(ctx, s.entry(p.TokenID, "node.bundle", nodeID, nil)); err != nil {
		return nil, internal("audit", err)
	}
	return raw, nil
}

func newCode() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// buildBundle assembles and signs a bundle for n.
func (s *Service) buildBundle(ctx context.Context, n store.Node, enroll *node.Enrollment) ([]byte, error) {
	metas, err := s.store.StatusLists(ctx)
	if err != nil {
		return nil, internal("list status lists", err)
	}
	var lists []string
	for _, m := range metas {
		l, err := s.StatusList(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		lists = append(lists, string(l.Body))
	}
	doc, err := s.DIDDocument()
	if err != nil {
		return nil, internal("DID document", err)
	}
	pseudonym, err := s.sealedSetting(ctx, pseudonymKeySetting)
	if err != nil {
		return nil, internal("pseudonym key", err)
	}
	var types []string
	for _, t := range schemas.Types() {
		types = append(types, t.Name)
	}
	now := s.now()
	b := node.Bundle{
		Type: "CivitasNodeBundle", Version: now.UnixMicro(), Issuer: s.did, Service: s.publicURL,
		Node: node.NodeInfo{ID: n.ID, Name: n.Name, DID: n.DID}, IssuedAt: now, ExpiresAt: now.Add(bundleTTL),
		Trust:        []verifier.TrustedIssuer{{DID: s.did, Types: types}},
		DIDDocuments: []*did.Document{doc}, StatusLists: lists, Policy: s.nodePolicy,
		PseudonymKey: base64.RawURLEncoding.EncodeToString(pseudonym), Enrollment: enroll,
	}
	iss := s.activeIssuer()
	raw, err := node.SignBundle(&b, iss.key.Signer, iss.key.KeyID)
	if err != nil {
		return nil, internal("sign bundle", err)
	}
	return []byte(raw), nil
}

// sealedSetting returns a random 32-byte secret kept in the store sealed with the
// key-encryption key, creating it on first use (every replica sees the same one).
func (s *Service) sealedSetting(ctx context.Context, name string) ([]byte, error) {
	var fresh [32]byte
	rand.Read(fresh[:])
	stored, err := s.store.InitSetting(ctx, name, base64.StdEncoding.EncodeToString(s.kek.Seal(fresh[:], []byte(name))))
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		return nil, err
	}
	return s.kek.Open(raw, []byte(name))
}

// EnrollNode records a node's DID, once, with the code of its first bundle.
func (s *Service) EnrollNode(ctx context.Context, nodeID, nodeDID, code string) error {
	if _, err := did.Parse(nodeDID); err != nil || !strings.HasPrefix(nodeDID, "did:key:") {
		return errorf(CodeMalformedRequest, "did must be the node's did:key")
	}
	if code == "" || len(code) > 200 {
		return errorf(CodeMalformedRequest, "code is required")
	}
	err := s.store.EnrollNode(ctx, nodeID, nodeDID, sha(code), s.now(), s.entry("node:"+truncate(nodeID), "node.enroll", nodeID, map[string]any{"did": nodeDID}))
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrInvalid):
		s.auditDenied(ctx, "anonymous", "auth.denied", "node enrollment refused for "+truncate(nodeID))
		return errorf(CodeUnauthorized, "the enrollment code is wrong or already used")
	case err != nil:
		return internal("enroll node", err)
	}
	return nil
}

// authenticateNode checks a node's signed request (Authorization: CivitasNode <jwt>)
// for method and the public URL u, and returns the node and its public key.
func (s *Service) authenticateNode(ctx context.Context, nodeID, authorization, method, u string) (store.Node, crypto.PublicKey, error) {
	tok, ok := strings.CutPrefix(authorization, node.AuthScheme+" ")
	n, err := s.store.Node(ctx, nodeID)
	var pub crypto.PublicKey
	switch {
	case !ok:
		err = errors.New("no node token")
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid):
		err = errors.New("unknown node")
	case err != nil:
		return n, nil, internal("read node", err)
	case n.DID == "":
		err = errors.New("the node has not enrolled")
	default:
		pub, err = node.VerifyRequest(ctx, tok, n.DID, method, u, s.now())
	}
	if err != nil {
		s.auditDenied(ctx, "node:"+truncate(nodeID), "auth.denied", err.Error())
		return n, nil, errorf(CodeUnauthorized, "the request is not signed by this node's key")
	}
	return n, pub, nil
}

// RefreshBundle answers a node's request for a new bundle.
func (s *Service) RefreshBundle(ctx context.Context, nodeID, authorization, method, u string) ([]byte, error) {
	n, _, err := s.authenticateNode(ctx, nodeID, authorization, method, u)
	if err != nil {
		return nil, err
	}
	return s.buildBundle(ctx, n, nil)
}

// CheckInHead returns the last ledger entry the issuer holds for the node.
func (s *Service) CheckInHead(ctx context.Context, nodeID, authorization, method, u string) (int64, string, error) {
	if _, _, err := s.authenticateNode(ctx, nodeID, authorization, method, u); err != nil {
		return 0, "", err
	}
	seq, hash, err := s.store.LastCheckIn(ctx, nodeID)
	if err != nil {
		return 0, "", internal("read check-ins", err)
	}
	return seq, hash, nil
}

// UploadResult answers a ledger upload.
type UploadResult struct {
	// Stored counts the entries the issuer had not seen.
	Stored int `json:"stored"`
	// LastSeq is the last entry the issuer now holds.
	LastSeq int64 `json:"lastSeq"`
	// Flagged counts the uploaded admissions flagged as double check-ins (their
	// counterparts at other nodes are flagged too).
	Flagged int `json:"flagged"`
}

// UploadCheckIns takes ledger entries from a node: each signed by the node's key and
// chained, continuing what the issuer holds; stored idempotently; admissions of one
// credential at two nodes within the window are flagged.
func (s *Service) UploadCheckIns(ctx context.Context, nodeID, authorization, method, u string, body []byte) (UploadResult, error) {
	_, pub, err := s.authenticateNode(ctx, nodeID, authorization, method, u)
	if err != nil {
		return UploadResult{}, err
	}
	var req struct {
		Entries []node.LedgerEntry `json:"entries"`
	}
	if err := jsonstrict.Unmarshal(body, &req, jsonstrict.Limits{MaxBytes: 4 << 20}); err != nil {
		return UploadResult{}, errorf(CodeMalformedRequest, "the body is not valid JSON: %v", err)
	}
	if len(req.Entries) == 0 || len(req.Entries) > maxUpload {
		return UploadResult{}, errorf(CodeMalformedRequest, "send 1 to %d entries", maxUpload)
	}
	first := req.Entries[0]
	if err := node.VerifyChain(req.Entries, pub, first.Seq-1, first.PrevHash); err != nil {
		s.auditDenied(ctx, "node:"+truncate(nodeID), "node.sync-refused", err.Error())
		return UploadResult{}, errorf(CodeMalformedRequest, "the entries do not verify: %v", err)
	}
	checkins := make([]store.CheckIn, len(req.Entries))
	for i, e := range req.Entries {
		checkins[i] = store.CheckIn{
			NodeID: nodeID, Seq: e.Seq, At: e.At, Type: e.Type, SubjectRef: e.SubjectRef, Decision: e.Decision,
			Codes: e.Codes, Challenge: e.Challenge, PrevHash: e.PrevHash, Hash: e.Hash, Signature: e.Signature, ReceivedAt: s.now(),
		}
	}
	stored, flagged, err := s.store.AddCheckIns(ctx, nodeID, checkins, s.checkInWindow,
		s.entry("node:"+truncate(nodeID), "node.sync", nodeID, map[string]any{"entries": len(checkins)}))
	switch {
	case errors.Is(err, store.ErrConflict):
		return UploadResult{}, errorf(CodeLedgerConflict, "the entries do not continue the ledger the issuer holds (ask for its head and upload from there)")
	case errors.Is(err, store.ErrInvalid):
		return UploadResult{}, errorf(CodeMalformedRequest, "the entries are invalid: %v", err)
	case err != nil:
		return UploadResult{}, internal("store check-ins", err)
	}
	// New entries continue the stored chain, so it now ends with the upload's last
	// entry; with none new, the issuer's copy may run past the upload: read its head.
	last := req.Entries[len(req.Entries)-1].Seq
	if stored == 0 {
		if last, _, err = s.store.LastCheckIn(ctx, nodeID); err != nil {
			return UploadResult{}, internal("read check-ins", err)
		}
	}
	own := 0
	for _, f := range flagged {
		if f.NodeID == nodeID {
			own++
		} else {
			s.log.WarnContext(ctx, "double check-in flagged", "node", nodeID, "otherNode", f.NodeID, "otherSeq", f.Seq)
		}
	}
	return UploadResult{Stored: stored, LastSeq: last, Flagged: own}, nil
}

// Nodes lists the community's nodes (admins only).
func (s *Service) Nodes(ctx context.Context, p Principal) ([]store.Node, error) {
	if err := s.requireAdmin(ctx, p, "list nodes"); err != nil {
		return nil, err
	}
	ns, err := s.store.Nodes(ctx)
	if err != nil {
		return nil, internal("list nodes", err)
	}
	return ns, nil
}

// CheckIns lists uploaded check-ins (admins only).
func (s *Service) CheckIns(ctx context.Context, p Principal, f store.CheckInFilter) ([]store.CheckIn, error) {
	if err := s.requireAdmin(ctx, p, "list check-ins"); err != nil {
		return nil, err
	}
	f.Limit = clampLimit(f.Limit)
	cs, err := s.store.CheckIns(ctx, f)
	if err != nil {
		return nil, internal("list check-ins", err)
	}
	return cs, nil
}
