package node

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/civitas-net/civitas/internal/atomicfile"
	"github.com/civitas-net/civitas/internal/filelock"
	"github.com/civitas-net/civitas/internal/jcs"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
)

// Sentinel errors about the service ledger.
var (
	// ErrLedgerCorrupt reports ledger entries that do not check: a line that does not
	// parse, a hash that does not recompute, a signature that does not verify, or a
	// chain with a gap, a repeat or a wrong previous hash.
	ErrLedgerCorrupt = errors.New("ledger corrupt")
	// ErrLocked reports a ledger another process (or another Ledger in this one) has
	// open for writing.
	ErrLocked = errors.New("ledger locked by another process")
	// ErrInvalidEntry reports an entry given to Append that breaks the entry bounds (an
	// unknown decision, an oversized field, too many codes, text that is not UTF-8).
	ErrInvalidEntry = errors.New("invalid ledger entry")
	// ErrLedgerFailed reports a ledger whose last write or sync failed: it refuses
	// further appends until it is closed and opened again, which repairs the file.
	ErrLedgerFailed = errors.New("ledger write failed; reopen it")
	// ErrLedgerClosed reports an append to a closed ledger.
	ErrLedgerClosed = errors.New("ledger closed")
)

// Bounds on one ledger entry, enforced by Append and by VerifyEntry.
const (
	// MaxLedgerField is the longest Type, SubjectRef, Challenge or code, in bytes.
	MaxLedgerField = 256
	// MaxLedgerCodes is the largest number of codes on one entry.
	MaxLedgerCodes = 32
	// MaxLedgerSeq is the largest sequence number: every seq is exact as a JSON number
	// (an IEEE-754 double, which RFC 8785 hashes).
	MaxLedgerSeq = 1<<53 - 1
)

// Domain separation: the hash input and the signed message start with these, so that
// neither can be taken for another Civitas signature or hash.
const (
	ledgerHashTag = "civitas-ledger-v1\x00"
	ledgerSigTag  = "civitas-ledger-v1 signature\x00"
	// ledgerTimeFormat is RFC 3339 in UTC with exactly six fractional digits.
	ledgerTimeFormat = "2006-01-02T15:04:05.000000Z"
	// ledgerMaxLine bounds one line of the ledger file (a valid entry is far smaller,
	// even with every string at its bound and fully escaped).
	ledgerMaxLine = 64 << 10
	// ledgerSigLen is the length of an encoded signature: 64 bytes (Ed25519, or P-256
	// r||s) in unpadded base64url.
	ledgerSigLen = 86
)

// LedgerEntry is one decision in a node's service ledger. On disk it is one line of
// JSON, exactly as encoding/json writes the struct.
type LedgerEntry struct {
	// Seq numbers entries from 1, without gaps.
	Seq int64 `json:"seq"`
	// At is when the decision was made, in UTC, truncated to microseconds.
	At time.Time `json:"at"`
	// Type is the credential type the decision was made on, if any.
	Type string `json:"type,omitempty"`
	// SubjectRef is a pseudonymous reference to the member (never a name or a DID in
	// clear).
	SubjectRef string `json:"subjectRef,omitempty"`
	// Decision is Admitted, Refused or AdmittedFlagged.
	Decision string `json:"decision"`
	// Codes are the machine codes behind the decision.
	Codes []string `json:"codes,omitempty"`
	// Challenge is the SHA-256 (hex) of the door's challenge the presentation answered,
	// if any: it lets a restarted door know which open challenges were already used,
	// and the ledger never holds a challenge itself.
	Challenge string `json:"challenge,omitempty"`
	// PrevHash is the Hash of the entry before (empty for the first entry).
	PrevHash string `json:"prevHash"`
	// Hash is ComputeHash of this entry, lower-case hex.
	Hash string `json:"hash"`
	// Signature is the node key's signature over Hash, unpadded base64url: Ed25519, or
	// ECDSA P-256 with SHA-256 in the IEEE P1363 form r||s.
	Signature string `json:"sig"`
}

