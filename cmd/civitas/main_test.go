package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// civitas runs the CLI in-process and returns its exit status and output.
func civitas(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestQuickstart follows the README's quickstart: a key, a credential in two formats,
// verification with and without trust, and a tampered copy.
func TestQuickstart(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "issuer.jwk")
	subject := filepath.Join("..", "..", "schemas", "examples", "MembershipCredential.subject.json")

	code, out, stderr := civitas(t, "", "keys", "new", "--alg", "Ed25519", "--out", keyFile)
	if code != exitOK {
		t.Fatalf("keys new: %d %s", code, stderr)
	}
	issuerDID := strings.TrimSpace(out)
	if !strings.HasPrefix(issuerDID, "did:key:z6Mk") {
		t.Fatalf("keys new printed %q", out)
	}
	if info, err := os.Stat(keyFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", info, err)
	}
	if code, _, _ := civitas(t, "", "keys", "new", "--out", keyFile); code != exitUsage && code != 2 {
		t.Fatalf("keys new over an existing file: %d", code)
	}

	for _, format := range []string{"jwt", "di-eddsa-rdfc", "di-eddsa-jcs"} {
		t.Run(format, func(t *testing.T) {
			code, cred, stderr := civitas(t, "", "issue", "--key", keyFile, "--type", "MembershipCredential", "--subject", subject, "--format", format)
			if code != exitOK {
				t.Fatalf("issue: %d %s", code, stderr)
			}
			file := filepath.Join(dir, format+".cred")
			if err := os.WriteFile(file, []byte(cred), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, _ := civitas(t, "", "verify", "--trust", issuerDID, file)
			if code != exitOK || !strings.Contains(out, "VERIFIED") || strings.Contains(out, "NOT VERIFIED") {
				t.Fatalf("verify trusted: %d\n%s", code, out)
			}
			code, out, _ = civitas(t, "", "verify", file)
			if code != exitRejected || !strings.Contains(out, "issuer_untrusted") {
				t.Fatalf("verify untrusted: %d\n%s", code, out)
			}
			code, out, _ = civitas(t, cred, "verify", "--json", "--trust", issuerDID, "-")
			var res struct {
				Verified bool `json:"verified"`
			}
			if code != exitOK || json.Unmarshal([]byte(out), &res) != nil || !res.Verified {
				t.Fatalf("verify --json from stdin: %d\n%s", code, out)
			}

			tampered := tamper(t, format, cred)
			code, out, _ = civitas(t, tampered, "verify", "--trust", issuerDID, "-")
			if code != exitRejected || !(strings.Contains(out, "signature_invalid") || strings.Contains(out, "malformed")) {
				t.Fatalf("verify tampered: %d\n%s", code, out)
			}
		})
	}
}

// tamper changes one character: in a JWT, one in the middle of the signature; in a
// JSON credential, the member's role.
func tamper(t *testing.T, format, cred string) string {
	t.Helper()
	cred = strings.TrimSpace(cred)
	if format == "jwt" {
		i := strings.LastIndexByte(cred, '.') + 10
		c := byte('A')
		if cred[i] == 'A' {
			c = 'B'
		}
		return cred[:i] + string(c) + cred[i+1:]
	}
	if !strings.Contains(cred, `"member"`) {
		t.Fatalf("no role to tamper with in %s", cred)
	}
	return strings.Replace(cred, `"member"`, `"steward"`, 1)
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"issue"},
		{"issue", "--key", "nope.jwk", "--type", "MembershipCredential", "--subject", "x.json"},
		{"issue", "--format", "pdf", "--key", "k", "--type", "t", "--subject", "s"},
		{"keys", "new", "--alg", "RSA", "--out", filepath.Join(t.TempDir(), "k")},
		{"verify"},
		{"verify", "/does/not/exist"},
		{"verify", "--no-such-flag", "x"},
		{"serve", "--data", t.TempDir(), "--checkin-window", "0s"},
		{"serve", "--data", t.TempDir(), "--node-policy", "/does/not/exist"},
		{"serve", "--data", t.TempDir(), "--node-policy", writeTemp(t, `{"rules":[],"staleFallback":"refuse","maxStalenessSeconds":60,"challengeTTLSeconds":60}`)},
		{"serve", "--data", t.TempDir(), "--node-policy", writeTemp(t, `{"rules":[{"type":"MembershipCredential"}],"staleFallback":"admit","maxStalenessSeconds":60,"challengeTTLSeconds":60}`)},
		{"serve", "--data", t.TempDir(), "--node-policy", writeTemp(t, `{"rules":[{"type":"MembershipCredential"}],"staleFallback":"refuse","maxStalenessSeconds":60,"challengeTTLSeconds":60,"admitEveryone":true}`)},
		{"node", "checkin", "--dir", t.TempDir(), "/does/not/exist"},
		{"node", "challenge", "--dir", t.TempDir()},
		{"node", "bundle", "--server", "http://127.0.0.1:1"},
		{"node", "init", "--dir", t.TempDir()},
	} {
		if code, _, _ := civitas(t, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	if code, out, _ := civitas(t, "not a credential", "verify", "-"); code != exitRejected || !strings.Contains(out, "malformed") {
		t.Errorf("garbage: exit %d %s", code, out)
	}
}

// writeTemp writes content to a new file and returns its path.
func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIssueRefusesBadSubject(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "k.jwk")
	if code, _, _ := civitas(t, "", "keys", "new", "--out", keyFile); code != exitOK {
		t.Fatal("keys new failed")
	}
	code, _, stderr := civitas(t, `{"id":"did:example:x","role":"member"}`, "issue", "--key", keyFile, "--type", "MembershipCredential", "--subject", "-")
	if code != exitUsage || !strings.Contains(stderr, "credentialSubject") {
		t.Fatalf("exit %d, stderr %q: want a schema error naming the field", code, stderr)
	}
}

func TestDIDResolve(t *testing.T) {
	const d = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	code, out, stderr := civitas(t, "", "did", "resolve", d)
	if code != exitOK || !strings.Contains(out, `"Multikey"`) || !strings.Contains(out, `"assertionMethod"`) {
		t.Fatalf("did resolve: %d %s %s", code, out, stderr)
	}
	if code, _, _ := civitas(t, "", "did", "resolve", "did:nope"); code != exitUsage {
		t.Fatalf("bad DID: exit %d", code)
	}
}

func TestDemo(t *testing.T) {
	code, out, stderr := civitas(t, "", "demo")
	if code != exitOK {
		t.Fatalf("demo: %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"NOT VERIFIED: signature_invalid", "NOT VERIFIED: replayed", "NOT VERIFIED: audience_mismatch", "VERIFIED"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}
