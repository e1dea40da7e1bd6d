package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/issuer/store/postgres"
	"github.com/civitas-net/civitas/issuer/store/sqlite"
	"github.com/civitas-net/civitas/schemas"
)

// exampleMember is the DID in the example subjects.
const exampleMember = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"

// membershipRequest is a VC-API issue request for the example member.
func membershipRequest(t testing.TB) map[string]any {
	var subject map[string]any
	if err := json.Unmarshal(schemas.ExampleSubject(schemas.Membership), &subject); err != nil {
		t.Fatal(err)
	}
	return map[string]any{"credential": map[string]any{
		"type":              []any{"VerifiableCredential", schemas.Membership},
		"credentialSubject": subject,
	}}
}

// received is a credential a client got back from the server.
type received struct {
	id   string
	body string // the vc+jwt
}

// hammer issues credentials from workers goroutines against the given bases until ctx
// ends, and returns every credential a client received a 201 for. issued, when not nil,
// is called with the running count after each one.
func hammer(ctx context.Context, t *testing.T, bases []string, token string, workers int, issued func(int)) []received {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var mu sync.Mutex
	var got []received
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := bases[w%len(bases)]
			for ctx.Err() == nil {
				status, body, _, err := call(ctx, client, "POST", base+"/credentials/issue", token, membershipRequest(t))
				if err != nil || status != 201 {
					continue
				}
				vc := body["verifiableCredential"].(map[string]any)
				jwt := strings.TrimPrefix(vc["id"].(string), "data:application/vc+jwt,")
				tok, err := jose.Parse([]byte(jwt), jose.TypCredential)
				if err != nil {
					t.Errorf("bad credential: %v", err)
					return
				}
				c, _ := tok.Credential()
				mu.Lock()
				got = append(got, received{id: c.ID, body: jwt})
				n := len(got)
				mu.Unlock()
				if issued != nil {
					issued(n)
				}
			}
		}()
	}
	wg.Wait()
	return got
}

// checkSlots reports every status slot used by more than one credential.
func checkSlots(t *testing.T, st store.Store) int {
	t.Helper()
	seen := map[store.Slot]string{}
	n := 0
	after := ""
	for {
		recs, err := st.Credentials(context.Background(), store.CredentialFilter{After: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			n++
			for _, s := range r.Slots {
				if other, dup := seen[s]; dup {
					t.Errorf("status slot %+v given to %s and %s", s, other, r.ID)
				}
				seen[s] = r.ID
			}
			if len(r.Slots) != 2 {
				t.Errorf("credential %s has %d slots", r.ID, len(r.Slots))
			}
		}
		if len(recs) < 1000 {
			return n
		}
		after = recs[len(recs)-1].ID
	}
}

// TestCrashRecovery kills the real server with SIGKILL while clients issue credentials
// concurrently, restarts it, and checks that every credential a client received is in
// the store, the audit chain verifies and no status index was given twice.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	port := freePort(t)
	public := "http://127.0.0.1:" + port
	srv := startServer(t, nil, dir, port, public)
	token := readToken(t, filepath.Join(dir, "admin.token"))
	ctx := context.Background()
	if status, _, raw, err := call(ctx, http.DefaultClient, "POST", srv.base+"/admin/members", token, map[string]any{"id": exampleMember, "name": "Ada"}); err != nil || status != 201 {
		t.Fatalf("register member: %d %s %v", status, raw, err)
	}

	loadCtx, stop := context.WithCancel(ctx)
	var kills atomic.Int32
	enough := make(chan struct{})
	var once sync.Once
	go func() {
		// Kill the server once clients hold a few hundred credentials, with requests in
		// flight.
		select {
		case <-enough:
		case <-time.After(30 * time.Second):
		}
		srv.cmd.Process.Kill() // SIGKILL: no chance to flush anything
		kills.Add(1)
		<-srv.done
		stop()
	}()
	got := hammer(loadCtx, t, []string{srv.base}, token, 16, func(n int) {
		if n >= 300 {
			once.Do(func() { close(enough) })
		}
	})
	if kills.Load() != 1 {
		t.Fatal("the server was not killed")
	}
	if len(got) < 50 {
		t.Fatalf("only %d credentials issued before the kill", len(got))
	}
	t.Logf("%d credentials acknowledged before SIGKILL", len(got))

	srv2 := startServer(t, nil, dir, port, public)
	client := &http.Client{Timeout: 10 * time.Second}
	for _, r := range got {
		status, body, raw, err := call(ctx, client, "GET", srv2.base+"/admin/credentials/"+url.PathEscape(r.id), token, nil)
		if err != nil || status != 200 {
			t.Fatalf("acknowledged credential %s lost after the crash: %d %s %v", r.id, status, raw, err)
		}
		vc := body["verifiableCredential"].(map[string]any)
		if vc["id"] != "data:application/vc+jwt,"+r.body {
			t.Fatalf("stored credential %s differs from the one acknowledged", r.id)
		}
	}
	// Issuing still works after the restart.
	if status, _, raw, _ := call(ctx, client, "POST", srv2.base+"/credentials/issue", token, membershipRequest(t)); status != 201 {
		t.Fatalf("issue after restart: %d %s", status, raw)
	}
	srv2.cmd.Process.Signal(os.Interrupt)
	<-srv2.done

	if code, out := runCivitas(t, nil, "audit", "verify", "--data", dir); code != 0 || !strings.HasPrefix(out, "ok:") {
		t.Fatalf("audit verify after crash: %d %s", code, out)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "civitas.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n := checkSlots(t, st); n < len(got)+1 {
		t.Fatalf("store holds %d credentials, clients received %d", n, len(got)+1)
	}
}

