package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// withUmask runs the test under a known umask and restores the old one afterwards.
func withUmask(t *testing.T, mask int) {
	t.Helper()
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// entries lists the names in dir, sorted.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	slices.Sort(out)
	return out
}

// noTemp fails the test if dir holds a temporary file.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	for _, name := range entries(t, dir) {
		if strings.Contains(name, tempMarker) {
			t.Fatalf("temporary file %s left behind in %v", name, entries(t, dir))
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode()
}

func TestModes(t *testing.T) {
	tests := []struct {
		umask int
		perm  os.FileMode
		want  os.FileMode
	}{
		{0o022, 0o600, 0o600},
		{0o022, 0o640, 0o640},
		{0o022, 0o644, 0o644},
		{0o022, 0o400, 0o400},
		{0o022, 0o666, 0o644}, // the umask still applies
		{0o077, 0o644, 0o600}, // never wider than the umask allows
		{0o000, 0o000, 0o000},
	}
	for _, tc := range tests {
		for _, fn := range []struct {
			name  string
			write func(string, []byte, os.FileMode) error
		}{{"Write", Write}, {"Create", Create}} {
			t.Run(fmt.Sprintf("%s/umask%03o/perm%03o", fn.name, tc.umask, tc.perm), func(t *testing.T) {
				withUmask(t, tc.umask)
				dir := t.TempDir()
				path := filepath.Join(dir, "file")
				if err := fn.write(path, []byte("content"), tc.perm); err != nil {
					t.Fatal(err)
				}
				if got := mode(t, path); got != tc.want {
					t.Fatalf("mode %v, want %v", got, tc.want)
				}
				if got := entries(t, dir); !slices.Equal(got, []string{"file"}) {
					t.Fatalf("folder holds %v, want only the file", got)
				}
				if tc.perm&0o400 != 0 && !bytes.Equal(mustRead(t, path), []byte("content")) {
					t.Fatal("content differs")
				}
			})
		}
	}
}

func TestWriteReplaces(t *testing.T) {
	withUmask(t, 0o022)
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := os.WriteFile(path, []byte("old content, longer than the new one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); string(got) != "new" {
		t.Fatalf("content %q", got)
	}
	if got := mode(t, path); got != 0o600 {
		t.Fatalf("mode %v: the replacement has the requested mode, not the old one", got)
	}
	// Empty data is a valid file.
	if err := Write(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); len(got) != 0 {
		t.Fatalf("content %q, want empty", got)
	}
	// A symbolic link is replaced, not written through.
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("target"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, []byte("through?"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, target); string(got) != "target" {
		t.Fatalf("Write followed the symlink: target holds %q", got)
	}
	if mode(t, link)&os.ModeSymlink != 0 {
		t.Fatal("link was not replaced by a file")
	}
	noTemp(t, dir)
}

func TestCreateRefusesExisting(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := Create(file, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "folder"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"file", "folder", "dangling"} {
		t.Run(name, func(t *testing.T) {
			if err := Create(filepath.Join(dir, name), []byte("second"), 0o600); !errors.Is(err, os.ErrExist) {
				t.Fatalf("Create over %s: %v, want os.ErrExist", name, err)
			}
		})
	}
	if got := mustRead(t, file); string(got) != "first" {
		t.Fatalf("existing file changed to %q", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("Create wrote through a dangling symlink")
	}
	noTemp(t, dir)
}

func TestRejectsBadArguments(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		perm os.FileMode
	}{
		{"setuid bit", filepath.Join(dir, "f"), 0o600 | os.ModeSetuid},
		{"folder mode", filepath.Join(dir, "f"), 0o700 | os.ModeDir},
		{"empty path", "", 0o600},
		{"trailing separator", dir + "/f/", 0o600},
		{"dot", filepath.Join(dir, "."), 0o600},
		{"missing folder", filepath.Join(dir, "missing", "f"), 0o600},
	}
	for _, tc := range tests {
		for _, fn := range []func(string, []byte, os.FileMode) error{Write, Create} {
			if err := fn(tc.path, []byte("x"), tc.perm); err == nil {
				t.Errorf("%s: accepted", tc.name)
			}
		}
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Fatalf("folder holds %v after refused writes", got)
	}
}

// TestFailureCleansUp injects a failure at every stage and checks that no temporary file
// is left, that Write keeps the old content and that Create leaves no file.
func TestFailureCleansUp(t *testing.T) {
	injected := errors.New("injected failure")
	for _, stage := range []string{stageWrite, stageSync, stageClose, stagePlace, stageSyncDir} {
		t.Run(stage, func(t *testing.T) {
			testHook = func(s string) error {
				if s == stage {
					return injected
				}
				return nil
			}
			t.Cleanup(func() { testHook = nil })

			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			err := Write(path, []byte("new"), 0o600)
			if !errors.Is(err, injected) {
				t.Fatalf("Write: %v, want the injected failure", err)
			}
			want := "old"
			if stage == stageSyncDir {
				want = "new" // in place, but its durability is unknown: still an error
			}
			if got := mustRead(t, path); string(got) != want {
				t.Fatalf("after a failed Write the file holds %q, want %q", got, want)
			}
			noTemp(t, dir)

			fresh := filepath.Join(dir, "fresh")
			err = Create(fresh, []byte("new"), 0o600)
			if !errors.Is(err, injected) {
				t.Fatalf("Create: %v, want the injected failure", err)
			}
			_, statErr := os.Lstat(fresh)
			if exists := statErr == nil; exists != (stage == stageSyncDir) {
				t.Fatalf("after a failed Create at %s the file exists = %v", stage, exists)
			}
			noTemp(t, dir)
		})
	}
}

func TestUnwritableFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: folder permissions do not stop root; TestFailureCleansUp covers the failure paths")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	if err := Write(path, []byte("new"), 0o600); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Write into a read-only folder: %v, want fs.ErrPermission", err)
	}
	if err := Create(filepath.Join(dir, "g"), []byte("new"), 0o600); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Create into a read-only folder: %v, want fs.ErrPermission", err)
	}
	if got := mustRead(t, path); string(got) != "old" {
		t.Fatalf("file holds %q", got)
	}
	if got := entries(t, dir); !slices.Equal(got, []string{"f"}) {
		t.Fatalf("folder holds %v", got)
	}
}

