package host

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/wasm/guest"
	"github.com/connrules/connrules/wasm/wasmbuild"
)

// Benchmarks: native and wazero side by side, on the default policy and
// the request that walks every invite rule (an allow: the slowest path).
//
//	go test ./host -run '^$' -bench . -benchmem
//
// Each wazero figure has a native twin in the same run, so the ratio is
// read off one output. `connrules bench` prints the ratios, with Node.

func benchPolicy(b *testing.B) []byte {
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		b.Fatal(err)
	}
	return src
}

// benchRequest passes every invite rule.
func benchRequest() *rules.Request {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("PST", -8*3600))
	return &rules.Request{
		Stage: rules.StageInvite, Now: now, Note: "Hi Bob, we met at the Go meetup.",
		Sender: &rules.Member{ID: "alice", Kind: "person", Tier: "free", Status: "active", Connections: 120,
			Company: "Acme", School: "State U", Sent: rules.Counts{Hour: 1, Day: 4, Week: 20, Month: 60}, AcceptanceRate: 0.6},
		Recipient: &rules.Member{ID: "bob", Kind: "person", Tier: "free", Status: "active", Connections: 80,
			Company: "Globex", School: "Tech"},
		Pair: rules.Pair{Degree: 2, Mutual: 3},
	}
}

// benchEarlyRequest has no recipient: an early denial.
func benchEarlyRequest() *rules.Request {
	r := benchRequest()
	r.Recipient = nil
	return r
}

func benchEngine(b *testing.B, opts ...Option) *Engine {
	ctx := context.Background()
	e, err := New(ctx, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Close(ctx) })
	if err := e.Load(ctx, "policies.yaml", benchPolicy(b)); err != nil {
		b.Fatal(err)
	}
	return e
}

