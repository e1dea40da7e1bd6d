package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/verifier"
)

// decode reads the (already size-limited) body and decodes it strictly into v: one JSON
// object, no duplicate keys, no unknown fields. It writes the problem and returns false
// on failure.
func (a *api) decode(c *gin.Context, v any) bool {
	body, ok := a.readBody(c)
	if !ok {
		return false
	}
	if err := jsonstrict.Check(body, jsonstrict.Limits{MaxBytes: int(a.bodyLimit)}); err != nil {
		a.fail(c, &issuer.Error{Code: issuer.CodeMalformedRequest, Message: err.Error()})
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		a.fail(c, &issuer.Error{Code: issuer.CodeMalformedRequest, Message: "request body: " + err.Error()})
		return false
	}
	return true
}

// readBody reads the (already size-limited) body. It writes the problem and returns
// false on failure.
func (a *api) readBody(c *gin.Context) ([]byte, bool) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil && !a.tooLarge(c, err) {
		a.fail(c, &issuer.Error{Code: issuer.CodeMalformedRequest, Message: "could not read the request body"})
	}
	return body, err == nil
}

// tooLarge reports whether err is limitBody's, having written the body_too_large
// problem for it.
func (a *api) tooLarge(c *gin.Context, err error) bool {
	var tooBig *http.MaxBytesError
	if !errors.As(err, &tooBig) {
		return false
	}
	a.fail(c, &issuer.Error{Code: issuer.CodeBodyTooLarge, Message: fmt.Sprintf("the request body is larger than %d bytes", a.bodyLimit)})
	return true
}

// --- VC-API ---

type issueBody struct {
	Credential map[string]any `json:"credential"`
	Options    struct {
		Format string `json:"format"`
	} `json:"options"`
}

func (a *api) issue(c *gin.Context) {
	var body issueBody
	if !a.decode(c, &body) {
		return
	}
	res, err := a.svc.Issue(c.Request.Context(), principal(c), issuer.IssueRequest{Credential: body.Credential, Format: body.Options.Format})
	if err != nil {
		a.fail(c, err)
		return
	}
	if res.Approval != nil {
		c.JSON(http.StatusAccepted, gin.H{"approval": res.Approval})
		return
	}
	c.JSON(http.StatusCreated, gin.H{"verifiableCredential": res.Credential.VerifiableCredential})
}

type verifyBody struct {
	VerifiableCredential   json.RawMessage `json:"verifiableCredential"`
	VerifiablePresentation json.RawMessage `json:"verifiablePresentation"`
	Options                struct {
		Challenge string `json:"challenge"`
		Domain    string `json:"domain"`
	} `json:"options"`
}

func (a *api) verifyCredential(c *gin.Context) { a.verify(c, false) }

func (a *api) verifyPresentation(c *gin.Context) { a.verify(c, true) }

// verify runs the verifier over the received bytes of the credential or presentation (a
// JSON object, or a string holding a JWT or data: URL) and answers 200 when verified,
// 422 with the failing checks otherwise.
func (a *api) verify(c *gin.Context, presentation bool) {
	var body verifyBody
	if !a.decode(c, &body) {
		return
	}
	raw, member := body.VerifiableCredential, "verifiableCredential"
	if presentation {
		raw, member = body.VerifiablePresentation, "verifiablePresentation"
	}
	if len(raw) == 0 || string(raw) == "null" {
		a.fail(c, &issuer.Error{Code: issuer.CodeMalformedRequest, Message: member + " is required"})
		return
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			a.fail(c, &issuer.Error{Code: issuer.CodeMalformedRequest, Message: member + " must be an object or a string"})
			return
		}
		raw = []byte(s)
	}
	res, err := a.svc.Verify(c.Request.Context(), raw, issuer.VerifyOptions{Challenge: body.Options.Challenge, Domain: body.Options.Domain})
	isPresentation := res.Format == verifier.FormatVPJWT || res.Format == verifier.FormatLDPVP
	if err == nil && isPresentation != presentation {
		err = &verifier.Error{Code: verifier.UnsupportedFormat, Detail: "use /credentials/verify for credentials and /presentations/verify for presentations"}
	}
	if err != nil {
		var failed []verifier.Check
		for _, ch := range allChecks(res) {
			if !ch.OK {
				failed = append(failed, ch)
			}
		}
		if len(failed) == 0 {
			failed = []verifier.Check{{Name: verifier.CheckFormat, Code: verifier.UnsupportedFormat, Detail: err.Error()}}
		}
		a.problem(c, Problem{Status: http.StatusUnprocessableEntity, Code: string(issuer.CodeVerificationFailed),
			Detail: "not verified: " + string(failed[0].Code), Errors: failed})
		return
	}
	c.JSON(http.StatusOK, gin.H{"verified": true, "checks": res.Checks, "credentials": res.Credentials, "warnings": []string{}, "errors": []string{}})
}

