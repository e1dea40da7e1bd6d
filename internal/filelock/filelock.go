// Package filelock takes exclusive advisory locks on files (flock(2)), so that two
// processes do not write the same local state (a wallet, a node ledger, a nonce file) at
// once. A lock lasts until its file is closed, and goes with the process.
//
// It is implemented for Unix systems; elsewhere Lock fails with errors.ErrUnsupported,
// so callers refuse to write rather than write unlocked.
package filelock

import "errors"

// ErrLocked reports a lock held by someone else (with Wait false).
var ErrLocked = errors.New("locked by another process")
