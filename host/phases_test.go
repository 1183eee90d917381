package host

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/connrules/connrules/wasm/guest"
)

// BenchmarkPhases times the phases of one wire decision inside the guest,
// on a module built with -tags phases:
//
//	GOOS=wasip1 GOARCH=wasm go build -tags phases -buildmode=c-shared -o /tmp/phases.wasm ./wasm/wasip1
//	CONNRULES_PHASES_MODULE=/tmp/phases.wasm go test ./host -run '^$' -bench Phases
//
// Each phase is repeated inside one call, so the crossing is not in the
// figures; a phase's cost is the difference from the one before it.
// allocs/op is the guest's heap allocations per repetition.
func BenchmarkPhases(b *testing.B) {
	path := os.Getenv("CONNRULES_PHASES_MODULE")
	if path == "" {
		b.Skip("CONNRULES_PHASES_MODULE is not set")
	}
	mod, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	c := config{pool: 1, memPages: DefaultMemoryLimitPages}
	saved := Module
	Module = mod
	sh, err := compile(ctx, c)
	Module = saved
	if err != nil {
		b.Fatal(err)
	}
	e := newEngine(c, sh)
	defer e.Close(ctx)
	if err := e.Load(ctx, "policies.yaml", benchPolicy(b)); err != nil {
		b.Fatal(err)
	}
	for _, r := range []struct {
		name string
		req  func() []byte
	}{
		{"early", func() []byte { w, _ := guest.AppendWire(nil, benchEarlyRequest()); return w }},
		{"allow", func() []byte { w, _ := guest.AppendWire(nil, benchRequest()); return w }},
	} {
		for phase, name := range []string{"none", "decode", "decide", "encode", "yield", "decideflags"} {
			b.Run(r.name+"/"+name, func(b *testing.B) {
				const reps = 1000
				var allocs uint64
				err := e.call(ctx, "version", func(in *instance) error {
					if err := in.write(ctx, r.req()); err != nil {
						return err
					}
					f := in.mod.ExportedFunction("debug_phase")
					var stack [5]uint64
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					b.ResetTimer()
					start, cpu0 := time.Now(), threadCPU()
					for range b.N {
						stack = [5]uint64{uint64(in.buf), uint64(len(r.req())), guest.FlagWire | guest.FlagWireOut, uint64(phase), reps}
						if err := f.CallWithStack(ctx, stack[:]); err != nil {
							return err
						}
						allocs += stack[0]
					}
					b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*reps), "ns/rep")
					b.ReportMetric(float64((threadCPU()-cpu0).Nanoseconds())/float64(b.N*reps), "cpu-ns/rep")
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(allocs)/float64(b.N*reps), "allocs/rep")
			})
		}
	}
}

// BenchmarkLoadModule is a new instance and Load on the module in
// CONNRULES_PHASES_MODULE (any build of wasm/wasip1), with the instance's
// memory after it: for comparing builds, such as GC settings during load.
func BenchmarkLoadModule(b *testing.B) {
	path := os.Getenv("CONNRULES_PHASES_MODULE")
	if path == "" {
		b.Skip("CONNRULES_PHASES_MODULE is not set")
	}
	mod, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	c := config{pool: 1, memPages: DefaultMemoryLimitPages}
	saved := Module
	Module = mod
	sh, err := compile(ctx, c)
	Module = saved
	if err != nil {
		b.Fatal(err)
	}
	src := benchPolicy(b)
	defer cpuMsPerOp(b)()
	var size uint32
	for b.Loop() {
		e := newEngine(c, sh)
		if err := e.Load(ctx, "policies.yaml", src); err != nil {
			b.Fatal(err)
		}
		size = e.InstanceMemory()[0]
		b.StopTimer()
		_ = e.Close(ctx)
		b.StartTimer()
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB/instance")
}
