package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/clip"
	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/statuslist"
)

// IssueRequest is a VC-API issue request: the credential the client wants (its type,
// subject and optional validUntil and evidence) and the securing format.
type IssueRequest struct {
	// Credential is the unsecured credential from the request body.
	Credential map[string]any
	// Format is options.format: "jwt" (the default), or a Data Integrity cryptosuite
	// ("eddsa-rdfc-2022", "eddsa-jcs-2022", "ecdsa-rdfc-2019") or its CLI name
	// ("di-eddsa-rdfc", …).
	Format string
}

// IssueResult is the outcome of an issue request: a credential, or an approval request
// when the type needs approvals.
type IssueResult struct {
	Credential *Issued
	Approval   *ApprovalView
}

// Issued is an issued credential as stored and as returned.
type Issued struct {
	Record store.CredentialRecord
	// VerifiableCredential is the response's verifiableCredential member: the credential
	// with its proof, or, for a JWT, an EnvelopedVerifiableCredential holding it in a
	// data: URL, as VC 2.0 says.
	VerifiableCredential map[string]any
}

// issueSpec is a validated issuance request, also what an approval stores.
type issueSpec struct {
	Type       string         `json:"type"`
	Subject    map[string]any `json:"credentialSubject"`
	ValidUntil time.Time      `json:"validUntil,omitzero"`
	Evidence   []any          `json:"evidence,omitempty"`
	Format     Format         `json:"format"`
}

func (sp issueSpec) subjectID() string {
	id, _ := sp.Subject["id"].(string)
	return id
}

// node returns the node of a residency request.
func (sp issueSpec) node() string {
	if n, ok := sp.Subject["node"].(map[string]any); ok {
		id, _ := n["id"].(string)
		return id
	}
	return ""
}

// membersSetByIssuer are credential members the issuer fills; a request may not set them.
var membersSetByIssuer = []string{"id", "validFrom", "credentialStatus", "credentialSchema", "proof"}

// ParseFormat reads options.format. Empty means jwt.
func parseRequestFormat(s string) (Format, error) {
	switch s {
	case "", "jwt", "vc+jwt":
		return FormatJWT, nil
	case "eddsa-rdfc-2022":
		return FormatEdDSARDFC, nil
	case "eddsa-jcs-2022":
		return FormatEdDSAJCS, nil
	case "ecdsa-rdfc-2019":
		return FormatECDSARDFC, nil
	}
	f, err := ParseFormat(s)
	if err != nil {
		return "", errorf(CodeUnsupportedFormat, "options.format %q is not supported (use jwt, eddsa-rdfc-2022, eddsa-jcs-2022 or ecdsa-rdfc-2019)", truncate(s))
	}
	return f, nil
}

