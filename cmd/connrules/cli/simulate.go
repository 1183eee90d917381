package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/scenario"
	"github.com/connrules/connrules/rules/lifecycle/stores"
)

func init() {
	register("simulate", "run scenario files through the invitation lifecycle", runSimulate)
}

// simulateSummary is the last --json line of each scenario.
type simulateSummary struct {
	Summary bool   `json:"summary"`
	File    string `json:"file"`
	Name    string `json:"scenario"`
	Policy  string `json:"policy"`
	Engine  string `json:"engine"`
	Passed  int    `json:"passed"`
	Failed  int    `json:"failed"`
	OK      bool   `json:"ok"`
}

func runSimulate(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "simulate", "[--json] [--engine native|wasm] [--store memory:|sqlite:PATH|postgres://...] [--events FILE] SCENARIO.yaml...")
	jsonOut := fs.Bool("json", false, "print one JSON object per step result, then a summary object")
	engine := fs.String("engine", "native", "where to decide: "+engineNames())
	eventsFile := fs.String("events", "", "append the lifecycle's event log to FILE as JSON lines")
	storeURL := fs.String("store", "memory:", "where the lifecycle's state lives: memory:, sqlite:PATH or postgres://...; a database must be empty, and holds one scenario")
	files, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(files) == 0 {
		fs.Usage()
		return exitUsage
	}
	if _, ok := engines[*engine]; !ok {
		fmt.Fprintf(e.Stderr, "connrules: unknown engine %q (want %s)\n", *engine, engineNames())
		return exitUsage
	}
	if *storeURL != "memory:" && len(files) > 1 {
		fmt.Fprintf(e.Stderr, "connrules: --store %s holds one scenario's state; give one scenario file\n", *storeURL)
		return exitUsage
	}
	code := exitOK
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
			code = exitFail
			continue
		}
		sc, err := scenario.Parse(f, src)
		if err != nil {
			fmt.Fprintln(e.Stderr, err)
			code = exitFail
			continue
		}
		st, err := openEmptyStore(ctx, *storeURL)
		if err != nil {
			fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
			code = exitFail
			continue
		}
		opts := scenario.Options{Engine: cliEngine(*engine), Store: st}
		enc := json.NewEncoder(e.Stdout)
		printer := &scenario.TextPrinter{W: e.Stdout}
		if *jsonOut {
			opts.OnStep = func(r scenario.StepResult) { _ = enc.Encode(r) }
		} else {
			opts.OnStart = func(rep *scenario.Report) { printer.Header(rep, *engine) }
			opts.OnStep = printer.Step
		}
		rep, err := scenario.Run(ctx, sc, opts)
		if cerr := st.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing the store: %w", cerr)
		}
		if err != nil {
			fmt.Fprintln(e.Stderr, err)
			code = exitFail
			continue
		}
		if *jsonOut {
			_ = enc.Encode(simulateSummary{Summary: true, File: f, Name: rep.Name, Policy: rep.Policy, Engine: *engine,
				Passed: rep.Passed, Failed: rep.Failed, OK: rep.OK()})
		} else {
			printer.Footer(rep)
		}
		if !rep.OK() {
			code = exitFail
		}
		if *eventsFile != "" {
			if err := appendEvents(*eventsFile, rep.Events); err != nil {
				fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
				code = exitFail
			}
		}
	}
	return code
}

// cliEngine runs the lifecycle on one of the CLI's engines, so every
// engine registered with --engine (native, and wasm once its file
// registers it) works for simulate too.
func cliEngine(name string) scenario.Engine {
	return func(ctx context.Context, filename string, src []byte, _ *rules.Policy) (lifecycle.Decider, func(), error) {
		eng, err := openEngine(ctx, name, filename, src)
		if err != nil {
			return nil, nil, err
		}
		dec := lifecycle.DeciderFunc(func(ctx context.Context, req *rules.Request) (rules.Decision, error) {
			return eng.Decide(ctx, req, false)
		})
		return dec, func() { _ = eng.Close(ctx) }, nil
	}
}

// openEmptyStore opens the store at url and checks that it holds no
// state: a scenario starts from an empty network.
func openEmptyStore(ctx context.Context, url string) (stores.Store, error) {
	st, err := stores.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	evs, err := st.ReadEvents(ctx)
	if err == nil && len(evs) > 0 {
		err = fmt.Errorf("store %s already holds %d events; a scenario runs on an empty store", url, len(evs))
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func appendEvents(path string, events []lifecycle.Event) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err := lifecycle.WriteEvents(f, events); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
