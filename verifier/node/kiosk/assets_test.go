package kiosk

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"
)

// remote matches whatever could make a browser reach past the kiosk: an absolute or
// protocol-relative URL, a CSS import or url(), a web font, a frame or object.
var remote = regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*:)?//[a-z0-9.\[\]-]|\b(https?|wss?|ftp|data|blob|javascript):|@import|url\s*\(|@font-face|<iframe|<object|<embed|<base\b|integrity=|crossorigin`)

// comment strips JavaScript and CSS comments, whose "//" is not a URL.
var comment = regexp.MustCompile(`(?s)/\*.*?\*/|(?m)^\s*//.*$`)

func TestAssetsHaveNoExternalURLs(t *testing.T) {
	files := 0
	err := fs.WalkDir(webFS, "web", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		files++
		raw, err := webFS.ReadFile(p)
		if err != nil {
			return err
		}
		text := string(raw)
		if strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".css") {
			text = comment.ReplaceAllString(text, "")
		}
		for i, line := range strings.Split(text, "\n") {
			if m := remote.FindString(line); m != "" {
				t.Errorf("%s:%d: %q reaches outside the kiosk: %s", p, i+1, m, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 {
		t.Fatalf("only %d embedded files", files)
	}
	// The rendered page too, and every src/href in it is a path on the kiosk.
	page := string(mustPage("Door", time.Second))
	if m := remote.FindString(page); m != "" {
		t.Errorf("page: %q", m)
	}
	for _, m := range regexp.MustCompile(`(?:src|href|action)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "//") {
			t.Errorf("page links to %q", m[1])
		}
	}
	// JavaScript talks to the kiosk's own API only.
	js, _ := webFS.ReadFile("web/assets/kiosk.js")
	calls := regexp.MustCompile(`\b(fetch|fetchWithin|XMLHttpRequest|WebSocket|EventSource|sendBeacon|importScripts)\s*\(\s*([^,)]*)`).FindAllStringSubmatch(string(js), -1)
	if len(calls) < 3 {
		t.Fatalf("found only %d fetches in kiosk.js", len(calls))
	}
	for _, m := range calls {
		switch {
		case m[1] == "fetch" && m[2] == "url": // inside fetchWithin
		case m[1] == "fetchWithin" && (m[2] == "url" || strings.HasPrefix(m[2], "'/api/")):
		default:
			t.Errorf("kiosk.js calls %s(%s", m[1], m[2])
		}
	}
}

// The scan itself catches what it is there for.
func TestRemotePattern(t *testing.T) {
	for _, bad := range []string{
		`<script src="https://cdn.example/x.js">`, `<img src="//cdn.example/x.png">`,
		`@import "x.css";`, `background: url(x.png)`, `fetch("http://10.0.0.1/")`,
		`new WebSocket("wss://x")`, `<a href="javascript:alert(1)">`, `src="data:image/png;base64,AA"`,
		`<link integrity="sha384-x" crossorigin="anonymous">`, `<iframe src="/x">`,
	} {
		if remote.FindString(bad) == "" {
			t.Errorf("not caught: %s", bad)
		}
	}
	for _, ok := range []string{`<script src="/assets/kiosk.js" defer></script>`, `fetch('/api/checkin', {`, `x = 1; // a comment`, `s.replace(/([a-z])([A-Z])/g, '$1 $2')`} {
		if m := remote.FindString(ok); m != "" {
			t.Errorf("false alarm %q in %s", m, ok)
		}
	}
}