// ComputeHash returns the entry's hash, in lower-case hex: SHA-256 over the domain tag
// "civitas-ledger-v1", a zero byte, and the RFC 8785 (JCS) form of the object {seq, at,
// type, subjectRef, decision, codes, challenge, prevHash}, with at written in RFC 3339 UTC with
// six fractional digits (finer digits are dropped), absent codes written as [] and
// absent strings as "".
// Hash and Signature are not part of the input. It returns "" for an entry JCS cannot
// represent (a string that is not valid UTF-8); such an entry never verifies.
func (e LedgerEntry) ComputeHash() string {
	codes := make([]any, len(e.Codes))
	for i, c := range e.Codes {
		codes[i] = c
	}
	canon, err := jcs.Marshal(map[string]any{
		"seq":        json.Number(strconv.FormatInt(e.Seq, 10)),
		"at":         e.At.UTC().Format(ledgerTimeFormat),
		"type":       e.Type,
		"subjectRef": e.SubjectRef,
		"decision":   e.Decision,
		"codes":      codes,
		"challenge":  e.Challenge,
		"prevHash":   e.PrevHash,
	})
	if err != nil {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(ledgerHashTag))
	h.Write(canon)
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyEntry checks one entry on its own: its fields are within bounds, Hash
// recomputes, and Signature verifies under pub (an ed25519.PublicKey or a P-256
// *ecdsa.PublicKey). The first entry (Seq 1) must have an empty PrevHash, every other
// a well-formed one. Failures wrap ErrLedgerCorrupt; a pub of another type wraps
// keys.ErrUnsupportedKey, a malformed P-256 key keys.ErrInvalidKey.
func VerifyEntry(e LedgerEntry, pub crypto.PublicKey) error {
	if err := ledgerCheckKey(pub); err != nil {
		return err
	}
	return ledgerVerify(e, pub)
}

// VerifyChain checks entries as the continuation of a chain whose last entry so far is
// (prevSeq, prevHash) — (0, "") for a chain from its start: every entry verifies
// (VerifyEntry), and each has the next Seq and the previous entry's Hash as its
// PrevHash. No entries is no error. Failures wrap ErrLedgerCorrupt (or, for pub, the
// errors of VerifyEntry). It is meant for
// entries from outside (an issuer receiving a node's upload) and never panics.
func VerifyChain(entries []LedgerEntry, pub crypto.PublicKey, prevSeq int64, prevHash string) error {
	if err := ledgerCheckKey(pub); err != nil {
		return err
	}
	switch {
	case prevSeq < 0 || prevSeq >= MaxLedgerSeq:
		return fmt.Errorf("%w: previous seq %d out of range", ErrLedgerCorrupt, prevSeq)
	case prevSeq == 0 && prevHash != "":
		return fmt.Errorf("%w: a chain from its start has no previous hash", ErrLedgerCorrupt)
	case prevSeq > 0 && !ledgerIsHash(prevHash):
		return fmt.Errorf("%w: malformed previous hash", ErrLedgerCorrupt)
	}
	for i := range entries {
		e := &entries[i]
		if e.Seq != prevSeq+1 {
			return fmt.Errorf("%w: entry %d has seq %d, want %d", ErrLedgerCorrupt, i, e.Seq, prevSeq+1)
		}
		if e.PrevHash != prevHash {
			return fmt.Errorf("%w: entry seq %d does not chain to the entry before", ErrLedgerCorrupt, e.Seq)
		}
		if err := ledgerVerify(*e, pub); err != nil {
			return err
		}
		prevSeq, prevHash = e.Seq, e.Hash
	}
	return nil
}

// ledgerVerify is VerifyEntry for a pub already checked by ledgerCheckKey.
func ledgerVerify(e LedgerEntry, pub crypto.PublicKey) error {
	if err := ledgerCheckFields(e); err != nil {
		return fmt.Errorf("%w: seq %d: %w", ErrLedgerCorrupt, e.Seq, err)
	}
	if e.Seq < 1 || e.Seq > MaxLedgerSeq {
		return fmt.Errorf("%w: seq %d out of range", ErrLedgerCorrupt, e.Seq)
	}
	if e.Seq == 1 && e.PrevHash != "" {
		return fmt.Errorf("%w: seq 1 has a previous hash", ErrLedgerCorrupt)
	}
	if e.Seq > 1 && !ledgerIsHash(e.PrevHash) {
		return fmt.Errorf("%w: seq %d: malformed previous hash", ErrLedgerCorrupt, e.Seq)
	}
	if !ledgerIsHash(e.Hash) {
		return fmt.Errorf("%w: seq %d: malformed hash", ErrLedgerCorrupt, e.Seq)
	}
	if e.Hash != e.ComputeHash() {
		return fmt.Errorf("%w: seq %d: hash does not match the entry", ErrLedgerCorrupt, e.Seq)
	}
	if len(e.Signature) != ledgerSigLen {
		return fmt.Errorf("%w: seq %d: malformed signature", ErrLedgerCorrupt, e.Seq)
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(e.Signature)
	if err != nil || len(sig) != 64 {
		return fmt.Errorf("%w: seq %d: malformed signature", ErrLedgerCorrupt, e.Seq)
	}
	sum, _ := hex.DecodeString(e.Hash) // checked by ledgerIsHash
	if !keys.VerifyRaw(pub, ledgerSignedMessage(sum), sig) {
		return fmt.Errorf("%w: seq %d: signature does not verify", ErrLedgerCorrupt, e.Seq)
	}
	return nil
}

// ledgerCheckFields checks the bounds Append enforces on what a caller supplies.
func ledgerCheckFields(e LedgerEntry) error {
	switch e.Decision {
	case Admitted, Refused, AdmittedFlagged:
	default:
		return fmt.Errorf("unknown decision %.32q", e.Decision)
	}
	if err := ledgerCheckString("type", e.Type); err != nil {
		return err
	}
	if err := ledgerCheckString("subjectRef", e.SubjectRef); err != nil {
		return err
	}
	if err := ledgerCheckString("challenge", e.Challenge); err != nil {
		return err
	}
	if len(e.Codes) > MaxLedgerCodes {
		return fmt.Errorf("%d codes, at most %d allowed", len(e.Codes), MaxLedgerCodes)
	}
	for _, c := range e.Codes {
		if c == "" {
			return errors.New("empty code")
		}
		if err := ledgerCheckString("code", c); err != nil {
			return err
		}
	}
	if e.At.IsZero() || e.At.Year() < 1 || e.At.Year() > 9999 {
		return errors.New("time out of range")
	}
	if e.At.Nanosecond()%1000 != 0 {
		return errors.New("time finer than a microsecond")
	}
	return nil
}

func ledgerCheckString(name, s string) error {
	if len(s) > MaxLedgerField {
		return fmt.Errorf("%s longer than %d bytes", name, MaxLedgerField)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", name)
	}
	return nil
}

// ledgerIsHash reports a hash in its only accepted form: 64 lower-case hex digits.
func ledgerIsHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ledgerCheckKey accepts the key types the node may have: Ed25519 and P-256.
func ledgerCheckKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) == ed25519.PublicKeySize {
			return nil
		}
	case *ecdsa.PublicKey:
		if k == nil || k.Curve != elliptic.P256() {
			break
		}
		// Missing coordinates make crypto/ecdsa panic; reading them is the only check.
		//lint:ignore SA1019 the coordinates are only tested for nil, never used.
		if k.X == nil || k.Y == nil {
			return fmt.Errorf("ledger: %w: p-256 key without coordinates", keys.ErrInvalidKey)
		}
		if _, err := k.Bytes(); err != nil {
			return fmt.Errorf("ledger: %w: p-256 key is not a point on the curve", keys.ErrInvalidKey)
		}
		return nil
	}
	return fmt.Errorf("ledger: %w: %T", keys.ErrUnsupportedKey, pub)
}

