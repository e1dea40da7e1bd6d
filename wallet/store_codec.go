package wallet

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"
	"unicode/utf8"
)

// The wallet's plaintexts (header, identity, index, backup) use one small binary
// encoding: unsigned varints for counts and lengths, length-prefixed bytes for strings,
// and a flag byte followed by Unix seconds (signed varint) and nanoseconds (unsigned
// varint) for times. Every plaintext starts with a version byte and must be consumed
// exactly. The encoding is canonical (shortest varints, one form per time), so decoded
// bytes encode back to themselves. The decoders never trust a length: each is checked
// against the bytes that remain and against a per-field limit before anything is
// allocated.

// codecVersion is the version byte of every plaintext the store writes.
const codecVersion byte = 1

// Limits on entry metadata; Add refuses more, and a decoded index holding more is
// damaged.
const (
	maxIDLen     = 2048
	maxTypes     = 32
	maxTypeLen   = 512
	maxIssuerLen = 2048
	// MaxRawSize is the largest credential, in bytes, the store accepts.
	MaxRawSize = 1 << 20
)

// Times are kept within years 1 to 9999 (the Unix seconds of 0001-01-01 and of
// 9999-12-31T23:59:59Z); the zero time has its own flag.
const (
	minUnix = -62135596800
	maxUnix = 253402300799
)

// minEntrySize is the smallest encoding of an index entry: seven one-byte fields (ID
// length, format length, type count, issuer length, three time flags), the size and the
// digest. It bounds the entry count a binDecoder believes.
const minEntrySize = 7 + 1 + sha256.Size

// errDecode reports plaintext bytes that do not decode; callers map it to ErrCorrupt.
var errDecode = errors.New("malformed plaintext")

// entryRecord is an index entry: the metadata of a credential (Raw always nil), the size and
// SHA-256 digest of its raw bytes.
type entryRecord struct {
	Entry
	size int
	sum  [sha256.Size]byte
}

// binEncoder appends to a byte slice.
type binEncoder struct{ b []byte }

