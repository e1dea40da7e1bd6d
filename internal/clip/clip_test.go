package clip

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven cha…"},
		{"ab€cd", 3, "ab…"}, // € is 3 bytes: never cut in half
		{"ab€cd", 5, "ab€…"},
		{"", 0, ""},
		{"x", 0, "…"},
	} {
		if got := String(c.in, c.max); got != c.want {
			t.Errorf("String(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
	long := strings.Repeat("é", 100)
	if got := String(long, 81); !utf8.ValidString(got) || len(got) > 81+len("…") {
		t.Fatalf("String of a long text: %q", got)
	}
}
