package jcs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/internal/testvectors"
)

// RFC 8785 Appendix B: IEEE-754 bit patterns and their canonical text.
var appendixB = []struct {
	bits string
	want string // "" means the value must be rejected
}{
	{"0000000000000000", "0"},
	{"8000000000000000", "0"}, // -0
	{"0000000000000001", "5e-324"},
	{"8000000000000001", "-5e-324"},
	{"7fefffffffffffff", "1.7976931348623157e+308"},
	{"ffefffffffffffff", "-1.7976931348623157e+308"},
	{"4340000000000000", "9007199254740992"},
	{"c340000000000000", "-9007199254740992"},
	{"4430000000000000", "295147905179352830000"},
	{"44b52d02c7e14af5", "9.999999999999997e+22"},
	{"44b52d02c7e14af6", "1e+23"},
	{"44b52d02c7e14af7", "1.0000000000000001e+23"},
	{"444b1ae4d6e2ef4e", "999999999999999700000"},
	{"444b1ae4d6e2ef4f", "999999999999999900000"},
	{"444b1ae4d6e2ef50", "1e+21"},
	{"3eb0c6f7a0b5ed8c", "9.999999999999997e-7"},
	{"3eb0c6f7a0b5ed8d", "0.000001"},
	{"41b3de4355555553", "333333333.3333332"},
	{"41b3de4355555554", "333333333.33333325"},
	{"41b3de4355555555", "333333333.3333333"},
	{"41b3de4355555556", "333333333.3333334"},
	{"41b3de4355555557", "333333333.33333343"},
	{"becbf647612f3696", "-0.0000033333333333333333"},
	{"43143ff3c1cb0959", "1424953923781206.2"},
	{"7fffffffffffffff", ""}, // NaN
	{"7ff0000000000000", ""}, // Infinity
	{"fff0000000000000", ""}, // -Infinity
}

func bitsToFloat(t *testing.T, h string) float64 {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b))
}