// parseIssue validates the request's credential and returns the issuance it asks for.
func (s *Service) parseIssue(in IssueRequest) (issueSpec, error) {
	c := in.Credential
	if c == nil {
		return issueSpec{}, errorf(CodeMalformedRequest, "the request has no credential object")
	}
	var sp issueSpec
	var err error
	if sp.Format, err = parseRequestFormat(in.Format); err != nil {
		return sp, err
	}
	for k := range c {
		switch {
		case slices.Contains(membersSetByIssuer, k):
			return sp, errorf(CodeMalformedRequest, "credential.%s is set by the issuer; leave it out", k)
		case k == "issuer":
			id, _ := c[k].(string)
			if obj, ok := c[k].(map[string]any); ok {
				id, _ = obj["id"].(string)
			}
			if id != s.did {
				return sp, errorf(CodeMalformedRequest, "credential.issuer must be this issuer (%s) or absent", s.did)
			}
		case k == "@context", k == "type", k == "credentialSubject", k == "validUntil", k == "evidence":
		default:
			return sp, errorf(CodeMalformedRequest, "credential.%s is not supported", truncate(k))
		}
	}
	if ctx, ok := c["@context"]; ok {
		list, _ := ctx.([]any)
		if len(list) != 2 || list[0] != credential.ContextV2 || list[1] != schemas.ContextURL {
			return sp, errorf(CodeMalformedRequest, "credential.@context must be absent or [%q, %q]", credential.ContextV2, schemas.ContextURL)
		}
	}
	types, err := stringList(c["type"])
	if err != nil {
		return sp, errorf(CodeUnknownType, "credential.type must be a list of type names")
	}
	t, ok := schemas.ByTypes(types)
	if !ok {
		return sp, errorf(CodeUnknownType, "credential.type must name one of %s", strings.Join(typeNames(), ", "))
	}
	for _, typ := range types {
		if !slices.Contains(t.Types, typ) {
			return sp, errorf(CodeUnknownType, "type %q is not part of a %s", truncate(typ), t.Name)
		}
	}
	sp.Type = t.Name
	subject, ok := c["credentialSubject"].(map[string]any)
	if !ok {
		return sp, errorf(CodeMalformedRequest, "credential.credentialSubject must be an object")
	}
	if _, err := did.Parse(stringOf(subject["id"])); err != nil {
		return sp, errorf(CodeMalformedRequest, "credential.credentialSubject.id must be the member's DID")
	}
	sp.Subject = subject
	if v, ok := c["validUntil"]; ok {
		str, _ := v.(string)
		until, err := credential.ParseDateTime(str)
		if err != nil {
			return sp, errorf(CodeMalformedRequest, "credential.validUntil: %v", err)
		}
		if !until.After(s.now()) {
			return sp, errorf(CodeMalformedRequest, "credential.validUntil must be in the future")
		}
		sp.ValidUntil = until
	}
	if v, ok := c["evidence"]; ok {
		switch e := v.(type) {
		case []any:
			sp.Evidence = e
		case map[string]any:
			sp.Evidence = []any{e}
		default:
			return sp, errorf(CodeMalformedRequest, "credential.evidence must be an object or a list of objects")
		}
	}
	if err := schemas.ValidateSubject(sp.Type, sp.Subject); err != nil {
		return sp, &Error{Code: CodeSchemaInvalid, Message: err.Error()}
	}
	return sp, nil
}

// Issue handles a VC-API issue request from p. The subject must be a registered member
// and p must be allowed to issue the type (and, for residency, steward the node). Types
// that need approvals return a pending ApprovalView instead of a credential.
func (s *Service) Issue(ctx context.Context, p Principal, in IssueRequest) (IssueResult, error) {
	sp, err := s.parseIssue(in)
	if err != nil {
		return IssueResult{}, err
	}
	if ok, why := p.mayIssue(sp.Type, sp.node()); !ok {
		return IssueResult{}, s.forbid(ctx, p, "issue "+sp.Type, why)
	}
	if err := s.requireMember(ctx, sp.subjectID()); err != nil {
		return IssueResult{}, err
	}
	if err := s.checkFormat(sp.Format); err != nil {
		return IssueResult{}, err
	}
	if required := s.approvals[sp.Type]; required > 0 {
		a, err := s.requestApproval(ctx, p, sp, required)
		if err != nil {
			return IssueResult{}, err
		}
		return IssueResult{Approval: &a}, nil
	}
	issued, err := s.issueNow(ctx, p.TokenID, sp, issueLink{}, nil)
	if err != nil {
		return IssueResult{}, err
	}
	return IssueResult{Credential: issued}, nil
}

func (s *Service) requireMember(ctx context.Context, subject string) error {
	_, err := s.store.Member(ctx, subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(CodeUnknownMember, "the subject %s is not a registered member", truncate(subject))
	case err != nil:
		return internal("look up member", err)
	}
	return nil
}

// checkFormat refuses a format the active key cannot produce.
func (s *Service) checkFormat(f Format) error {
	alg := s.activeKeyAlgorithm()
	switch {
	case f == FormatECDSARDFC && alg != "P-256", (f == FormatEdDSARDFC || f == FormatEdDSAJCS) && alg != "Ed25519":
		return errorf(CodeUnsupportedFormat, "format %s needs a key this issuer does not sign with (%s)", f, alg)
	}
	return nil
}

func (s *Service) activeKeyAlgorithm() string {
	s.keys.mu.RLock()
	defer s.keys.mu.RUnlock()
	return string(s.keys.keys[len(s.keys.keys)-1].alg)
}

// issueLink ties an issuance to the approval or offer it completes.
type issueLink struct {
	approvalID, offerID string
	// holderJWK is the holder's public key, for SD-JWT VCs (cnf).
	holderJWK map[string]any
}

