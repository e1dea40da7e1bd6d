package wallet

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/atomicfile"
	"github.com/civitas-net/civitas/internal/filelock"
	"github.com/civitas-net/civitas/internal/keystore"
	"github.com/civitas-net/civitas/keys"
)

// Sentinel errors of the store.
var (
	// ErrExists reports that Init or Import found a wallet already in the folder, that
	// Add was given a credential ID the wallet already holds, or that ExportFile found a
	// file at its path.
	ErrExists = errors.New("already exists")
	// ErrNotInitialized reports a folder that holds no wallet.
	ErrNotInitialized = errors.New("no wallet in this folder")
	// ErrPassphrase reports a wrong (or empty) passphrase. A damaged wallet header or
	// backup envelope cannot be told apart from a wrong passphrase and reports it too.
	ErrPassphrase = errors.New("wrong passphrase")
	// ErrCorrupt reports wallet or backup files that are damaged or were tampered with.
	ErrCorrupt = errors.New("wallet data is damaged or was tampered with")
	// ErrLocked reports a wallet that another process (or another Store in this one)
	// has open.
	ErrLocked = errors.New("wallet is in use by another process")
	// ErrNotFound reports a credential ID the wallet does not hold.
	ErrNotFound = errors.New("no such credential")
	// ErrInvalidEntry reports an Entry that Add refuses.
	ErrInvalidEntry = errors.New("invalid credential entry")
	// ErrInvalidOptions reports InitOptions that Init refuses.
	ErrInvalidOptions = errors.New("invalid wallet options")
	// ErrClosed reports a call on a closed Store.
	ErrClosed = errors.New("wallet is closed")
)

// DID methods of the holder identity.
const (
	MethodKey = "key" // did:key (the default)
	MethodJWK = "jwk" // did:jwk
)

// Credential formats an Entry may hold.
const (
	FormatVCJWT   = "vc+jwt"    // a compact JWS, VC-JOSE-COSE
	FormatLDPVC   = "ldp_vc"    // a JSON credential with a Data Integrity proof
	FormatSDJWTVC = "dc+sd-jwt" // a compact SD-JWT VC with its disclosures
)

// Names in the wallet folder.
const (
	headerFile   = "header"
	identityFile = "identity"
	indexFile    = "index"
	lockName     = "lock"
	credDir      = "credentials"
)

// File limits: what Open reads before it authenticates anything.
const (
	maxHeaderFile   = 1 << 10
	maxIdentityFile = 16 << 10
	maxIndexFile    = 256 << 20
)

// InitOptions choose the identity and the passphrase cost of a new wallet.
type InitOptions struct {
	// Method is MethodKey (the default when empty) or MethodJWK.
	Method string
	// Algorithm is the key type; empty means keys.Ed25519.
	Algorithm keys.Algorithm
	// Params are the Argon2id parameters that protect the master key; zero means
	// keystore.DefaultParams.
	Params keystore.Params
}

// Entry is a credential the wallet holds, with metadata the caller extracted from it:
// the store never parses credentials.
type Entry struct {
	// ID is the credential's id. Add derives it when empty: "ni:///sha-256;" and the
	// unpadded base64url SHA-256 of Raw (RFC 6920), so the same bytes get the same ID.
	ID string
	// Format is FormatVCJWT, FormatLDPVC or FormatSDJWTVC.
	Format string
	// Types are the credential's types; ByType finds entries by any of them.
	Types []string
	// Issuer is the issuer's identifier.
	Issuer string
	// IssuedAt and ValidUntil are the credential's validity window; either may be zero.
	// The store keeps times in UTC to the nanosecond.
	IssuedAt, ValidUntil time.Time
	// Raw is the credential as received. List and ByType leave it nil.
	Raw []byte
	// AddedAt is when the credential entered the wallet; Add sets it from the store's
	// clock when zero.
	AddedAt time.Time
}

