package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
)

// TestBadInputRejected feeds the CLI outside bytes it must refuse before any work:
// oversized files and standard input, duplicate and case-variant JSON keys.
func TestBadInputRejected(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "issuer.jwk")
	if code, _, stderr := civitas(t, "", "keys", "new", "--out", keyFile); code != exitOK {
		t.Fatalf("keys new: %d %s", code, stderr)
	}
	oversized := strings.Repeat("a", maxInputFile+1)
	policy := `{"rules":[{"type":"MembershipCredential"}],"staleFallback":"refuse","maxStalenessSeconds":60,"challengeTTLSeconds":60`
	issue := []string{"issue", "--key", keyFile, "--type", "MembershipCredential", "--subject", "-"}
	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		stderr string
	}{
		{"oversized presentation on stdin", oversized, []string{"verify", "-"}, "larger than"},
		{"oversized presentation file", "", []string{"verify", writeTemp(t, oversized)}, "larger than"},
		{"oversized subject", oversized, issue, "larger than"},
		{"duplicate key in subject", `{"id":"did:example:x","role":"member","role":"steward"}`, issue, "duplicate json object key"},
		{"case-variant key in subject", `{"id":"did:example:x","role":"member","Role":"steward"}`, issue, "duplicate json object key"},
		{"duplicate key in node policy", "", []string{"serve", "--data", t.TempDir(), "--node-policy", writeTemp(t, policy+`,"staleFallback":"admit-and-flag"}`)}, "duplicate json object key"},
		{"oversized bundle", "", []string{"node", "init", "--dir", t.TempDir(), "--bundle", writeTemp(t, oversized)}, "larger than"},
		{"garbage bundle", "", []string{"node", "init", "--dir", t.TempDir(), "--bundle", writeTemp(t, "not.a.bundle")}, "not a bundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := civitas(t, tc.stdin, tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q: want %d and %q", code, stderr, exitUsage, tc.stderr)
			}
		})
	}
}

