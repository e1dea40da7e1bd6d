package jsonstrict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestCheckAccepts(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, `0`, `-0.5e+10`, `"x"`, `true`, `false`, `null`,
		` {"a":1,"b":[1,2,{"c":null}]} `,
		`{"a":{"a":{"a":1}}}`, // the same name in different objects is fine
		`{"\u00e9":1,"e":2}`,
		`{"emoji":"\ud83d\ude00"}`,
		`{"k":1,"\u212a\u212a":2}`, // not a case variant of "k" (different length)
		`"\/\b\f\n\r\t\\\""`,
	} {
		if err := Check([]byte(in), Limits{}); err != nil {
			t.Errorf("Check(%s) = %v, want nil", in, err)
		}
	}
}

func TestCheckRejects(t *testing.T) {
	many := func(n int, sameFold bool) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%d":%d`, i, i)
		}
		if sameFold {
			b.WriteString(`,"K7":0`)
		}
		b.WriteString("}")
		return b.String()
	}
	for _, tc := range []struct {
		name string
		in   string
		lim  Limits
		want error
	}{
		{"empty", ``, Limits{}, ErrSyntax},
		{"two values", `{} {}`, Limits{}, ErrSyntax},
		{"trailing comma", `{"a":1,}`, Limits{}, ErrSyntax},
		{"single quotes", `{'a':1}`, Limits{}, ErrSyntax},
		{"bare word", `{"a":nul}`, Limits{}, ErrSyntax},
		{"leading zero", `01`, Limits{}, ErrSyntax},
		{"bad fraction", `1.`, Limits{}, ErrSyntax},
		{"bad exponent", `1e`, Limits{}, ErrSyntax},
		{"control char", "\"a\x01\"", Limits{}, ErrSyntax},
		{"bad escape", `"\x"`, Limits{}, ErrSyntax},
		{"lone high surrogate", `"\ud800"`, Limits{}, ErrSyntax},
		{"lone low surrogate", `"\udc00"`, Limits{}, ErrSyntax},
		{"invalid utf8", "\"\xff\"", Limits{}, ErrSyntax},
		{"unterminated", `{"a":"b`, Limits{}, ErrSyntax},
		{"duplicate", `{"id":1,"id":2}`, Limits{}, ErrDuplicateKey},
		{"duplicate escaped", `{"id":1,"\u0069d":2}`, Limits{}, ErrDuplicateKey},
		{"duplicate nested", `{"a":{"x":1,"x":1}}`, Limits{}, ErrDuplicateKey},
		{"case variant", `{"id":1,"ID":2}`, Limits{}, ErrDuplicateKey},
		{"kelvin sign", `{"k":1,"\u212a":2}`, Limits{}, ErrDuplicateKey},
		{"duplicate in large object", many(100, false)[:len(many(100, false))-1] + `,"k3":0}`, Limits{}, ErrDuplicateKey},
		{"case variant in large object", many(100, true), Limits{}, ErrDuplicateKey},
		{"case variant escaped", `{"id":1,"\u0049D":2}`, Limits{}, ErrDuplicateKey},
		{"case variant nested", `{"a":{"type":1,"Type":2}}`, Limits{}, ErrDuplicateKey},
		{"case variant of a keyword", `{"@context":"x","@Context":"y"}`, Limits{}, ErrDuplicateKey},
		{"long s folds to s", `{"s":1,"\u017f":2}`, Limits{}, ErrDuplicateKey},
		{"non-ascii case variant", `{"é":1,"É":2}`, Limits{}, ErrDuplicateKey},
		{"duplicate by surrogate pair", `{"😀":1,"\ud83d\ude00":2}`, Limits{}, ErrDuplicateKey},
		{"too large", `"aaaaaaaaaa"`, Limits{MaxBytes: 5}, ErrTooLarge},
		{"too many keys", `{"a":{"b":{"c":1}}}`, Limits{MaxKeys: 2}, ErrTooLarge},
		{"too deep", strings.Repeat("[", 10) + strings.Repeat("]", 10), Limits{MaxDepth: 9}, ErrTooDeep},
		{"too deep default", strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100), Limits{}, ErrTooDeep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check([]byte(tc.in), tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Check(%.40q) = %v, want %v", tc.in, err, tc.want)
			}
		})
	}
}

