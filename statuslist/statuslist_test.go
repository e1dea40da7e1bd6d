package statuslist

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/internal/testvectors"
)

func readJSON(t testing.TB, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// gz compresses raw as one GZIP member and returns the encodedList form.
func gz(t testing.TB, raw []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

func setBits(l *List) []int {
	var out []int
	for i := range l.Len() {
		if v, _ := l.Get(i); v {
			out = append(out, i)
		}
	}
	return out
}

func TestSpecExample2AllZero(t *testing.T) {
	cred := readJSON(t, filepath.Join(testvectors.Dir(t, "bitstring-status-list"), "ex2-BitstringStatusListCredential-unsigned.json"))
	l, err := ListFromCredential(cred, PurposeRevocation, DecodeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 131072 {
		t.Fatalf("Len = %d, want 131072", l.Len())
	}
	if got := setBits(l); len(got) != 0 {
		t.Fatalf("set bits %v, want none", got)
	}
	if l.Count() != 0 {
		t.Fatalf("Count = %d", l.Count())
	}
	// The same credential read for the other purpose is refused.
	if _, err := ListFromCredential(cred, PurposeSuspension, DecodeLimits{}); !errors.Is(err, ErrPurposeMismatch) {
		t.Fatalf("suspension read of a revocation list: %v, want ErrPurposeMismatch", err)
	}
}

func TestGeneratedBit94567(t *testing.T) {
	v := readJSON(t, filepath.Join(testvectors.Dir(t, "bitstring-status-list"), "GENERATED-bit-94567-set.json"))
	l, err := Decode(v["encodedList"].(string), DecodeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != int(v["bitLengthBits"].(float64)) {
		t.Fatalf("Len = %d", l.Len())
	}
	want, _ := strconv.Atoi(v["statusListIndex"].(string))
	got := setBits(l)
	if len(got) != 1 || got[0] != want {
		t.Fatalf("set bits %v, want [%d]", got, want)
	}
	// MSB-first: bit 94567 is bit 7 (the least significant) of byte 11820.
	if l.bits[11820] != 0x01 {
		t.Fatalf("byte 11820 = %#x, want 0x01", l.bits[11820])
	}
	// Round trip through our encoder: the bits survive (the string need not match).
	enc, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	l2, err := Decode(enc, DecodeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(l.bits, l2.bits) {
		t.Fatal("round trip changed the bits")
	}
}

func TestSpecEntries(t *testing.T) {
	dir := testvectors.Dir(t, "bitstring-status-list")
	tests := []struct {
		file string
		want []Entry
	}{
		{"ex0-vc-with-revocation-and-suspension-entries.json", []Entry{
			{ID: "https://example.com/credentials/status/3#94567", Type: EntryType, StatusPurpose: PurposeRevocation, StatusListIndex: "94567", StatusListCredential: "https://example.com/credentials/status/3"},
			{ID: "https://example.com/credentials/status/4#23452", Type: EntryType, StatusPurpose: PurposeSuspension, StatusListIndex: "23452", StatusListCredential: "https://example.com/credentials/status/4"},
		}},
		{"ex3-revocable-vc-unsigned.json", []Entry{
			{ID: "https://example.com/credentials/status/3#94567", Type: EntryType, StatusPurpose: PurposeRevocation, StatusListIndex: "94567", StatusListCredential: "https://example.com/credentials/status/3"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			cred := readJSON(t, filepath.Join(dir, tc.file))
			got, err := ParseEntries(cred["credentialStatus"])
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d entries, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("entry %d = %+v, want %+v", i, got[i], tc.want[i])
				}
				if idx, err := got[i].Index(); err != nil || strconv.Itoa(idx) != tc.want[i].StatusListIndex {
					t.Errorf("Index = %d, %v", idx, err)
				}
			}
		})
	}
	// The entry of ex3 checked against the list of ex2 (same list URL): not revoked.
	entries, _ := ParseEntries(readJSON(t, filepath.Join(dir, "ex3-revocable-vc-unsigned.json"))["credentialStatus"])
	list, err := ListFromCredential(readJSON(t, filepath.Join(dir, "ex2-BitstringStatusListCredential-unsigned.json")), entries[0].StatusPurpose, DecodeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := entries[0].Index()
	if revoked, err := list.Get(idx); err != nil || revoked {
		t.Fatalf("Get(%d) = %v, %v; want false", idx, revoked, err)
	}
}

func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{MinSize, MinSize * 2, MinSize + 8} {
		l, err := New(size)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]bool{}
		for range 2000 {
			i := rng.IntN(size)
			v := rng.IntN(3) != 0
			if err := l.Set(i, v); err != nil {
				t.Fatal(err)
			}
			want[i] = v
		}
		// Edges: the first and last bits.
		for _, i := range []int{0, size - 1} {
			if err := l.Set(i, true); err != nil {
				t.Fatal(err)
			}
			want[i] = true
		}
		enc, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(enc, "u") || strings.ContainsAny(enc, "=+/") {
			t.Fatalf("not multibase base64url without padding: %.20s", enc)
		}
		got, err := Decode(enc, DecodeLimits{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Len() != size {
			t.Fatalf("Len = %d, want %d", got.Len(), size)
		}
		n := 0
		for i, v := range want {
			b, err := got.Get(i)
			if err != nil || b != v {
				t.Fatalf("bit %d = %v, %v; want %v", i, b, err, v)
			}
			if v {
				n++
			}
		}
		if got.Count() != n {
			t.Fatalf("Count = %d, want %d", got.Count(), n)
		}
	}
}

func TestBitOrder(t *testing.T) {
	l, _ := New(MinSize)
	for _, i := range []int{0, 9, 15} {
		if err := l.Set(i, true); err != nil {
			t.Fatal(err)
		}
	}
	if l.bits[0] != 0x80 || l.bits[1] != 0x41 {
		t.Fatalf("bytes %#x %#x, want 0x80 0x41", l.bits[0], l.bits[1])
	}
	if err := l.Set(9, false); err != nil {
		t.Fatal(err)
	}
	if l.bits[1] != 0x01 {
		t.Fatalf("clear failed: %#x", l.bits[1])
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		size int
		want error
	}{
		{0, ErrTooShort},
		{-8, ErrTooShort},
		{MinSize - 8, ErrTooShort},
		{MinSize + 1, ErrMalformed},
		{MaxSize + 8, ErrTooLarge},
	}
	for _, tc := range tests {
		if _, err := New(tc.size); !errors.Is(err, tc.want) {
			t.Errorf("New(%d) = %v, want %v", tc.size, err, tc.want)
		}
	}
	if l, err := New(MaxSize); err != nil || l.Len() != MaxSize {
		t.Errorf("New(MaxSize) = %v", err)
	}
}

func TestIndexOutOfRange(t *testing.T) {
	l, _ := New(MinSize)
	for _, i := range []int{-1, MinSize, MinSize + 7, 1 << 40} {
		if _, err := l.Get(i); !errors.Is(err, ErrIndexOutOfRange) {
			t.Errorf("Get(%d) = %v", i, err)
		}
		if err := l.Set(i, true); !errors.Is(err, ErrIndexOutOfRange) {
			t.Errorf("Set(%d) = %v", i, err)
		}
	}
	if l.Count() != 0 {
		t.Fatal("a refused Set changed the list")
	}
}

func TestDecodeRejects(t *testing.T) {
	zeros := make([]byte, MinSize/8)
	good := gz(t, zeros)
	var twoMembers bytes.Buffer
	for range 2 {
		zw := gzip.NewWriter(&twoMembers)
		_, _ = zw.Write(zeros[:len(zeros)/2])
		_ = zw.Close()
	}
	rawGood, _ := base64.RawURLEncoding.DecodeString(good[1:])
	corruptCRC := bytes.Clone(rawGood)
	corruptCRC[len(corruptCRC)-8] ^= 0xff
	corruptSize := bytes.Clone(rawGood)
	corruptSize[len(corruptSize)-1] ^= 0x01
	b64 := func(b []byte) string { return "u" + base64.RawURLEncoding.EncodeToString(b) }

	tests := []struct {
		name string
		in   string
		lim  DecodeLimits
		want error
	}{
		{"empty", "", DecodeLimits{}, ErrMalformed},
		{"no prefix", good[1:], DecodeLimits{}, ErrMalformed},
		{"base58 prefix", "z" + good[1:], DecodeLimits{}, ErrMalformed},
		{"padded base64 prefix U", "U" + base64.URLEncoding.EncodeToString(rawGood), DecodeLimits{}, ErrMalformed},
		{"padding", "u" + base64.URLEncoding.EncodeToString(rawGood[:len(rawGood)-1]), DecodeLimits{}, ErrMalformed},
		{"std alphabet", "u" + base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 30)), DecodeLimits{}, ErrMalformed},
		{"whitespace", good[:10] + " " + good[10:], DecodeLimits{}, ErrMalformed},
		{"not gzip", b64(zeros), DecodeLimits{}, ErrMalformed},
		{"truncated gzip", b64(rawGood[:len(rawGood)-5]), DecodeLimits{}, ErrMalformed},
		{"truncated deflate", b64(rawGood[:15]), DecodeLimits{}, ErrMalformed},
		{"bad crc", b64(corruptCRC), DecodeLimits{}, ErrMalformed},
		{"bad size", b64(corruptSize), DecodeLimits{}, ErrMalformed},
		{"trailing garbage", b64(append(bytes.Clone(rawGood), 0x00)), DecodeLimits{}, ErrMalformed},
		{"second gzip member", b64(twoMembers.Bytes()), DecodeLimits{MinBits: 8}, ErrMalformed},
		{"too short", gz(t, zeros[:len(zeros)-1]), DecodeLimits{}, ErrTooShort},
		{"empty list", gz(t, nil), DecodeLimits{MinBits: 1}, ErrTooShort},
		{"over max bits", good, DecodeLimits{MaxBits: MinSize - 8, MinBits: 8}, ErrTooLarge},
		{"over max encoded", good, DecodeLimits{MaxEncodedLen: len(good) - 1}, ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Decode(tc.in, tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode = %v, %v; want %v", l, err, tc.want)
			}
		})
	}
	// Smaller lists are readable when the limits allow them.
	if l, err := Decode(gz(t, []byte{0x80}), DecodeLimits{MinBits: 8}); err != nil || l.Len() != 8 {
		t.Fatalf("small list with lowered minimum: %v", err)
	}
}

func TestGzipBomb(t *testing.T) {
	// 100 MiB of zeros compresses to about 100 KiB; Decode must stop at its cap without
	// inflating the rest.
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	chunk := make([]byte, 1<<20)
	for range 100 {
		if _, err := zw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	bomb := "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
	t.Logf("100 MiB bomb is %d encoded bytes", len(bomb))

	// With default limits the input is short enough to be read, and inflation stops at
	// MaxSize bits.
	if _, err := Decode(bomb, DecodeLimits{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Decode(bomb) = %v, want ErrTooLarge", err)
	}
	// Memory stays near the cap: far below the 100 MiB the bomb expands to.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _ = Decode(bomb, DecodeLimits{})
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
		t.Fatalf("Decode(bomb) allocated %d bytes", grown)
	}
	// A tighter encoded-length limit refuses it before any decompression.
	if _, err := Decode(bomb, DecodeLimits{MaxEncodedLen: 64 << 10}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Decode(bomb, small MaxEncodedLen) = %v, want ErrTooLarge", err)
	}
}

func TestEntryIndex(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  error
	}{
		{"0", 0, nil},
		{"94567", 94567, nil},
		{"2147483647", MaxIndex, nil},
		{"2147483648", 0, ErrIndexOutOfRange},
		{"99999999999999999999999", 0, ErrIndexOutOfRange},
		{"", 0, ErrMalformed},
		{"00", 0, ErrMalformed},
		{"007", 0, ErrMalformed},
		{"-1", 0, ErrMalformed},
		{"+1", 0, ErrMalformed},
		{" 1", 0, ErrMalformed},
		{"1 ", 0, ErrMalformed},
		{"1e3", 0, ErrMalformed},
		{"0x10", 0, ErrMalformed},
		{"１", 0, ErrMalformed}, // full-width digit
	}
	for _, tc := range tests {
		got, err := Entry{StatusListIndex: tc.in}.Index()
		if !errors.Is(err, tc.err) || (tc.err == nil && got != tc.want) {
			t.Errorf("Index(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestEntryValidate(t *testing.T) {
	good := Entry{
		ID: "https://civitas.example/status/1#42", Type: EntryType, StatusPurpose: PurposeRevocation,
		StatusListIndex: "42", StatusListCredential: "https://civitas.example/status/1",
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*Entry)
		want error
	}{
		{"wrong type", func(e *Entry) { e.Type = "StatusList2021Entry" }, ErrMalformed},
		{"message purpose", func(e *Entry) { e.StatusPurpose = "message" }, ErrMalformed},
		{"empty purpose", func(e *Entry) { e.StatusPurpose = "" }, ErrMalformed},
		{"bad index", func(e *Entry) { e.StatusListIndex = "01" }, ErrMalformed},
		{"huge index", func(e *Entry) { e.StatusListIndex = "4294967296" }, ErrIndexOutOfRange},
		{"relative list url", func(e *Entry) { e.StatusListCredential = "/status/1" }, ErrMalformed},
		{"empty list url", func(e *Entry) { e.StatusListCredential = "" }, ErrMalformed},
		{"list url with space", func(e *Entry) { e.StatusListCredential = "https://a.example/x y" }, ErrMalformed},
		{"relative id", func(e *Entry) { e.ID = "#42" }, ErrMalformed},
		{"status size 2", func(e *Entry) { e.StatusSize = 2 }, ErrMalformed},
	}
	for _, tc := range tests {
		e := good
		tc.edit(&e)
		if err := e.Validate(); !errors.Is(err, tc.want) {
			t.Errorf("%s: Validate = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestNewEntryAndMap(t *testing.T) {
	e, err := NewEntry("https://civitas.example/status/7", PurposeSuspension, 1234)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "https://civitas.example/status/7#1234" || e.StatusListIndex != "1234" {
		t.Fatalf("entry %+v", e)
	}
	// Map -> JSON -> ParseEntries gives the entry back, and so does the struct's own JSON.
	for _, v := range []any{e.Map(), e} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var decoded any
		if err := json.Unmarshal(b, &decoded); err != nil {
			t.Fatal(err)
		}
		got, err := ParseEntries(decoded)
		if err != nil || len(got) != 1 || got[0] != e {
			t.Fatalf("round trip of %s = %+v, %v", b, got, err)
		}
	}
	if _, err := NewEntry("https://civitas.example/status/7", "message", 1); !errors.Is(err, ErrMalformed) {
		t.Fatalf("NewEntry(message) = %v", err)
	}
	if _, err := NewEntry("https://civitas.example/status/7", PurposeRevocation, -1); !errors.Is(err, ErrMalformed) {
		t.Fatalf("NewEntry(-1) = %v", err)
	}
}

func TestParseEntriesRejects(t *testing.T) {
	ok := map[string]any{
		"type": EntryType, "statusPurpose": "revocation", "statusListIndex": "1",
		"statusListCredential": "https://a.example/s/1",
	}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name string
		in   any
	}{
		{"string", "https://a.example/s/1"},
		{"empty array", []any{}},
		{"array of non-objects", []any{"x"}},
		{"missing type", with("type", nil)},
		{"missing index", with("statusListIndex", nil)},
		{"numeric index", with("statusListIndex", 1.0)},
		{"numeric purpose", with("statusPurpose", 1.0)},
		{"array purpose", with("statusPurpose", []any{"revocation"})},
		{"missing list", with("statusListCredential", nil)},
		{"id not string", with("id", 5.0)},
		{"status size string", with("statusSize", "1")},
		{"status size zero", with("statusSize", 0.0)},
		{"status size fraction", with("statusSize", 1.5)},
		{"status size 8", with("statusSize", json.Number("8"))},
		{"second entry bad", []any{ok, with("type", "Other")}},
	}
	for _, tc := range tests {
		if got, err := ParseEntries(tc.in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseEntries = %+v, %v; want ErrMalformed", tc.name, got, err)
		}
	}
	if got, err := ParseEntries(nil); err != nil || got != nil {
		t.Errorf("ParseEntries(nil) = %v, %v", got, err)
	}
	if got, err := ParseEntries(with("statusSize", json.Number("1"))); err != nil || got[0].StatusSize != 1 {
		t.Errorf("statusSize 1: %v, %v", got, err)
	}
}

func TestListFromCredentialRejects(t *testing.T) {
	l, _ := New(MinSize)
	enc, _ := l.Encode()
	cred := func(edit func(c, s map[string]any)) map[string]any {
		s := map[string]any{"id": "https://a.example/s/1#list", "type": ListType, "statusPurpose": "revocation", "encodedList": enc}
		c := map[string]any{"type": []any{"VerifiableCredential", CredentialType}, "credentialSubject": s}
		edit(c, s)
		return c
	}
	tests := []struct {
		name    string
		c       map[string]any
		purpose string
		want    error
	}{
		{"good", cred(func(c, s map[string]any) {}), PurposeRevocation, nil},
		{"purpose array", cred(func(c, s map[string]any) { s["statusPurpose"] = []any{"suspension", "revocation"} }), PurposeRevocation, nil},
		{"subject array of one", cred(func(c, s map[string]any) { c["credentialSubject"] = []any{s} }), PurposeRevocation, nil},
		{"wrong purpose", cred(func(c, s map[string]any) {}), PurposeSuspension, ErrPurposeMismatch},
		{"unsupported purpose asked", cred(func(c, s map[string]any) {}), "message", ErrMalformed},
		{"credential type missing", cred(func(c, s map[string]any) { c["type"] = []any{"VerifiableCredential"} }), PurposeRevocation, ErrMalformed},
		{"credential type absent", cred(func(c, s map[string]any) { delete(c, "type") }), PurposeRevocation, ErrMalformed},
		{"subject type wrong", cred(func(c, s map[string]any) { s["type"] = "StatusList2021" }), PurposeRevocation, ErrMalformed},
		{"subject missing", cred(func(c, s map[string]any) { delete(c, "credentialSubject") }), PurposeRevocation, ErrMalformed},
		{"two subjects", cred(func(c, s map[string]any) { c["credentialSubject"] = []any{s, s} }), PurposeRevocation, ErrMalformed},
		{"purpose missing", cred(func(c, s map[string]any) { delete(s, "statusPurpose") }), PurposeRevocation, ErrMalformed},
		{"purpose empty array", cred(func(c, s map[string]any) { s["statusPurpose"] = []any{} }), PurposeRevocation, ErrMalformed},
		{"encodedList missing", cred(func(c, s map[string]any) { delete(s, "encodedList") }), PurposeRevocation, ErrMalformed},
		{"encodedList number", cred(func(c, s map[string]any) { s["encodedList"] = 1.0 }), PurposeRevocation, ErrMalformed},
		{"encodedList bad", cred(func(c, s map[string]any) { s["encodedList"] = "zabc" }), PurposeRevocation, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ListFromCredential(tc.c, tc.purpose, DecodeLimits{})
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("ListFromCredential = %v, want %v", err, tc.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	l, _ := New(MinSize)
	_ = l.Set(94567, true)
	enc, _ := l.Encode()
	f.Add(enc)
	f.Add("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
	f.Add("u")
	f.Add("")
	f.Add("uH4sI")
	f.Add(gz(f, []byte{0xff, 0x00}))
	f.Fuzz(func(t *testing.T, s string) {
		// Small limits keep the fuzzer fast and exercise the limit paths.
		lim := DecodeLimits{MinBits: 8, MaxBits: 1 << 16}
		got, err := Decode(s, lim)
		if err != nil {
			if got != nil {
				t.Fatal("list returned with an error")
			}
			return
		}
		if got.Len() < 8 || got.Len() > 1<<16 || got.Len()%8 != 0 {
			t.Fatalf("Len = %d outside limits", got.Len())
		}
		enc, err := got.Encode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Decode(enc, lim)
		if err != nil || !bytes.Equal(again.bits, got.bits) {
			t.Fatalf("re-encoding changed the list: %v", err)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	l, _ := New(MinSize)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		_ = l.Set(rng.IntN(MinSize), true)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	l, _ := New(MinSize)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		_ = l.Set(rng.IntN(MinSize), true)
	}
	enc, _ := l.Encode()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc, DecodeLimits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseEntries(f *testing.F) {
	f.Add([]byte(`{"id":"https://a.example/s/1#5","type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"5","statusListCredential":"https://a.example/s/1"}`))
	f.Add([]byte(`[{"type":"BitstringStatusListEntry","statusPurpose":"suspension","statusListIndex":"0","statusListCredential":"https://a.example/s/1","statusSize":1}]`))
	f.Add([]byte(`{"statusListIndex":"-0"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return
		}
		entries, err := ParseEntries(v)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrIndexOutOfRange) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		for _, e := range entries {
			if err := e.Validate(); err != nil {
				t.Fatalf("accepted entry fails Validate: %v", err)
			}
			if i, err := e.Index(); err != nil || i < 0 || i > MaxIndex || strconv.Itoa(i) != e.StatusListIndex {
				t.Fatalf("index %q -> %d, %v", e.StatusListIndex, i, err)
			}
		}
	})
}
