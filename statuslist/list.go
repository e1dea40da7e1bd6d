package statuslist

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync"
)

// Sentinel errors. Every error returned by this package wraps exactly one of them.
var (
	// ErrIndexOutOfRange reports an index that is negative or not inside the list, or a
	// statusListIndex too large to be any list's index.
	ErrIndexOutOfRange = errors.New("status list index out of range")
	// ErrTooShort reports a list shorter than the minimum in force (MinSize by default).
	ErrTooShort = errors.New("status list too short")
	// ErrTooLarge reports an encoded list or a decompressed list over its limit.
	ErrTooLarge = errors.New("status list too large")
	// ErrMalformed reports an encoding, entry or status list credential that does not
	// follow the specification (or uses a feature this package does not support).
	ErrMalformed = errors.New("malformed status list")
	// ErrPurposeMismatch reports a status list credential whose statusPurpose is not the
	// purpose the entry asked for.
	ErrPurposeMismatch = errors.New("status list purpose mismatch")
)

const (
	// MinSize is the smallest list the specification allows, in bits (16 KiB): below
	// it, a list reveals too much about the few credentials it covers.
	MinSize = 131072
	// MaxSize is the largest list New creates and, unless DecodeLimits raise it, the
	// largest Decode accepts, in bits (2 MiB of bitstring, 16,777,216 entries).
	MaxSize = 1 << 24
)

// List is a bitstring of status bits; bit i is the (i mod 8)-th most significant bit of
// byte i/8. The zero value is an empty list; use New or Decode.
type List struct {
	bits []byte
}

// New returns a list of size bits, all zero. size must be a multiple of 8 between
// MinSize and MaxSize.
func New(size int) (*List, error) {
	switch {
	case size < MinSize:
		return nil, fmt.Errorf("%w: %d bits, minimum %d", ErrTooShort, size, MinSize)
	case size > MaxSize:
		return nil, fmt.Errorf("%w: %d bits, maximum %d", ErrTooLarge, size, MaxSize)
	case size%8 != 0:
		return nil, fmt.Errorf("%w: size %d is not a multiple of 8", ErrMalformed, size)
	}
	return &List{bits: make([]byte, size/8)}, nil
}

// Len returns the number of bits in the list.
func (l *List) Len() int { return len(l.bits) * 8 }

// Get returns bit i.
func (l *List) Get(i int) (bool, error) {
	if i < 0 || i >= l.Len() {
		return false, fmt.Errorf("%w: %d not in [0, %d)", ErrIndexOutOfRange, i, l.Len())
	}
	return l.bits[i/8]&(0x80>>(i%8)) != 0, nil
}

// Set sets bit i to v.
func (l *List) Set(i int, v bool) error {
	if i < 0 || i >= l.Len() {
		return fmt.Errorf("%w: %d not in [0, %d)", ErrIndexOutOfRange, i, l.Len())
	}
	if v {
		l.bits[i/8] |= 0x80 >> (i % 8)
	} else {
		l.bits[i/8] &^= 0x80 >> (i % 8)
	}
	return nil
}

// Count returns the number of bits set (for example, how many credentials are revoked).
func (l *List) Count() int {
	n := 0
	for _, b := range l.bits {
		n += bits.OnesCount8(b)
	}
	return n
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return w
}}

// Encode returns the list as an encodedList value: "u" followed by base64url without
// padding of the GZIP of the bits. The GZIP header carries no name and a zero time, so
// equal lists encode to equal strings (with this Go version).
func (l *List) Encode() (string, error) {
	var buf bytes.Buffer
	buf.Grow(256)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(l.bits); err != nil {
		return "", fmt.Errorf("statuslist: compress: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("statuslist: compress: %w", err)
	}
	enc := base64.RawURLEncoding
	out := make([]byte, 1+enc.EncodedLen(buf.Len()))
	out[0] = 'u'
	enc.Encode(out[1:], buf.Bytes())
	return string(out), nil
}

// DecodeLimits bound the work Decode does on a list received from elsewhere. Zero fields
// take the defaults given with each field.
type DecodeLimits struct {
	// MinBits is the shortest accepted list, in bits (default MinSize). Lower it only to
	// read lists from issuers that do not follow the specification's minimum.
	MinBits int
	// MaxBits is the longest accepted list after decompression, in bits (default
	// MaxSize). Decompression stops as soon as it is passed.
	MaxBits int
	// MaxEncodedLen is the longest accepted encodedList string, in bytes (default: the
	// length of an incompressible list of MaxBits, so only MaxBits really limits).
	MaxEncodedLen int
}

func (lim DecodeLimits) withDefaults() DecodeLimits {
	if lim.MinBits <= 0 {
		lim.MinBits = MinSize
	}
	if lim.MinBits < 8 {
		lim.MinBits = 8
	}
	if lim.MaxBits <= 0 {
		lim.MaxBits = MaxSize
	}
	if lim.MaxEncodedLen <= 0 {
		// Stored DEFLATE blocks cost 5 bytes per 64 KiB; GZIP adds 18 bytes of framing.
		n := lim.MaxBits/8 + lim.MaxBits/8/65535*5 + 5 + 18 + 64
		lim.MaxEncodedLen = 1 + base64.RawURLEncoding.EncodedLen(n)
	}
	return lim
}

var gzipReaders sync.Pool // of *gzip.Reader

// Decode parses an encodedList value within lim.
func Decode(encoded string, lim DecodeLimits) (*List, error) {
	lim = lim.withDefaults()
	if len(encoded) > lim.MaxEncodedLen {
		return nil, fmt.Errorf("%w: encoded list of %d bytes, limit %d", ErrTooLarge, len(encoded), lim.MaxEncodedLen)
	}
	if len(encoded) == 0 || encoded[0] != 'u' {
		return nil, fmt.Errorf("%w: encodedList lacks the multibase base64url prefix 'u'", ErrMalformed)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(encoded[1:])
	if err != nil {
		return nil, fmt.Errorf("%w: encodedList is not unpadded base64url: %w", ErrMalformed, err)
	}
	br := bytes.NewReader(raw)
	var zr *gzip.Reader
	if pooled, ok := gzipReaders.Get().(*gzip.Reader); ok {
		zr = pooled
		err = zr.Reset(br)
	} else {
		zr, err = gzip.NewReader(br)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: gzip header: %w", ErrMalformed, err)
	}
	defer gzipReaders.Put(zr)
	// One GZIP member only; since br is an io.ByteReader, the reader stops right after
	// the member's trailer and anything left in br is trailing data.
	zr.Multistream(false)

	maxBytes := lim.MaxBits / 8
	// The trailer's ISIZE is only a hint (it is the sender's claim), so it is clamped.
	hint := 0
	if len(raw) >= 4 {
		hint = int(min(binary.LittleEndian.Uint32(raw[len(raw)-4:]), uint32(maxBytes)))
	}
	out, err := readAll(io.LimitReader(zr, int64(maxBytes)+1), make([]byte, 0, hint+1))
	if err != nil {
		return nil, fmt.Errorf("%w: gzip data: %w", ErrMalformed, err)
	}
	if len(out) > maxBytes {
		return nil, fmt.Errorf("%w: decompressed list exceeds %d bits", ErrTooLarge, lim.MaxBits)
	}
	if br.Len() != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the gzip data", ErrMalformed, br.Len())
	}
	if len(out)*8 < lim.MinBits {
		return nil, fmt.Errorf("%w: %d bits, minimum %d", ErrTooShort, len(out)*8, lim.MinBits)
	}
	return &List{bits: out}, nil
}

// readAll reads r to EOF into buf, growing it as needed.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
