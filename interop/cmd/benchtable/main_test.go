package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkCompare/issue/vc+jwt-2         	    1059	    226640 ns/op	     24391 civitas-B/op	       310.3 civitas-allocs/op	     75287 civitas-cpu-ns/op	     97238 civitas-ns/op	         0 ed25519-allocs/op	     26748 ed25519-cpu-ns/op	     25999 ed25519-ns/op	     20360 vcgo-B/op	       218.0 vcgo-allocs/op	     58786 vcgo-cpu-ns/op	     64900 vcgo-ns/op	         3.740 x-ed25519	         2.815 x-ed25519-cpu	         1.498 x-vcgo	         1.281 x-vcgo-cpu	   44502 B/op	     527 allocs/op
BenchmarkCompare/issue/vc+jwt-2         	    1000	    200000 ns/op	     24391 civitas-B/op	       310.3 civitas-allocs/op	     75000 civitas-cpu-ns/op	     90000 civitas-ns/op	         0 ed25519-allocs/op	     26748 ed25519-cpu-ns/op	     25000 ed25519-ns/op	     20360 vcgo-B/op	       218.0 vcgo-allocs/op	     58786 vcgo-cpu-ns/op	     60000 vcgo-ns/op	         3.600 x-ed25519	         2.815 x-ed25519-cpu	         1.500 x-vcgo	         1.281 x-vcgo-cpu	   44502 B/op	     527 allocs/op
BenchmarkCompare/issue/vc+jwt-2         	    1000	    200000 ns/op	     24391 civitas-B/op	       310.3 civitas-allocs/op	     75000 civitas-cpu-ns/op	   1000000 civitas-ns/op	         0 ed25519-allocs/op	     26748 ed25519-cpu-ns/op	     25000 ed25519-ns/op	     20360 vcgo-B/op	       218.0 vcgo-allocs/op	     58786 vcgo-cpu-ns/op	     60000 vcgo-ns/op	         3.600 x-ed25519	         2.815 x-ed25519-cpu	         1.200 x-vcgo	         1.281 x-vcgo-cpu	   44502 B/op	     527 allocs/op
BenchmarkCompare/verify/eddsa-rdfc-2022-2        	      34	   6286052 ns/op	   773318 civitas-ns/op	   5345236 vcgo-ns/op	    56394 ed25519-ns/op	    0.1447 x-vcgo	    13.71 x-ed25519
PASS
ok  	github.com/civitas-net/civitas/interop	6.886s
`

func TestParseAndRender(t *testing.T) {
	var echo bytes.Buffer
	res, err := parse(strings.NewReader(sample), &echo)
	if err != nil {
		t.Fatal(err)
	}
	if echo.String() != sample {
		t.Error("the input is not copied through unchanged")
	}
	if err := res.check(); err != nil {
		t.Fatal(err)
	}
	if len(res.rows) != 2 || res.rows[0].op != "issue" || res.rows[0].format != "vc+jwt" || res.rows[1].format != "eddsa-rdfc-2022" {
		t.Fatalf("rows %+v", res.rows)
	}
	var out bytes.Buffer
	render(&out, res)
	got := out.String()
	for _, want := range []string{
		"Medians of 3 run(s)",
		// civitas-ns/op 97238, 90000, 1000000: the median, not the mean.
		"| issue | vc+jwt | 97,238 | 60,000 | 25,000 | 310 | 218 | 1.498× | 3.600× |",
		"| verify | eddsa-rdfc-2022 | 773,318 | 5,345,236 | 56,394 | – | – | 0.145× | 13.710× |",
		"| issue | vc+jwt | 75,000 | 58,786 | 26,748 | 1.281× | 2.815× |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     error
	}{
		{"no results", "PASS\nok  \tpkg\t1s\n", errNoResults},
		{"failed", strings.Replace(sample, "ok  \t", "FAIL\t", 1), errFailed},
		{"failed benchmark", sample + "--- FAIL: BenchmarkCompare\n", errFailed},
		{"no ok line", strings.Replace(sample, "ok  \t", "", 1), errFailed},
		{"empty", "", errNoResults},
		{"only names", "BenchmarkCompare/issue/vc+jwt\nok  \tpkg\n", errNoResults},
		{"bad numbers", "BenchmarkX-2 10 1e400000x ns/op\nok\n", errNoResults},
	} {
		res, err := parse(strings.NewReader(c.in), nil)
		if err == nil {
			err = res.check()
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestGrouped(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", -1500: "-1,500"} {
		if got := grouped(v); got != want {
			t.Errorf("grouped(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestMedian(t *testing.T) {
	if _, ok := median(nil); ok {
		t.Error("median of nothing")
	}
	if m, _ := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median %v, want 2.5", m)
	}
}

// FuzzParse feeds arbitrary text to the parser: it must not panic, must copy the input
// through line by line, and must render whatever it gathered.
func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("BenchmarkA-2 1 1 ns/op 2 x-vcgo\nok\n")
	f.Add("Benchmark 0 NaN x-vcgo\n")
	f.Add("Benchmark/-/- 5 -Inf civitas-ns/op\n")
	f.Fuzz(func(t *testing.T, in string) {
		var echo bytes.Buffer
		res, err := parse(strings.NewReader(in), &echo)
		if err != nil {
			return
		}
		if len(in) > 0 && !strings.Contains(echo.String(), strings.TrimRight(strings.Split(in, "\n")[0], "\r")) {
			t.Fatalf("first line not copied: %q", in)
		}
		render(&bytes.Buffer{}, res)
		_ = res.check()
	})
}
