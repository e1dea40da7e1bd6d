// Package testvectors finds the published W3C test vectors that tests read in place, in
// the folder shared/vectors beside the repository (../shared/vectors from its root). The
// vectors are never copied into the repository.
//
// Where the folder is missing (a clone outside CI), tests that need it skip with a
// message; when the environment variable CI is set, they fail instead, because CI always
// has the folder and a skipped vector test there would hide a regression.
package testvectors

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the path of shared/vectors joined with sub, or stops the test.
func Dir(tb testing.TB, sub ...string) string {
	tb.Helper()
	dir, ok := Find(tb, sub...)
	if !ok {
		tb.Skipf("test vectors not found beside the repository (../shared/vectors)")
	}
	return dir
}

// Find is Dir for tests that can also run without the vectors: where the folder is
// missing it reports false instead of skipping (and still fails the test when CI is set).
func Find(tb testing.TB, sub ...string) (string, bool) {
	tb.Helper()
	root, err := repoRoot()
	if err == nil {
		dir := filepath.Join(append([]string{root, "..", "shared", "vectors"}, sub...)...)
		if _, err = os.Stat(dir); err == nil {
			return dir, true
		}
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("test vectors not found (CI is set, so this is an error): %v", err)
	}
	tb.Logf("test vectors not found beside the repository (../shared/vectors): %v", err)
	return "", false
}

// Read returns the contents of a vector file, or stops the test.
func Read(tb testing.TB, path ...string) []byte {
	tb.Helper()
	name := filepath.Join(Dir(tb), filepath.Join(path...))
	data, err := os.ReadFile(name)
	if err != nil {
		tb.Fatalf("read vector: %v", err)
	}
	return data
}

// repoRoot walks up from the working directory (a package folder, under go test) to
// the folder holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