// ledgerSignedMessage is what the node key signs for an entry: a domain tag and the
// 32 raw bytes of its hash.
func ledgerSignedMessage(sum []byte) []byte {
	msg := make([]byte, 0, len(ledgerSigTag)+len(sum))
	msg = append(msg, ledgerSigTag...)
	return append(msg, sum...)
}

// ledgerSign signs msg (keys.SignRaw: Ed25519, or P-256 over its SHA-256, as r||s).
func ledgerSign(key crypto.Signer, msg []byte) ([]byte, error) {
	sig, err := keys.SignRaw(key, msg)
	if err != nil {
		return nil, fmt.Errorf("sign ledger entry: %w", err)
	}
	return sig, nil
}

// Ledger is a node's service ledger: an append-only file of JSON lines, one
// LedgerEntry each, hash-chained from seq 1 and signed by the node's key.
//
// A Ledger holds every entry in memory (a node's ledger is small: thousands of entries a
// month), so Head, Since and After never read the file. One process at a time may have
// a ledger open: OpenLedger takes an exclusive lock on path + ".lock" until Close.
//
// Durability: Append writes the new line with one write on a file opened with O_APPEND
// and syncs the file before it returns, so an entry returned is on disk. A power cut
// during an append can leave only a torn last line, of an entry never returned;
// OpenLedger cuts it off. A Ledger is safe for concurrent use.
type Ledger struct {
	mu        sync.Mutex
	f         *os.File // nil once closed
	lock      *os.File
	key       crypto.Signer
	pub       crypto.PublicKey
	entries   []LedgerEntry
	size      int64 // bytes of good lines in the file
	recovered int
	failed    error // set when a write or sync failed
}

