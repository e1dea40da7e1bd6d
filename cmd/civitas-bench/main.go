// Command civitas-bench is the issuer service's load benchmark (make bench-http). It
// starts the real server binary on a fresh embedded store, drives it over loopback with
// concurrent keep-alive clients, and reports throughput, latency percentiles and the
// server's peak resident memory for two workloads:
//
//   - issue: POST /credentials/issue of membership credentials as vc+jwt, each with
//     status list entries assigned and committed durably before the response;
//   - verify: POST /credentials/verify of one such credential.
//
// Client and server share the machine, so the numbers are a floor for a server with the
// machine to itself.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "civitas-bench:", err)
		os.Exit(1)
	}
}

type config struct {
	server      string
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	db          string
}

func run() error {
	var c config
	flag.StringVar(&c.server, "server", "bin/civitas", "the civitas binary to benchmark")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "how long each workload runs")
	flag.DurationVar(&c.warmup, "warmup", 2*time.Second, "warm-up before each measurement")
	flag.IntVar(&c.concurrency, "concurrency", 32, "concurrent clients")
	flag.StringVar(&c.db, "db", "", "postgres:// URL (default: the embedded SQLite store)")
	flag.Parse()

	dir, err := os.MkdirTemp("", "civitas-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := startServer(c, dir)
	if err != nil {
		return err
	}
	defer srv.stop()

	token, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		return err
	}
	b := &bench{base: srv.base, token: strings.TrimSpace(string(token)), client: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: c.concurrency * 2, MaxIdleConnsPerHost: c.concurrency * 2, MaxConnsPerHost: c.concurrency * 2},
	}}
	if err := b.setup(); err != nil {
		return err
	}
	fmt.Printf("civitas-bench: %d clients, %s per workload (after %s warm-up), store %s, GOMAXPROCS of this machine %d cores\n\n",
		c.concurrency, c.duration, c.warmup, storeName(c), runtime.NumCPU())
	fmt.Printf("%-8s %9s %7s %11s %9s %9s %9s\n", "workload", "requests", "errors", "per second", "p50 ms", "p99 ms", "max ms")
	issue := b.load(c, "issue", b.issueBody, "/credentials/issue", http.StatusCreated)
	verifyBody, err := b.oneCredential()
	if err != nil {
		return err
	}
	verify := b.load(c, "verify", verifyBody, "/credentials/verify", http.StatusOK)
	rss, err := peakRSS(srv.cmd.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Printf("\nserver peak RSS: %.1f MiB\n\n", float64(rss)/(1<<20))
	fmt.Println("targets:")
	check := func(name string, ok bool) {
		mark := "MET"
		if !ok {
			mark = "NOT MET"
		}
		fmt.Printf("  %-58s %s\n", name, mark)
	}
	check("issue >= 1000 credentials/s (vc+jwt, durable, status assigned)", issue.rate >= 1000)
	check("issue p99 < 50 ms", issue.p99 < 50*time.Millisecond)
	check("verify >= 5000 verifications/s", verify.rate >= 5000)
	check("server peak RSS < 256 MiB", rss < 256<<20)
	return nil
}

func storeName(c config) string {
	if c.db != "" {
		return "postgres"
	}
	return "sqlite (embedded)"
}

// server is the benchmarked process.
type server struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
}

func startServer(c config, dir string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	args := []string{"serve", "--data", dir, "--addr", "127.0.0.1:" + port, "--public-url", "http://127.0.0.1:" + port}
	if c.db != "" {
		args = append(args, "--db", c.db)
	}
	cmd := exec.Command(c.server, args...)
	cmd.Env = append(os.Environ(), "CIVITAS_KEYSTORE_PASSPHRASE=civitas-bench")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w (run make build first)", c.server, err)
	}
	s := &server{cmd: cmd, base: "http://127.0.0.1:" + port, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-s.done:
			return nil, errors.New("the server exited during start-up")
		default:
		}
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.stop()
	return nil, errors.New("the server did not become ready")
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
	}
}

type bench struct {
	base, token string
	client      *http.Client
	issueBody   []byte
}

const member = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"

func (b *bench) post(path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, b.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// setup registers the example member and prepares the issue request.
func (b *bench) setup() error {
	status, out, err := b.post("/admin/members", []byte(`{"id":"`+member+`","name":"Bench Member"}`))
	if err != nil || status != http.StatusCreated {
		return fmt.Errorf("register member: %d %s %v", status, out, err)
	}
	b.issueBody = []byte(`{"credential":{"type":["VerifiableCredential","MembershipCredential"],"credentialSubject":{"id":"` + member +
		`","type":"Member","community":{"id":"https://harbourcommons.example/","name":"Harbour Commons"},"role":"member","membershipLevel":"full","memberSince":"2024-03-01"}},"options":{"format":"jwt"}}`)
	return nil
}

// oneCredential issues one credential and returns a verify request for it.
func (b *bench) oneCredential() ([]byte, error) {
	status, out, err := b.post("/credentials/issue", b.issueBody)
	if err != nil || status != http.StatusCreated {
		return nil, fmt.Errorf("issue: %d %s %v", status, out, err)
	}
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, err
	}
	return out, nil // the issue response is {"verifiableCredential": …}, a verify request
}

// result is one workload's measurement.
type result struct {
	rate          float64
	p50, p99, max time.Duration
}

// load runs body against path with c.concurrency clients: a warm-up, then a measured
// run of c.duration.
func (b *bench) load(c config, name string, body []byte, path string, want int) result {
	run := func(d time.Duration) ([]time.Duration, int) {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		var mu sync.Mutex
		var all []time.Duration
		errs := 0
		var wg sync.WaitGroup
		for range c.concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var lat []time.Duration
				bad := 0
				for ctx.Err() == nil {
					start := time.Now()
					status, _, err := b.post(path, body)
					if err != nil || status != want {
						bad++
						continue
					}
					lat = append(lat, time.Since(start))
				}
				mu.Lock()
				all = append(all, lat...)
				errs += bad
				mu.Unlock()
			}()
		}
		wg.Wait()
		return all, errs
	}
	run(c.warmup)
	lat, errs := run(c.duration)
	slices.Sort(lat)
	r := result{rate: float64(len(lat)) / c.duration.Seconds()}
	if n := len(lat); n > 0 {
		r.p50, r.p99, r.max = lat[n/2], lat[n*99/100], lat[n-1]
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("%-8s %9d %7d %11.0f %9.2f %9.2f %9.2f\n", name, len(lat), errs, r.rate, ms(r.p50), ms(r.p99), ms(r.max))
	return r
}

// peakRSS reads a process's peak resident set size (VmHWM) from /proc.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read server memory: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}