func TestAllowCaseVariants(t *testing.T) {
	lim := Limits{AllowCaseVariants: true}
	if err := Check([]byte(`{"Achievement":1,"achievement":2}`), lim); err != nil {
		t.Fatalf("case variants with AllowCaseVariants: %v", err)
	}
	if err := Check([]byte(`{"a":1,"a":2}`), lim); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("exact duplicate with AllowCaseVariants: %v", err)
	}
	var b strings.Builder
	b.WriteString(`{"X":0`)
	for i := range 40 {
		fmt.Fprintf(&b, `,"k%d":%d`, i, i)
	}
	b.WriteString(`,"x":1}`)
	if err := Check([]byte(b.String()), lim); err != nil {
		t.Fatalf("case variants in a large object: %v", err)
	}
	if err := Check([]byte(strings.Replace(b.String(), `"x":1`, `"k3":1`, 1)), lim); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("exact duplicate in a large object: %v", err)
	}
}

func TestUnmarshalUsesNumber(t *testing.T) {
	var v map[string]any
	if err := Unmarshal([]byte(`{"n":12345678901234567890}`), &v, Limits{}); err != nil {
		t.Fatal(err)
	}
	n, ok := v["n"].(json.Number)
	if !ok || n.String() != "12345678901234567890" {
		t.Fatalf("n = %#v, want json.Number 12345678901234567890", v["n"])
	}
	if err := Unmarshal([]byte(`{"n":1,"n":2}`), &v, Limits{}); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("Unmarshal duplicate = %v", err)
	}
}

// TestUnmarshalStructCaseTricks covers the attack the case rule exists for: encoding/json
// fills a struct field from a member whose name matches it in any letter case (Unicode
// folding included), the last one winning, so {"id":…,"ID":…} could carry a second value
// past a reader that looked at the first. Unmarshal refuses such input before decoding.
func TestUnmarshalStructCaseTricks(t *testing.T) {
	type target struct {
		ID     string `json:"id"`
		Kind   string `json:"kind"`
		Status string `json:"status"`
	}
	for _, tc := range []struct{ name, in string }{
		{"exact duplicate", `{"id":"a","id":"b"}`},
		{"upper case", `{"id":"a","ID":"b"}`},
		{"escaped upper case", `{"id":"a","\u0049\u0044":"b"}`},
		{"kelvin sign for k", `{"kind":"a","\u212aind":"b"}`},
		{"long s for s", `{"status":"a","\u017ftatus":"b"}`},
		{"mixed case among other members", `{"kind":"a","id":"x","Id":"y"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v target
			if err := Unmarshal([]byte(tc.in), &v, Limits{}); !errors.Is(err, ErrDuplicateKey) {
				t.Fatalf("Unmarshal(%s) = %v (value %+v), want ErrDuplicateKey", tc.in, err, v)
			}
		})
	}
}

func TestDisallowUnknownFields(t *testing.T) {
	var v struct {
		A int `json:"a"`
	}
	if err := Unmarshal([]byte(`{"a":1,"b":2}`), &v, Limits{}); err != nil || v.A != 1 {
		t.Fatalf("unknown member without the option: %v", err)
	}
	if err := Unmarshal([]byte(`{"a":1,"b":2}`), &v, Limits{DisallowUnknownFields: true}); !errors.Is(err, ErrSyntax) {
		t.Fatalf("unknown member with the option: %v", err)
	}
	if err := Unmarshal([]byte(`{"a":3}`), &v, Limits{DisallowUnknownFields: true}); err != nil || v.A != 3 {
		t.Fatalf("known members with the option: %v", err)
	}
}

func TestDecode(t *testing.T) {
	in := `{"a":[1,-2.5e3,"x\u00e9\n",true,false,null,{}],"b":{"c":[]},"\u0064":"d"}`
	got, err := Decode([]byte(in), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": []any{json.Number("1"), json.Number("-2.5e3"), "xé\n", true, false, nil, map[string]any{}},
		"b": map[string]any{"c": []any{}},
		"d": "d",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode = %#v\nwant %#v", got, want)
	}
	var m map[string]any
	if err := Unmarshal([]byte(`[1]`), &m, Limits{}); !errors.Is(err, ErrSyntax) {
		t.Fatalf("array into a map: %v", err)
	}
	if err := Unmarshal([]byte(`null`), &m, Limits{}); err != nil || m != nil {
		t.Fatalf("null into a map: %v %v", m, err)
	}
	if _, err := Decode([]byte(`{"a":1,"A":2}`), Limits{}); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("Decode case variants: %v", err)
	}
}

func TestLargeObjectIsLinear(t *testing.T) {
	// 20,000 distinct names in one object must be checked without quadratic work; this
	// is a correctness test of the set path, not a timing assertion.
	var b bytes.Buffer
	b.WriteString("{")
	for i := range 19999 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"name-%d":0`, i)
	}
	b.WriteString("}")
	if err := Check(b.Bytes(), Limits{}); err != nil {
		t.Fatal(err)
	}
}