// issueNow reserves status slots, builds and signs the credential, and stores it with
// group commit. The link's approval or offer is completed in the same transaction.
func (s *Service) issueNow(ctx context.Context, actor string, sp issueSpec, link issueLink, extra map[string]any) (*Issued, error) {
	var slots []store.Slot
	var status []map[string]any
	for _, purpose := range []string{store.PurposeRevocation, store.PurposeSuspension} {
		sl, err := s.slots[purpose].take(ctx)
		if err != nil {
			return nil, err
		}
		e, err := statuslist.NewEntry(s.statusListURL(sl.ListID), purpose, sl.Index)
		if err != nil {
			return nil, internal("status entry", err)
		}
		slots = append(slots, sl)
		status = append(status, e.Map())
	}
	iss := s.activeIssuer()
	var rec store.CredentialRecord
	var vc map[string]any
	if sp.Format == FormatSDJWT {
		var err error
		if rec, err = s.signSDJWT(iss, sp, status, link.holderJWK); err != nil {
			return nil, err
		}
	} else {
		sec, err := iss.Issue(ctx, Request{Type: sp.Type, Subject: sp.Subject, ValidUntil: sp.ValidUntil, Status: status, Evidence: sp.Evidence}, sp.Format)
		switch {
		case errors.Is(err, ErrRequest):
			return nil, &Error{Code: CodeSchemaInvalid, Message: strings.TrimPrefix(err.Error(), ErrRequest.Error()+": ")}
		case errors.Is(err, ErrFormat):
			return nil, &Error{Code: CodeUnsupportedFormat, Message: err.Error()}
		case err != nil:
			return nil, internal("sign credential", err)
		}
		var body []byte
		if vc, body, err = envelope(sec); err != nil {
			return nil, internal("encode credential", err)
		}
		c, err := credential.FromDocument(sec.Document)
		if err != nil {
			return nil, internal("issued credential", err)
		}
		rec = store.CredentialRecord{ID: c.ID, IssuedAt: c.ValidFrom, ValidUntil: c.ValidUntil, Body: body}
	}
	rec.Type, rec.Subject, rec.Node, rec.Format, rec.IssuedBy, rec.Slots = sp.Type, sp.subjectID(), sp.node(), string(sp.Format), actor, slots
	details := map[string]any{"type": sp.Type, "format": sp.Format, "key": iss.key.KeyID}
	if rec.Node != "" {
		details["node"] = rec.Node
	}
	if link.approvalID != "" {
		details["approval"] = link.approvalID
	}
	if link.offerID != "" {
		details["offer"] = link.offerID
	}
	for k, v := range extra {
		details[k] = v
	}
	err := s.committer.commit(ctx, store.Issuance{
		Credential: rec, Slots: slots, ApprovalID: link.approvalID, OfferID: link.offerID,
		Audit: []store.AuditEntry{s.entry(actor, "credential.issue", rec.ID, details)},
	})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, errorf(CodeApprovalClosed, "the request was decided meanwhile")
		}
		return nil, internal("store credential", err)
	}
	s.metrics.issued.WithLabelValues(sp.Type, string(sp.Format)).Inc()
	return &Issued{Record: rec, VerifiableCredential: vc}, nil
}

// envelope returns the verifiableCredential member of an issue response and the body to
// store: for a JWT, an EnvelopedVerifiableCredential and the compact JWS; otherwise the
// document and its JSON.
func envelope(sec Secured) (map[string]any, []byte, error) {
	if sec.Format == FormatJWT {
		return map[string]any{
			"@context": []any{credential.ContextV2},
			"id":       credential.DataURL(jose.MediaTypeCredential, sec.JWT),
			"type":     credential.TypeEnvelopedCredential,
		}, []byte(sec.JWT), nil
	}
	body, err := credential.Marshal(sec.Document)
	return sec.Document, body, err
}

// VerifiableCredentialOf returns the verifiableCredential member for a stored record.
func VerifiableCredentialOf(rec store.CredentialRecord) (map[string]any, error) {
	if rec.Format == string(FormatJWT) {
		vc, _, err := envelope(Secured{Format: FormatJWT, JWT: string(rec.Body)})
		return vc, err
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body, &doc); err != nil {
		return nil, fmt.Errorf("stored credential %s: %w", rec.ID, err)
	}
	return doc, nil
}

func stringList(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("not a string")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, errors.New("not a list")
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

func typeNames() []string {
	var out []string
	for _, t := range schemas.Types() {
		out = append(out, t.Name)
	}
	return out
}

func truncate(s string) string { return clip.String(s, 80) }
