package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/civitas-net/civitas/schemas"
)

// TestDoorCLI is the README's "at the door" with the real binary: the issuer makes a
// node's bundle; the node sets up and enrolls; the issuer goes away; the door shows a
// challenge, the member's wallet answers, the door admits once and refuses the replay;
// the ledger reaches the issuer when it is back; the kiosk serves the same.
func TestDoorCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Setenv("HOME", t.TempDir())
	ctx := context.Background()
	dir := t.TempDir()
	data, port := filepath.Join(dir, "data"), freePort(t)
	srv := startServer(t, nil, data, port, "http://127.0.0.1:"+port)
	token := readToken(t, filepath.Join(data, "admin.token"))
	env := []string{"CIVITAS_WALLET_PASSPHRASE=a long wallet passphrase", "CIVITAS_TOKEN=" + token}

	// The member and their membership, as in the member's journey.
	wallet := filepath.Join(dir, "wallet")
	code, out := runCivitas(t, env, "wallet", "init", "--dir", wallet)
	if code != 0 {
		t.Fatalf("wallet init: %d %s", code, out)
	}
	member := strings.TrimSpace(out)
	if status, _, raw, _ := call(ctx, http.DefaultClient, "POST", srv.base+"/admin/members", token, map[string]any{"id": member, "name": "Ada"}); status != 201 {
		t.Fatalf("register: %d %s", status, raw)
	}
	var subject map[string]any
	json.Unmarshal(schemas.ExampleSubject(schemas.Membership), &subject)
	subject["id"] = member
	status, offer, raw, _ := call(ctx, http.DefaultClient, "POST", srv.base+"/admin/offers", token, map[string]any{"type": schemas.Membership, "subject": subject, "format": "dc+sd-jwt"})
	if status != 201 {
		t.Fatalf("offer: %d %s", status, raw)
	}
	if code, out := runCivitas(t, env, "wallet", "receive", "--dir", wallet, offer["offerUri"].(string)); code != 0 {
		t.Fatalf("receive: %d %s", code, out)
	}

	// The bundle, and the node set up from it.
	door, bundle, issuerDoc := filepath.Join(dir, "door"), filepath.Join(dir, "door.bundle"), filepath.Join(dir, "issuer.json")
	nodeID := "https://harbourcommons.example/nodes/alfama-house"
	if code, out := runCivitas(t, []string{"CIVITAS_TOKEN=wrong"}, "node", "bundle", "--server", srv.base, "--node", nodeID, "--out", bundle); code == 0 || !strings.Contains(out, "unauthorized") {
		t.Fatalf("bundle with a wrong token: %d %s", code, out)
	}
	if code, out := runCivitas(t, env, "node", "bundle", "--server", srv.base, "--node", nodeID, "--name", "Alfama House", "--out", bundle); code != 0 {
		t.Fatalf("bundle: %d %s", code, out)
	}
	if info, err := os.Stat(bundle); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("bundle file: %v %v", info, err)
	}
	_, _, docRaw, _ := call(ctx, http.DefaultClient, "GET", srv.base+"/.well-known/did.json", "", nil)
	os.WriteFile(issuerDoc, docRaw, 0o600)
	if code, out := runCivitas(t, env, "node", "challenge", "--dir", door); code != 2 || !strings.Contains(out, "civitas node init") {
		t.Fatalf("challenge before init: %d %s", code, out)
	}
	if code, out := runCivitas(t, env, "node", "init", "--dir", door, "--bundle", bundle, "--issuer-doc", issuerDoc); code != 0 || !strings.Contains(out, "enrolled with the issuer") {
		t.Fatalf("init: %d %s", code, out)
	}
	if code, out := runCivitas(t, env, "node", "init", "--dir", door, "--bundle", bundle, "--issuer-doc", issuerDoc); code != 2 || !strings.Contains(out, "already set up") {
		t.Fatalf("second init: %d %s", code, out)
	}

	// The issuer goes away: the door carries on.
	srv.cmd.Process.Kill()
	<-srv.done
	code, out = runCivitas(t, env, "node", "challenge", "--dir", door, "--qr", filepath.Join(dir, "challenge.png"))
	var challenge struct{ Nonce, Audience, Expires string }
	if code != 0 || json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &challenge) != nil || challenge.Nonce == "" || !strings.HasPrefix(challenge.Audience, "did:key:") {
		t.Fatalf("challenge: %d %s", code, out)
	}
	if png, err := os.ReadFile(filepath.Join(dir, "challenge.png")); err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Fatalf("challenge QR: %v", err)
	}
	vp := filepath.Join(dir, "door.vp")
	if code, out := runCivitas(t, env, "wallet", "present", "--dir", wallet, "--type", schemas.Membership, "--disclose", "role",
		"--challenge", challenge.Nonce, "--audience", challenge.Audience, "--out", vp); code != 0 {
		t.Fatalf("present: %d %s", code, out)
	}
	if code, out := runCivitas(t, env, "node", "checkin", "--dir", door, vp); code != 0 || !strings.Contains(out, "ADMITTED  MembershipCredential") {
		t.Fatalf("check-in: %d %s", code, out)
	}
	if code, out := runCivitas(t, env, "node", "checkin", "--dir", door, vp); code != 1 || !strings.Contains(out, "already used") || !strings.Contains(out, "(replayed)") {
		t.Fatalf("replayed check-in: %d %s", code, out)
	}
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte("hello door"), 0o600)
	code, out = runCivitas(t, env, "node", "checkin", "--dir", door, "--json", garbage)
	var d struct {
		Decision string
		Codes    []string
		Seq      int
	}
	if code != 1 || json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &d) != nil || d.Decision != "refused" || d.Codes[0] != "malformed" || d.Seq != 3 {
		t.Fatalf("garbage check-in: %d %s", code, out)
	}
	if code, out := runCivitas(t, env, "node", "ledger", "--dir", door); code != 0 || strings.Count(out, "\n") != 4 || !strings.Contains(out, "admitted") {
		t.Fatalf("ledger: %d %s", code, out)
	}
	if code, out := runCivitas(t, env, "node", "sync", "--dir", door); code == 0 || !strings.Contains(out, "refused") {
		t.Fatalf("sync with the issuer away: %d %s", code, out)
	}

	// The issuer is back: the ledger reaches it, once.
	srv = startServer(t, nil, data, port, "http://127.0.0.1:"+port)
	if code, out := runCivitas(t, env, "node", "sync", "--dir", door); code != 0 || !strings.Contains(out, "sent 3 entries, 3 new") {
		t.Fatalf("sync: %d %s", code, out)
	}
	if code, out := runCivitas(t, env, "node", "sync", "--dir", door); code != 0 || !strings.Contains(out, "sent 0 entries") {
		t.Fatalf("second sync: %d %s", code, out)
	}
	_, list, raw, _ := call(ctx, http.DefaultClient, "GET", srv.base+"/admin/checkins", token, nil)
	if n, _ := list["checkIns"].([]any); len(n) != 3 {
		t.Fatalf("check-ins at the issuer: %s", raw)
	}

	// The kiosk: the same door over HTTP, while the ledger stays readable.
	kport := freePort(t)
	kiosk := startCivitas(t, env, "node", "serve", "--dir", door, "--addr", "127.0.0.1:"+kport, "--sync-every", "0")
	base := "http://127.0.0.1:" + kport
	var c map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for c == nil && time.Now().Before(deadline) {
		if _, body, _, err := call(ctx, http.DefaultClient, "GET", base+"/api/challenge", "", nil); err == nil {
			c = body
		} else {
			time.Sleep(50 * time.Millisecond) // polling a starting process
		}
	}
	if c == nil {
		t.Fatalf("kiosk not up: %s %s", kiosk.stdout, kiosk.stderr)
	}
	if code, out := runCivitas(t, env, "node", "checkin", "--dir", door, vp); code != 2 || !strings.Contains(out, "in use by another process") {
		t.Fatalf("check-in beside the kiosk: %d %s", code, out)
	}
	if code, out := runCivitas(t, env, "node", "ledger", "--dir", door); code != 0 || !strings.Contains(out, "malformed") {
		t.Fatalf("ledger beside the kiosk: %d %s", code, out)
	}
	if code, out := runCivitas(t, env, "wallet", "present", "--dir", wallet, "--type", schemas.Membership,
		"--challenge", c["nonce"].(string), "--audience", c["audience"].(string), "--out", vp); code != 0 {
		t.Fatalf("present to the kiosk: %d %s", code, out)
	}
	presentation, _ := os.ReadFile(vp)
	resp, err := http.Post(base+"/api/checkin", "text/plain", strings.NewReader(string(presentation)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"decision":"admitted"`) {
		t.Fatalf("kiosk check-in: %d %s", resp.StatusCode, body)
	}
	kiosk.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-kiosk.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the kiosk did not stop on SIGTERM")
	}
	if code := kiosk.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("kiosk exit %d: %s", code, kiosk.stderr)
	}
}
