package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/connrules/connrules/host"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/replay"
)

func init() {
	register("replay", "re-decide an event log under a new policy; report what flips", runReplay)
}

func runReplay(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "replay", "--policy NEW.yaml [--baseline OLD.yaml] [--simulate] [--format text|json] [--fail-on-flip | --max-flips N] [--engine native|wasm] EVENTS.jsonl[.gz]|-")
	policy := fs.String("policy", "policies.yaml", "the new policy")
	baseline := fs.String("baseline", "", "re-decide under this policy too and compare against it, not the recorded decisions")
	simulate := fs.Bool("simulate", false, "re-run the recorded actions through the lifecycle on a fresh store (knock-on effects show)")
	format := fs.String("format", "text", "output format: text or json")
	failOnFlip := fs.Bool("fail-on-flip", false, "exit 1 if any decision flips")
	maxFlips := fs.Int("max-flips", -1, "exit 1 if more than N decisions flip")
	examples := fs.Int("examples", replay.DefaultExamples, "example events per transition and rule")
	members := fs.Int("members", replay.DefaultMembers, "members to list")
	engine := fs.String("engine", "native", "where to decide: "+engineNames())
	timing := fs.Bool("timing", false, "print the events per second to stderr")
	files, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(files) != 1 || (*format != "text" && *format != "json") || (*failOnFlip && *maxFlips >= 0) || *examples < 0 || *members < 0 {
		fs.Usage()
		return exitUsage
	}
	if *failOnFlip {
		*maxFlips = 0
	}
	opts := replay.Options{Examples: *examples, Members: *members, Label: *policy, BaselineLabel: *baseline}
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	code := exitFail // why open failed: exitUsage for an unreadable file
	open := func(path string) (*rules.Policy, lifecycle.Decider, bool) {
		p, src, c := loadPolicyCode(e, path)
		if c != exitOK {
			code = c
			return nil, nil, false
		}
		switch *engine {
		case "native":
			return p, nil, true
		case "wasm":
			// The host engine itself: it decides a batch per call, on as
			// many instances as replay has workers.
			he, err := openWasmPool(ctx, path, src)
			if err != nil {
				fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
				return nil, nil, false
			}
			closers = append(closers, func() { _ = he.Close(ctx) })
			return p, he, true
		}
		eng, err := openEngine(ctx, *engine, path, src)
		if err != nil {
			fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
			return nil, nil, false
		}
		closers = append(closers, func() { _ = eng.Close(ctx) })
		return p, cliDecider{eng}, true
	}
	var ok bool
	if opts.Policy, opts.Decider, ok = open(*policy); !ok {
		return code
	}
	if *baseline != "" {
		if opts.Baseline, opts.BaselineDecider, ok = open(*baseline); !ok {
			return code
		}
	}
	var in io.Reader = e.Stdin // "-": stream from stdin
	if files[0] != "-" {
		f, err := os.Open(files[0])
		if err != nil {
			fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
			return exitFail
		}
		defer f.Close()
		in = f
	}
	run := replay.Replay
	if *simulate {
		run = replay.Simulate
	}
	start := time.Now()
	rep, err := run(ctx, in, opts)
	elapsed := time.Since(start)
	if err != nil {
		fmt.Fprintf(e.Stderr, "connrules: %s: %v\n", files[0], err)
		return exitFail
	}
	if *format == "json" {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		_ = rep.WriteText(e.Stdout)
	}
	if *timing {
		fmt.Fprintf(e.Stderr, "replayed %d events in %.2f s: %.0f events/s\n", rep.Events, elapsed.Seconds(), float64(rep.Events)/elapsed.Seconds())
	}
	if *maxFlips >= 0 && rep.Flips > *maxFlips {
		fmt.Fprintf(e.Stderr, "connrules: %d decisions flip; at most %d allowed\n", rep.Flips, *maxFlips)
		return exitFail
	}
	return exitOK
}

// openWasmPool opens the WebAssembly engine with one instance per core.
func openWasmPool(ctx context.Context, filename string, src []byte) (*host.Engine, error) {
	opts := []host.Option{host.WithPoolSize(runtime.GOMAXPROCS(0))}
	if dir := wasmCacheDir(); dir != "" && os.MkdirAll(dir, 0o755) == nil {
		opts = append(opts, host.WithCompilationCache(dir))
	}
	he, err := host.New(ctx, opts...)
	if err != nil {
		return nil, err
	}
	if err := he.Load(ctx, filename, src); err != nil {
		_ = he.Close(ctx)
		return nil, err
	}
	return he, nil
}

// cliDecider adapts a CLI engine to the lifecycle's Decider.
type cliDecider struct{ eng Engine }

func (d cliDecider) Decide(ctx context.Context, req *rules.Request) (rules.Decision, error) {
	return d.eng.Decide(ctx, req, false)
}
