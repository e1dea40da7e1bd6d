package filelock

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	a, err := Lock(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(path, false); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	got := make(chan error, 1)
	go func() {
		b, err := Lock(path, true)
		if err == nil {
			b.Close()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("waiting lock returned while held: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	a.Close()
	if err := <-got; err != nil {
		t.Fatalf("waiting lock after release: %v", err)
	}
}