// OpenLedger opens the ledger file at path, creating it (mode 0600) if it does not
// exist; its folder must exist. It takes the ledger's lock without waiting (ErrLocked
// when another holder has it), then reads and verifies every line: the hash chain from
// seq 1 and every signature under key's public key. A torn last line (no final newline,
// or not JSON at all) is the trace of an append cut short, which was never
// acknowledged: it is cut off, the file synced, and Recovered counts it. Any other bad
// line is ErrLedgerCorrupt, and the file is left as it is. key is an Ed25519 or a
// P-256 key.
func OpenLedger(path string, key crypto.Signer) (*Ledger, error) {
	if key == nil {
		return nil, fmt.Errorf("ledger: %w: no key", keys.ErrUnsupportedKey)
	}
	pub := key.Public()
	if err := ledgerCheckKey(pub); err != nil {
		return nil, err
	}
	lock, err := filelock.Lock(path+".lock", false)
	if errors.Is(err, filelock.ErrLocked) {
		return nil, fmt.Errorf("ledger %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	l, err := openLocked(path, key, pub)
	if err != nil {
		_ = lock.Close()
		return nil, err
	}
	l.lock = lock
	return l, nil
}

func openLocked(path string, key crypto.Signer, pub crypto.PublicKey) (*Ledger, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) {
		// A new, empty ledger: created and its name synced into the folder by atomicfile.
		if err := atomicfile.Create(path, nil, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("ledger: create: %w", err)
		}
		f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: open: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("ledger: read: %w", err)
	}
	entries, good, torn, err := ledgerScan(data, pub)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	if torn > 0 {
		if err := f.Truncate(int64(good)); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("ledger: cut torn last line: %w", err)
		}
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("ledger: sync after cutting torn last line: %w", err)
		}
	}
	return &Ledger{f: f, key: key, pub: pub, entries: entries, size: int64(good), recovered: torn}, nil
}

