package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/connrules/connrules/rules"
)

func init() {
	register("lint", "check policies; print file:line:col errors", runLint)
	register("decide", "decide a request or a batch (JSON) with a policy", runDecide)
	register("test", "run a policy's own tests", runTest)
	register("version", "print the version (also --version)", runVersion)
}

func runVersion(_ context.Context, e *Env, args []string) int {
	fs := newFlags(e, "version", "")
	if _, err := parseFlags(fs, args); err != nil {
		return exitUsage
	}
	fmt.Fprintln(e.Stdout, "connrules", version())
	return exitOK
}

type lintFile struct {
	File string `json:"file"`
	OK   bool   `json:"ok"`
	// ReadError is set when the file could not be read: it has no position.
	ReadError string         `json:"read_error,omitempty"`
	Errors    []*rules.Error `json:"errors"`
	Rules     int            `json:"rules,omitempty"`
	Tests     int            `json:"tests,omitempty"`
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
		src, err := rules.ReadFile(f) // refuses an oversized file before reading it
		var tooLarge rules.ErrorList
		if errors.As(err, &tooLarge) {
			lf.Errors = tooLarge
		} else if err != nil {
			lf.ReadError = err.Error()
			code = exitUsage
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
		lf.OK = len(lf.Errors) == 0 && lf.ReadError == ""
		if len(lf.Errors) > 0 && code == exitOK {
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
		if lf.ReadError != "" {
			fmt.Fprintf(e.Stderr, "connrules: %s\n", lf.ReadError)
			continue
		}
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
	fs := newFlags(e, "decide", "--policy FILE [--explain] [--public] [--engine native|wasm] [FILE|-]",
		"",
		"Decides the request in FILE, or on stdin when FILE is - or absent, and prints",
		"the decision as JSON. The input is one request object, or a JSON array of",
		"requests (a batch): each is decided in turn and the output is an array of",
		"decisions in the same order; [] prints []. A malformed request is reported",
		"with its JSON path, prefixed with its index in a batch (stdin[2]: ...).")
	policy := fs.String("policy", "policies.yaml", "policy file")
	explain := fs.Bool("explain", false, "add a trace of every rule")
	public := fs.Bool("public", false, "print only the public view, what the acting user may see")
	engine := fs.String("engine", "native", "where to decide: "+engineNames())
	rest, err := parseFlags(fs, args)
	if err != nil || !knownEngine(e, *engine) {
		return exitUsage
	}
	p, src, code := loadPolicyCode(e, *policy)
	if code != exitOK {
		return code
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
	outs := []any{} // an empty batch prints [], not null
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
	if err != nil || !knownEngine(e, *engine) {
		return exitUsage
	}
	if len(files) == 0 {
		files = []string{"policies.yaml"}
	}
	code := exitOK
	for _, f := range files {
		p, src, c := loadPolicyCode(e, f)
		if c != exitOK {
			code = max(code, c)
			continue
		}
		eng, err := openEngine(ctx, *engine, f, src)
		if err != nil {
			fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
			code = max(code, exitFail)
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
			code = max(code, exitFail)
		}
		var b strings.Builder
		if !rules.FormatResults(&b, f, results, *verbose) {
			code = max(code, exitFail)
		}
		fmt.Fprint(e.Stdout, b.String())
	}
	return code
}

// knownEngine reports whether --engine names an engine; a wrong name is a
// usage error, reported before any file is read.
func knownEngine(e *Env, name string) bool {
	if _, ok := engines[name]; !ok {
		fmt.Fprintf(e.Stderr, "connrules: unknown engine %q (want %s)\n", name, engineNames())
		return false
	}
	return true
}
