package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
)

func init() {
	register("bench", "time native, wazero and node side by side", runBench)
}

// benchReq is the invitation that passes every invite rule: the slowest
// path through the default policy.
const benchReq = `{"stage":"invite","now":"2026-03-02T10:00:00-08:00","note":"Hi Bob, we met at the Go meetup.",
 "sender":{"id":"alice","kind":"person","tier":"free","status":"active","connections":120,"company":"Acme","school":"State U",
           "sent":{"hour":1,"day":4,"week":20,"month":60},"acceptance_rate":0.6},
 "recipient":{"id":"bob","kind":"person","tier":"free","status":"active","connections":80,"company":"Globex","school":"Tech"},
 "pair":{"degree":2,"mutual":3}}`

type benchRow struct {
	name                 string
	unit                 string
	native, wazero, node float64 // 0: not measured
	higherIsBetter       bool
}

func runBench(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "bench", "[--policy FILE] [--seconds S] [--js-wasm FILE] [--node-runner FILE]")
	policy := fs.String("policy", "policies.yaml", "policy file")
	seconds := fs.Float64("seconds", 1, "time per measurement")
	jsWasm := fs.String("js-wasm", "bin/connrules-js.wasm", "the js build (make wasm)")
	runner := fs.String("node-runner", "wasm/js/run.js", "the Node driver")
	child := fs.String("cold-start-child", "", "internal: time one cold start in this process, with this cache dir or \"-\" for none")
	if _, err := parseFlags(fs, args); err != nil {
		return exitUsage
	}
	src, err := os.ReadFile(*policy)
	if err != nil {
		fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
		return exitFail
	}
	if *child != "" {
		return coldStartChild(ctx, e, *policy, src, *child)
	}
	p, err := rules.Load(*policy, src)
	if err != nil {
		fmt.Fprintln(e.Stderr, err)
		return exitFail
	}
	req, err := rules.DecodeRequest([]byte(benchReq))
	if err != nil {
		fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
		return exitFail
	}
	dur := time.Duration(*seconds * float64(time.Second))
	procs := runtime.GOMAXPROCS(0)
	fmt.Fprintf(e.Stdout, "connrules bench: %s, %d CPUs, %s, %s per figure; request: an allow that walks every invite rule\n\n",
		*policy, procs, runtime.Version(), dur)

	rows := []*benchRow{
		{name: "decide, one request", unit: "µs"},
		{name: "decide, batch of 64", unit: "µs/decision"},
		{name: fmt.Sprintf("concurrent, %d goroutines", procs), unit: "decisions/s", higherIsBetter: true},
		{name: "cold start, no cache", unit: "ms"},
		{name: "cold start, compilation cache", unit: "ms"},
		{name: "memory per instance", unit: "MiB"},
	}

	// Native.
	rows[0].native = perOp(dur, func() { p.Decide(req) }) / 1e3
	batch := make([]*rules.Request, 64)
	for i := range batch {
		batch[i] = req
	}
	rows[1].native = perOp(dur, func() {
		for _, r := range batch {
			p.Decide(r)
		}
	}) / 64 / 1e3
	rows[2].native = parallel(dur, procs, func() { p.Decide(req) })

	// wazero.
	eng, err := host.New(ctx)
	if err == nil {
		err = eng.Load(ctx, *policy, src)
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "connrules: wazero: %v\n", err)
		return exitFail
	}
	defer eng.Close(ctx)
	var werr error
	rows[0].wazero = perOp(dur, func() {
		if _, err := eng.Decide(ctx, req); err != nil {
			werr = err
		}
	}) / 1e3
	rows[1].wazero = perOp(dur, func() {
		if _, err := eng.DecideBatch(ctx, batch); err != nil {
			werr = err
		}
	}) / 64 / 1e3
	rows[2].wazero = parallel(dur, procs, func() {
		if _, err := eng.Decide(ctx, req); err != nil {
			werr = err
		}
	})
	if werr != nil {
		fmt.Fprintf(e.Stderr, "connrules: wazero: %v\n", werr)
		return exitFail
	}
	if mem := eng.InstanceMemory(); len(mem) > 0 {
		var max uint32
		for _, m := range mem {
			max = maxU32(max, m)
		}
		rows[5].wazero = float64(max) / (1 << 20)
	}
	cache, _ := os.MkdirTemp("", "connrules-bench-cache")
	defer os.RemoveAll(cache)
	rows[3].wazero, err = coldStart(ctx, *policy, "-")
	if err == nil {
		_, err = coldStart(ctx, *policy, cache) // fills the cache
	}
	if err == nil {
		rows[4].wazero, err = coldStart(ctx, *policy, cache)
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "connrules: cold start: %v\n", err)
	}

	// Node.
	nodeNote := ""
	if nb, err := nodeBench(src, *policy, *jsWasm, *runner, dur); err != nil {
		nodeNote = "node: skipped: " + err.Error()
	} else {
		rows[0].node, rows[1].node, rows[3].node = nb.DecideNS/1e3, nb.BatchNS/1e3, nb.ColdMS
		nodeNote = fmt.Sprintf("node: %s, module %s (cold start: read, compile, instantiate, load, decide)", nb.Node, *jsWasm)
	}

	tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tnative\twazero\twazero/native\tnode\tnode/native\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s (%s)\t%s\t%s\t%s\t%s\t%s\t\n", r.name, r.unit,
			num(r.native), num(r.wazero), ratio(r.wazero, r.native, r.higherIsBetter), num(r.node), ratio(r.node, r.native, r.higherIsBetter))
	}
	tw.Flush()
	fmt.Fprintln(e.Stdout)
	fmt.Fprintln(e.Stdout, nodeNote)
	fmt.Fprintln(e.Stdout, "ratios are slowdowns against native (2.0x = half the speed); concurrent wazero uses a pool of GOMAXPROCS instances")
	fmt.Fprintln(e.Stdout)
	sizes(e.Stdout, "wasip1 (embedded in host/)", host.Module)
	if b, err := os.ReadFile(*jsWasm); err == nil {
		sizes(e.Stdout, "js ("+*jsWasm+")", b)
	}
	return exitOK
}