// cpuPerOp reports the calling thread's CPU time per operation beside
// the wall clock (cpu-ns/op), which other work on a shared machine
// inflates; call it first, with defer: defer cpuPerOp(b)().
func cpuPerOp(b *testing.B) func() {
	runtime.LockOSThread()
	t0 := threadCPU()
	return func() {
		b.ReportMetric(float64((threadCPU()-t0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		runtime.UnlockOSThread()
	}
}

// cpuMsPerOp reports the process's CPU time per operation in ms
// (cpu-ms/op), every thread included; defer cpuMsPerOp(b)().
func cpuMsPerOp(b *testing.B) func() {
	t0 := procCPU()
	return func() {
		b.ReportMetric(float64((procCPU()-t0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkDecide: one decision, request in and decision out.
func BenchmarkDecide(b *testing.B) {
	ctx := context.Background()
	req := benchRequest()
	b.Run("native", func(b *testing.B) {
		p, err := rules.Load("policies.yaml", benchPolicy(b))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			p.Decide(req)
		}
	})
	b.Run("native-json", func(b *testing.B) {
		// What the guest runs, natively: JSON in, JSON out.
		var g guest.Engine
		g.Load("policies.yaml", benchPolicy(b))
		raw, _ := req.AppendJSON(nil)
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			g.Decide(raw, false)
		}
	})
	b.Run("wazero", func(b *testing.B) {
		e := benchEngine(b, WithPoolSize(1))
		if d, err := e.Decide(ctx, req); err != nil || d.Outcome != "allow" {
			b.Fatalf("%+v %v", d, err)
		}
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := e.Decide(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("wazero-early", func(b *testing.B) {
		// An early denial: no recipient, refused by the stage's first check.
		e := benchEngine(b, WithPoolSize(1))
		early := benchEarlyRequest()
		if d, err := e.Decide(ctx, early); err != nil || d.Outcome == "allow" {
			b.Fatalf("%+v %v", d, err)
		}
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := e.Decide(ctx, early); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("native-early", func(b *testing.B) {
		p, err := rules.Load("policies.yaml", benchPolicy(b))
		if err != nil {
			b.Fatal(err)
		}
		early := benchEarlyRequest()
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			p.Decide(early)
		}
	})
	b.Run("wazero-json", func(b *testing.B) {
		e := benchEngine(b, WithPoolSize(1))
		raw, _ := req.AppendJSON(nil)
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := e.DecideJSON(ctx, raw, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("wazero-explain", func(b *testing.B) {
		e := benchEngine(b, WithPoolSize(1))
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := e.Explain(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecideBatch64 decides 64 requests per call; ns/decision is the
// figure to read.
func BenchmarkDecideBatch64(b *testing.B) {
	ctx := context.Background()
	reqs := make([]*rules.Request, 64)
	for i := range reqs {
		reqs[i] = benchRequest()
	}
	b.Run("native", func(b *testing.B) {
		p, err := rules.Load("policies.yaml", benchPolicy(b))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			for _, r := range reqs {
				p.Decide(r)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(reqs)), "ns/decision")
	})
	b.Run("wazero", func(b *testing.B) {
		e := benchEngine(b, WithPoolSize(1))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.DecideBatch(ctx, reqs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(reqs)), "ns/decision")
	})
}

// BenchmarkConcurrent decides from GOMAXPROCS goroutines through a pool
// of GOMAXPROCS instances; decisions/s is the figure to read.
func BenchmarkConcurrent(b *testing.B) {
	ctx := context.Background()
	b.Run("native", func(b *testing.B) {
		p, err := rules.Load("policies.yaml", benchPolicy(b))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			req := benchRequest()
			for pb.Next() {
				p.Decide(req)
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
	})
	b.Run("wazero", func(b *testing.B) {
		e := benchEngine(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			req := benchRequest()
			for pb.Next() {
				if _, err := e.Decide(ctx, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
	})
	b.Run("wazero-batch64", func(b *testing.B) {
		e := benchEngine(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			reqs := make([]*rules.Request, 64)
			for i := range reqs {
				reqs[i] = benchRequest()
			}
			for pb.Next() {
				if _, err := e.DecideBatch(ctx, reqs); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "decisions/s")
	})
}

// BenchmarkColdStart is a new process's first decision: compile the
// module, instantiate it, load the policy, decide. "cached" reads the
// compiled code from a compilation cache that a first run filled.
// CONNRULES_BENCH_MODULE names another build of wasm/wasip1 to run
// instead of the embedded one, to compare two builds (A/B, alternated):
//
//	CONNRULES_BENCH_MODULE=/tmp/a.wasm go test ./host -run '^$' -bench ColdStart -benchtime 1x -count 5
func BenchmarkColdStart(b *testing.B) {
	ctx := context.Background()
	if path := os.Getenv("CONNRULES_BENCH_MODULE"); path != "" {
		mod, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		saved := Module
		Module = mod
		b.Cleanup(func() { Module = saved })
	}
	src := benchPolicy(b)
	req := benchRequest()
	run := func(b *testing.B, c config) {
		sh, err := compile(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		e := newEngine(c, sh)
		if err := e.Load(ctx, "policies.yaml", src); err != nil {
			b.Fatal(err)
		}
		if _, err := e.Decide(ctx, req); err != nil {
			b.Fatal(err)
		}
		_ = e.Close(ctx)
		_ = sh.rt.Close(ctx)
	}
	base := config{pool: 1, memPages: DefaultMemoryLimitPages}
	b.Run("no-cache", func(b *testing.B) {
		defer cpuMsPerOp(b)()
		for b.Loop() {
			run(b, base)
		}
	})
	b.Run("cached", func(b *testing.B) {
		c := base
		c.cacheDir = b.TempDir()
		run(b, c) // fill the cache
		defer cpuMsPerOp(b)()
		for b.Loop() {
			run(b, c)
		}
	})
	b.Run("compile-cached", func(b *testing.B) {
		// Only the module from a filled cache: decode, validate, read.
		c := base
		c.cacheDir = b.TempDir()
		run(b, c)
		defer cpuMsPerOp(b)()
		for b.Loop() {
			sh, err := compile(ctx, c)
			if err != nil {
				b.Fatal(err)
			}
			_ = sh.rt.Close(ctx)
		}
	})
	b.Run("instantiate", func(b *testing.B) {
		// One instance: the Go runtime's start and the packages' init.
		sh, err := getShared(ctx, base)
		if err != nil {
			b.Fatal(err)
		}
		e := newEngine(base, sh)
		defer e.Close(ctx)
		defer cpuMsPerOp(b)()
		for b.Loop() {
			in, err := e.newInstance(ctx)
			if err != nil {
				b.Fatal(err)
			}
			_ = in.mod.Close(ctx)
		}
	})
	b.Run("instantiate+load", func(b *testing.B) {
		// What a new pooled instance costs once the module is compiled.
		sh, err := getShared(ctx, base)
		if err != nil {
			b.Fatal(err)
		}
		defer cpuMsPerOp(b)()
		for b.Loop() {
			e := newEngine(base, sh)
			if err := e.Load(ctx, "policies.yaml", src); err != nil {
				b.Fatal(err)
			}
			_ = e.Close(ctx)
		}
	})
	b.Run("load-only", func(b *testing.B) {
		e := benchEngine(b, WithPoolSize(1))
		defer cpuMsPerOp(b)()
		for b.Loop() {
			if err := e.Load(ctx, "policies.yaml", src); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkInstanceMemory reports the linear memory of one pooled
// instance after loading the default policy and deciding a thousand
// times (MiB/instance), and the Go heap the host spends per instance.
func BenchmarkInstanceMemory(b *testing.B) {
	ctx := context.Background()
	req := benchRequest()
	var size uint32
	for b.Loop() {
		e := benchEngine(b, WithPoolSize(1))
		for range 1000 {
			if _, err := e.Decide(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
		size = e.InstanceMemory()[0]
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB/instance")
}

// TestModuleSizes logs raw, gzip and brotli sizes of both builds (the js
// one is built here). Run with -v; `connrules bench` prints them too.
func TestModuleSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the js module")
	}
	if raceEnabled {
		t.Skip("a measurement, not a check: brotli -11 takes minutes under -race")
	}
	js := filepath.Join(t.TempDir(), "connrules-js.wasm")
	if err := wasmbuild.Build(context.Background(), "..", wasmbuild.JS, js); err != nil {
		t.Fatal(err)
	}
	jsBytes, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		name string
		b    []byte
	}{{"wasip1 (host/connrules.wasm)", Module}, {"js", jsBytes}} {
		var gz, br bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(m.b)
		zw.Close()
		if gz.Len() == 0 || gz.Len() >= len(m.b) {
			t.Errorf("%s: gzip -9 gives %d bytes of %d", m.name, gz.Len(), len(m.b))
		}
		// brotli -11 takes a minute or more per module on a busy machine,
		// and its figure is only read with -v: measure it only then.
		if !testing.Verbose() {
			t.Logf("%-28s raw %8d  gzip -9 %8d  (brotli -11: run with -v)", m.name, len(m.b), gz.Len())
			continue
		}
		bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
		bw.Write(m.b)
		bw.Close()
		t.Logf("%-28s raw %8d  gzip -9 %8d  brotli -11 %8d", m.name, len(m.b), gz.Len(), br.Len())
	}
	_ = runtime.Version
}

// BenchmarkCrossing is a call into the module that does nothing (free of
// an unknown pointer): the cost of crossing, without guest work.
func BenchmarkCrossing(b *testing.B) {
	ctx := context.Background()
	e := benchEngine(b, WithPoolSize(1))
	defer cpuPerOp(b)()
	err := e.call(ctx, "version", func(in *instance) error {
		for b.Loop() {
			if err := in.free(ctx, 12345); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