// Store is a member's wallet in one folder, encrypted at rest. It is safe for concurrent
// use; a lock file keeps other processes out while it is open.
//
// Layout (folder 0700, files 0600):
//
//	lock               empty; flock(2) held while a Store is open
//	header             keystore envelope (Argon2id of the passphrase): a random 32-byte master key
//	identity           sealed: the DID method and the private JWK
//	index              sealed: the metadata, size and SHA-256 of every credential
//	credentials/       0700
//	  <32 hex digits>  sealed: one credential's raw bytes; the name is an HMAC of its ID
//
// Two keys are derived from the master key with HKDF-SHA256: an XChaCha20-Poly1305 key
// that seals every file but the header (additional data names the file's role, and a
// credential's also its ID, so files cannot be swapped), and an HMAC key that names the
// credential files, so no name reveals an ID or a type. The passphrase is used once per
// Open, to open the header.
//
// Every file is written atomically (package internal/atomicfile), in an order that leaves
// a wallet that opens after a crash between any two writes: Init and Import write the
// credentials, the index and the identity first and create the header last (no header,
// no wallet); Add writes a credential's file before the index that lists it (a crash in
// between leaves an unlisted file, which is ignored and replaced if the credential is
// added again); Delete writes the index without the entry before removing the file.
//
// What it does not do: it does not detect that a whole older copy of a file (the index,
// or a credential file with the same ID and bytes) was put back, it does not sweep
// files orphaned by a crash, and it does not change passphrases.
type Store struct {
	dir    string
	lock   *os.File
	keys   *keyring
	params keystore.Params
	method string
	key    crypto.Signer
	did    string

	mu     sync.RWMutex
	now    func() time.Time
	list   []*entryRecord // in the order added
	byID   map[string]*entryRecord
	byType map[string][]*entryRecord
	// indexSize is the length of the last index plaintext, to size the next one.
	indexSize int
	closed    bool
}

// Init creates a wallet in dir (made with mode 0700 if missing) with a new identity,
// protected by passphrase. It refuses with ErrExists if dir already holds a wallet. The
// returned Store holds the wallet's lock until Close.
func Init(dir string, passphrase []byte, o InitOptions) (*Store, error) {
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("wallet: empty passphrase: %w", ErrPassphrase)
	}
	if o.Method == "" {
		o.Method = MethodKey
	}
	if o.Method != MethodKey && o.Method != MethodJWK {
		return nil, fmt.Errorf("%w: unknown DID method %.16q (want %q or %q)", ErrInvalidOptions, o.Method, MethodKey, MethodJWK)
	}
	if o.Algorithm == "" {
		o.Algorithm = keys.Ed25519
	}
	if o.Params == (keystore.Params{}) {
		o.Params = keystore.DefaultParams
	}
	if err := o.Params.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	key, err := keys.Generate(o.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	return createWallet(dir, passphrase, o.Params, o.Method, key, nil, nil)
}

// Open opens the wallet in dir with passphrase and takes its lock. It reads the header,
// the identity and the index; credential files are read only by Get. A wrong passphrase
// is ErrPassphrase and changes nothing on disk; a folder without a wallet is
// ErrNotInitialized; damaged files are ErrCorrupt; a wallet open elsewhere is ErrLocked.
func Open(dir string, passphrase []byte) (*Store, error) {
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("wallet: empty passphrase: %w", ErrPassphrase)
	}
	if err := checkWallet(dir); err != nil {
		return nil, err
	}
	lock, err := lockWallet(filepath.Join(dir, lockName))
	if err != nil {
		return nil, err
	}
	s, err := openWallet(dir, passphrase, lock)
	if err != nil {
		_ = lock.Close()
		return nil, err
	}
	return s, nil
}

// checkWallet reports ErrNotInitialized when dir holds no wallet header.
func checkWallet(dir string) error {
	_, err := os.Lstat(filepath.Join(dir, headerFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("wallet: %s: %w", dir, ErrNotInitialized)
	case err != nil:
		return fmt.Errorf("wallet: %w", err)
	}
	return nil
}

// onlyWalletFiles refuses a folder that holds anything but what a wallet whose creation
// was interrupted can leave (its files and atomicfile's hidden temporary files), so that
// a wallet is never made in, and the mode of, a folder used for something else.
func onlyWalletFiles(dir string) error {
	names, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("wallet: %w", err)
	}
	for _, e := range names {
		switch n := e.Name(); {
		case n == lockName || n == identityFile || n == indexFile || n == credDir || strings.HasPrefix(n, "."):
		default:
			return fmt.Errorf("wallet: %s holds other files (%.32q); choose an empty or new folder", dir, n)
		}
	}
	return nil
}

