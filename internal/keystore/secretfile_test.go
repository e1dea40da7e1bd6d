package keystore

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	first, err := SecretFile(path)
	if err != nil || len(first) < 32 {
		t.Fatalf("create: %q %v", first, err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", info, err)
	}
	again, err := SecretFile(path)
	if err != nil || !bytes.Equal(first, again) {
		t.Fatal("the secret changed on the second read")
	}

	for name, c := range map[string]struct {
		content string
		mode    os.FileMode
		want    string
	}{
		"readable by others": {"a-long-enough-secret-value", 0o644, "readable by others"},
		"readable by group":  {"a-long-enough-secret-value", 0o640, "readable by others"},
		"too short":          {"xq7zz\n", 0o600, "too short"},
		"blank":              {"   \n", 0o600, "too short"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(p, []byte(c.content), c.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, c.mode)
		_, err := SecretFile(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(err.Error(), strings.TrimSpace(c.content)) && strings.TrimSpace(c.content) != "" {
			t.Fatalf("%s: the error shows the secret: %v", name, err)
		}
	}
	if _, err := SecretFile(filepath.Join(dir, "no-such-folder", "secret")); err == nil {
		t.Fatal("created a secret in a missing folder")
	}
}