func (e *binEncoder) byte1(v byte)     { e.b = append(e.b, v) }
func (e *binEncoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *binEncoder) bytes(p []byte)   { e.uvarint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *binEncoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *binEncoder) fixed(p []byte)   { e.b = append(e.b, p...) }
func (e *binEncoder) time(t time.Time) {
	if t.IsZero() {
		e.byte1(0)
		return
	}
	e.byte1(1)
	e.b = binary.AppendVarint(e.b, t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
}

// record appends the index encoding of r: ID, format, types, issuer, the three times,
// the raw size and the digest.
func (e *binEncoder) record(r *entryRecord) {
	e.str(r.ID)
	e.str(r.Format)
	e.uvarint(uint64(len(r.Types)))
	for _, t := range r.Types {
		e.str(t)
	}
	e.str(r.Issuer)
	e.time(r.IssuedAt)
	e.time(r.ValidUntil)
	e.time(r.AddedAt)
	e.uvarint(uint64(r.size))
	e.fixed(r.sum[:])
}

// binDecoder reads from a byte slice; after the first failure every read returns a zero
// value and ok reports false.
type binDecoder struct {
	b   []byte
	bad bool
}

func (d *binDecoder) fail() { d.bad = true; d.b = nil }

func (d *binDecoder) byte1() byte {
	if d.bad || len(d.b) == 0 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *binDecoder) uvarint() uint64 {
	if d.bad {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || (n > 1 && d.b[n-1] == 0) { // malformed, or not the shortest form
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *binDecoder) varint() int64 {
	if d.bad {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 || (n > 1 && d.b[n-1] == 0) {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes returns the next length-prefixed field, at most limit bytes long. The result
// aliases the input.
func (d *binDecoder) bytes(limit int) []byte {
	n := d.uvarint()
	if d.bad || n > uint64(limit) || n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *binDecoder) str(limit int) string { return string(d.bytes(limit)) }

func (d *binDecoder) fixed(n int) []byte {
	if d.bad || len(d.b) < n {
		d.fail()
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

// count reads an element count and refuses one that the remaining bytes cannot hold at
// minSize bytes per element, so a hostile count never drives an allocation.
func (d *binDecoder) count(minSize int) int {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)/minSize) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *binDecoder) time() time.Time {
	switch d.byte1() {
	case 0:
		return time.Time{}
	case 1:
		sec := d.varint()
		nsec := d.uvarint()
		if d.bad || nsec >= uint64(time.Second) || sec < minUnix || sec > maxUnix || (sec == minUnix && nsec == 0) {
			d.fail()
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec)).UTC()
	default:
		d.fail()
		return time.Time{}
	}
}

// format reads a format name, returning the package constant so that 10,000 entries
// share three strings.
func (d *binDecoder) format() string {
	b := d.bytes(16)
	switch string(b) {
	case FormatVCJWT:
		return FormatVCJWT
	case FormatLDPVC:
		return FormatLDPVC
	case FormatSDJWTVC:
		return FormatSDJWTVC
	}
	d.fail()
	return ""
}

// record reads an entry in the encoding of binEncoder.record into r and checks it as
// Add would. in, when not nil, shares repeated strings and the types' storage.
func (d *binDecoder) record(r *entryRecord, in *interner) error {
	r.ID = d.str(maxIDLen)
	r.Format = d.format()
	if n := d.count(1); n > 0 && !d.bad {
		if n > maxTypes {
			return errDecode
		}
		r.Types = in.strings(n)
		for i := range r.Types {
			r.Types[i] = in.str(d.bytes(maxTypeLen))
		}
	}
	r.Issuer = in.str(d.bytes(maxIssuerLen))
	r.IssuedAt = d.time()
	r.ValidUntil = d.time()
	r.AddedAt = d.time()
	size := d.uvarint()
	copy(r.sum[:], d.fixed(sha256.Size))
	if d.bad || size == 0 || size > MaxRawSize {
		return errDecode
	}
	r.size = int(size)
	if err := validateMeta(&r.Entry); err != nil {
		return errDecode
	}
	return nil
}

// interner shares what repeats across the entries of an index (types, issuers) and
// hands out the entries' Types from one backing array, so that decoding 10,000 entries
// makes a few large allocations rather than tens of thousands of small ones. A nil
// interner allocates each value.
type interner struct {
	strs map[string]string
	slab []string
}

// maxInterned bounds the interner's map.
const maxInterned = 4096

func newInterner() *interner { return &interner{strs: make(map[string]string)} }

func (in *interner) str(b []byte) string {
	if in == nil {
		return string(b)
	}
	if s, ok := in.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.strs) < maxInterned {
		in.strs[s] = s
	}
	return s
}

// strings returns a slice of n strings whose capacity is n, so an append never writes
// into a neighbour's types.
func (in *interner) strings(n int) []string {
	if in == nil {
		return make([]string, n)
	}
	if cap(in.slab)-len(in.slab) < n {
		in.slab = make([]string, 0, max(1024, n))
	}
	start := len(in.slab)
	in.slab = in.slab[:start+n]
	return in.slab[start : start+n : start+n]
}

// done reports whether every byte was read and nothing failed.
func (d *binDecoder) done() bool { return !d.bad && len(d.b) == 0 }

// encodeIndex returns the index plaintext of recs, leaving out skip (nil for none).
func encodeIndex(recs []*entryRecord, skip *entryRecord, sizeHint int) []byte {
	e := binEncoder{b: make([]byte, 0, sizeHint)}
	e.byte1(codecVersion)
	n := len(recs)
	if skip != nil {
		n--
	}
	e.uvarint(uint64(n))
	for _, r := range recs {
		if r != skip {
			e.record(r)
		}
	}
	return e.b
}

// decodeIndex parses an index plaintext. It does not check that IDs are unique.
func decodeIndex(p []byte) ([]*entryRecord, error) {
	d := binDecoder{b: p}
	if d.byte1() != codecVersion {
		return nil, errDecode
	}
	n := d.count(minEntrySize)
	store := make([]entryRecord, n)
	recs := make([]*entryRecord, n)
	in := newInterner()
	for i := range store {
		if err := d.record(&store[i], in); err != nil {
			return nil, err
		}
		recs[i] = &store[i]
	}
	if !d.done() {
		return nil, errDecode
	}
	return recs, nil
}

// maxJWKSize bounds the private JWK in an identity or backup.
const maxJWKSize = 8 << 10

// encodeIdentity returns the identity plaintext: the DID method and the private JWK.
func encodeIdentity(e *binEncoder, method string, jwk []byte) {
	e.byte1(codecVersion)
	e.str(method)
	e.bytes(jwk)
}

// decodeIdentity reads what encodeIdentity wrote; the JWK aliases d's input.
func decodeIdentity(d *binDecoder) (method string, jwk []byte, err error) {
	if d.byte1() != codecVersion {
		return "", nil, errDecode
	}
	method = d.str(8)
	jwk = d.bytes(maxJWKSize)
	if d.bad || (method != MethodKey && method != MethodJWK) {
		return "", nil, errDecode
	}
	return method, jwk, nil
}

// backupData is a decoded backup plaintext.
type backupData struct {
	method string
	jwk    []byte
	recs   []*entryRecord
	raws   [][]byte
}

// encodeBackupHead starts a backup plaintext: the identity, then the entry count. Each
// entry follows as its index encoding and its raw bytes.
func encodeBackupHead(e *binEncoder, method string, jwk []byte, n int) {
	encodeIdentity(e, method, jwk)
	e.uvarint(uint64(n))
}

// decodeBackup parses a backup plaintext and checks every credential against its size
// and digest. Raw slices alias p.
func decodeBackup(p []byte) (*backupData, error) {
	d := binDecoder{b: p}
	method, jwk, err := decodeIdentity(&d)
	if err != nil {
		return nil, err
	}
	n := d.count(minEntrySize + 2)
	b := &backupData{method: method, jwk: jwk, recs: make([]*entryRecord, 0, n), raws: make([][]byte, 0, n)}
	seen := make(map[string]struct{}, n)
	for range n {
		r := &entryRecord{}
		if err := d.record(r, nil); err != nil {
			return nil, err
		}
		raw := d.bytes(MaxRawSize)
		if d.bad || len(raw) != r.size || sha256.Sum256(raw) != r.sum {
			return nil, errDecode
		}
		if _, dup := seen[r.ID]; dup {
			return nil, errDecode
		}
		seen[r.ID] = struct{}{}
		b.recs = append(b.recs, r)
		b.raws = append(b.raws, raw)
	}
	if !d.done() {
		return nil, errDecode
	}
	return b, nil
}

// validateMeta checks the metadata of an entry (not Raw): an ID, a known format, at most
// maxTypes distinct non-empty types, bounded lengths, and valid UTF-8 without control
// characters in every string.
func validateMeta(e *Entry) error {
	switch {
	case e.ID == "":
		return errors.New("empty id")
	case len(e.ID) > maxIDLen:
		return errors.New("id too long")
	case !cleanString(e.ID):
		return errors.New("id is not valid UTF-8 or holds control characters")
	}
	switch e.Format {
	case FormatVCJWT, FormatLDPVC, FormatSDJWTVC:
	default:
		return errors.New("unknown format")
	}
	if len(e.Types) > maxTypes {
		return errors.New("too many types")
	}
	for i, t := range e.Types {
		if t == "" || len(t) > maxTypeLen || !cleanString(t) {
			return errors.New("empty, too long or malformed type")
		}
		for _, u := range e.Types[:i] {
			if u == t {
				return errors.New("duplicate type")
			}
		}
	}
	if len(e.Issuer) > maxIssuerLen || !cleanString(e.Issuer) {
		return errors.New("issuer too long or malformed")
	}
	for _, t := range []time.Time{e.IssuedAt, e.ValidUntil, e.AddedAt} {
		if !t.IsZero() && (t.Unix() < minUnix || t.Unix() > maxUnix) {
			return errors.New("time outside the years 1 to 9999")
		}
	}
	return nil
}

// cleanString reports whether s is valid UTF-8 without C0 or C1 control characters.
func cleanString(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return false
		}
	}
	return true
}
