package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// AuditEntry is one entry of the tamper-evident audit log. Callers fill At, Actor,
// Action, Target and Details; the store fills Seq, PrevHash and Hash when it appends.
type AuditEntry struct {
	// Seq numbers entries from 1 without gaps.
	Seq int64
	// At is when the event happened (stored with microsecond precision).
	At time.Time
	// Actor is who did it: a token ID, "system", or "anonymous" for failed logins.
	Actor string
	// Action names the event, such as "credential.issue" or "auth.denied".
	Action string
	// Target is what it happened to: a credential ID, a member DID, a token ID.
	Target string
	// Details is a small JSON object with the event's particulars. It never holds
	// secrets or credential bodies.
	Details []byte
	// PrevHash is the previous entry's Hash ("" for the first entry).
	PrevHash string
	// Hash is ComputeHash of this entry.
	Hash string
}

// ComputeHash returns the entry's hash: SHA-256, in hex, over a length-prefixed
// encoding of every field but Hash, including PrevHash, so that changing, inserting or
// removing an entry breaks the chain from that entry on.
func (e AuditEntry) ComputeHash() string {
	h := sha256.New()
	var buf [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(buf[:], uint64(len(b)))
		h.Write(buf[:])
		h.Write(b)
	}
	field([]byte("civitas-audit-v1"))
	binary.BigEndian.PutUint64(buf[:], uint64(e.Seq))
	field(buf[:])
	field([]byte(e.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)))
	field([]byte(e.Actor))
	field([]byte(e.Action))
	field([]byte(e.Target))
	field(e.Details)
	field([]byte(e.PrevHash))
	return hex.EncodeToString(h.Sum(nil))
}

// Chain links entries to the head (lastSeq, lastHash): it numbers them from lastSeq+1,
// sets their PrevHash and Hash, and returns the new head. Stores call it under their
// lock on the chain head.
func Chain(entries []AuditEntry, lastSeq int64, lastHash string) (int64, string) {
	for i := range entries {
		lastSeq++
		entries[i].Seq = lastSeq
		entries[i].At = entries[i].At.UTC().Truncate(time.Microsecond)
		if len(entries[i].Details) == 0 {
			entries[i].Details = []byte("{}")
		}
		entries[i].PrevHash = lastHash
		entries[i].Hash = entries[i].ComputeHash()
		lastHash = entries[i].Hash
	}
	return lastSeq, lastHash
}

// ErrChainBroken reports an audit log that does not verify.
var ErrChainBroken = errors.New("audit chain broken")

// ChainError names the first entry at which the audit chain breaks.
type ChainError struct {
	// Seq is the sequence number where the break was found: the first entry whose
	// content was changed, or the position where an entry is missing.
	Seq int64
	// Reason says what was found.
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("%v at entry %d: %s", ErrChainBroken, e.Seq, e.Reason)
}

// Unwrap returns ErrChainBroken.
func (e *ChainError) Unwrap() error { return ErrChainBroken }

// VerifyChain reads the whole audit log of s in pages and recomputes the chain. It
// returns the number of entries and the head hash, or a *ChainError naming the first
// entry that was changed or removed. The recorded head (AuditHead) must match the last
// entry, which catches removal of entries at the end.
func VerifyChain(ctx context.Context, s Store) (int64, string, error) {
	const page = MaxPage // a short page ends the log, so ask for no more than a store gives
	var seq int64
	var prev string
	for {
		entries, err := s.AuditEntries(ctx, seq, page)
		if err != nil {
			return seq, prev, err
		}
		for _, e := range entries {
			switch {
			case e.Seq != seq+1:
				return seq, prev, &ChainError{Seq: seq + 1, Reason: fmt.Sprintf("entry %d is missing (next is %d)", seq+1, e.Seq)}
			case e.PrevHash != prev:
				return seq, prev, &ChainError{Seq: e.Seq, Reason: "its previous-hash does not match the entry before it (an entry was removed or changed)"}
			case e.ComputeHash() != e.Hash:
				return seq, prev, &ChainError{Seq: e.Seq, Reason: "its content does not match its hash (the entry was changed)"}
			}
			seq, prev = e.Seq, e.Hash
		}
		if len(entries) < page {
			break
		}
	}
	headSeq, headHash, err := s.AuditHead(ctx)
	if err != nil {
		return seq, prev, err
	}
	if headSeq != seq || headHash != prev {
		return seq, prev, &ChainError{Seq: seq + 1, Reason: fmt.Sprintf("the recorded head is entry %d but the log ends at %d (entries were removed from the end)", headSeq, seq)}
	}
	return seq, prev, nil
}