func TestNumberAppendixB(t *testing.T) {
	for _, tc := range appendixB {
		t.Run(tc.bits, func(t *testing.T) {
			f := bitsToFloat(t, tc.bits)
			got, err := Marshal(f)
			if tc.want == "" {
				if !errors.Is(err, ErrNumber) {
					t.Fatalf("Marshal(%v) = %q, %v; want ErrNumber", f, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("Marshal(0x%s) = %s, want %s", tc.bits, got, tc.want)
			}
			// The same value written as a JSON literal must come out the same through
			// Transform (the canonical text is itself a valid literal for the double).
			got2, err := Transform([]byte(tc.want))
			if err != nil {
				t.Fatal(err)
			}
			if string(got2) != tc.want {
				t.Fatalf("Transform(%s) = %s", tc.want, got2)
			}
		})
	}
}

func TestNumberLiterals(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1e21", "1e+21"},
		{"1e20", "100000000000000000000"},
		{"123e18", "123000000000000000000"},
		{"1e-7", "1e-7"},
		{"1e-6", "0.000001"},
		{"0.0000012345", "0.0000012345"},
		{"1.2345e-7", "1.2345e-7"},
		{"-0", "0"},
		{"-0.0", "0"},
		{"0e10", "0"},
		{"1.0", "1"},
		{"4.50", "4.5"},
		{"2e-3", "0.002"},
		{"1E30", "1e+30"},
		{"0.000000000000000000000000001", "1e-27"},
		{"333333333.33333329", "333333333.3333333"},
		{"9007199254740993", "9007199254740992"}, // rounds to the nearest double
		{"1e-400", "0"},                          // underflow rounds to zero, as in ECMAScript
		{"123456789012345678901234567890", "1.2345678901234568e+29"},
		{"-1.5e300", "-1.5e+300"},
		{"5e-324", "5e-324"},
		{"0.1", "0.1"},
		{"100", "100"},
		{"12.5e1", "125"},
	}
	for _, tc := range tests {
		got, err := Transform([]byte(tc.in))
		if err != nil {
			t.Errorf("Transform(%s): %v", tc.in, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("Transform(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// RFC 8785 §3.2.2 (the combined sample) and §3.2.3 (sorting), written out here.
func TestRFCExamples(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{
			"combined sample",
			`{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`,
			`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
		},
		{
			"sorting by utf-16 code units",
			`{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}`,
			"{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\"," +
				"\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\uFB33\":\"Hebrew Letter Dalet With Dagesh\"}",
		},
		{
			"nested objects sorted, arrays kept",
			`{"b":[3,{"z":1,"a":2}],"a":{"d":null,"c":"x"}}`,
			`{"a":{"c":"x","d":null},"b":[3,{"a":2,"z":1}]}`,
		},
		{
			"escapes",
			`"\u0000\u001f\u007f\u2028\u00e9\/\b\f\n\r\t"`,
			"\"\\u0000\\u001f\u007f\u2028é/\\b\\f\\n\\r\\t\"",
		},
		{"empty containers", ` { "a" : [ ] , "b" : { } } `, `{"a":[],"b":{}}`},
		{"raw utf-8 kept", `"héllo 😀"`, `"héllo 😀"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Transform([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			// Marshal of the encoding/json decoding gives the same bytes.
			var v any
			if err := jsonstrict.Unmarshal([]byte(tc.in), &v, jsonstrict.Limits{}); err != nil {
				t.Fatal(err)
			}
			got2, err := Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got2) != tc.want {
				t.Fatalf("Marshal: got %s\nwant %s", got2, tc.want)
			}
		})
	}
}

func TestCompareUTF16(t *testing.T) {
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"", "", 0},
		{"a", "b", -1},
		{"a", "ab", -1},
		{"\U0001F600", "\uFB33", -1}, // surrogate D83D < FB33, though code point is larger
		{"\U0001F600", "\uE000", -1},
		{"\uD7FF", "\U0001F600", -1},
		{"\U0001F600", "\U0001F601", -1},
		{"\U00010000", "\U0010FFFF", -1},
		{"x\U0001F600", "x\uFFFF", -1},
		{"é", "e", 1},
	}
	sign := func(i int) int {
		switch {
		case i < 0:
			return -1
		case i > 0:
			return 1
		}
		return 0
	}
	for _, tc := range tests {
		if got := sign(compareUTF16(tc.a, tc.b)); got != tc.want {
			t.Errorf("compareUTF16(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := sign(compareUTF16(tc.b, tc.a)); got != -tc.want {
			t.Errorf("compareUTF16(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

func TestTransformRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"duplicate key", `{"a":1,"a":2}`, jsonstrict.ErrDuplicateKey},
		{"duplicate key after unescaping", `{"a":1,"\u0061":2}`, jsonstrict.ErrDuplicateKey},
		{"lone high surrogate", `"\ud83d"`, nil},
		{"lone low surrogate", `"\ude00x"`, nil},
		{"reversed pair", `"\ude00\ud83d"`, nil},
		{"invalid utf-8", "\"\xff\"", nil},
		{"overlong utf-8", "\"\xc0\xaf\"", nil},
		{"number too large", `1e309`, ErrNumber},
		{"negative number too large", `[-1.8e308]`, ErrNumber},
		{"NaN", `NaN`, jsonstrict.ErrSyntax},
		{"Infinity", `Infinity`, jsonstrict.ErrSyntax},
		{"leading zero", `01`, jsonstrict.ErrSyntax},
		{"trailing comma", `[1,]`, jsonstrict.ErrSyntax},
		{"two values", `1 2`, jsonstrict.ErrSyntax},
		{"empty", ``, jsonstrict.ErrSyntax},
		{"unterminated", `{"a":`, jsonstrict.ErrSyntax},
		{"too deep", strings.Repeat("[", 200) + strings.Repeat("]", 200), jsonstrict.ErrTooDeep},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Transform([]byte(tc.in))
			if err == nil {
				t.Fatalf("Transform accepted %q: %s", tc.in, got)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMarshal(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, "null"},
		{"map", map[string]any{"b": 1.5, "a": []any{true, false, nil}, "c": json.Number("1E2")}, `{"a":[true,false,null],"b":1.5,"c":100}`},
		{"negative zero", math.Copysign(0, -1), `0`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Marshal(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestMarshalRejects(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	tests := []struct {
		name string
		in   any
		want error
	}{
		{"NaN", math.NaN(), ErrNumber},
		{"Inf", []any{math.Inf(-1)}, ErrNumber},
		{"bad json.Number", json.Number("1e"), ErrNumber},
		{"json.Number overflow", json.Number("1e999"), ErrNumber},
		{"json.Number not a number", json.Number("0x10"), ErrNumber},
		{"int", int64(1), ErrUnsupportedType},
		{"big uint", uint64(math.MaxUint64), ErrUnsupportedType},
		{"invalid utf-8 value", "\xff", ErrString},
		{"invalid utf-8 key", map[string]any{"\xff": 1}, ErrString},
		{"[]string is not a decoded JSON value", []string{"x"}, ErrUnsupportedType},
		{"struct", struct{}{}, ErrUnsupportedType},
		{"nested unsupported", map[string]any{"a": []any{complex(1, 2)}}, ErrUnsupportedType},
		{"cycle", cyclic, ErrTooDeep},
		{"json.Number that is not a number", json.Number("Inf"), ErrNumber},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Marshal(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Marshal = %q, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestEddsaJCS2022Vector(t *testing.T) {
	const dir = "eddsa-jcs-2022"
	tests := []struct{ in, canon, hash string }{
		{"unsigned.json", "canonDocJCS.txt", "docHashJCS.txt"},
		{"proofConfigJCS.json", "proofCanonJCS.txt", "proofHashJCS.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Transform(testvectors.Read(t, dir, tc.in))
			if err != nil {
				t.Fatal(err)
			}
			want := testvectors.Read(t, dir, tc.canon)
			if !bytes.Equal(got, want) {
				t.Fatalf("canonical form differs:\ngot  %s\nwant %s", got, want)
			}
			sum := sha256.Sum256(got)
			wantHash := strings.TrimSpace(string(testvectors.Read(t, dir, tc.hash)))
			if hex.EncodeToString(sum[:]) != wantHash {
				t.Fatalf("sha-256 = %x, want %s", sum, wantHash)
			}
		})
	}
}

func FuzzTransform(f *testing.F) {
	seeds := []string{
		`{"b":1,"a":[1,2.5,-0,1e21,1e-7,"x"]}`,
		`{"\u20ac":1,"\ud83d\ude00":2,"\ufb33":3}`,
		`"\u0000\t\"\\/"`,
		`[null,true,false,{}]`,
		`333333333.33333329`,
		`{"a":{"b":{"c":[{"d":"\u00e9"}]}}}`,
		`"\ud83d"`,
		`1e309`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Transform(data)
		if err != nil {
			return
		}
		again, err := Transform(out)
		if err != nil {
			t.Fatalf("canonical output rejected: %v\n%s", err, out)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("not idempotent:\n%s\n%s", out, again)
		}
		var a, b any
		if err := json.Unmarshal(data, &a); err != nil {
			t.Fatalf("encoding/json rejects accepted input: %v", err)
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("encoding/json rejects output: %v", err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("value changed:\n%#v\n%#v", a, b)
		}
		m, err := Marshal(a)
		if err != nil {
			t.Fatalf("Marshal of decoded value: %v", err)
		}
		if !bytes.Equal(m, out) {
			t.Fatalf("Marshal and Transform differ:\n%s\n%s", m, out)
		}
	})
}

func BenchmarkTransform(b *testing.B) {
	data := []byte(`{
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://civitas.network/contexts/v1"],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "MembershipCredential"],
    "issuer": "did:web:civitas.example",
    "validFrom": "2025-01-01T00:00:00Z",
    "credentialSubject": {
        "id": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
        "type": "Member",
        "community": {"id": "https://civitas.example/c/1", "name": "Harbour Commons"},
        "role": "steward", "membershipLevel": "full", "memberSince": "2024-03-01",
        "score": 1234.5678, "flags": [true, false, null]
    }
}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Transform(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	var v any
	if err := json.Unmarshal([]byte(`{"type":["VerifiableCredential","MembershipCredential"],"credentialSubject":{"id":"did:example:1","points":12,"ratio":0.125,"name":"Ada \u00e9"},"validFrom":"2025-01-01T00:00:00Z"}`), &v); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}
