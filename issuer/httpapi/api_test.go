package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/issuer/httpapi"
	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/statuslist"
	"github.com/civitas-net/civitas/wallet"
)

// TestOpenAPIMatchesRouter: the OpenAPI document and the router list the same routes.
func TestOpenAPIMatchesRouter(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	r := e.must(200, e.do("GET", "/openapi.json", "", nil))
	if err := json.Unmarshal(r.raw, &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	h := httpapi.New(e.svc, httpapi.Options{})
	engine, ok := h.(*gin.Engine)
	if !ok {
		t.Fatalf("handler is %T", h)
	}
	param := regexp.MustCompile(`:([A-Za-z]+)`)
	var routed []string
	for _, rt := range engine.Routes() {
		routed = append(routed, rt.Method+" "+param.ReplaceAllString(rt.Path, "{$1}"))
	}
	slices.Sort(documented)
	slices.Sort(routed)
	if !slices.Equal(documented, routed) {
		t.Fatalf("OpenAPI and router differ\ndocumented: %v\nrouted:     %v", documented, routed)
	}
}

// TestIssueVerifyRevoke is the README's curl flow: register a member, issue, verify,
// revoke, verify again.
func TestIssueVerifyRevoke(t *testing.T) {
	e := newEnv(t)
	ada := e.member("Ada")
	for _, format := range []string{"", "jwt", "eddsa-rdfc-2022", "eddsa-jcs-2022"} {
		t.Run("format="+format, func(t *testing.T) {
			r := e.must(201, e.do("POST", "/credentials/issue", e.admin, issueBody(t, schemas.Membership, ada.DID, format)))
			vc := r.body["verifiableCredential"].(map[string]any)
			var id string
			if format == "" || format == "jwt" {
				if vc["type"] != "EnvelopedVerifiableCredential" || !strings.HasPrefix(vc["id"].(string), "data:application/vc+jwt,ey") {
					t.Fatalf("not an enveloped vc+jwt: %v", vc)
				}
				tok, err := jose.Parse([]byte(strings.TrimPrefix(vc["id"].(string), "data:application/vc+jwt,")), jose.TypCredential)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(tok.Kid, e.svc.DID()+"#key-") {
					t.Fatalf("kid %s", tok.Kid)
				}
				c, _ := tok.Credential()
				id = c.ID
			} else {
				id = vc["id"].(string)
				if vc["proof"].(map[string]any)["cryptosuite"] != format {
					t.Fatalf("proof %v", vc["proof"])
				}
			}
			ok := e.must(200, e.do("POST", "/credentials/verify", "", map[string]any{"verifiableCredential": vc}))
			if ok.body["verified"] != true {
				t.Fatalf("verify: %s", ok.raw)
			}
			e.must(200, e.do("POST", "/credentials/status", e.admin, map[string]any{
				"credentialId": id, "credentialStatus": map[string]any{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
				"status": true, "reason": "left the community",
			}))
			bad := e.must(422, e.do("POST", "/credentials/verify", "", map[string]any{"verifiableCredential": vc}))
			if bad.code() != "verification_failed" || !strings.Contains(string(bad.raw), `"revoked"`) {
				t.Fatalf("after revocation: %s", bad.raw)
			}
			again := e.must(200, e.do("POST", "/credentials/status", e.admin, map[string]any{
				"credentialId": id, "credentialStatus": map[string]any{"statusPurpose": "revocation"}, "status": true,
			}))
			if again.body["changed"] != false {
				t.Fatalf("revoking twice changed something: %s", again.raw)
			}
			e.must(409, e.do("POST", "/credentials/status", e.admin, map[string]any{
				"credentialId": id, "credentialStatus": map[string]any{"statusPurpose": "revocation"}, "status": false,
			}))
		})
	}
	if _, _, err := store.VerifyChain(context.Background(), e.st); err != nil {
		t.Fatalf("audit chain: %v", err)
	}
}

func TestSuspendAndStatusList(t *testing.T) {
	e := newEnv(t)
	ada := e.member("Ada")
	r := e.must(201, e.do("POST", "/credentials/issue", e.admin, issueBody(t, schemas.Membership, ada.DID, "eddsa-rdfc-2022")))
	vc := r.body["verifiableCredential"].(map[string]any)
	var entry map[string]any
	for _, s := range vc["credentialStatus"].([]any) {
		if s.(map[string]any)["statusPurpose"] == "suspension" {
			entry = s.(map[string]any)
		}
	}
	listURL := entry["statusListCredential"].(string)
	path := strings.TrimPrefix(listURL, e.srv.URL)
	first := e.must(200, e.do("GET", path, "", nil))
	etag := first.header.Get("ETag")
	if first.header.Get("Content-Type") != "application/vc+jwt" || etag == "" || !strings.Contains(first.header.Get("Cache-Control"), "max-age") {
		t.Fatalf("headers %v", first.header)
	}
	req, _ := http.NewRequest("GET", listURL, nil)
	req.Header.Set("If-None-Match", etag)
	resp, err := e.srv.Client().Do(req)
	if err != nil || resp.StatusCode != 304 {
		t.Fatalf("If-None-Match: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()

	setStatus := func(v bool) {
		e.must(200, e.do("POST", "/credentials/status", e.admin, map[string]any{
			"credentialId": vc["id"], "credentialStatus": map[string]any{"statusPurpose": "suspension"}, "status": v,
		}))
	}
	setStatus(true)
	bad := e.must(422, e.do("POST", "/credentials/verify", "", map[string]any{"verifiableCredential": vc}))
	if !strings.Contains(string(bad.raw), `"suspended"`) {
		t.Fatalf("suspended credential: %s", bad.raw)
	}
	second := e.must(200, e.do("GET", path, "", nil))
	if second.header.Get("ETag") == etag {
		t.Fatal("ETag unchanged after a status change")
	}
	tok, err := jose.Parse(second.raw, jose.TypCredential)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := tok.Credential()
	list, err := statuslist.ListFromCredential(c.Document, "suspension", statuslist.DecodeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := statuslist.ParseEntries(entry)
	i, _ := idx[0].Index()
	if set, _ := list.Get(i); !set || list.Len() < statuslist.MinSize || list.Count() != 1 {
		t.Fatalf("bit %d set=%v, len %d, count %d", i, set, list.Len(), list.Count())
	}
	setStatus(false)
	e.must(200, e.do("POST", "/credentials/verify", "", map[string]any{"verifiableCredential": vc}))
}

// TestBadInput: every bad request gets a 4xx with a stable code, stores nothing, and auth
// failures are audited.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	ada := e.member("Ada")
	badge := e.token("badges", store.RoleBadgeIssuer)
	good := issueBody(t, schemas.Membership, ada.DID, "")
	with := func(mod func(c map[string]any)) map[string]any {
		b := issueBody(t, schemas.Membership, ada.DID, "")
		mod(b["credential"].(map[string]any))
		return b
	}
	for _, tc := range []struct {
		name    string
		token   string
		body    any
		status  int
		code    string
		audited string
	}{
		{"no token", "", good, 401, "unauthorized", "auth.denied"},
		{"wrong token", "civ_AAAAAAAAAAAAAAAAAAAAAA", good, 401, "unauthorized", "auth.denied"},
		{"not a bearer", "x", good, 401, "unauthorized", "auth.denied"},
		{"wrong role", badge, good, 403, "forbidden", "auth.forbidden"},
		{"malformed JSON", e.admin, `{"credential":`, 400, "malformed_request", ""},
		{"not an object", e.admin, `[]`, 400, "malformed_request", ""},
		{"duplicate keys", e.admin, `{"credential":{},"credential":{}}`, 400, "malformed_request", ""},
		{"unknown field", e.admin, `{"credential":{},"extra":1}`, 400, "malformed_request", ""},
		{"no credential", e.admin, `{}`, 400, "malformed_request", ""},
		{"unknown type", e.admin, with(func(c map[string]any) { c["type"] = []any{"VerifiableCredential", "PassportCredential"} }), 422, "unknown_type", ""},
		{"schema violation", e.admin, with(func(c map[string]any) { c["credentialSubject"].(map[string]any)["memberSince"] = "yesterday" }), 422, "schema_invalid", ""},
		{"unknown member", e.admin, issueBody(t, schemas.Membership, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", ""), 422, "unknown_member", ""},
		{"subject without DID", e.admin, with(func(c map[string]any) { c["credentialSubject"].(map[string]any)["id"] = "ada" }), 400, "malformed_request", ""},
		{"issuer-filled member", e.admin, with(func(c map[string]any) { c["credentialStatus"] = map[string]any{} }), 400, "malformed_request", ""},
		{"foreign issuer", e.admin, with(func(c map[string]any) { c["issuer"] = "did:web:evil.example" }), 400, "malformed_request", ""},
		{"other context", e.admin, with(func(c map[string]any) { c["@context"] = []any{"https://www.w3.org/ns/credentials/v2"} }), 400, "malformed_request", ""},
		{"past validUntil", e.admin, with(func(c map[string]any) { c["validUntil"] = "2001-01-01T00:00:00Z" }), 400, "malformed_request", ""},
		{"unknown format", e.admin, func() map[string]any { b := issueBody(t, schemas.Membership, ada.DID, "pdf"); return b }(), 422, "unsupported_format", ""},
		{"format for another key", e.admin, issueBody(t, schemas.Membership, ada.DID, "ecdsa-rdfc-2019"), 422, "unsupported_format", ""},
		{"oversized body", e.admin, `{"credential":{"x":"` + strings.Repeat("a", httpapi.DefaultBodyLimit) + `"}}`, 413, "body_too_large", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, headBefore := e.credentialCount(), e.auditHead()
			r := e.do("POST", "/credentials/issue", tc.token, tc.body)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %s, want %d %s: %s", r.status, r.code(), tc.status, tc.code, r.raw)
			}
			if r.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("content type %q", r.header.Get("Content-Type"))
			}
			if e.credentialCount() != before {
				t.Fatal("a refused request stored a credential")
			}
			if tc.audited != "" {
				if e.auditHead() != headBefore+1 || e.lastAudit().Action != tc.audited {
					t.Fatalf("no %s audit entry", tc.audited)
				}
			} else if e.auditHead() != headBefore {
				t.Fatal("a refused request wrote to the audit log")
			}
		})
	}
	// Other endpoints, a few bad inputs each.
	for _, tc := range []struct {
		method, path, token string
		body                any
		status              int
		code                string
	}{
		{"POST", "/admin/members", "", map[string]any{"id": "did:example:x", "name": "x"}, 401, "unauthorized"},
		{"POST", "/admin/members", badge, map[string]any{"id": "did:example:x", "name": "x"}, 403, "forbidden"},
		{"POST", "/admin/members", e.admin, map[string]any{"id": "not a did", "name": "x"}, 400, "malformed_request"},
		{"POST", "/admin/members", e.admin, map[string]any{"id": ada.DID, "name": "Ada again"}, 409, "member_exists"},
		{"POST", "/admin/members", e.admin, map[string]any{"id": "did:example:y", "name": ""}, 400, "malformed_request"},
		{"POST", "/admin/tokens", e.admin, map[string]any{"name": "x", "role": "root"}, 400, "malformed_request"},
		{"POST", "/admin/tokens", e.admin, map[string]any{"name": "x", "role": "steward"}, 400, "malformed_request"},
		{"POST", "/admin/tokens", badge, map[string]any{"name": "x", "role": "admin"}, 403, "forbidden"},
		{"POST", "/credentials/status", e.admin, map[string]any{"credentialId": "urn:uuid:nope", "credentialStatus": map[string]any{"statusPurpose": "revocation"}, "status": true}, 404, "not_found"},
		{"POST", "/credentials/status", e.admin, map[string]any{"credentialId": "urn:uuid:nope", "credentialStatus": map[string]any{"statusPurpose": "message"}, "status": true}, 400, "malformed_request"},
		{"POST", "/credentials/status", e.admin, map[string]any{"credentialId": "urn:uuid:nope", "credentialStatus": map[string]any{"statusPurpose": "revocation"}}, 400, "malformed_request"},
		{"POST", "/credentials/verify", "", `{"verifiableCredential":"not a credential"}`, 422, "verification_failed"},
		{"POST", "/credentials/verify", "", `{}`, 400, "malformed_request"},
		{"POST", "/presentations/verify", "", `{"verifiablePresentation":{"type":"VerifiablePresentation"}}`, 422, "verification_failed"},
		{"GET", "/status/nope", "", nil, 404, "not_found"},
		{"GET", "/schemas/PassportCredential", "", nil, 404, "not_found"},
		{"GET", "/admin/credentials/urn:uuid:nope", e.admin, nil, 404, "not_found"},
		{"GET", "/admin/approvals/apr_nope", e.admin, nil, 404, "not_found"},
		{"DELETE", "/admin/tokens/tok_nope", e.admin, nil, 404, "not_found"},
		{"GET", "/no/such/route", "", nil, 404, "not_found"},
		{"PUT", "/credentials/issue", e.admin, `{}`, 405, "method_not_allowed"},
	} {
		r := e.do(tc.method, tc.path, tc.token, tc.body)
		if r.status != tc.status || r.code() != tc.code {
			t.Errorf("%s %s: got %d %s, want %d %s: %s", tc.method, tc.path, r.status, r.code(), tc.status, tc.code, r.raw)
		}
	}
}

// TestOversizedBodies: every route that reads a body refuses one over the limit with
// 413 body_too_large, before looking at anything else, and stores and audits nothing.
func TestOversizedBodies(t *testing.T) {
	e := newEnv(t)
	big := strings.Repeat("a", httpapi.DefaultBodyLimit)
	node := "/nodes/" + url.PathEscape(alfama)
	for _, tc := range []struct {
		path, contentType, authorization, body string
	}{
		{"/credentials/issue", "application/json", "Bearer " + e.admin, `{"credential":{"x":"` + big + `"}}`},
		{"/credentials/verify", "application/json", "", `{"verifiableCredential":"` + big + `"}`},
		{"/admin/members", "application/json", "Bearer " + e.admin, `{"id":"did:example:x","name":"` + big + `"}`},
		{node + "/enroll", "application/json", "", `{"did":"did:key:z","code":"` + big + `"}`},
		{node + "/checkins", "application/json", "CivitasNode x", `{"entries":"` + big + `"}`},
		{"/oid4vci/token", "application/x-www-form-urlencoded", "", "grant_type=" + big},
		{"/oid4vci/credential", "application/json", "Bearer x", `{"proof":"` + big + `"}`},
	} {
		seq, stored := e.auditHead(), e.credentialCount()
		req, err := http.NewRequest("POST", e.srv.URL+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", tc.contentType)
		if tc.authorization != "" {
			req.Header.Set("Authorization", tc.authorization)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p httpapi.Problem
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 413 || p.Code != "body_too_large" {
			t.Errorf("POST %s: %d %+v %v, want 413 body_too_large", tc.path, resp.StatusCode, p, err)
		}
		if e.auditHead() != seq || e.credentialCount() != stored {
			t.Errorf("POST %s: an oversized request was stored or audited", tc.path)
		}
	}
	if _, err := e.st.Member(context.Background(), "did:example:x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("member of an oversized request: %v", err)
	}
	e.nodeUnknown(alfama)
}

// TestApprovals: a residency needs two distinct approvals by stewards of its node.
func TestApprovals(t *testing.T) {
	e := newEnv(t)
	bea := e.member("Bea")
	sub := subject(t, schemas.Residency, bea.DID)
	node := sub["node"].(map[string]any)["id"].(string)
	s1 := e.token("steward one", store.RoleSteward, node)
	s2 := e.token("steward two", store.RoleSteward, node)
	s3 := e.token("steward three", store.RoleSteward, node)
	other := e.token("steward elsewhere", store.RoleSteward, "https://example.org/nodes/elsewhere")
	badge := e.token("badges", store.RoleBadgeIssuer)

	e.must(403, e.do("POST", "/credentials/issue", other, issueBody(t, schemas.Residency, bea.DID, "")))
	r := e.must(202, e.do("POST", "/credentials/issue", s1, issueBody(t, schemas.Residency, bea.DID, "")))
	a := r.body["approval"].(map[string]any)
	id := a["id"].(string)
	if a["state"] != "pending" || a["required"] != float64(2) {
		t.Fatalf("approval %v", a)
	}
	if e.credentialCount() != 0 {
		t.Fatal("issued before approval")
	}
	approve := func(token string) response { return e.do("POST", "/admin/approvals/"+id+"/approve", token, nil) }
	if r := approve(s1); r.status != 403 || r.code() != "own_request" {
		t.Fatalf("own approval: %d %s", r.status, r.raw)
	}
	if r := approve(other); r.status != 403 || r.code() != "forbidden" {
		t.Fatalf("steward of another node: %d %s", r.status, r.raw)
	}
	if r := approve(badge); r.status != 403 {
		t.Fatalf("badge issuer: %d %s", r.status, r.raw)
	}
	first := e.must(200, approve(s2))
	if first.body["verifiableCredential"] != nil {
		t.Fatal("issued after one approval")
	}
	if r := approve(s2); r.status != 409 || r.code() != "already_voted" {
		t.Fatalf("second vote: %d %s", r.status, r.raw)
	}
	head := e.auditHead()
	if e.lastAudit().Action != "auth.forbidden" {
		t.Fatalf("refused vote not audited: %+v", e.lastAudit())
	}
	done := e.must(200, approve(s3))
	vc, ok := done.body["verifiableCredential"].(map[string]any)
	if !ok || done.body["approval"].(map[string]any)["state"] != "issued" {
		t.Fatalf("not issued after two approvals: %s", done.raw)
	}
	if e.auditHead() <= head || e.credentialCount() != 1 {
		t.Fatal("issuance not stored")
	}
	e.must(200, e.do("POST", "/credentials/verify", "", map[string]any{"verifiableCredential": vc}))
	if r := approve(e.admin); r.status != 409 || r.code() != "approval_closed" {
		t.Fatalf("vote after issuance: %d %s", r.status, r.raw)
	}
	got := e.must(200, e.do("GET", "/admin/approvals/"+id, s1, nil))
	if got.body["state"] != "issued" || got.body["credentialId"] == "" {
		t.Fatalf("requester's view: %s", got.raw)
	}
	// The requesting steward can manage the residency; the steward elsewhere cannot.
	e.must(200, e.do("GET", "/admin/credentials/"+got.body["credentialId"].(string), s1, nil))
	e.must(403, e.do("GET", "/admin/credentials/"+got.body["credentialId"].(string), other, nil))

	// Requests expire.
	r = e.must(202, e.do("POST", "/credentials/issue", s1, issueBody(t, schemas.Residency, bea.DID, "")))
	id = r.body["approval"].(map[string]any)["id"].(string)
	e.clock.advance(8 * 24 * time.Hour)
	if r := approve(s2); r.status != 409 || r.code() != "approval_closed" {
		t.Fatalf("expired request: %d %s", r.status, r.raw)
	}
	if _, _, err := store.VerifyChain(context.Background(), e.st); err != nil {
		t.Fatal(err)
	}
}

func TestRolesAndTokens(t *testing.T) {
	e := newEnv(t)
	ada := e.member("Ada")
	badge := e.token("badges", store.RoleBadgeIssuer)
	r := e.must(201, e.do("POST", "/credentials/issue", badge, issueBody(t, schemas.Contribution, ada.DID, "")))
	if r.body["verifiableCredential"] == nil {
		t.Fatal("no credential")
	}
	list := e.must(200, e.do("GET", "/admin/credentials", badge, nil))
	if n := len(list.body["credentials"].([]any)); n != 1 {
		t.Fatalf("badge issuer sees %d credentials", n)
	}
	e.must(201, e.do("POST", "/credentials/issue", e.admin, issueBody(t, schemas.Membership, ada.DID, "")))
	if n := len(e.must(200, e.do("GET", "/admin/credentials", badge, nil)).body["credentials"].([]any)); n != 1 {
		t.Fatalf("badge issuer sees %d credentials after a membership", n)
	}
	if n := len(e.must(200, e.do("GET", "/admin/credentials?type=MembershipCredential", e.admin, nil)).body["credentials"].([]any)); n != 1 {
		t.Fatalf("admin filter by type: %d", n)
	}
	tokens := e.must(200, e.do("GET", "/admin/tokens", e.admin, nil))
	if strings.Contains(string(tokens.raw), "civ_") {
		t.Fatal("token list leaks secrets")
	}
	var badgeID string
	for _, tk := range tokens.body["tokens"].([]any) {
		if tk.(map[string]any)["role"] == "badge-issuer" {
			badgeID = tk.(map[string]any)["id"].(string)
		}
	}
	e.must(204, e.do("DELETE", "/admin/tokens/"+badgeID, e.admin, nil))
	if r := e.do("POST", "/credentials/issue", badge, issueBody(t, schemas.Contribution, ada.DID, "")); r.status != 401 {
		t.Fatalf("revoked token: %d", r.status)
	}
	e.must(200, e.do("GET", "/admin/members/"+ada.DID, e.admin, nil))
	if n := len(e.must(200, e.do("GET", "/admin/members", e.admin, nil)).body["members"].([]any)); n != 1 {
		t.Fatalf("members: %d", n)
	}
}

// TestKeyRotation: after a rotation the new key signs, the DID document lists both keys,
// and credentials signed by the old key keep verifying.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t)
	ada := e.member("Ada")
	old := e.must(201, e.do("POST", "/credentials/issue", e.admin, issueBody(t, schemas.Membership, ada.DID, ""))).body["verifiableCredential"]
	if _, err := issuer.RotateKey(context.Background(), e.st, e.kek, keys.Ed25519, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RotateKey(context.Background(), "test", keys.Ed25519); err != nil {
		t.Fatal(err)
	}
	doc := e.must(200, e.do("GET", "/.well-known/did.json", "", nil))
	if n := len(doc.body["verificationMethod"].([]any)); n != 3 || len(doc.body["assertionMethod"].([]any)) != 3 {
		t.Fatalf("DID document after two rotations: %s", doc.raw)
	}
	fresh := e.must(201, e.do("POST", "/credentials/issue", e.admin, issueBody(t, schemas.Membership, ada.DID, ""))).body["verifiableCredential"].(map[string]any)
	tok, _ := jose.Parse([]byte(strings.TrimPrefix(fresh["id"].(string), "data:application/vc+jwt,")), "")
	if !strings.HasSuffix(tok.Kid, "#key-3") {
		t.Fatalf("new credential signed by %s", tok.Kid)
	}
	e.must(200, e.do("POST", "/credentials/verify", "", map[string]any{"verifiableCredential": old}))
	e.must(200, e.do("POST", "/credentials/verify", "", map[string]any{"verifiableCredential": fresh}))
}

func TestPresentationsVerify(t *testing.T) {
	e := newEnv(t)
	ada := e.member("Ada")
	vc := e.must(201, e.do("POST", "/credentials/issue", e.admin, issueBody(t, schemas.Membership, ada.DID, ""))).body["verifiableCredential"].(map[string]any)
	token := strings.TrimPrefix(vc["id"].(string), "data:application/vc+jwt,")
	vp, err := ada.Present(context.Background(), [][]byte{[]byte(token)}, wallet.Request{Challenge: "c-1", Audience: "https://door.example"})
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"verifiablePresentation": string(vp), "options": map[string]any{"challenge": "c-1", "domain": "https://door.example"}}
	e.must(200, e.do("POST", "/presentations/verify", "", body))
	if r := e.do("POST", "/presentations/verify", "", body); r.status != 422 || !strings.Contains(string(r.raw), "replayed") {
		t.Fatalf("replay: %d %s", r.status, r.raw)
	}
	body["options"] = map[string]any{"challenge": "c-2", "domain": "https://door.example"}
	if r := e.do("POST", "/presentations/verify", "", body); r.status != 422 || !strings.Contains(string(r.raw), "challenge_mismatch") {
		t.Fatalf("wrong challenge: %d %s", r.status, r.raw)
	}
	// A credential sent to the presentation endpoint, and the reverse.
	e.must(422, e.do("POST", "/presentations/verify", "", map[string]any{"verifiablePresentation": vc}))
	e.must(422, e.do("POST", "/credentials/verify", "", map[string]any{"verifiableCredential": string(vp)}))
}

func TestPublishedDocuments(t *testing.T) {
	e := newEnv(t)
	e.must(200, e.do("GET", "/healthz", "", nil))
	e.must(200, e.do("GET", "/readyz", "", nil))
	m := e.must(200, e.do("GET", "/metrics", "", nil))
	if !strings.Contains(string(m.raw), "civitas_http_requests_total") {
		t.Fatal("metrics lack the request counter")
	}
	ctx := e.must(200, e.do("GET", "/contexts/civitas/v1", "", nil))
	if string(ctx.raw) != string(schemas.Context()) {
		t.Fatal("context differs from the embedded one")
	}
	for _, typ := range schemas.Types() {
		r := e.must(200, e.do("GET", "/schemas/"+typ.Name, "", nil))
		if r.body["$id"] != typ.SchemaID {
			t.Fatalf("schema %s has $id %v", typ.Name, r.body["$id"])
		}
	}
	doc := e.must(200, e.do("GET", "/.well-known/did.json", "", nil))
	if doc.body["id"] != e.svc.DID() {
		t.Fatalf("DID document id %v", doc.body["id"])
	}
	if rid := doc.header.Get("X-Request-ID"); rid == "" {
		t.Fatal("no request ID")
	}
}

func TestReport(t *testing.T) {
	e := newEnv(t)
	ada := e.member("Ada")
	for range 3 {
		e.must(201, e.do("POST", "/credentials/issue", e.admin, issueBody(t, schemas.Membership, ada.DID, "")))
	}
	vc := e.must(201, e.do("POST", "/credentials/issue", e.admin, issueBody(t, schemas.Contribution, ada.DID, ""))).body["verifiableCredential"].(map[string]any)
	tok, _ := jose.Parse([]byte(strings.TrimPrefix(vc["id"].(string), "data:application/vc+jwt,")), "")
	c, _ := tok.Credential()
	e.must(200, e.do("POST", "/credentials/status", e.admin, map[string]any{"credentialId": c.ID, "credentialStatus": map[string]any{"statusPurpose": "revocation"}, "status": true}))
	rep, err := issuer.MonthlyReport(context.Background(), e.st, e.svc.DID(), e.clock.now().Format("2006-01"), e.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals.Issued != 4 || rep.Totals.Revoked != 1 || rep.AuditHead.Seq == 0 {
		t.Fatalf("report %+v", rep)
	}
	raw, _ := json.Marshal(rep)
	if strings.Contains(string(raw), ada.DID) || strings.Contains(string(raw), "Ada") {
		t.Fatal("the report holds personal data")
	}
}

// FuzzIssue posts arbitrary bodies to the issue endpoint: never a 5xx.
func FuzzIssue(f *testing.F) {
	e := newEnv(f)
	ada := e.member("Ada")
	seed, _ := json.Marshal(issueBody(f, schemas.Membership, ada.DID, ""))
	f.Add(seed)
	f.Add([]byte(`{"credential":{"type":"VerifiableCredential"},"options":{"format":"eddsa-rdfc-2022"}}`))
	f.Add([]byte(`{"credential":{"type":["VerifiableCredential","ResidencyCredential"],"credentialSubject":{"id":"did:example:x","node":{}}}}`))
	handler := e.srv.Config.Handler
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/credentials/issue", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+e.admin)
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}
