package verifier_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/verifier"
)

func TestFileNonceStore(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	path := filepath.Join(t.TempDir(), "v", "nonces")
	a, err := verifier.NewFileNonceStore(path, 2, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	b, _ := verifier.NewFileNonceStore(path, 2, func() time.Time { return now }) // another process
	if ok, err := a.Use(ctx, "n1", now.Add(time.Hour)); !ok || err != nil {
		t.Fatalf("first use: %v %v", ok, err)
	}
	if ok, err := b.Use(ctx, "n1", now.Add(time.Hour)); ok || err != nil {
		t.Fatalf("replay through another store: %v %v", ok, err)
	}
	if ok, _ := b.Use(ctx, "n2", now.Add(time.Minute)); !ok {
		t.Fatal("second nonce refused")
	}
	if _, err := a.Use(ctx, "n3", now.Add(time.Hour)); err == nil {
		t.Fatal("a full store accepted a nonce")
	}
	now = now.Add(2 * time.Minute) // n2 expired
	if ok, err := a.Use(ctx, "n3", now.Add(time.Hour)); !ok || err != nil {
		t.Fatalf("after expiry: %v %v", ok, err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "n1") {
		t.Fatal("the file holds nonces in clear")
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", info.Mode().Perm())
	}
	os.WriteFile(path, []byte("{"), 0o600)
	if _, err := a.Use(ctx, "n4", now.Add(time.Hour)); err == nil {
		t.Fatal("a damaged file was accepted")
	}
}
