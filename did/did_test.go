package did

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	valid := []struct {
		in         string
		method, id string
	}{
		{"did:example:123456789abcdefghi", "example", "123456789abcdefghi"},
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "key", "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"},
		{"did:web:example.com%3A8443:user:alice", "web", "example.com%3A8443:user:alice"},
		{"did:web:w3c-ccg.github.io", "web", "w3c-ccg.github.io"},
		{"did:a1:b", "a1", "b"},
		{"did:x:a::b", "x", "a::b"},
		{"did:x:_.-%aF", "x", "_.-%aF"},
	}
	for _, tt := range valid {
		d, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if d.Method != tt.method || d.ID != tt.id || d.String() != tt.in {
			t.Errorf("Parse(%q) = %+v (%q)", tt.in, d, d.String())
		}
	}
	invalid := []string{
		"",
		"did",
		"did:",
		"did:key",
		"did:key:",
		"DID:key:z",
		"did:Key:z",
		"did:ke-y:z",
		"did::z",
		"did:key:z:",
		"did:key:a b",
		"did:key:a%2",
		"did:key:a%zz",
		"did:key:a/b",
		"did:key:a#b",
		"did:key:a?b",
		"did:key:ä",
		"did:key:a\x00",
		"did:key:" + strings.Repeat("a", MaxLength),
		" did:key:a",
	}
	for _, in := range invalid {
		if d, err := Parse(in); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("Parse(%q) = %+v, %v; want ErrInvalidDID", in, d, err)
		}
	}
}

func TestParseURL(t *testing.T) {
	valid := []struct {
		in                     string
		did, path, query, frag string
	}{
		{"did:example:123#key-1", "did:example:123", "", "", "key-1"},
		{"did:example:123/path/to?x=1&y=2#frag", "did:example:123", "/path/to", "x=1&y=2", "frag"},
		{"did:example:123?service=files", "did:example:123", "", "service=files", ""},
		{"did:example:123/", "did:example:123", "/", "", ""},
		{"did:key:z6Mk#../x", "did:key:z6Mk", "", "", "../x"},
		{"did:example:123#a?b/c", "did:example:123", "", "", "a?b/c"},
		{"did:example:123#%20", "did:example:123", "", "", "%20"},
	}
	for _, tt := range valid {
		u, err := ParseURL(tt.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.in, err)
			continue
		}
		if u.DID.String() != tt.did || u.Path != tt.path || u.Query != tt.query || u.Fragment != tt.frag {
			t.Errorf("ParseURL(%q) = %+v", tt.in, u)
		}
		if u.String() != tt.in {
			t.Errorf("ParseURL(%q).String() = %q", tt.in, u.String())
		}
	}
	invalid := []string{
		"",
		"did:example:",
		"did:example:123#",
		"did:example:123?",
		"did:example:123?#f",
		"did:example:123#a#b",
		"did:example:123#a b",
		"did:example:123/a b",
		"did:example:123/%x",
		"did:example:123#%",
		"did:example:123#<script>",
		"did:Example:123#x",
		"did:example:123#" + strings.Repeat("a", MaxLength),
		"https://example.com/#x",
	}
	for _, in := range invalid {
		if u, err := ParseURL(in); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("ParseURL(%q) = %+v, %v; want ErrInvalidDID", in, u, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "did:web:a%3A1:b", "did:x:a::b", "did::", "did:x:%", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidDID) {
				t.Fatalf("error without ErrInvalidDID: %v", err)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, d.String())
		}
		u, err := ParseURL(s)
		if err != nil || u.DID != d || u.Path != "" || u.Query != "" || u.Fragment != "" {
			t.Fatalf("ParseURL of a DID = %+v, %v", u, err)
		}
	})
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"did:example:123/path?q=1#frag", "did:key:z6Mk#z6Mk", "did:x:y#../x", "did:x:y?", "did:x:y/#?"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURL(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidDID) {
				t.Fatalf("error without ErrInvalidDID: %v", err)
			}
			return
		}
		if u.String() != s {
			t.Fatalf("ParseURL(%q).String() = %q", s, u.String())
		}
		if strings.ContainsAny(u.DID.ID, "/?#") || strings.Contains(u.Query, "#") || strings.Contains(u.Path, "?") {
			t.Fatalf("delimiters leaked into components: %+v", u)
		}
	})
}