// noWallet returns nil when dir holds no wallet header, ErrExists when it does.
func noWallet(dir string) error {
	err := checkWallet(dir)
	switch {
	case errors.Is(err, ErrNotInitialized):
		return nil
	case err == nil:
		return fmt.Errorf("wallet: %s: %w", dir, ErrExists)
	}
	return err
}

func openWallet(dir string, passphrase []byte, lock *os.File) (*Store, error) {
	env, err := readFileMax(filepath.Join(dir, headerFile), maxHeaderFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("wallet: %s: %w", dir, ErrNotInitialized)
	}
	if err != nil {
		return nil, fmt.Errorf("wallet: read header: %w", err)
	}
	plain, err := keystore.OpenWithPassphrase(passphrase, env, []byte(adHeader))
	switch {
	case errors.Is(err, keystore.ErrDecrypt):
		return nil, fmt.Errorf("wallet: %w (or a damaged wallet header)", ErrPassphrase)
	case err != nil:
		return nil, fmt.Errorf("wallet: header: %w: %w", ErrCorrupt, err)
	}
	defer clear(plain)
	master, err := decodeHeader(plain)
	if err != nil {
		return nil, fmt.Errorf("wallet: header: %w", ErrCorrupt)
	}
	kr, err := newKeyring(master)
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	return loadWallet(dir, kr, envelopeParams(env), lock)
}

// loadWallet reads the identity and the index of the wallet in dir with its keyring.
func loadWallet(dir string, kr *keyring, params keystore.Params, lock *os.File) (*Store, error) {
	s := &Store{dir: dir, lock: lock, keys: kr, params: params, now: time.Now}
	if err := s.loadIdentity(); err != nil {
		return nil, err
	}
	if err := s.loadIndex(); err != nil {
		return nil, err
	}
	return s, nil
}

// loadIdentity reads and opens the identity file.
func (s *Store) loadIdentity() error {
	sealed, err := readFileMax(filepath.Join(s.dir, identityFile), maxIdentityFile)
	if err != nil {
		return fmt.Errorf("wallet: identity: %w: %w", ErrCorrupt, err)
	}
	plain, err := s.keys.open(sealed, adIdentity)
	if err != nil {
		return fmt.Errorf("wallet: identity: %w", ErrCorrupt)
	}
	defer clear(plain)
	d := binDecoder{b: plain}
	method, jwk, err := decodeIdentity(&d)
	if err != nil || !d.done() {
		return fmt.Errorf("wallet: identity: %w", ErrCorrupt)
	}
	key, err := keys.ParsePrivateJWK(jwk)
	if err != nil {
		return fmt.Errorf("wallet: identity: %w: %w", ErrCorrupt, err)
	}
	return s.setIdentity(method, key)
}

// setIdentity records the holder key and computes its DID.
func (s *Store) setIdentity(method string, key crypto.Signer) error {
	var id string
	var err error
	if method == MethodJWK {
		id, err = did.JWKDID(key.Public())
	} else {
		id, err = did.KeyDID(key.Public())
	}
	if err != nil {
		return fmt.Errorf("wallet: identity: %w", err)
	}
	s.method, s.key, s.did = method, key, id
	return nil
}

// loadIndex reads, opens and decodes the index, and builds the in-memory maps.
func (s *Store) loadIndex() error {
	sealed, err := readFileMax(filepath.Join(s.dir, indexFile), maxIndexFile)
	if err != nil {
		return fmt.Errorf("wallet: index: %w: %w", ErrCorrupt, err)
	}
	plain, err := s.keys.open(sealed, adIndex)
	if err != nil {
		return fmt.Errorf("wallet: index: %w", ErrCorrupt)
	}
	recs, err := decodeIndex(plain)
	if err != nil {
		return fmt.Errorf("wallet: index: %w", ErrCorrupt)
	}
	s.indexSize = len(plain)
	s.list = recs
	s.byID = make(map[string]*entryRecord, len(recs))
	s.byType = make(map[string][]*entryRecord)
	for _, r := range recs {
		if _, dup := s.byID[r.ID]; dup {
			return fmt.Errorf("wallet: index: %w: an ID appears twice", ErrCorrupt)
		}
		s.indexRecord(r)
	}
	return nil
}

