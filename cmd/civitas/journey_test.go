package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/schemas"
)

// TestMemberJourneyCLI is the README's member journey with the real binary: the issuer
// service runs; a member creates a wallet; an admin registers them and makes offers; the
// wallet receives each credential, presents it to a door's challenge, and the verifier
// CLI accepts it once and calls the second showing a replay.
func TestMemberJourneyCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Setenv("HOME", t.TempDir())
	env := []string{"CIVITAS_WALLET_PASSPHRASE=a long wallet passphrase"}
	dir := t.TempDir()
	port := freePort(t)
	srv := startServer(t, nil, filepath.Join(dir, "data"), port, "http://127.0.0.1:"+port)
	token := readToken(t, filepath.Join(dir, "data", "admin.token"))
	walletDir := filepath.Join(dir, "wallet")

	code, out := runCivitas(t, env, "wallet", "init", "--dir", walletDir)
	if code != 0 || !strings.HasPrefix(out, "did:key:z6Mk") {
		t.Fatalf("wallet init: %d %s", code, out)
	}
	member := strings.TrimSpace(out)
	if code, out := runCivitas(t, []string{"CIVITAS_WALLET_PASSPHRASE=wrong passphrase"}, "wallet", "list", "--dir", walletDir); code != 2 || !strings.Contains(out, "wrong passphrase") {
		t.Fatalf("wrong passphrase: %d %s", code, out)
	}
	ctx := context.Background()
	if status, _, raw, _ := call(ctx, http.DefaultClient, "POST", srv.base+"/admin/members", token, map[string]any{"id": member, "name": "Ada"}); status != 201 {
		t.Fatalf("register: %d %s", status, raw)
	}
	var subject map[string]any
	json.Unmarshal(schemas.ExampleSubject(schemas.Membership), &subject)
	subject["id"] = member
	issuerDID := "did:web:127.0.0.1%3A" + port
	for i, format := range []string{"dc+sd-jwt", "jwt_vc_json", "ldp_vc"} {
		status, offer, raw, _ := call(ctx, http.DefaultClient, "POST", srv.base+"/admin/offers", token, map[string]any{"type": schemas.Membership, "subject": subject, "format": format})
		if status != 201 {
			t.Fatalf("offer: %d %s", status, raw)
		}
		if code, out := runCivitas(t, env, "wallet", "receive", "--dir", walletDir, offer["offerUri"].(string)); code != 0 || !strings.Contains(out, "received MembershipCredential") {
			t.Fatalf("receive %s: %d %s", format, code, out)
		}
		if code, out := runCivitas(t, env, "wallet", "receive", "--dir", walletDir, offer["offerUri"].(string)); code == 0 || !strings.Contains(out, "invalid_grant") {
			t.Fatalf("second redemption %s: %d %s", format, code, out)
		}
		_, list := runCivitas(t, env, "wallet", "list", "--dir", walletDir)
		if strings.Count(list, "MembershipCredential") != i+1 {
			t.Fatalf("list after %d: %s", i+1, list)
		}
	}

	// Present each format in turn: the SD-JWT with only the role disclosed.
	_, list := runCivitas(t, env, "wallet", "list", "--dir", walletDir)
	for _, line := range strings.Split(strings.TrimSpace(list), "\n")[1:] {
		id := strings.Fields(line)[0]
		vp := filepath.Join(dir, "vp-"+strings.NewReplacer(":", "_", "/", "_", ";", "_").Replace(id))
		args := []string{"wallet", "present", "--dir", walletDir, "--id", id, "--challenge", "door-" + id, "--audience", "did:web:alfama-house.example", "--out", vp, "--qr", vp + ".png"}
		if strings.Contains(line, "dc+sd-jwt") {
			args = append(args, "--disclose", "role")
		}
		code, out := runCivitas(t, env, args...)
		if code != 0 {
			t.Fatalf("present %s: %d %s", id, code, out)
		}
		// A QR code when it fits; otherwise a clear message (a vp+jwt wrapping a Data
		// Integrity credential is larger than a QR code holds).
		if info, err := os.Stat(vp + ".png"); err != nil || info.Size() < 100 {
			if strings.Contains(line, "dc+sd-jwt") || !strings.Contains(out, "no QR code: the presentation is") {
				t.Fatalf("no QR code for %s: %s", id, out)
			}
		}
		verify := []string{"verify", "--dev-loopback", "--trust", issuerDID, "--challenge", "door-" + id, "--audience", "did:web:alfama-house.example", vp}
		code, out = runCivitas(t, nil, verify...)
		if code != 0 || !strings.Contains(out, "VERIFIED") {
			t.Fatalf("verify %s: %d\n%s", id, code, out)
		}
		if strings.Contains(line, "dc+sd-jwt") && (strings.Contains(out, "memberSince") || strings.Contains(out, "membershipLevel")) {
			t.Fatalf("undisclosed claims shown: %s", out)
		}
		if code, out := runCivitas(t, nil, verify...); code != 1 || !strings.Contains(out, "replayed") {
			t.Fatalf("replay of %s: %d\n%s", id, code, out)
		}
	}

	// A backup restores the wallet elsewhere.
	backup := filepath.Join(dir, "wallet.backup")
	if code, out := runCivitas(t, env, "wallet", "export", "--dir", walletDir, "--out", backup); code != 0 {
		t.Fatalf("export: %d %s", code, out)
	}
	restored := filepath.Join(dir, "restored")
	if code, out := runCivitas(t, env, "wallet", "import", "--dir", restored, backup); code != 0 || !strings.Contains(out, member) || !strings.Contains(out, "3 credentials") {
		t.Fatalf("import: %d %s", code, out)
	}
}