// ledgerScan parses and verifies the ledger file's bytes. It returns the entries, the
// length of the good prefix, and how many torn lines follow it (0 or 1). A torn line is
// the last one when it lacks its newline or is not well-formed JSON; any other failure
// is ErrLedgerCorrupt.
func ledgerScan(data []byte, pub crypto.PublicKey) ([]LedgerEntry, int, int, error) {
	var entries []LedgerEntry
	var prevSeq int64
	var prevHash string
	off := 0
	for off < len(data) {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			// No newline: the line's write never completed (the newline is its last byte).
			return entries, off, 1, nil
		}
		line := data[off : off+nl]
		last := off+nl+1 == len(data)
		e, err := ledgerParseLine(line)
		if err != nil {
			if last && errors.Is(err, errLedgerTorn) {
				return entries, off, 1, nil
			}
			return nil, 0, 0, fmt.Errorf("%w: line %d: %w", ErrLedgerCorrupt, len(entries)+1, err)
		}
		if e.Seq != prevSeq+1 || e.PrevHash != prevHash {
			return nil, 0, 0, fmt.Errorf("%w: line %d: seq %d does not continue the chain", ErrLedgerCorrupt, len(entries)+1, e.Seq)
		}
		if err := ledgerVerify(e, pub); err != nil {
			return nil, 0, 0, fmt.Errorf("line %d: %w", len(entries)+1, err)
		}
		entries = append(entries, e)
		prevSeq, prevHash = e.Seq, e.Hash
		off += nl + 1
	}
	return entries, off, 0, nil
}

// ledgerSyncFile is (*os.File).Sync; a seam for tests, never changed in production.
var ledgerSyncFile = (*os.File).Sync

// errLedgerTorn marks a line that is not well-formed JSON (as a line cut short, or
// never written and read back as zeros, is not).
var errLedgerTorn = errors.New("not well-formed json")

// ledgerParseLimits bound one line.
var ledgerParseLimits = jsonstrict.Limits{MaxBytes: ledgerMaxLine, MaxDepth: 4, MaxKeys: 64}

// ledgerParseLine decodes one line (without its newline). The line must be well-formed
// JSON (else errLedgerTorn), within ledgerParseLimits, and exactly what Append writes for the entry it decodes to:
// no unknown, duplicate or differently cased members, no nulls, no other spacing or
// order, the time in UTC.
func ledgerParseLine(line []byte) (LedgerEntry, error) {
	var e LedgerEntry
	if err := jsonstrict.Check(line, ledgerParseLimits); err != nil {
		if errors.Is(err, jsonstrict.ErrSyntax) {
			return e, fmt.Errorf("%w: %w", errLedgerTorn, err)
		}
		return e, err
	}
	if err := json.Unmarshal(line, &e); err != nil {
		return e, fmt.Errorf("decode: %w", err)
	}
	if e.At.Location() != time.UTC {
		return e, errors.New("time not in UTC")
	}
	again, err := json.Marshal(e)
	if err != nil || !bytes.Equal(again, line) {
		return e, errors.New("not in the form the ledger writes")
	}
	return e, nil
}

// Recovered reports how many torn last lines OpenLedger cut off (0 or 1).
func (l *Ledger) Recovered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.recovered
}

