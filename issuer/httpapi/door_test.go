package httpapi_test

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"net"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/keystore"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/issuer/httpapi"
	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/verifier/node"
	"github.com/civitas-net/civitas/wallet"
)

const (
	alfama = "https://harbourcommons.example/nodes/alfama-house"
	graca  = "https://harbourcommons.example/nodes/graca-hub"
)

// cutOff stops the service so that nothing answers on its address (connections are
// refused), and returns a function that brings it back on the same address.
func (e *env) cutOff() (restore func()) {
	e.t.Helper()
	addr, handler := e.srv.Listener.Addr().String(), e.srv.Config.Handler
	e.srv.Close()
	return func() {
		e.t.Helper()
		l, err := net.Listen("tcp", addr)
		if err != nil {
			e.t.Fatalf("listen again on %s: %v", addr, err)
		}
		srv := httptest.NewUnstartedServer(handler)
		srv.Listener.Close()
		srv.Listener = l
		srv.Start()
		e.srv = srv
		e.t.Cleanup(srv.Close)
	}
}

// issueJWT issues a credential and returns the compact vc+jwt and its id. A request
// that needs approvals is approved by two stewards of its node.
func (e *env) issueJWT(body map[string]any) ([]byte, string) {
	e.t.Helper()
	r := e.do("POST", "/credentials/issue", e.admin, body)
	if r.status == 202 {
		a := r.body["approval"].(map[string]any)
		for _, name := range []string{"first steward", "second steward"} {
			r = e.must(200, e.do("POST", "/admin/approvals/"+a["id"].(string)+"/approve", e.token(name, store.RoleSteward, a["node"].(string)), nil))
		}
	}
	vc, ok := r.body["verifiableCredential"].(map[string]any)
	if !ok {
		e.t.Fatalf("not issued: %d %s", r.status, r.raw)
	}
	raw := []byte(strings.TrimPrefix(vc["id"].(string), "data:application/vc+jwt,"))
	tok, err := jose.Parse(raw, jose.TypCredential)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := tok.Credential()
	if err != nil {
		e.t.Fatal(err)
	}
	return raw, c.ID
}

// residencyBody is an issue request for a residency at nodeID covering the clock's
// month.
func (e *env) residencyBody(holder, nodeID string) map[string]any {
	body := issueBody(e.t, schemas.Residency, holder, "")
	s := body["credential"].(map[string]any)["credentialSubject"].(map[string]any)
	s["node"].(map[string]any)["id"] = nodeID
	today := e.clock.now()
	s["residencePeriod"] = map[string]any{
		"from":  today.AddDate(0, 0, -10).Format(time.DateOnly),
		"until": today.AddDate(0, 0, 20).Format(time.DateOnly),
	}
	return body
}

// door is a node set up in a temporary folder with the test's clock.
func (e *env) door(bundle []byte, doc *did.Document) *node.Node {
	e.t.Helper()
	n, err := node.Init(context.Background(), filepath.Join(e.t.TempDir(), "node"), bundle, doc,
		node.Options{Now: e.clock.now, Passphrase: []byte("door passphrase"), Params: keystore.MinParams})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { n.Close() })
	return n
}

// checkIn presents creds to door n answering a fresh challenge (audience overrides the
// challenge's when set) and returns the decision.
func checkIn(t *testing.T, n *node.Node, h *wallet.Holder, creds [][]byte, audience string) (node.Decision, []byte) {
	t.Helper()
	ctx := context.Background()
	c, err := n.Challenge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if audience == "" {
		audience = c.Audience
	}
	vp, err := h.Present(ctx, creds, wallet.Request{Challenge: c.Nonce, Audience: audience})
	if err != nil {
		t.Fatal(err)
	}
	d, err := n.CheckIn(ctx, vp)
	if err != nil {
		t.Fatal(err)
	}
	return d, vp
}

