package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/connrules/connrules/rules"
)

// Version is the CLI's version, set at build time with -ldflags.
var Version = "dev"

func init() {
	register("lint", "check policies; print file:line:col errors", runLint)
	register("decide", "decide a request (JSON) with a policy", runDecide)
	register("test", "run a policy's own tests", runTest)
	register("version", "print the version", func(_ context.Context, e *Env, _ []string) int {
		fmt.Fprintln(e.Stdout, "connrules", Version)
		return exitOK
	})
}

type lintFile struct {
	File   string         `json:"file"`
	OK     bool           `json:"ok"`
	Errors []*rules.Error `json:"errors"`
	Rules  int            `json:"rules,omitempty"`
	Tests  int            `json:"tests,omitempty"`
}

func runLint(_ context.Context, e *Env, args []string) int {
	fs := newFlags(e, "lint", "[--format text|json] FILE...")
	format := fs.String("format", "text", "output format: text or json")
	files, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(files) == 0 || (*format != "text" && *format != "json") {
		fs.Usage()
		return exitUsage
	}
	code := exitOK
	var report []lintFile
	for _, f := range files {
		lf := lintFile{File: f, Errors: []*rules.Error{}}
		src, err := os.ReadFile(f)
		if err != nil {
			lf.Errors = append(lf.Errors, &rules.Error{Pos: rules.Position{Filename: f, Line: 1, Column: 1}, Msg: err.Error()})
		} else if p, err := rules.Load(f, src); err != nil {
			var list rules.ErrorList
			if errors.As(err, &list) {
				lf.Errors = list
			} else {
				lf.Errors = append(lf.Errors, &rules.Error{Pos: rules.Position{Filename: f, Line: 1, Column: 1}, Msg: err.Error()})
			}
		} else {
			for _, s := range rules.Stages {
				lf.Rules += len(p.Rules(s))
			}
			lf.Tests = p.Tests()
		}
		lf.OK = len(lf.Errors) == 0
		if !lf.OK {
			code = exitFail
		}
		report = append(report, lf)
	}
	if *format == "json" {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(report)
		return code
	}
	for _, lf := range report {
		if lf.OK {
			fmt.Fprintf(e.Stdout, "%s: ok (%d rules, %d tests)\n", lf.File, lf.Rules, lf.Tests)
			continue
		}
		for _, le := range lf.Errors {
			fmt.Fprintln(e.Stderr, le.Error())
		}
		fmt.Fprintf(e.Stderr, "%s: %d error%s\n", lf.File, len(lf.Errors), plural(len(lf.Errors)))
	}
	return code
}

func runDecide(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "decide", "--policy FILE [--explain] [--public] [--engine native|wasm] [FILE|-]")
	policy := fs.String("policy", "policies.yaml", "policy file")
	explain := fs.Bool("explain", false, "add a trace of every rule")
	public := fs.Bool("public", false, "print only the public view, what the acting user may see")
	engine := fs.String("engine", "native", "where to decide: "+engineNames())
	rest, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage
	}
	p, src, ok := loadPolicy(e, *policy)
	if !ok {
		return exitFail
	}
	in, name, err := readInput(e, rest)
	if err != nil {
		fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
		return exitUsage
	}
	eng, err := openEngine(ctx, *engine, *policy, src)
	if err != nil {
		fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
		return exitFail
	}
	defer eng.Close(ctx)

	// One object decides one request; an array decides each in turn.
	var raws []json.RawMessage
	trimmed := bytes.TrimSpace(in)
	batch := len(trimmed) > 0 && trimmed[0] == '['
	if batch {
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			fmt.Fprintf(e.Stderr, "connrules: %s: %v\n", name, err)
			return exitFail
		}
	} else {
		raws = []json.RawMessage{trimmed}
	}
	var outs []any
	for i, raw := range raws {
		req, err := rules.DecodeRequest(raw)
		if err != nil {
			where := name
			if batch {
				where = fmt.Sprintf("%s[%d]", name, i)
			}
			fmt.Fprintf(e.Stderr, "connrules: %s: %v\n", where, err)
			return exitFail
		}
		d, err := eng.Decide(ctx, req, *explain)
		if err != nil {
			fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
			return exitFail
		}
		if *public {
			outs = append(outs, p.Public(d))
		} else {
			outs = append(outs, d)
		}
	}
	enc := json.NewEncoder(e.Stdout)
	enc.SetIndent("", "  ")
	if batch {
		_ = enc.Encode(outs)
	} else {
		_ = enc.Encode(outs[0])
	}
	return exitOK
}

func runTest(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "test", "[-v] [--engine native|wasm] FILE...")
	verbose := fs.Bool("v", false, "list every test")
	engine := fs.String("engine", "native", "where to decide: "+engineNames())
	files, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(files) == 0 {
		files = []string{"policies.yaml"}
	}
	code := exitOK
	for _, f := range files {
		p, src, ok := loadPolicy(e, f)
		if !ok {
			code = exitFail
			continue
		}
		eng, err := openEngine(ctx, *engine, f, src)
		if err != nil {
			fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
			code = exitFail
			continue
		}
		var engErr error
		results := p.RunTestsWith(func(req *rules.Request) rules.Decision {
			d, err := eng.Decide(ctx, req, false)
			if err != nil && engErr == nil {
				engErr = err
			}
			return d
		})
		_ = eng.Close(ctx)
		if engErr != nil {
			fmt.Fprintf(e.Stderr, "connrules: %s: engine %s: %v\n", f, *engine, engErr)
			code = exitFail
		}
		var b strings.Builder
		if !rules.FormatResults(&b, f, results, *verbose) {
			code = exitFail
		}
		fmt.Fprint(e.Stdout, b.String())
	}
	return code
}
