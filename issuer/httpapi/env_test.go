package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civitas-net/civitas/internal/keystore"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/issuer/httpapi"
	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/issuer/store/sqlite"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/wallet"
)

// clock is a settable clock shared by the service under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a running issuer service on an embedded store, served by httptest.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	svc   *issuer.Service
	st    store.Store
	kek   *keystore.Key
	clock *clock
	admin string
}

type envOption func(*issuer.Options)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "civitas.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	kek, err := keystore.DeriveKey([]byte("test keystore secret"), keystore.NewSalt(), keystore.MinParams)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	e := &env{t: t, srv: srv, st: st, kek: kek, clock: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	o := issuer.Options{
		Store: st, PublicURL: "http://" + srv.Listener.Addr().String(), KEK: kek, Clock: e.clock.now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), KeyReload: -1,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if e.svc, err = issuer.Open(ctx, o); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.svc.Close)
	srv.Config.Handler = httpapi.New(e.svc, httpapi.Options{Logger: o.Logger})
	srv.Start()
	t.Cleanup(srv.Close)
	secret, created, err := e.svc.InitAdminToken(ctx)
	if err != nil || !created {
		t.Fatalf("first admin token: %v %v", created, err)
	}
	e.admin = secret
	return e
}

// response is a decoded HTTP response.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// code returns the problem code of an error response.
func (r response) code() string { s, _ := r.body["code"].(string); return s }

// do sends a request with an optional bearer token and a body (a []byte is sent as is,
// anything else as JSON).
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	if token != "" {
		token = "Bearer " + token
	}
	return e.doAuth(method, path, token, body)
}

// doAuth is do with the Authorization header as given.
func (e *env) doAuth(method, path, authorization string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// must checks the status and returns the response.
func (e *env) must(want int, r response) response {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("status %d, want %d: %s", r.status, want, r.raw)
	}
	return r
}

// token creates an API token with role (and nodes) and returns its secret.
func (e *env) token(name, role string, nodes ...string) string {
	e.t.Helper()
	r := e.must(201, e.do("POST", "/admin/tokens", e.admin, map[string]any{"name": name, "role": role, "nodes": nodes}))
	return r.body["token"].(string)
}

// member creates a wallet holder and registers it as a member.
func (e *env) member(name string) *wallet.Holder {
	e.t.Helper()
	key, err := keys.Generate(keys.Ed25519)
	if err != nil {
		e.t.Fatal(err)
	}
	h, err := wallet.NewKeyHolder(key)
	if err != nil {
		e.t.Fatal(err)
	}
	e.must(201, e.do("POST", "/admin/members", e.admin, map[string]any{"id": h.DID, "name": name}))
	return h
}

// subject is the example subject of typ, naming holder.
func subject(t testing.TB, typ string, holder string) map[string]any {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal(schemas.ExampleSubject(typ), &s); err != nil {
		t.Fatal(err)
	}
	s["id"] = holder
	return s
}

// issueBody is a VC-API issue request for typ to holder.
func issueBody(t testing.TB, typ, holder, format string) map[string]any {
	body := map[string]any{"credential": map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2", schemas.ContextURL},
		"type":              []any{"VerifiableCredential", typ},
		"credentialSubject": subject(t, typ, holder),
	}}
	if typ == schemas.Contribution {
		body["credential"].(map[string]any)["type"] = []any{"VerifiableCredential", "AchievementCredential", typ}
	}
	if format != "" {
		body["options"] = map[string]any{"format": format}
	}
	return body
}

// auditHead returns the current audit head sequence number.
func (e *env) auditHead() int64 {
	e.t.Helper()
	seq, _, err := e.st.AuditHead(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return seq
}

// lastAudit returns the last audit entry.
func (e *env) lastAudit() store.AuditEntry {
	e.t.Helper()
	seq := e.auditHead()
	entries, err := e.st.AuditEntries(context.Background(), seq-1, 1)
	if err != nil || len(entries) != 1 {
		e.t.Fatalf("last audit entry: %v", err)
	}
	return entries[0]
}

// credentialCount counts stored credentials.
func (e *env) credentialCount() int {
	e.t.Helper()
	recs, err := e.st.Credentials(context.Background(), store.CredentialFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(recs)
}

func (e *env) mustJSON(v any) string {
	e.t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(raw)
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
