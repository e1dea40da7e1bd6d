// Command benchtable turns the output of the interop benchmarks (go test -bench
// BenchmarkCompare, any -count) into Markdown tables of medians: for each operation and
// format, the Civitas, vc-go and raw Ed25519 time per operation, Civitas's and vc-go's
// allocations per operation, and the ratios Civitas/vc-go (x-vcgo) and Civitas/raw
// Ed25519 (x-ed25519); then the same in process CPU time.
//
// It reads the benchmark output on standard input and copies it to standard output as it
// comes, so that it can sit at the end of a pipe from go test, and prints the tables at
// the end. It exits with status 1 when the input has no benchmark results or reports a
// failure (a FAIL line, or no final "ok" line), so that a failing run is not summarized
// as if it had passed.
//
// It does not run benchmarks, compare runs (use benchstat for before/after), or read
// metrics other than those BenchmarkCompare reports.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	res, err := parse(os.Stdin, os.Stdout)
	if err == nil {
		err = res.check()
	}
	if res != nil && len(res.rows) > 0 {
		fmt.Println()
		render(os.Stdout, res)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// Sentinel errors.
var (
	// errNoResults reports input without any benchmark result line.
	errNoResults = errors.New("no benchmark results in the input")
	// errFailed reports input in which go test reported a failure.
	errFailed = errors.New("the benchmark run failed")
)

// maxLine bounds one input line; go test's benchmark lines are far shorter.
const maxLine = 1 << 20

// row is one benchmark (operation and format) with every value of every metric, one
// per run.
type row struct {
	op, format string
	metrics    map[string][]float64
}

// results is what parse gathered.
type results struct {
	rows   []*row // in the order of first appearance
	failed bool
	ok     bool
}

func (r *results) check() error {
	switch {
	case len(r.rows) == 0:
		return errNoResults
	case r.failed || !r.ok:
		return errFailed
	}
	return nil
}

// parse reads go test output from in, copying every line to echo (when not nil), and
// collects the benchmark results.
func parse(in io.Reader, echo io.Writer) (*results, error) {
	res := &results{}
	byName := map[string]*row{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	for sc.Scan() {
		line := sc.Text()
		if echo != nil {
			fmt.Fprintln(echo, line)
		}
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case fields[0] == "FAIL" || strings.HasPrefix(strings.TrimSpace(line), "--- FAIL"):
			res.failed = true
		case fields[0] == "ok":
			res.ok = true
		case strings.HasPrefix(fields[0], "Benchmark"):
			name, values, ok := benchLine(fields)
			if !ok {
				continue
			}
			r := byName[name]
			if r == nil {
				r = &row{metrics: map[string][]float64{}}
				parts := strings.Split(name, "/")
				r.format = parts[len(parts)-1]
				if len(parts) >= 2 {
					r.op = parts[len(parts)-2]
				}
				byName[name] = r
				res.rows = append(res.rows, r)
			}
			for unit, v := range values {
				r.metrics[unit] = append(r.metrics[unit], v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("read benchmark output: %w", err)
	}
	return res, nil
}

// benchLine parses "BenchmarkX/a/b-8  N  v1 unit1  v2 unit2 …". The -GOMAXPROCS suffix
// is removed from the name. It reports false for lines that are not results (a
// benchmark's name printed alone, a log line).
func benchLine(fields []string) (string, map[string]float64, bool) {
	if len(fields) < 4 || len(fields)%2 != 0 {
		return "", nil, false
	}
	if n, err := strconv.ParseInt(fields[1], 10, 64); err != nil || n <= 0 {
		return "", nil, false
	}
	name := fields[0]
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	values := map[string]float64{}
	for i := 2; i+1 < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return "", nil, false
		}
		values[fields[i+1]] = v
	}
	return name, values, true
}

// median returns the median of vs and whether there was any value.
func median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

// column is one table column: a metric and how to show it.
type column struct {
	title, metric string
	ratio         bool
}

var (
	wallColumns = []column{
		{"Civitas ns/op", "civitas-ns/op", false},
		{"vc-go ns/op", "vcgo-ns/op", false},
		{"Ed25519 ns/op", "ed25519-ns/op", false},
		{"Civitas allocs/op", "civitas-allocs/op", false},
		{"vc-go allocs/op", "vcgo-allocs/op", false},
		{"Civitas/vc-go (x-vcgo)", "x-vcgo", true},
		{"Civitas/Ed25519 (x-ed25519)", "x-ed25519", true},
	}
	cpuColumns = []column{
		{"Civitas CPU ns/op", "civitas-cpu-ns/op", false},
		{"vc-go CPU ns/op", "vcgo-cpu-ns/op", false},
		{"Ed25519 CPU ns/op", "ed25519-cpu-ns/op", false},
		{"Civitas/vc-go", "x-vcgo-cpu", true},
		{"Civitas/Ed25519", "x-ed25519-cpu", true},
	}
)

// render writes the tables of medians.
func render(w io.Writer, res *results) {
	runs := 0
	for _, r := range res.rows {
		runs = max(runs, len(r.metrics["x-vcgo"]))
	}
	fmt.Fprintf(w, "Medians of %d run(s); wall time measured in one loop interleaving batches of each side, allocations counted per call:\n\n", runs)
	table(w, res, wallColumns)
	fmt.Fprintf(w, "\nThe same in process CPU time (all threads, garbage collection included):\n\n")
	table(w, res, cpuColumns)
}

func table(w io.Writer, res *results, cols []column) {
	head := []string{"operation", "format"}
	rule := []string{"---", "---"}
	for _, c := range cols {
		head = append(head, c.title)
		rule = append(rule, "---:")
	}
	fmt.Fprintf(w, "| %s |\n| %s |\n", strings.Join(head, " | "), strings.Join(rule, " | "))
	for _, r := range res.rows {
		cells := []string{r.op, r.format}
		for _, c := range cols {
			v, ok := median(r.metrics[c.metric])
			switch {
			case !ok:
				cells = append(cells, "–")
			case c.ratio:
				cells = append(cells, strconv.FormatFloat(v, 'f', 3, 64)+"×")
			default:
				cells = append(cells, grouped(v))
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}

// grouped formats v rounded to an integer with thousands separators.
func grouped(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
