package kiosk_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/civitas-net/civitas/verifier/node"
	"github.com/civitas-net/civitas/verifier/node/kiosk"
)

// chromiumPath finds Chromium: $CIVITAS_CHROMIUM, else Debian's /usr/bin/chromium. Where
// there is none the test skips, except in CI (CI set), whose .ci/run installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("CIVITAS_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	found, err := exec.LookPath(p)
	if err != nil {
		msg := fmt.Sprintf("Chromium not found at %s (apt-get install chromium, or set CIVITAS_CHROMIUM): %v", p, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI installs it, so this is a failure there")
		}
		t.Skip(msg + "; skipping the browser test")
	}
	return found
}

// pageOutcome is what the page shows after a check-in.
type pageOutcome struct {
	Count    int      `json:"count"`
	Decision string   `json:"decision"`
	Class    string   `json:"class"`
	Title    string   `json:"title"`
	Detail   string   `json:"detail"`
	Reasons  []string `json:"reasons"`
}

// outcomeJS waits until the page has shown more than n outcomes, then reads the result
// region as a person sees it.
const outcomeJS = `(function (n) {
  var r = document.getElementById('result');
  if (+r.getAttribute('data-count') <= n) { return null; }
  return {
    count: +r.getAttribute('data-count'),
    decision: r.getAttribute('data-decision'),
    class: r.className,
    title: document.getElementById('result-title').innerText,
    detail: document.getElementById('result-detail').innerText,
    reasons: Array.prototype.map.call(document.querySelectorAll('#result-reasons li'), function (li) { return li.innerText; })
  };
})(%d)`

// challengeJS waits until the page shows a challenge other than prev with its QR code
// drawn, and returns its nonce and audience.
const challengeJS = `(function (prev) {
  var img = document.getElementById('challenge-qr');
  var nonce = document.getElementById('challenge-nonce').textContent;
  if (nonce === '' || nonce === prev || img.hidden || !img.complete || img.naturalWidth === 0) { return null; }
  if (img.src.indexOf(encodeURIComponent(nonce)) < 0) { return null; }
  return { nonce: nonce, audience: document.getElementById('challenge-audience').textContent, qr: img.naturalWidth };
})(%q)`

type pageChallenge struct {
	Nonce    string `json:"nonce"`
	Audience string `json:"audience"`
	QR       int    `json:"qr"`
}