// Append adds e to the ledger and returns it as written. It sets Seq (the last plus
// one), At (truncated to microseconds, in UTC; time.Now() if zero), PrevHash, Hash and
// Signature, ignoring what e held there; Type, SubjectRef, Decision, Codes and
// Challenge come from
// e and must be within bounds (ErrInvalidEntry). The entry is written as one line and
// the file synced before Append returns: an entry returned is on disk. If the write or
// the sync fails, the ledger does not advance, and it refuses every further append
// (ErrLedgerFailed) until it is reopened.
func (l *Ledger) Append(e LedgerEntry) (LedgerEntry, error) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Codes = append([]string(nil), e.Codes...)
	if len(e.Codes) == 0 {
		e.Codes = nil
	}
	if err := ledgerCheckFields(e); err != nil {
		return LedgerEntry{}, fmt.Errorf("%w: %w", ErrInvalidEntry, err)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.f == nil:
		return LedgerEntry{}, ErrLedgerClosed
	case l.failed != nil:
		return LedgerEntry{}, fmt.Errorf("%w (earlier: %w)", ErrLedgerFailed, l.failed)
	}
	e.Seq, e.PrevHash = 1, ""
	if n := len(l.entries); n > 0 {
		e.Seq, e.PrevHash = l.entries[n-1].Seq+1, l.entries[n-1].Hash
	}
	if e.Seq > MaxLedgerSeq {
		return LedgerEntry{}, fmt.Errorf("%w: ledger full", ErrInvalidEntry)
	}
	e.Hash = e.ComputeHash()
	sum, err := hex.DecodeString(e.Hash)
	if err != nil || len(sum) != sha256.Size {
		return LedgerEntry{}, fmt.Errorf("%w: cannot hash entry", ErrInvalidEntry)
	}
	sig, err := ledgerSign(l.key, ledgerSignedMessage(sum))
	if err != nil {
		return LedgerEntry{}, fmt.Errorf("ledger: %w", err)
	}
	e.Signature = base64.RawURLEncoding.EncodeToString(sig)
	line, err := json.Marshal(e)
	if err != nil {
		return LedgerEntry{}, fmt.Errorf("ledger: encode entry: %w", err)
	}
	line = append(line, '\n')

	// One write on an O_APPEND file; we hold the lock, so nobody else appends.
	n, err := l.f.Write(line)
	if err == nil && n != len(line) {
		err = io.ErrShortWrite
	}
	if err == nil {
		err = ledgerSyncFile(l.f)
	}
	if err != nil {
		l.failed = err
		// Best effort: take a partial or unsynced line back off. Whatever stays is
		// repaired (or, if it is whole, kept) by the next OpenLedger.
		_ = l.f.Truncate(l.size)
		return LedgerEntry{}, fmt.Errorf("%w: %w", ErrLedgerFailed, err)
	}
	l.size += int64(len(line))
	l.entries = append(l.entries, e)
	return ledgerCopy(e), nil
}

// Head returns the last entry's Seq and Hash, or (0, "") for an empty ledger: the
// point a VerifyChain of later entries continues from.
func (l *Ledger) Head() (seq int64, hash string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.entries); n > 0 {
		return l.entries[n-1].Seq, l.entries[n-1].Hash
	}
	return 0, ""
}

// Since returns copies of the entries whose At is t or later, in ledger order.
func (l *Ledger) Since(t time.Time) []LedgerEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []LedgerEntry
	for _, e := range l.entries {
		if !e.At.Before(t) {
			out = append(out, ledgerCopy(e))
		}
	}
	return out
}

// After returns copies of the entries with Seq greater than seq, in order: what a sync
// sends when the issuer has seen up to seq.
func (l *Ledger) After(seq int64) []LedgerEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Entries are numbered 1..n, so entry seq+1 sits at index seq.
	start := max(seq, 0)
	if start >= int64(len(l.entries)) {
		return nil
	}
	out := make([]LedgerEntry, 0, int64(len(l.entries))-start)
	for _, e := range l.entries[start:] {
		out = append(out, ledgerCopy(e))
	}
	return out
}

// Close closes the ledger file and releases its lock. Closing a closed ledger does
// nothing.
func (l *Ledger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if lerr := l.lock.Close(); err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("ledger: close: %w", err)
	}
	return nil
}

// ledgerCopy returns e with its own Codes slice, so callers cannot change the ledger's.
func ledgerCopy(e LedgerEntry) LedgerEntry {
	e.Codes = append([]string(nil), e.Codes...)
	if len(e.Codes) == 0 {
		e.Codes = nil
	}
	return e
}
