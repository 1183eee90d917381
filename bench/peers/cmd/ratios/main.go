// Command ratios reads `go test -bench` output of bench/peers on stdin,
// passes it through, and then prints each engine's median figures as
// ratios to the hand-written function of the same benchmark in the same
// run:
//
//	go test -run '^$' -bench . -benchmem -count 3 | go run ./cmd/ratios
//
// It exits non-zero when the run failed or held no benchmark, so a
// pipeline in make still fails.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// sample is one benchmark line's figures.
type sample struct {
	ns, cpu, allocs float64
}

// key names an engine in a benchmark: ("Allow", "cel").
type key struct{ bench, engine string }

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	samples := map[key][]sample{}
	var order []key
	failed := false
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(out, line)
		if strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- FAIL") {
			failed = true
		}
		k, s, ok := parse(line)
		if !ok {
			continue
		}
		if _, seen := samples[k]; !seen {
			order = append(order, k)
		}
		samples[k] = append(samples[k], s)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if failed {
		return fmt.Errorf("the benchmark run failed")
	}
	if len(order) == 0 {
		return fmt.Errorf("no benchmark lines on stdin")
	}
	fmt.Fprintf(out, "\nmedians of %d runs; x = ratio to hand in the same run\n", len(samples[order[0]]))
	fmt.Fprintf(out, "%-22s %12s %8s %12s %8s %7s\n", "benchmark", "ns/op", "x", "cpu-ns/op", "x", "allocs")
	for _, k := range order {
		m, floor := median(samples[k]), median(samples[key{k.bench, "hand"}])
		fmt.Fprintf(out, "%-22s %12.0f %8s %12.0f %8s %7.0f\n", k.bench+"/"+k.engine,
			m.ns, ratio(m.ns, floor.ns), m.cpu, ratio(m.cpu, floor.cpu), m.allocs)
	}
	return nil
}

// parse reads "BenchmarkAllow/cel-2  1000  79514 ns/op  118.4 cpu-ns/op  6248 B/op  159 allocs/op".
func parse(line string) (key, sample, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return key{}, sample{}, false
	}
	name := strings.TrimPrefix(f[0], "Benchmark")
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		name = name[:i] // the GOMAXPROCS suffix
	}
	bench, engine, ok := strings.Cut(name, "/")
	if !ok {
		return key{}, sample{}, false
	}
	var s sample
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return key{}, sample{}, false
		}
		switch f[i+1] {
		case "ns/op":
			s.ns = v
		case "cpu-ns/op":
			s.cpu = v
		case "allocs/op":
			s.allocs = v
		}
	}
	return key{bench, engine}, s, s.ns > 0
}

func median(ss []sample) sample {
	pick := func(get func(sample) float64) float64 {
		if len(ss) == 0 {
			return 0
		}
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = get(s)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return sample{
		ns:     pick(func(s sample) float64 { return s.ns }),
		cpu:    pick(func(s sample) float64 { return s.cpu }),
		allocs: pick(func(s sample) float64 { return s.allocs }),
	}
}

func ratio(v, floor float64) string {
	if floor == 0 {
		return "-"
	}
	return strconv.FormatFloat(v/floor, 'f', 1, 64) + "x"
}