// TestTwoProcessesOnePostgres runs two server processes on one PostgreSQL database
// issuing concurrently: no status index is given twice and the audit chain is intact.
func TestTwoProcessesOnePostgres(t *testing.T) {
	dsn := os.Getenv("CIVITAS_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CIVITAS_TEST_POSTGRES is not set in CI")
		}
		t.Skip("CIVITAS_TEST_POSTGRES is not set; skipping the PostgreSQL two-process test")
	}
	if testing.Short() {
		t.Skip("starts server processes")
	}
	ctx := context.Background()
	schema := freshSchema(t, dsn)
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db := u.String()
	env := []string{"CIVITAS_KEYSTORE_PASSPHRASE=two processes share this passphrase"}

	portA, portB := freePort(t), freePort(t)
	public := "http://127.0.0.1:" + portA // both replicas answer for one public URL
	dirA, dirB := t.TempDir(), t.TempDir()
	a := startServer(t, env, dirA, portA, public, "--db", db)
	b := startServer(t, env, dirB, portB, public, "--db", db)
	token := readToken(t, filepath.Join(dirA, "admin.token"))
	if _, err := os.Stat(filepath.Join(dirB, "admin.token")); err == nil {
		t.Fatal("the second replica made another first admin token")
	}
	if status, _, raw, err := call(ctx, http.DefaultClient, "POST", a.base+"/admin/members", token, map[string]any{"id": exampleMember, "name": "Ada"}); err != nil || status != 201 {
		t.Fatalf("register member: %d %s %v", status, raw, err)
	}
	loadCtx, stop := context.WithTimeout(ctx, 3*time.Second)
	defer stop()
	got := hammer(loadCtx, t, []string{a.base, b.base}, token, 16, nil)
	if len(got) < 100 {
		t.Fatalf("only %d credentials issued", len(got))
	}
	t.Logf("%d credentials issued through two processes", len(got))
	for _, p := range []*server{a, b} {
		p.cmd.Process.Signal(os.Interrupt)
		<-p.done
	}
	if code, out := runCivitas(t, env, "audit", "verify", "--db", db, "--data", dirA); code != 0 || !strings.HasPrefix(out, "ok:") {
		t.Fatalf("audit verify: %d %s", code, out)
	}
	st, err := postgres.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Requests cut off by the end of the load may still have been stored: the store
	// holds at least what clients received, and every one of those.
	if n := checkSlots(t, st); n < len(got) {
		t.Fatalf("store holds %d credentials, clients received %d", n, len(got))
	}
	for _, r := range got {
		if _, err := st.Credential(ctx, r.id); err != nil {
			t.Fatalf("received credential %s is not stored: %v", r.id, err)
		}
	}
}

// freshSchema creates a schema for one test and drops it afterwards.
func freshSchema(t *testing.T, dsn string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", (&url.URL{Host: "postgres"}).String(), err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	schema := "civitas_e2e_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE SCHEMA %s", schema)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), fmt.Sprintf("DROP SCHEMA %s CASCADE", schema))
	})
	return schema
}