func wantDecision(t *testing.T, name string, d node.Decision, decision string, codes ...string) {
	t.Helper()
	if d.Decision != decision || !slices.Equal(d.Codes, codes) {
		t.Fatalf("%s: %s %v (%v), want %s %v", name, d.Decision, d.Codes, d.Reasons, decision, codes)
	}
	if len(d.Reasons) != len(d.Codes) || d.Seq == 0 {
		t.Fatalf("%s: reasons %v, seq %d", name, d.Reasons, d.Seq)
	}
	for _, r := range d.Reasons {
		if strings.Contains(r, "_") || strings.HasPrefix(r, "Refused (") {
			t.Fatalf("%s: the reason %q is not in words", name, r)
		}
	}
}

// TestWholeDoor runs check-in at a co-living site end to end: the issuer issues and
// builds bundles; the nodes start and decide with no server reachable; the ledgers
// reach the issuer later, which flags a credential admitted at both nodes.
func TestWholeDoor(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ada, bo, cyd, dee := e.member("Ada"), e.member("Bo"), e.member("Cyd"), e.member("Dee")

	adaMember, _ := e.issueJWT(issueBody(t, schemas.Membership, ada.DID, ""))
	adaResident, _ := e.issueJWT(e.residencyBody(ada.DID, alfama))
	boMember, boID := e.issueJWT(issueBody(t, schemas.Membership, bo.DID, ""))
	cydResident, _ := e.issueJWT(e.residencyBody(cyd.DID, graca))
	deeBody := issueBody(t, schemas.Membership, dee.DID, "")
	deeBody["credential"].(map[string]any)["validUntil"] = e.clock.now().Add(10 * time.Minute).Format(time.RFC3339)
	deeMember, _ := e.issueJWT(deeBody)
	e.must(200, e.do("POST", "/credentials/status", e.admin, map[string]any{
		"credentialId": boID, "credentialStatus": map[string]any{"statusPurpose": "revocation"}, "status": true,
	}))

	// Bundles are built after Bo's revocation; a steward of Alfama may make Alfama's.
	steward := e.token("alfama steward", "steward", alfama)
	e.must(403, e.do("GET", "/admin/nodes/"+url.PathEscape(graca)+"/bundle", steward, nil))
	bundleA := e.must(200, e.do("GET", "/admin/nodes/"+url.PathEscape(alfama)+"/bundle?name=Alfama+House", steward, nil)).raw
	bundleG := e.must(200, e.do("GET", "/admin/nodes/"+url.PathEscape(graca)+"/bundle", e.admin, nil)).raw
	doc, err := did.ParseDocument(e.must(200, e.do("GET", "/.well-known/did.json", "", nil)).raw)
	if err != nil {
		t.Fatal(err)
	}

	// The network is cut: the nodes set up and decide on their own.
	restore := e.cutOff()
	a, g := e.door(bundleA, doc), e.door(bundleG, doc)
	if err := a.Enroll(ctx, node.Client{}); err == nil {
		t.Fatal("enrolled with no server reachable")
	}
	if a.Bundle().Node.Name != "Alfama House" || a.DID() == g.DID() {
		t.Fatalf("node identity: %+v", a.Bundle().Node)
	}

	d, _ := checkIn(t, a, ada, [][]byte{adaMember}, "")
	wantDecision(t, "member", d, node.Admitted)
	if d.Type != schemas.Membership {
		t.Fatalf("admitted on %q", d.Type)
	}
	d, vp := checkIn(t, a, ada, [][]byte{adaResident}, "")
	wantDecision(t, "resident", d, node.Admitted)
	if d.Type != schemas.Residency {
		t.Fatalf("admitted on %q", d.Type)
	}
	d, err = a.CheckIn(ctx, vp)
	if err != nil {
		t.Fatal(err)
	}
	wantDecision(t, "replayed", d, node.Refused, "replayed")
	d, _ = checkIn(t, a, bo, [][]byte{boMember}, "")
	wantDecision(t, "revoked", d, node.Refused, "revoked")
	d, _ = checkIn(t, a, cyd, [][]byte{cydResident}, "")
	wantDecision(t, "resident elsewhere", d, node.Refused, node.CodeNotResidentHere)
	d, _ = checkIn(t, a, ada, [][]byte{adaMember}, g.DID())
	wantDecision(t, "made for another node", d, node.Refused, "audience_mismatch")
	// A presentation answering the other node's challenge is not for this door.
	c, _ := g.Challenge(ctx)
	vp, _ = ada.Present(ctx, [][]byte{adaMember}, wallet.Request{Challenge: c.Nonce, Audience: c.Audience})
	d, _ = a.CheckIn(ctx, vp)
	wantDecision(t, "other node's challenge", d, node.Refused, node.CodeUnknownChallenge)
	d, _ = checkIn(t, a, cyd, [][]byte{cydResident}, "")
	if d.Decision != node.Refused {
		t.Fatal("a refused member got in on the second try")
	}

	e.clock.advance(20 * time.Minute)
	d, _ = checkIn(t, a, dee, [][]byte{deeMember}, "")
	wantDecision(t, "expired", d, node.Refused, "expired")
	// Ada shows the same membership at Graça 20 minutes later: a double check-in.
	d, _ = checkIn(t, g, ada, [][]byte{adaMember}, "")
	wantDecision(t, "member at the other node", d, node.Admitted)

	// The ledger: signed, chained, and naming nobody.
	entries := a.Ledger().Since(time.Time{})
	if len(entries) != 9 {
		t.Fatalf("%d ledger entries, want 9", len(entries))
	}
	pub, err := did.NewResolver().Resolve(ctx, a.DID())
	if err != nil {
		t.Fatal(err)
	}
	key, _ := pub.VerificationMethod[0].PublicKey()
	if err := node.VerifyChain(entries, key, 0, ""); err != nil {
		t.Fatalf("ledger chain: %v", err)
	}
	for _, en := range entries {
		for _, who := range []string{ada.DID, bo.DID, cyd.DID, dee.DID, "Ada"} {
			if strings.Contains(en.SubjectRef, who) || strings.Contains(en.Type, who) {
				t.Fatalf("entry %d names a member: %+v", en.Seq, en)
			}
		}
	}
	if entries[0].SubjectRef == "" || entries[0].SubjectRef == entries[1].SubjectRef {
		t.Fatalf("subject refs: %q %q", entries[0].SubjectRef, entries[1].SubjectRef)
	}
	if _, err := a.Sync(ctx, node.Client{}); err == nil {
		t.Fatal("synced with no server reachable")
	}

	// Back online: the ledgers reach the issuer, once.
	restore()
	res, err := a.Sync(ctx, node.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 9 || res.Stored != 9 || res.Flagged != 0 || !a.Enrolled() {
		t.Fatalf("first sync: %+v, enrolled %v", res, a.Enrolled())
	}
	if res, err = a.Sync(ctx, node.Client{}); err != nil || res.Sent != 0 {
		t.Fatalf("second sync: %+v %v", res, err)
	}
	res, err = g.Sync(ctx, node.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 1 || res.Flagged != 1 {
		t.Fatalf("the double check-in was not flagged: %+v", res)
	}
	flagged := e.must(200, e.do("GET", "/admin/checkins?flagged=true", e.admin, nil)).body["checkIns"].([]any)
	if len(flagged) != 2 || flagged[0].(map[string]any)["subjectRef"] != flagged[1].(map[string]any)["subjectRef"] {
		t.Fatalf("flagged: %v", flagged)
	}
	all := e.must(200, e.do("GET", "/admin/checkins?node="+url.QueryEscape(alfama), e.admin, nil)).body["checkIns"].([]any)
	if len(all) != 9 {
		t.Fatalf("%d check-ins at Alfama, want 9", len(all))
	}
	nodes := e.must(200, e.do("GET", "/admin/nodes", e.admin, nil)).body["nodes"].([]any)
	if len(nodes) != 2 || nodes[0].(map[string]any)["enrolled"] != true {
		t.Fatalf("nodes: %v", nodes)
	}

	// The monthly report counts check-ins per node.
	rep, err := issuer.MonthlyReport(ctx, e.st, e.svc.DID(), e.clock.now().Format("2006-01"), e.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string][3]int{}
	for _, c := range rep.CheckIns {
		counts[c.Node] = [3]int{c.Admitted, c.Refused, c.Flagged}
	}
	if counts[alfama] != [3]int{2, 7, 1} || counts[graca] != [3]int{1, 0, 1} {
		t.Fatalf("report check-ins: %v", counts)
	}

	// A refreshed bundle (now possible, the node is enrolled) names the node's DID.
	changed, err := a.Refresh(ctx, node.Client{})
	if err != nil || !changed || a.Bundle().Node.DID != a.DID() {
		t.Fatalf("refresh: %v %v %+v", changed, err, a.Bundle().Node)
	}
}

// wantAudited checks that exactly one audit entry, of action, was written since the
// audit head was at seq (none at all when action is "").
func (e *env) wantAudited(name string, seq int64, action string) {
	e.t.Helper()
	switch {
	case action == "" && e.auditHead() != seq:
		e.t.Fatalf("%s: a refused request wrote to the audit log: %+v", name, e.lastAudit())
	case action != "" && (e.auditHead() != seq+1 || e.lastAudit().Action != action):
		e.t.Fatalf("%s: no %s audit entry (head %d, was %d)", name, action, e.auditHead(), seq)
	}
}

// wantRefused checks a refused request's status and problem code, and its audit entry
// as wantAudited does.
func (e *env) wantRefused(name string, r response, seq int64, status int, code, action string) {
	e.t.Helper()
	if r.status != status || r.code() != code {
		e.t.Fatalf("%s: %d %s, want %d %s", name, r.status, r.raw, status, code)
	}
	e.wantAudited(name, seq, action)
}

// nodeDID returns the DID a node enrolled with ("" before), failing when the node is
// not registered.
func (e *env) nodeDID(id string) string {
	e.t.Helper()
	n, err := e.st.Node(context.Background(), id)
	if err != nil {
		e.t.Fatalf("node %s: %v", id, err)
	}
	return n.DID
}

// nodeUnknown checks that no node id is registered.
func (e *env) nodeUnknown(id string) {
	e.t.Helper()
	if _, err := e.st.Node(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
		e.t.Fatalf("node %s: %v, want it unknown", id, err)
	}
}

// checkInCount counts the check-ins stored for a node.
func (e *env) checkInCount(nodeID string) int {
	e.t.Helper()
	cs, err := e.st.CheckIns(context.Background(), store.CheckInFilter{NodeID: nodeID, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(cs)
}

// TestNodeRequestsAuthenticated plays a node by hand: an enrollment code works once,
// node endpoints take only requests signed by the enrolled key for their own URL, and
// uploaded entries must be signed by that key and continue the issuer's copy.
func TestNodeRequestsAuthenticated(t *testing.T) {
	e := newEnv(t)
	path := "/nodes/" + url.PathEscape(alfama)
	var b node.Bundle
	tok, err := jose.ParseJWS(e.must(200, e.do("GET", "/admin/nodes/"+url.PathEscape(alfama)+"/bundle", e.admin, nil)).raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(tok.Payload, &b); err != nil || b.Enrollment == nil {
		t.Fatalf("first bundle: %v %+v", err, b.Enrollment)
	}
	mine, _ := keys.Generate(keys.Ed25519)
	other, _ := keys.Generate(keys.Ed25519)
	mineDID, _ := did.KeyDID(mine.Public())
	otherDID, _ := did.KeyDID(other.Public())
	mineKID, _ := did.KeyURL(mine.Public())
	otherKID, _ := did.KeyURL(other.Public())
	sign := func(key crypto.Signer, kid, method, p string, at time.Time) string {
		s, err := node.RequestToken(key, kid, method, e.svc.PublicURL()+p, at)
		if err != nil {
			t.Fatal(err)
		}
		return node.AuthScheme + " " + s
	}
	head := path + "/checkins/head"

	// A steward of another node gets no bundle: no enrollment code is renewed, no node
	// registered, and the refusal is audited.
	gracaSteward, alfamaSteward := e.token("graca steward", store.RoleSteward, graca), e.token("alfama steward", store.RoleSteward, alfama)
	seq := e.auditHead()
	e.wantRefused("steward of another node", e.do("GET", "/admin/nodes/"+url.PathEscape(alfama)+"/bundle", gracaSteward, nil),
		seq, 403, "forbidden", "auth.forbidden")
	seq = e.auditHead()
	e.wantRefused("steward of another, new node", e.do("GET", "/admin/nodes/"+url.PathEscape(graca)+"/bundle", alfamaSteward, nil),
		seq, 403, "forbidden", "auth.forbidden")
	e.nodeUnknown(graca)

	seq = e.auditHead()
	e.must(401, e.doAuth("GET", head, sign(mine, mineKID, "GET", head, e.clock.now()), nil))
	e.wantAudited("request before enrollment", seq, "auth.denied")
	seq = e.auditHead()
	e.must(401, e.do("POST", path+"/enroll", "", map[string]any{"did": mineDID, "code": "guess"}))
	e.wantAudited("wrong enrollment code", seq, "auth.denied")
	if d := e.nodeDID(alfama); d != "" {
		t.Fatalf("enrolled %s with a wrong code", d)
	}
	seq = e.auditHead()
	e.wantRefused("enrollment of an unknown node", e.do("POST", "/nodes/"+url.PathEscape(graca)+"/enroll", "", map[string]any{"did": mineDID, "code": b.Enrollment.Code}),
		seq, 401, "unauthorized", "auth.denied")
	e.nodeUnknown(graca)
	seq = e.auditHead()
	e.must(400, e.do("POST", path+"/enroll", "", map[string]any{"did": "https://not.a.did", "code": b.Enrollment.Code}))
	e.wantAudited("enrollment with no did:key", seq, "")
	e.must(204, e.do("POST", path+"/enroll", "", map[string]any{"did": mineDID, "code": b.Enrollment.Code}))
	seq = e.auditHead()
	e.must(401, e.do("POST", path+"/enroll", "", map[string]any{"did": mineDID, "code": b.Enrollment.Code}))
	e.wantAudited("used enrollment code", seq, "auth.denied")
	seq = e.auditHead()
	e.wantRefused("used enrollment code, another DID", e.do("POST", path+"/enroll", "", map[string]any{"did": otherDID, "code": b.Enrollment.Code}),
		seq, 401, "unauthorized", "auth.denied")
	if d := e.nodeDID(alfama); d != mineDID {
		t.Fatalf("the node's DID became %s", d)
	}

	// Refusals are audited at most 20 a second: start a new one.
	e.clock.advance(time.Second)

	for name, auth := range map[string]string{
		"none":          "",
		"bearer":        "Bearer " + e.admin,
		"other key":     sign(other, otherKID, "GET", head, e.clock.now()),
		"other URL":     sign(mine, mineKID, "GET", path+"/bundle", e.clock.now()),
		"other method":  sign(mine, mineKID, "POST", head, e.clock.now()),
		"stale":         sign(mine, mineKID, "GET", head, e.clock.now().Add(-time.Hour)),
		"garbage":       node.AuthScheme + " not.a.jws",
		"other node ID": sign(mine, mineKID, "GET", "/nodes/"+url.PathEscape(graca)+"/checkins/head", e.clock.now()),
	} {
		seq := e.auditHead()
		if r := e.doAuth("GET", head, auth, nil); r.status != 401 || r.code() != "unauthorized" {
			t.Fatalf("%s: %d %s", name, r.status, r.raw)
		}
		e.wantAudited(name, seq, "auth.denied")
	}
	r := e.must(200, e.doAuth("GET", head, sign(mine, mineKID, "GET", head, e.clock.now()), nil))
	if r.body["seq"] != 0.0 {
		t.Fatalf("head of an empty ledger: %s", r.raw)
	}

	ledger := func(key crypto.Signer, n int) []node.LedgerEntry {
		l, err := node.OpenLedger(filepath.Join(t.TempDir(), "ledger.jsonl"), key)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for range n {
			if _, err := l.Append(node.LedgerEntry{At: e.clock.now(), Type: schemas.Membership, SubjectRef: "0123456789abcdef", Decision: node.Admitted}); err != nil {
				t.Fatal(err)
			}
		}
		return l.Since(time.Time{})
	}
	upload := func(entries any) response {
		return e.doAuth("POST", path+"/checkins", sign(mine, mineKID, "POST", path+"/checkins", e.clock.now()), map[string]any{"entries": entries})
	}
	e.clock.advance(time.Second)
	good := ledger(mine, 3)
	seq = e.auditHead()
	e.wantRefused("upload signed by another key", e.doAuth("POST", path+"/checkins", sign(other, otherKID, "POST", path+"/checkins", e.clock.now()), map[string]any{"entries": good}),
		seq, 401, "unauthorized", "auth.denied")
	seq = e.auditHead()
	e.wantRefused("oversized upload", e.doAuth("POST", path+"/checkins", sign(mine, mineKID, "POST", path+"/checkins", e.clock.now()),
		`{"entries":"`+strings.Repeat("a", httpapi.DefaultBodyLimit)+`"}`), seq, 413, "body_too_large", "")
	seq = e.auditHead()
	if r := upload(ledger(other, 2)); r.status != 400 || r.code() != "malformed_request" {
		t.Fatalf("entries signed by another key: %d %s", r.status, r.raw)
	}
	e.wantAudited("entries signed by another key", seq, "node.sync-refused")
	tampered := slices.Clone(good)
	tampered[1].Decision = node.Refused
	seq = e.auditHead()
	if r := upload(tampered); r.status != 400 {
		t.Fatalf("tampered entries: %d %s", r.status, r.raw)
	}
	e.wantAudited("tampered entries", seq, "node.sync-refused")
	seq = e.auditHead()
	if r := upload(good[1:]); r.status != 409 {
		t.Fatalf("entries not continuing the issuer's copy: %d %s", r.status, r.raw)
	}
	e.wantAudited("entries not continuing the issuer's copy", seq, "")
	e.must(400, upload([]any{}))
	if n := e.checkInCount(alfama); n != 0 {
		t.Fatalf("refused uploads stored %d check-ins", n)
	}
	r = e.must(200, upload(good))
	if r.body["stored"] != 3.0 || r.body["lastSeq"] != 3.0 {
		t.Fatalf("upload: %s", r.raw)
	}
	if r = e.must(200, upload(good[1:])); r.body["stored"] != 0.0 {
		t.Fatalf("upload again: %s", r.raw)
	}
	// With nothing new, lastSeq is still the issuer's head, not the upload's end.
	if r = e.must(200, upload(good[:1])); r.body["stored"] != 0.0 || r.body["lastSeq"] != 3.0 {
		t.Fatalf("upload of the first entry again: %s", r.raw)
	}
	if n := len(e.must(200, e.do("GET", "/admin/checkins", e.admin, nil)).body["checkIns"].([]any)); n != 3 {
		t.Fatalf("%d check-ins stored", n)
	}
}