// TestRenameFailureKeepsOld makes the real rename fail (the target is a non-empty folder)
// and checks that the temporary file is removed.
func TestRenameFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "occupied")
	if err := os.MkdirAll(filepath.Join(target, "inside"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Write(target, []byte("new"), 0o600); err == nil {
		t.Fatal("Write over a non-empty folder succeeded")
	}
	if st, err := os.Lstat(target); err != nil || !st.IsDir() {
		t.Fatal("the folder was replaced")
	}
	noTemp(t, dir)
}

func TestConcurrentCreateOneWinner(t *testing.T) {
	for _, fallback := range []bool{false, true} {
		t.Run(fmt.Sprintf("fallback=%v", fallback), func(t *testing.T) {
			if fallback {
				link = func(string, string) error { return &os.LinkError{Op: "link", Err: syscall.EPERM} }
				t.Cleanup(func() { link = os.Link })
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "claim")
			const n = 32
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					errs[i] = Create(path, fmt.Appendf(nil, "writer %d", i), 0o600)
				})
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Fatalf("writers %d and %d both won", winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, os.ErrExist):
					t.Fatalf("writer %d: %v, want os.ErrExist", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no writer won")
			}
			if got, want := string(mustRead(t, path)), fmt.Sprintf("writer %d", winner); got != want {
				t.Fatalf("file holds %q, want %q", got, want)
			}
			if got := entries(t, dir); !slices.Equal(got, []string{"claim"}) {
				t.Fatalf("folder holds %v", got)
			}
		})
	}
}

func TestCreateFallbackWithoutLinks(t *testing.T) {
	withUmask(t, 0o022)
	link = func(string, string) error { return &os.LinkError{Op: "link", Err: syscall.EPERM} }
	t.Cleanup(func() { link = os.Link })
	dir := t.TempDir()
	path := filepath.Join(dir, "k")
	if err := Create(path, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); string(got) != "secret" || mode(t, path) != 0o600 {
		t.Fatalf("content %q mode %v", got, mode(t, path))
	}
	if err := Create(path, []byte("other"), 0o600); !errors.Is(err, os.ErrExist) {
		t.Fatalf("second Create: %v, want os.ErrExist", err)
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	if err := Create(filepath.Join(dir, "dangling"), []byte("x"), 0o600); !errors.Is(err, os.ErrExist) {
		t.Fatalf("Create over a dangling symlink: %v, want os.ErrExist", err)
	}
	if got := entries(t, dir); !slices.Equal(got, []string{"dangling", "k"}) {
		t.Fatalf("folder holds %v", got)
	}
}

// TestReadersSeeWholeFiles replaces a file over and over while readers read it: every
// read must return one of the written versions in full.
func TestReadersSeeWholeFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	versions := [][]byte{bytes.Repeat([]byte("a"), 64<<10), bytes.Repeat([]byte("b"), 96<<10)}
	if err := Write(path, versions[0], 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []int
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				b, err := os.ReadFile(path)
				if err != nil || (!bytes.Equal(b, versions[0]) && !bytes.Equal(b, versions[1])) {
					mu.Lock()
					bad = append(bad, len(b))
					mu.Unlock()
				}
			}
		})
	}
	for i := range 200 {
		if err := Write(path, versions[i%2], 0o600); err != nil {
			t.Error(err)
			break
		}
	}
	close(done)
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d reads saw a torn or missing file (lengths %v)", len(bad), bad[:min(len(bad), 5)])
	}
	noTemp(t, dir)
}

func TestLongNames(t *testing.T) {
	dir := t.TempDir()
	name := strings.Repeat("n", 250) // the temporary name must still fit in 255 bytes
	if err := Write(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Create(filepath.Join(dir, name+"c"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	noTemp(t, dir)
}

func BenchmarkWrite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "f")
	data := bytes.Repeat([]byte("x"), 4096)
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := SyncDir(dir); err != nil {
		t.Fatalf("SyncDir of a folder: %v", err)
	}
	if err := SyncDir(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("SyncDir of a missing folder: %v, want fs.ErrNotExist", err)
	}
}