// indexRecord adds r to the lookup maps.
func (s *Store) indexRecord(r *entryRecord) {
	s.byID[r.ID] = r
	for _, t := range r.Types {
		s.byType[t] = append(s.byType[t], r)
	}
}

// createWallet makes a wallet in dir holding key and the given credentials (recs[i] with raw
// bytes raws[i]), protected by passphrase with p. Nothing is left behind on failure.
func createWallet(dir string, passphrase []byte, p keystore.Params, method string, key crypto.Signer, recs []*entryRecord, raws [][]byte) (_ *Store, err error) {
	jwk, err := keys.MarshalPrivateJWK(key)
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	defer clear(jwk)
	var master [masterKeySize]byte
	_, _ = rand.Read(master[:]) // never fails; see crypto/rand.Read
	defer clear(master[:])
	headerPlain := encodeHeader(master[:])
	defer clear(headerPlain)
	env, err := keystore.SealWithPassphrase(passphrase, headerPlain, []byte(adHeader), p)
	if err != nil {
		return nil, fmt.Errorf("wallet: seal header: %w", err)
	}
	kr, err := newKeyring(master[:])
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}

	// Everything that can fail without touching the disk is done; now the folder.
	madeDir := false
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("wallet: %w", err)
		}
		madeDir = true
	case err != nil:
		return nil, fmt.Errorf("wallet: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("wallet: %s is not a folder", dir)
	default:
		if err := noWallet(dir); err != nil {
			return nil, err
		}
		if err := onlyWalletFiles(dir); err != nil {
			return nil, err
		}
	}
	lock, err := lockWallet(filepath.Join(dir, lockName))
	if err != nil {
		if madeDir {
			_ = os.Remove(dir)
		}
		return nil, err
	}
	var written []string
	madeCredDir, committed := false, false
	defer func() {
		if err == nil {
			return
		}
		if committed {
			_ = lock.Close()
			return
		}
		for _, f := range written {
			_ = os.Remove(f)
		}
		if madeCredDir {
			_ = os.Remove(filepath.Join(dir, credDir))
		}
		if madeDir {
			_ = os.Remove(filepath.Join(dir, lockName))
			_ = os.Remove(dir)
		}
		_ = lock.Close()
	}()
	// The lock is ours: check again, another process may have won a race.
	if err := noWallet(dir); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	switch err := os.Mkdir(filepath.Join(dir, credDir), 0o700); {
	case err == nil:
		madeCredDir = true
	case !errors.Is(err, fs.ErrExist):
		return nil, fmt.Errorf("wallet: %w", err)
	}

	s := &Store{dir: dir, lock: lock, keys: kr, params: p, now: time.Now, byID: map[string]*entryRecord{}, byType: map[string][]*entryRecord{}}
	if err := s.setIdentity(method, key); err != nil {
		return nil, err
	}
	for i, r := range recs {
		path := s.credPath(r.ID)
		if err := atomicfile.Write(path, kr.sealData(raws[i], adCredential+r.ID), 0o600); err != nil {
			return nil, fmt.Errorf("wallet: write credential: %w", err)
		}
		written = append(written, path)
	}
	s.list = recs
	for _, r := range recs {
		s.indexRecord(r)
	}
	written = append(written, filepath.Join(dir, indexFile))
	if err := s.writeIndex(nil); err != nil {
		return nil, err
	}
	var e binEncoder
	encodeIdentity(&e, method, jwk)
	identityPath := filepath.Join(dir, identityFile)
	written = append(written, identityPath)
	err = atomicfile.Write(identityPath, kr.sealData(e.b, adIdentity), 0o600)
	clear(e.b)
	if err != nil {
		return nil, fmt.Errorf("wallet: write identity: %w", err)
	}
	// The header makes it a wallet; Create refuses to replace one.
	if err := atomicfile.Create(filepath.Join(dir, headerFile), env, 0o600); err != nil {
		// Only a failed folder sync leaves the header in place; the wallet is then
		// whole (if perhaps not durable yet) and must not be taken apart.
		committed = !errors.Is(err, fs.ErrExist) && checkWallet(dir) == nil
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("wallet: %s: %w", dir, ErrExists)
		}
		return nil, fmt.Errorf("wallet: write header: %w", err)
	}
	return s, nil
}

