package schemas

import (
	"regexp"
	"strings"
	"testing"
)

func TestMatchers(t *testing.T) {
	tests := []struct {
		pattern string
		yes     []string
		no      []string
	}{
		{patternDID,
			[]string{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "did:web:example.com%3A8443:users:alice", "did:example:a", "did:ex::a", "did:a1:%41"},
			[]string{"", "did:", "did:key", "did:key:", "did:key:a:", "did:Key:a", "did::a", "DID:key:a", "did:key:a b", "did:key:a#k", "did:key:a/p", "did:key:a?q", "did:key:%4", "did:key:%zz", "did:key:a%", "xdid:key:a", "did:key:é"}},
		{patternNotBlank,
			[]string{"a", " a ", "\u00e9", "\t.\n"},
			[]string{"", " ", "\t\n\r\f\v", "\u00a0", "\u3000 \u2028", "\ufeff"}},
		{patternNoSpace,
			[]string{"a", "https://a.example/x", "\u00e9"},
			[]string{"", "a b", "a\n", "\ta", "a\u00a0b", "a\u2003"}},
		{patternCountry,
			[]string{"PT", "DE", "ZZ"},
			[]string{"", "P", "pt", "Pt", "PRT", "P1", "ÅB"}},
		{patternAchieveTy,
			[]string{"Award", "A", "CertificateOfCompletion", "ext:Solar", "ext:a.b_c-1", "A" + strings.Repeat("b", 63), "ext:" + strings.Repeat("x", 60)},
			[]string{"", "award", "Award1", "Award Winner", "ext:", "ext:a b", "Ext:Solar", "A" + strings.Repeat("b", 64), "ext:" + strings.Repeat("x", 61)}},
	}
	for _, tc := range tests {
		m, err := regexpEngine(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.(matcher); !ok || m.String() != tc.pattern {
			t.Fatalf("%s: no hand-written matcher", tc.pattern)
		}
		for _, s := range tc.yes {
			if !m.MatchString(s) {
				t.Errorf("%s: %q should match", tc.pattern, s)
			}
		}
		for _, s := range tc.no {
			if m.MatchString(s) {
				t.Errorf("%s: %q should not match", tc.pattern, s)
			}
		}
	}
	// Other patterns go to Go's regexp.
	if m, err := regexpEngine("^a+$"); err != nil || !m.MatchString("aa") || m.MatchString("ab") {
		t.Fatalf("fallback engine: %v", err)
	}
	if _, err := regexpEngine("("); err == nil {
		t.Fatal("invalid pattern accepted")
	}
}

// On text without the characters where the two differ on purpose (\v and non-ASCII
// spaces, which ECMA-262's \s includes and Go's does not), each matcher agrees with Go's
// regexp compiling the same pattern.
func FuzzMatchersAgreeWithRegexp(f *testing.F) {
	for _, s := range []string{"did:key:z6Mk", "did:web:a%3Ab:c", "PT", "ext:x", "Award", " ", "a b", ""} {
		f.Add(s)
	}
	compiled := map[string]*regexp.Regexp{}
	for p := range matchers {
		compiled[p] = regexp.MustCompile(p)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range s {
			if r == '\v' || (r > 0x7f && ecmaSpace(r)) {
				return
			}
		}
		for p, match := range matchers {
			if got, want := match(s), compiled[p].MatchString(s); got != want {
				t.Fatalf("%s on %q: matcher %v, regexp %v", p, s, got, want)
			}
		}
	})
}
