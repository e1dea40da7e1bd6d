package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Stages at which testHook may inject a failure.
const (
	stageWrite   = "write"
	stageSync    = "sync"
	stageClose   = "close"
	stagePlace   = "place"
	stageSyncDir = "syncdir"
)

// Seams for tests; production code never changes them.
var (
	// link is os.Link; tests replace it to exercise the fallback of Create.
	link = os.Link
	// testHook, when set, is called before each stage and fails it with its error.
	testHook func(stage string) error
)

// tempMarker is part of every temporary file name, so leftovers are recognisable.
const tempMarker = ".tmp-"

// Write replaces the file at path with data, atomically: readers see the old content or
// the new one, and a crash leaves one of the two. The new file has mode perm (less the
// umask); perm may hold only permission bits. A symbolic link at path is replaced, not
// followed. When Write fails, the temporary file is removed and path is untouched,
// except when only the final sync of the folder fails: the new content is then in place
// but may not survive a crash.
func Write(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, false)
}

// Create writes data to a new file at path, atomically like Write, but refuses to replace
// anything already there (a file, a folder, a dangling symbolic link): the error then
// wraps os.ErrExist. Of several processes racing to create the same path, exactly one
// succeeds.
func Create(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, true)
}

func write(path string, data []byte, perm os.FileMode, exclusive bool) error {
	if perm&^os.ModePerm != 0 {
		return fmt.Errorf("atomicfile: mode %v holds more than permission bits", perm)
	}
	base := filepath.Base(path)
	if path == "" || base == "." || base == ".." || base == string(filepath.Separator) || os.IsPathSeparator(path[len(path)-1]) {
		return fmt.Errorf("atomicfile: %q does not name a file", path)
	}
	if exclusive {
		// Cheap early answer; link(2) below is what guarantees it.
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("atomicfile: %s: %w", path, fs.ErrExist)
		}
	}
	dir := filepath.Dir(path)
	tmpName, err := writeTemp(dir, base, data, perm)
	if err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	if exclusive {
		err = placeNew(tmpName, path, perm)
	} else {
		err = placeReplace(tmpName, path)
	}
	if err != nil {
		return err
	}
	if err := hook(stageSyncDir); err != nil {
		return fmt.Errorf("atomicfile: sync folder of %s: %w", path, err)
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("atomicfile: sync folder of %s: %w", path, err)
	}
	return nil
}

// writeTemp creates a new temporary file in dir with mode perm, writes data, syncs and
// closes it, and returns its name. On failure nothing is left behind.
func writeTemp(dir, base string, data []byte, perm os.FileMode) (_ string, err error) {
	f, tmpName, err := createTemp(dir, base, perm)
	if err != nil {
		return "", err
	}
	defer func() {
		if f != nil {
			_ = f.Close()
		}
		if err != nil {
			_ = os.Remove(tmpName)
		}
	}()
	if err := hook(stageWrite); err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		return "", err
	}
	if err := hook(stageSync); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := hook(stageClose); err != nil {
		return "", err
	}
	closeErr := f.Close()
	f = nil
	if closeErr != nil {
		return "", closeErr
	}
	return tmpName, nil
}

// createTemp makes a new file named .<base>.tmp-<random> in dir, opened for writing.
func createTemp(dir, base string, perm os.FileMode) (*os.File, string, error) {
	if len(base) > 64 {
		base = base[:64]
	}
	for range 16 {
		var r [8]byte
		_, _ = rand.Read(r[:]) // never fails; see crypto/rand.Read
		name := filepath.Join(dir, "."+base+tempMarker+hex.EncodeToString(r[:]))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, "", err
		}
	}
	return nil, "", errors.New("no free temporary file name")
}

// placeReplace renames the finished temporary file over path.
func placeReplace(tmpName, path string) error {
	err := hook(stagePlace)
	if err == nil {
		err = os.Rename(tmpName, path)
	}
	if err != nil {
		_ = os.Remove(tmpName)
		return fmt.Errorf("atomicfile: replace %s: %w", path, err)
	}
	return nil
}

// placeNew links the finished temporary file to path, failing if path exists, and
// removes the temporary name. Where hard links are not supported, it claims path with an
// O_EXCL placeholder and renames the temporary file over it.
func placeNew(tmpName, path string, perm os.FileMode) error {
	// The temporary name goes in every case: after a link it is a second name of the new
	// file, otherwise it is the unused file.
	defer os.Remove(tmpName)
	if err := hook(stagePlace); err != nil {
		return fmt.Errorf("atomicfile: create %s: %w", path, err)
	}
	err := link(tmpName, path)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("atomicfile: %s: %w", path, fs.ErrExist)
	}
	// No hard links here (or some other link error): fall back to a placeholder. O_EXCL
	// does not follow a symbolic link at path; it fails as existing.
	claim, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("atomicfile: %s: %w", path, fs.ErrExist)
	}
	if err != nil {
		return fmt.Errorf("atomicfile: create %s: %w", path, err)
	}
	mine, statErr := claim.Stat()
	_ = claim.Close()
	if err := os.Rename(tmpName, path); err != nil {
		// Give the name back, but only if it still holds our empty placeholder.
		if now, e := os.Lstat(path); statErr == nil && e == nil && os.SameFile(mine, now) {
			_ = os.Remove(path)
		}
		return fmt.Errorf("atomicfile: create %s: %w", path, err)
	}
	return nil
}

// SyncDir flushes a folder's entries (fsync of the folder), so that a rename, link or
// removal in it survives a crash. Filesystems that cannot sync folders (EINVAL) are
// tolerated. Write and Create call it; callers that remove or rename files themselves
// call it after.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

func hook(stage string) error {
	if testHook == nil {
		return nil
	}
	return testHook(stage)
}