// writeIndex seals and writes the index of s.list without skip (nil for none).
func (s *Store) writeIndex(skip *entryRecord) error {
	plain := encodeIndex(s.list, skip, s.indexSize+4<<10)
	err := atomicfile.Write(filepath.Join(s.dir, indexFile), s.keys.sealData(plain, adIndex), 0o600)
	if err != nil {
		return fmt.Errorf("wallet: write index: %w", err)
	}
	s.indexSize = len(plain)
	return nil
}

// credPath returns the path of the file holding credential id.
func (s *Store) credPath(id string) string {
	return filepath.Join(s.dir, credDir, s.keys.fileName(id))
}

// SetClock sets the clock that stamps AddedAt; the default is time.Now.
func (s *Store) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// DID returns the holder's DID.
func (s *Store) DID() string { return s.did }

// Dir returns the wallet's folder.
func (s *Store) Dir() string { return s.dir }

// Holder returns the wallet's identity as a Holder that signs presentations.
func (s *Store) Holder() (*Holder, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.method == MethodKey {
		return NewKeyHolder(s.key)
	}
	return NewJWKHolder(s.key)
}

// Add stores a credential and returns its entry as stored (with ID and AddedAt set).
// A duplicate ID is ErrExists; a bad entry is ErrInvalidEntry.
func (s *Store) Add(e Entry) (Entry, error) {
	out, err := s.AddAll([]Entry{e})
	if err != nil {
		return Entry{}, err
	}
	return out[0], nil
}

// AddAll stores several credentials with one index write: all of them or, on error,
// none. Each is checked as by Add.
func (s *Store) AddAll(es []Entry) ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	recs := make([]*entryRecord, len(es))
	out := make([]Entry, len(es))
	batch := make(map[string]bool, len(es))
	for i, e := range es {
		r, err := s.prepare(e)
		if err != nil {
			return nil, fmt.Errorf("wallet: entry %d: %w", i+1, err)
		}
		if _, dup := s.byID[r.ID]; dup || batch[r.ID] {
			return nil, fmt.Errorf("wallet: entry %d: credential %.64q: %w", i+1, r.ID, ErrExists)
		}
		batch[r.ID] = true
		recs[i] = r
		out[i] = r.Entry
		out[i].Types = slices.Clone(r.Types)
		out[i].Raw = e.Raw
	}
	// The credential files first: until the index lists them they are ignored.
	var written []string
	for i, r := range recs {
		path := s.credPath(r.ID)
		if err := atomicfile.Write(path, s.keys.sealData(es[i].Raw, adCredential+r.ID), 0o600); err != nil {
			for _, f := range written {
				_ = os.Remove(f)
			}
			return nil, fmt.Errorf("wallet: write credential: %w", err)
		}
		written = append(written, path)
	}
	n := len(s.list)
	s.list = append(s.list, recs...)
	if err := s.writeIndex(nil); err != nil {
		// The files stay: should the index be in place after all (only the folder
		// sync failed), it must not list missing files. Unlisted, they are ignored.
		clear(s.list[n:])
		s.list = s.list[:n]
		return nil, err
	}
	for _, r := range recs {
		s.indexRecord(r)
	}
	return out, nil
}

// prepare checks e and returns its index record, with the ID derived when empty,
// AddedAt set when zero and every time in UTC.
func (s *Store) prepare(e Entry) (*entryRecord, error) {
	if len(e.Raw) == 0 || len(e.Raw) > MaxRawSize {
		return nil, fmt.Errorf("%w: raw credential empty or larger than %d bytes", ErrInvalidEntry, MaxRawSize)
	}
	r := &entryRecord{size: len(e.Raw), sum: sha256.Sum256(e.Raw)}
	r.Entry = Entry{
		ID:         e.ID,
		Format:     e.Format,
		Types:      slices.Clone(e.Types),
		Issuer:     e.Issuer,
		IssuedAt:   utcTime(e.IssuedAt),
		ValidUntil: utcTime(e.ValidUntil),
		AddedAt:    utcTime(e.AddedAt),
	}
	if r.ID == "" {
		r.ID = "ni:///sha-256;" + base64.RawURLEncoding.EncodeToString(r.sum[:])
	}
	if r.AddedAt.IsZero() {
		r.AddedAt = utcTime(s.now())
	}
	if err := validateMeta(&r.Entry); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidEntry, err)
	}
	return r, nil
}