func allChecks(res verifier.Result) []verifier.Check {
	out := append([]verifier.Check{}, res.Checks...)
	if res.Holder != "" || res.Format == verifier.FormatVPJWT || res.Format == verifier.FormatLDPVP {
		for _, cr := range res.Credentials {
			out = append(out, cr.Checks...)
		}
	}
	return out
}

type statusBody struct {
	CredentialID     string `json:"credentialId"`
	CredentialStatus struct {
		Type          string `json:"type"`
		StatusPurpose string `json:"statusPurpose"`
	} `json:"credentialStatus"`
	Status *bool  `json:"status"`
	Reason string `json:"reason"`
}

func (a *api) setStatus(c *gin.Context) {
	var body statusBody
	if !a.decode(c, &body) {
		return
	}
	switch {
	case body.CredentialID == "":
		a.fail(c, &issuer.Error{Code: issuer.CodeMalformedRequest, Message: "credentialId is required"})
		return
	case body.CredentialStatus.Type != "" && body.CredentialStatus.Type != "BitstringStatusListEntry":
		a.fail(c, &issuer.Error{Code: issuer.CodeMalformedRequest, Message: "credentialStatus.type must be BitstringStatusListEntry"})
		return
	case body.Status == nil:
		a.fail(c, &issuer.Error{Code: issuer.CodeMalformedRequest, Message: "status (true or false) is required"})
		return
	}
	res, err := a.svc.SetStatus(c.Request.Context(), principal(c), issuer.StatusRequest{
		CredentialID: body.CredentialID, Purpose: body.CredentialStatus.StatusPurpose, Value: *body.Status, Reason: body.Reason,
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// --- published documents ---

func (a *api) statusList(c *gin.Context) {
	l, err := a.svc.StatusList(c.Request.Context(), c.Param("listID"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("ETag", l.ETag)
	c.Header("Cache-Control", "public, max-age=60")
	if match := c.GetHeader("If-None-Match"); match != "" && match == l.ETag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "application/vc+jwt", l.Body)
}

func (a *api) didDocument(c *gin.Context) {
	doc, err := a.svc.DIDDocument()
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Header("Content-Type", "application/did+json")
	c.JSON(http.StatusOK, doc)
}

func (a *api) context(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, "application/ld+json", schemas.Context())
}

func (a *api) schema(c *gin.Context) {
	name := strings.TrimSuffix(c.Param("type"), ".json")
	if _, ok := schemas.Lookup(name); !ok {
		a.fail(c, &issuer.Error{Code: issuer.CodeNotFound, Message: "no schema for " + name})
		return
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, "application/schema+json", schemas.Schema(name))
}

// --- admin ---

type memberBody struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (a *api) registerMember(c *gin.Context) {
	var body memberBody
	if !a.decode(c, &body) {
		return
	}
	m, err := a.svc.RegisterMember(c.Request.Context(), principal(c), body.ID, body.Name)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, memberJSON(m))
}

func memberJSON(m store.Member) gin.H {
	return gin.H{"id": m.DID, "name": m.Name, "createdAt": m.CreatedAt.UTC(), "createdBy": m.CreatedBy}
}

func (a *api) listMembers(c *gin.Context) {
	ms, err := a.svc.Members(c.Request.Context(), principal(c), c.Query("after"), queryInt(c, "limit"))
	if err != nil {
		a.fail(c, err)
		return
	}
	out := make([]gin.H, len(ms))
	for i, m := range ms {
		out[i] = memberJSON(m)
	}
	c.JSON(http.StatusOK, gin.H{"members": out})
}

func (a *api) getMember(c *gin.Context) {
	m, err := a.svc.Member(c.Request.Context(), principal(c), c.Param("did"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, memberJSON(m))
}

type tokenBody struct {
	Name  string   `json:"name"`
	Role  string   `json:"role"`
	Nodes []string `json:"nodes"`
}

func (a *api) createToken(c *gin.Context) {
	var body tokenBody
	if !a.decode(c, &body) {
		return
	}
	secret, t, err := a.svc.CreateToken(c.Request.Context(), principal(c), body.Name, body.Role, body.Nodes)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"token": secret, "id": t.ID, "name": t.Name, "role": t.Role, "nodes": t.Nodes})
}

func (a *api) listTokens(c *gin.Context) {
	ts, err := a.svc.Tokens(c.Request.Context(), principal(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tokens": ts})
}

func (a *api) revokeToken(c *gin.Context) {
	if err := a.svc.RevokeToken(c.Request.Context(), principal(c), c.Param("id")); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// credentialJSON is an issued credential as the admin API shows it.
func credentialJSON(r store.CredentialRecord, withCredential bool) (gin.H, error) {
	out := gin.H{
		"id": r.ID, "type": r.Type, "subject": r.Subject, "format": r.Format, "issuedAt": r.IssuedAt.UTC(),
		"issuedBy": r.IssuedBy, "revoked": r.Revoked, "suspended": r.Suspended,
	}
	if r.Node != "" {
		out["node"] = r.Node
	}
	if !r.ValidUntil.IsZero() {
		out["validUntil"] = r.ValidUntil.UTC()
	}
	if r.RevokedReason != "" {
		out["revokedReason"] = r.RevokedReason
	}
	if r.SuspendedReason != "" {
		out["suspendedReason"] = r.SuspendedReason
	}
	if withCredential {
		vc, err := issuer.VerifiableCredentialOf(r)
		if err != nil {
			return nil, err
		}
		out["verifiableCredential"] = vc
	}
	return out, nil
}

func (a *api) listCredentials(c *gin.Context) {
	recs, err := a.svc.Credentials(c.Request.Context(), principal(c), store.CredentialFilter{
		Type: c.Query("type"), Subject: c.Query("subject"), Node: c.Query("node"), After: c.Query("after"), Limit: queryInt(c, "limit"),
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	out := make([]gin.H, len(recs))
	for i, r := range recs {
		out[i], _ = credentialJSON(r, false)
	}
	c.JSON(http.StatusOK, gin.H{"credentials": out})
}

func (a *api) getCredential(c *gin.Context) {
	rec, err := a.svc.Credential(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	out, err := credentialJSON(rec, true)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (a *api) listApprovals(c *gin.Context) {
	as, err := a.svc.Approvals(c.Request.Context(), principal(c), c.Query("state"), queryInt(c, "limit"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"approvals": as})
}

func (a *api) getApproval(c *gin.Context) {
	v, err := a.svc.GetApproval(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (a *api) approve(c *gin.Context) {
	v, err := a.svc.Approve(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	out := gin.H{"approval": v}
	if v.Credential != nil {
		out["verifiableCredential"] = v.Credential.VerifiableCredential
	}
	c.JSON(http.StatusOK, out)
}

// queryInt reads an integer query parameter; anything else reads as 0 (the default).
func queryInt(c *gin.Context, name string) int {
	n, err := strconv.Atoi(c.Query(name))
	if err != nil {
		return 0
	}
	return n
}