func maxU32(a, b uint32) uint32 {
	if a > b {
		return a
	}
	return b
}

// perOp runs f for about d and returns nanoseconds per call.
func perOp(d time.Duration, f func()) float64 {
	f() // warm up
	n, start := 0, time.Now()
	for time.Since(start) < d {
		for range 16 {
			f()
		}
		n += 16
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// parallel runs f from procs goroutines for about d and returns calls per second.
func parallel(d time.Duration, procs int, f func()) float64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < d {
				for range 16 {
					f()
				}
				n.Add(16)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

func num(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func ratio(v, native float64, higherIsBetter bool) string {
	if v == 0 || native == 0 {
		return "-"
	}
	if higherIsBetter {
		return fmt.Sprintf("%.1fx", native/v)
	}
	return fmt.Sprintf("%.1fx", v/native)
}

func sizes(w io.Writer, name string, b []byte) {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	fmt.Fprintf(w, "size %-40s raw %8d  gzip -9 %8d\n", name, len(b), gz.Len())
}

// coldStart times a fresh process: compile (or read the cache), instantiate,
// load and decide once. cache "-" means no compilation cache.
func coldStart(ctx context.Context, policy, cache string) (float64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	out, err := exec.CommandContext(ctx, exe, "bench", "--policy", policy, "--cold-start-child", cache).Output()
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, out)
	}
	return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
}

func coldStartChild(ctx context.Context, e *Env, policy string, src []byte, cache string) int {
	req, err := rules.DecodeRequest([]byte(benchReq))
	if err != nil {
		fmt.Fprintln(e.Stderr, err)
		return exitFail
	}
	start := time.Now()
	var opts []host.Option
	if cache != "-" {
		opts = append(opts, host.WithCompilationCache(cache))
	} else {
		opts = append(opts, host.WithoutCompilationCache()) // New's default would hit the user's cache
	}
	eng, err := host.New(ctx, append(opts, host.WithPoolSize(1))...)
	if err == nil {
		err = eng.Load(ctx, policy, src)
	}
	if err == nil {
		_, err = eng.Decide(ctx, req)
	}
	if err != nil {
		fmt.Fprintln(e.Stderr, err)
		return exitFail
	}
	fmt.Fprintf(e.Stdout, "%.3f\n", float64(time.Since(start).Microseconds())/1e3)
	return exitOK
}

type nodeResult struct {
	Node     string
	DecideNS float64 `json:"decide_ns"`
	BatchNS  float64 `json:"batch_ns_each"`
	ColdMS   float64 `json:"cold_start_ms"`
}

func nodeBench(src []byte, policy, jsWasm, runner string, d time.Duration) (*nodeResult, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node is not installed")
	}
	if _, err := os.Stat(jsWasm); err != nil {
		return nil, fmt.Errorf("no js build at %s (run make wasm)", jsWasm)
	}
	if _, err := os.Stat(runner); err != nil {
		return nil, fmt.Errorf("no Node driver at %s (run from the repository root)", runner)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOROOT: %v", err)
	}
	wasmExec := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js")
	job, _ := json.Marshal(map[string]any{
		"mode":     "bench",
		"policies": []map[string]string{{"file": policy, "src": string(src)}},
		"request":  base64.StdEncoding.EncodeToString([]byte(benchReq)),
		"batch":    64,
		"seconds":  d.Seconds(),
	})
	cmd := exec.Command(node, runner, wasmExec, jsWasm)
	cmd.Stdin = bytes.NewReader(job)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var r nodeResult
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, err
	}
	v, _ := exec.Command(node, "--version").Output()
	r.Node = "Node " + strings.TrimSpace(string(v))
	return &r, nil
}