// utcTime returns t in UTC without its monotonic reading; the zero time stays zero.
func utcTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).UTC()
}

// List returns the metadata of every credential (Raw nil), in the order added.
func (s *Store) List() []Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return entryCopies(s.list)
}

// ByType returns the metadata of the credentials that have type t (Raw nil), in the
// order added.
func (s *Store) ByType(t string) []Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return entryCopies(s.byType[t])
}

// entryCopies copies the metadata of recs. Each Entry has its own Types (all cut from
// one array, with capacities that keep appends apart).
func entryCopies(recs []*entryRecord) []Entry {
	out := make([]Entry, len(recs))
	n := 0
	for _, r := range recs {
		n += len(r.Types)
	}
	types := make([]string, 0, n)
	for i, r := range recs {
		out[i] = r.Entry
		if r.Types != nil {
			start := len(types)
			types = append(types, r.Types...)
			out[i].Types = types[start:len(types):len(types)]
		}
	}
	return out
}

// Get returns the credential id with its raw bytes; ErrNotFound when the wallet does
// not hold it, ErrCorrupt when its file is missing, damaged or belongs to another ID.
func (s *Store) Get(id string) (Entry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return Entry{}, ErrClosed
	}
	r, ok := s.byID[id]
	if !ok {
		return Entry{}, fmt.Errorf("wallet: credential %.64q: %w", id, ErrNotFound)
	}
	raw, err := s.load(r)
	if err != nil {
		return Entry{}, err
	}
	e := r.Entry
	e.Types = slices.Clone(r.Types)
	e.Raw = raw
	return e, nil
}

// load reads and opens the file of r and checks it against the index.
func (s *Store) load(r *entryRecord) ([]byte, error) {
	sealed, err := readFileMax(s.credPath(r.ID), int64(r.size+keystore.Overhead))
	if err != nil {
		return nil, fmt.Errorf("wallet: credential %.64q: %w: %w", r.ID, ErrCorrupt, err)
	}
	raw, err := s.keys.open(sealed, adCredential+r.ID)
	if err != nil || len(raw) != r.size || sha256.Sum256(raw) != r.sum {
		return nil, fmt.Errorf("wallet: credential %.64q: %w", r.ID, ErrCorrupt)
	}
	return raw, nil
}

// Delete removes the credential id: first from the index, then its file.
func (s *Store) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	r, ok := s.byID[id]
	if !ok {
		return fmt.Errorf("wallet: credential %.64q: %w", id, ErrNotFound)
	}
	if err := s.writeIndex(r); err != nil {
		return err
	}
	s.list = slices.DeleteFunc(s.list, func(x *entryRecord) bool { return x == r })
	delete(s.byID, id)
	for _, t := range r.Types {
		rs := slices.DeleteFunc(s.byType[t], func(x *entryRecord) bool { return x == r })
		if len(rs) == 0 {
			delete(s.byType, t)
		} else {
			s.byType[t] = rs
		}
	}
	if err := os.Remove(s.credPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("wallet: credential deleted from the index but its file remains: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Join(s.dir, credDir)); err != nil {
		return fmt.Errorf("wallet: credential deleted, but the folder did not sync: %w", err)
	}
	return nil
}

// Check reads and authenticates every credential file. It returns nil or the errors
// found, each wrapping ErrCorrupt.
func (s *Store) Check() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	var errs []error
	for _, r := range s.list {
		if _, err := s.load(r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close releases the wallet's lock and forgets its keys. Later calls fail with ErrClosed;
// closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.keys.wipe()
	s.key = nil
	s.list, s.byID, s.byType = nil, nil, nil
	if err := s.lock.Close(); err != nil {
		return fmt.Errorf("wallet: release lock: %w", err)
	}
	return nil
}

// readFileMax reads the file at path, refusing one longer than limit bytes.
func readFileMax(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > limit {
		return nil, fmt.Errorf("%s: not a regular file of at most %d bytes", filepath.Base(path), limit)
	}
	// Files are replaced by rename, never rewritten in place, so the size holds.
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	return b, nil
}

// lockWallet takes the wallet's lock without waiting: ErrLocked when another open
// (in this process or another) holds it.
func lockWallet(path string) (*os.File, error) {
	f, err := filelock.Lock(path, false)
	if errors.Is(err, filelock.ErrLocked) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	return f, nil
}
