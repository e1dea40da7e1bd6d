// Package atomicfile writes files so that a crash or an error never leaves them half
// written: the bytes go to a temporary file in the same folder, created with the
// requested permissions (never wider; the process umask still applies), which is written,
// synced with fsync(2) and then moved into place, after which the folder is synced so
// that the new name survives a crash. Civitas uses it for every local file that must not
// be torn: private keys, the wallet, the node ledger, keystore backups (DESIGN §6).
//
// Write replaces the target with rename(2), which POSIX makes atomic: a reader sees the
// old content or the new, never a mix. Create never replaces: it links the finished
// temporary file into place with link(2), which fails when the name exists, so of two
// racing creators exactly one wins and the other gets an error wrapping os.ErrExist.
//
// What it does not do: it does not lock (two Write calls race and the last rename wins),
// it does not follow or preserve symbolic links (the link itself is replaced or counts as
// existing), it does not keep the old file's mode or owner, and it does not make a series
// of writes to several files atomic together. On filesystems without hard links Create
// falls back to claiming the name with an O_EXCL placeholder and renaming over it, which
// keeps exactly one winner but may leave an empty file at the name after a crash.
// Windows is not a target: rename there does not replace open files and folders cannot
// be synced.
package atomicfile