func TestValidNumber(t *testing.T) {
	for _, s := range []string{"0", "-0", "7", "-12", "1.5", "0.0", "1e5", "1E+5", "-2.5e-3", "12345678901234567890"} {
		if !ValidNumber(s) {
			t.Errorf("ValidNumber(%q) = false", s)
		}
	}
	for _, s := range []string{"", "-", "+1", "01", "-01", "1.", ".5", "1e", "1e+", "0x10", "1_000", "Inf", "NaN",
		" 1", "1 ", "1.5.5", "1e5e5", "--1", "1f"} {
		if ValidNumber(s) {
			t.Errorf("ValidNumber(%q) = true", s)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,"x",{"b":null}]`, `{"a":1,"A":2}`, `"\ud83d\ude00"`, `-1.5e3`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Check(data, Limits{})
		got, derr := Decode(data, Limits{})
		if (err == nil) != (derr == nil) {
			t.Fatalf("Check = %v but Decode = %v", err, derr)
		}
		if ValidNumber(string(data)) && (err != nil || got != json.Number(data)) {
			t.Fatalf("ValidNumber(%q) but Check = %v, Decode = %#v", data, err, got)
		}
		if err != nil {
			return
		}
		if n, ok := got.(json.Number); ok && string(n) == string(data) && !ValidNumber(string(data)) {
			t.Fatalf("Check accepts the number %q but ValidNumber does not", data)
		}
		// Whatever Check accepts, encoding/json must accept too, with the same value.
		if !json.Valid(data) {
			t.Fatalf("Check accepted invalid JSON %q", data)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json refuses %q: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Decode(%q) = %#v, encoding/json gives %#v", data, got, want)
		}
	})
}

func BenchmarkDecodeCredential(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(benchDoc, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckCredential(b *testing.B) {
	doc := benchDoc
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if err := Check(doc, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

var benchDoc = []byte(`{"@context":["https://www.w3.org/ns/credentials/v2","https://civitas.network/contexts/v1"],"id":"urn:uuid:0b8f6b8e-3c1a-4b55-a4a2-0f6c1d2e3f40","type":["VerifiableCredential","MembershipCredential"],"issuer":"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp","validFrom":"2026-01-01T00:00:00Z","credentialSubject":{"id":"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp","type":"Member","community":{"name":"Praxis Commons"},"role":"member","membershipLevel":"citizen","memberSince":"2025-03-01"}}`)