// signedBundle is a compact JWS whose payload is payload (its signature is not what
// issuerDocument checks: node.Init verifies it against the document found).
func signedBundle(t *testing.T, payload string) []byte {
	t.Helper()
	key, err := keys.Generate(keys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	kid, err := did.KeyURL(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.SignJWS([]byte(payload), "civitas-node-bundle+jwt", kid, key)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(jws)
}

// keyDocument returns a fresh did:key and its DID document as JSON.
func keyDocument(t *testing.T) (string, []byte) {
	t.Helper()
	key, err := keys.Generate(keys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	id, err := did.KeyDID(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := did.NewResolver().Resolve(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return id, raw
}

// TestIssuerDocument checks how "node init" finds the issuer's DID document: only the
// document of the DID that the bundle names, from --issuer-doc or resolved; a loopback
// did:web only with --dev-loopback.
func TestIssuerDocument(t *testing.T) {
	ctx := context.Background()
	issuer, issuerDoc := keyDocument(t)
	other, otherDoc := keyDocument(t)

	// A did:web issuer served on loopback, for the resolution cases.
	var webDID string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/did.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/did+json")
		w.Write([]byte(strings.ReplaceAll(string(issuerDoc), issuer, webDID)))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	webDID = "did:web:" + strings.Replace(u.Host, ":", "%3A", 1)

	for _, tc := range []struct {
		name     string
		bundle   []byte
		file     string
		loopback bool
		wantID   string // the document's ID on success
		wantErr  string // a part of the error otherwise
		wantIs   error  // and what it wraps, if anything in particular
		usage    bool   // the error is a usage error
	}{
		{name: "document given", bundle: signedBundle(t, `{"issuer":"`+issuer+`"}`), file: writeTemp(t, string(issuerDoc)), wantID: issuer},
		{name: "not a JWS", bundle: []byte("hello door"), file: writeTemp(t, string(issuerDoc)), wantErr: "not a bundle", usage: true},
		{name: "payload not JSON", bundle: signedBundle(t, `issuer`), file: writeTemp(t, string(issuerDoc)), wantErr: "not a bundle", usage: true},
		{name: "no issuer", bundle: signedBundle(t, `{"type":"CivitasNodeBundle"}`), file: writeTemp(t, string(issuerDoc)), wantErr: "not a bundle", usage: true},
		{name: "duplicate issuer", bundle: signedBundle(t, `{"issuer":"`+other+`","issuer":"`+issuer+`"}`), file: writeTemp(t, string(issuerDoc)), wantErr: "not a bundle", usage: true},
		{name: "case-variant issuer", bundle: signedBundle(t, `{"Issuer":"`+other+`","issuer":"`+issuer+`"}`), file: writeTemp(t, string(issuerDoc)), wantErr: "not a bundle", usage: true},
		{name: "another issuer's document", bundle: signedBundle(t, `{"issuer":"`+issuer+`"}`), file: writeTemp(t, string(otherDoc)), wantErr: "but the bundle is by " + issuer, usage: true},
		{name: "document with a duplicate key", bundle: signedBundle(t, `{"issuer":"`+issuer+`"}`), file: writeTemp(t, strings.Replace(string(issuerDoc), `"id":`, `"id":"`+other+`","id":`, 1)), wantErr: "--issuer-doc", wantIs: jsonstrict.ErrDuplicateKey, usage: true},
		{name: "document missing", bundle: signedBundle(t, `{"issuer":"`+issuer+`"}`), file: filepath.Join(t.TempDir(), "none.json"), wantErr: "none.json", usage: true},
		{name: "loopback did:web with --dev-loopback", bundle: signedBundle(t, `{"issuer":"`+webDID+`"}`), loopback: true, wantID: webDID},
		{name: "loopback did:web without --dev-loopback", bundle: signedBundle(t, `{"issuer":"`+webDID+`"}`), wantErr: "resolve the issuer " + webDID, wantIs: did.ErrUnsafeAddress},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := issuerDocument(ctx, tc.bundle, tc.file, tc.loopback)
			if tc.wantErr == "" {
				if err != nil || doc.ID != tc.wantID {
					t.Fatalf("got %v, %v: want the document of %s", doc, err, tc.wantID)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v: want one with %q", err, tc.wantErr)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Fatalf("err %v: want one wrapping %v", err, tc.wantIs)
			}
			var ee *exitError
			if isUsage := errors.As(err, &ee) && ee.code == exitUsage; isUsage != tc.usage {
				t.Fatalf("err %v: usage error %v, want %v", err, isUsage, tc.usage)
			}
		})
	}
}

// TestFetchBundle checks the HTTP side of "node bundle": an answer other than 200, a
// redirect and an oversized answer are errors; nothing is followed or truncated.
func TestFetchBundle(t *testing.T) {
	var redirected bool
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("bundle")) })
	mux.HandleFunc("/full", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(strings.Repeat("a", maxBundle))) })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(strings.Repeat("a", maxBundle+1))) })
	mux.HandleFunc("/denied", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"code":"unauthorized","detail":"no such token"}`))
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) })
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, _ *http.Request) { redirected = true; w.Write([]byte("bundle")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		path    string
		size    int    // the body's size on success
		wantErr string // a part of the error otherwise
	}{
		{path: "/ok", size: len("bundle")},
		{path: "/full", size: maxBundle},
		{path: "/huge", wantErr: fmt.Sprintf("larger than %d bytes", maxBundle)},
		{path: "/denied", wantErr: "401 unauthorized: no such token"},
		{path: "/moved", wantErr: "answered 302"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := fetch(req)
			if tc.wantErr == "" {
				if err != nil || len(raw) != tc.size {
					t.Fatalf("got %d bytes, %v: want %d bytes", len(raw), err, tc.size)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %d bytes, err %v: want an error with %q", len(raw), err, tc.wantErr)
			}
		})
	}
	if redirected {
		t.Fatal("fetch followed a redirect")
	}
}

// TestWalletFlagsBeforePassphrase checks that a wallet command refuses missing flags
// before it asks for the passphrase or opens the wallet.
func TestWalletFlagsBeforePassphrase(t *testing.T) {
	t.Setenv(walletPassphraseEnv, "")
	dir := filepath.Join(t.TempDir(), "no-wallet")
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"wallet", "present", "--dir", dir, "--audience", "did:web:door.example"}, "--challenge and --audience are required"},
		{[]string{"wallet", "present", "--dir", dir, "--challenge", "n-1"}, "--challenge and --audience are required"},
		{[]string{"wallet", "export", "--dir", dir}, "--out is required"},
		{[]string{"wallet", "list", "--dir", dir}, "set " + walletPassphraseEnv},
	} {
		code, _, stderr := civitas(t, "", tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%v: exit %d, stderr %q: want %d and %q", tc.args, code, stderr, exitUsage, tc.stderr)
		}
	}
}

// TestWalletCommands runs the wallet commands that need no issuer on an empty wallet,
// including their refusals of IDs it does not hold.
func TestWalletCommands(t *testing.T) {
	t.Setenv(walletPassphraseEnv, "a long wallet passphrase")
	dir := t.TempDir()
	w := filepath.Join(dir, "wallet")
	code, out, stderr := civitas(t, "", "wallet", "init", "--dir", w)
	if code != exitOK || !strings.HasPrefix(out, "did:key:") {
		t.Fatalf("init: %d %s %s", code, out, stderr)
	}
	member := strings.TrimSpace(out)
	backup := filepath.Join(dir, "backup")
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"wallet", "did", "--dir", w}, exitOK, member + "\n", ""},
		{[]string{"wallet", "list", "--dir", w}, exitOK, "ID  TYPE  FORMAT  ISSUER  VALID UNTIL\n", ""},
		{[]string{"wallet", "show", "--dir", w, "urn:uuid:nope"}, exitUsage, "", "no credential urn:uuid:nope in the wallet"},
		{[]string{"wallet", "delete", "--dir", w, "urn:uuid:nope"}, exitUsage, "", "no credential urn:uuid:nope in the wallet"},
		{[]string{"wallet", "present", "--dir", w, "--challenge", "n-1", "--audience", "did:web:door.example"}, exitUsage, "", "no such credential in the wallet"},
		{[]string{"wallet", "did", "--dir", filepath.Join(dir, "none")}, exitUsage, "", "no wallet in"},
		{[]string{"wallet", "export", "--dir", w, "--out", backup}, exitOK, "backup written to " + backup + " (0 credentials)\n", ""},
		{[]string{"wallet", "import", "--dir", filepath.Join(dir, "restored"), backup}, exitOK, "restored " + member + " with 0 credentials", ""},
	} {
		code, out, stderr := civitas(t, "", tc.args...)
		if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q: want %d, %q, %q", tc.args, code, out, stderr, tc.code, tc.stdout, tc.stderr)
		}
	}
}