// TestKioskInChromium drives the page in headless Chromium: a member's real vp+jwt,
// typed into the field as a scanner would, is admitted by a real verifier; the same
// presentation again is refused as a replay; a presentation for another door is
// refused; and the page is drawn (a screenshot). The door runs on the wall clock here,
// as the browser does.
func TestKioskInChromium(t *testing.T) {
	exe := chromiumPath(t)
	start := time.Now()
	step := func(what string) { t.Logf("%6.2fs %s", time.Since(start).Seconds(), what) }
	w := newWorld(t, time.Now)
	srv := httptest.NewServer(kiosk.New(w.door, kiosk.Options{
		Title:          "Casa Verde — front door",
		Logger:         quietLogger(),
		ResultDuration: 2 * time.Second,
	}))
	defer srv.Close()

	var browserOut syncBuffer
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(exe),
			// The network is closed: nothing may start talking to the outside.
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.WindowSize(1280, 900),
			// No UserDataDir option: the allocator makes a fresh empty
			// --user-data-dir for this run and removes it afterwards.
			chromedp.CombinedOutput(&browserOut),
		)...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	// Starts the browser and opens a tab.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v\n%s", err, browserOut.String())
	}
	step("browser started")
	deadline, stop := context.WithTimeout(ctx, 90*time.Second)
	defer stop()

	// Everything the page asks for, and everything it complains about.
	var mu sync.Mutex
	var requests, complaints []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		case *runtime.EventExceptionThrown:
			complaints = append(complaints, "exception: "+e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				complaints = append(complaints, "console: "+string(e.Type))
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				complaints = append(complaints, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}

	run := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(deadline, a); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	challenge := func(prev string) pageChallenge {
		t.Helper()
		c, err := chromedp.Run(deadline, chromedp.Poll[pageChallenge](fmt.Sprintf(challengeJS, prev),
			chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
		if err != nil {
			t.Fatalf("waiting for a challenge on the page: %v", err)
		}
		if c.Audience != w.nodeDID || c.QR < 100 {
			t.Fatalf("the page shows %+v, want audience %s and a drawn QR code", c, w.nodeDID)
		}
		return c
	}
	outcome := func(after int) pageOutcome {
		t.Helper()
		o, err := chromedp.Run(deadline, chromedp.Poll[pageOutcome](fmt.Sprintf(outcomeJS, after),
			chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
		if err != nil {
			t.Fatalf("waiting for outcome %d on the page: %v", after+1, err)
		}
		return o
	}

	run("open the page", chromedp.Navigate(srv.URL+"/"))
	if title, err := chromedp.Run(deadline, chromedp.Title()); err != nil || title != "Casa Verde — front door" {
		t.Fatalf("page title %q, %v", title, err)
	}

	// 1. The member scans the challenge; the scanner types the answer key by key, then
	// Enter.
	c1 := challenge("")
	step("challenge shown")
	vp := string(w.present(c1.Nonce, c1.Audience))
	run("type the presentation", chromedp.SendKeys(chromedp.CSS("#presentation"), vp+"\r"))
	o := outcome(0)
	step("admitted shown")
	if o.Decision != "admitted" || o.Title != "ADMITTED" || !strings.Contains(o.Class, "result-admitted") || !strings.Contains(o.Detail, "membership") {
		t.Fatalf("first check-in: the page shows %+v", o)
	}
	if v, err := chromedp.Run(deadline, chromedp.Value(chromedp.CSS("#presentation"))); err != nil || v != "" {
		t.Fatalf("the field was not cleared: %q, %v", v, err)
	}

	// The page as door staff see it.
	shot, err := chromedp.Run(deadline, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "kiosk-admitted.png")
	if dir := os.Getenv("CIVITAS_KIOSK_SCREENSHOTS"); dir != "" {
		file = filepath.Join(dir, "kiosk-admitted.png")
	}
	if err := os.WriteFile(file, shot, 0o600); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, file, 1280)

	// 2. The same presentation again, pasted and sent with the button: a replay.
	run("paste the same presentation", chromedp.SetValue(chromedp.CSS("#presentation"), vp))
	run("press Check in", chromedp.Click(chromedp.CSS("#submit")))
	o = outcome(o.Count)
	step("replay refused shown")
	if o.Decision != "refused" || o.Title != "REFUSED" || !strings.Contains(o.Class, "result-refused") ||
		len(o.Reasons) != 1 || o.Reasons[0] != words("replayed") {
		t.Fatalf("replay: the page shows %+v", o)
	}

	// 3. A presentation made for another door, answering the page's new challenge.
	c3 := challenge(c1.Nonce)
	step("new challenge shown")
	other := string(w.present(c3.Nonce, "did:example:another-node"))
	// This time the text arrives in one piece (as a paste or a fast scanner's burst
	// does) and Enter is a key press.
	run("insert the other door's presentation", chromedp.Steps(
		chromedp.Focus(chromedp.CSS("#presentation")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, input.InsertText, input.InsertTextParams{Text: other})
			return err
		}),
		chromedp.SendKeys(chromedp.CSS("#presentation"), "\r"),
	))
	o = outcome(o.Count)
	if o.Decision != "refused" || o.Title != "REFUSED" || !containsText(o.Reasons, words("audience_mismatch")) {
		t.Fatalf("other door: the page shows %+v", o)
	}
	shot, err = chromedp.Run(deadline, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("CIVITAS_KIOSK_SCREENSHOTS"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "kiosk-refused.png"), shot, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// 4. Not a presentation at all: the page says it could not read it.
	run("type garbage", chromedp.SendKeys(chromedp.CSS("#presentation"), "hello world\r"))
	o = outcome(o.Count)
	if o.Decision != "error" || o.Title != "NOT READ" {
		t.Fatalf("garbage: the page shows %+v", o)
	}

	// After a while the decision clears and the page is ready for the next member.
	if _, err := chromedp.Run(deadline, chromedp.Poll[bool](
		`document.getElementById('result').getAttribute('data-decision') === '' && document.getElementById('result-title').innerText === 'Ready'`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("the decision did not clear: %v", err)
	}

	// 5. In another tab, a door admitting under its stale-bundle fallback: the page
	// shows the distinct flagged state, and reasons the door gives.
	flagged := httptest.NewServer(kiosk.New(&fakeDoor{decision: node.Decision{
		Decision: node.AdmittedFlagged, Admitted: true, Type: "ResidencyCredential",
		Codes: []string{"bundle_stale"}, Reasons: []string{"The door's trust list is out of date."}, At: time.Now(), Seq: 7,
	}, ttl: 8 * time.Second}, kiosk.Options{Logger: quietLogger()}))
	defer flagged.Close()
	tab, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	tabDeadline, stopTab := context.WithTimeout(tab, 30*time.Second)
	defer stopTab()
	if err := chromedp.Do(tabDeadline, chromedp.Navigate(flagged.URL+"/")); err != nil {
		t.Fatalf("flagged tab: %v", err)
	}
	// Its challenges live 8 seconds: the page shows a new one before the first ends.
	readChallenge := func(prev string) pageChallenge {
		t.Helper()
		c, err := chromedp.Run(tabDeadline, chromedp.Poll[pageChallenge](fmt.Sprintf(challengeJS, prev),
			chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(7*time.Second)))
		if err != nil {
			t.Fatalf("flagged tab: waiting for a challenge after %q: %v", prev, err)
		}
		return c
	}
	first := readChallenge("")
	if next := readChallenge(first.Nonce); next.Nonce == first.Nonce || next.QR < 100 {
		t.Fatalf("no refresh: %+v then %+v", first, next)
	}
	step("challenge refreshed before it expired")
	if err := chromedp.Do(tabDeadline,
		chromedp.SendKeys(chromedp.CSS("#presentation"), "eyJhbGciOiJFZERTQSJ9.e30.c2ln\r"),
	); err != nil {
		t.Fatalf("flagged tab: %v", err)
	}
	fo, err := chromedp.Run(tabDeadline, chromedp.Poll[pageOutcome](fmt.Sprintf(outcomeJS, 0), chromedp.WithPollingInterval(10*time.Millisecond)))
	if err != nil {
		t.Fatalf("flagged tab: %v", err)
	}
	if fo.Decision != "admitted-flagged" || fo.Title != "ADMITTED — FLAGGED" || !strings.Contains(fo.Class, "result-flagged") ||
		!strings.Contains(fo.Detail, "flagged for review") || !containsText(fo.Reasons, "The door's trust list is out of date.") {
		t.Fatalf("flagged: the page shows %+v", fo)
	}
	if dir := os.Getenv("CIVITAS_KIOSK_SCREENSHOTS"); dir != "" {
		if shot, err := chromedp.Run(tabDeadline, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "kiosk-flagged.png"), shot, 0o600)
		}
	}
	step("flagged shown")

	mu.Lock()
	defer mu.Unlock()
	for _, u := range requests {
		if !strings.HasPrefix(u, srv.URL+"/") {
			t.Errorf("the page asked for %s, outside the kiosk", u)
		}
	}
	if len(requests) < 5 {
		t.Errorf("only %d requests seen: %v", len(requests), requests)
	}
	for _, c := range complaints {
		// The garbage request's 400 is logged by the browser as a failed resource.
		if strings.Contains(c, "status of 400") {
			continue
		}
		t.Errorf("browser complained: %s", c)
	}
}

func checkPNG(t *testing.T, file string, width int) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) == 0 || !bytes.HasPrefix(raw, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("%s is not a PNG (%d bytes)", file, len(raw))
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if b := img.Bounds(); b.Dx() != width || b.Dy() == 0 {
		t.Fatalf("%s: %v, want %d wide", file, b, width)
	}
}

func containsText(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// syncBuffer collects the browser's output for a failure message.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
