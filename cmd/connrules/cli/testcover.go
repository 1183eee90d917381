package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/connrules/connrules/rules"
)

// This file adds the authoring flags to test and lint without touching
// commands.go: it registers wrappers under the same names. Files of a
// package are initialised in file-name order, so this init runs after
// commands.go's and its registrations win (TestCoverageFlag checks it).
func init() {
	register("test", "run a policy's own tests (--coverage: what they reach; --generate: witness tests)", runTestAuthoring)
	register("lint", "check policies; print file:line:col errors and warnings", runLintAuthoring)
}

func runTestAuthoring(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "test", "[-v] [--engine native|wasm] [--coverage] [--generate OUT.yaml|-] FILE...")
	verbose := fs.Bool("v", false, "list every test")
	engine := fs.String("engine", "native", "where to decide: "+engineNames())
	coverage := fs.Bool("coverage", false, "report which rules, and which ||-joined branches of their conditions, the tests reach")
	generate := fs.String("generate", "", "write, for each rule, a test whose request the rule decides (found by the witness search) to this file, - for stdout; tests are not run")
	files, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(files) == 0 {
		files = []string{"policies.yaml"}
	}
	if *generate != "" {
		return generateTests(e, files, *generate)
	}
	pass := []string{"--engine", *engine}
	if *verbose {
		pass = append(pass, "-v")
	}
	code := runTest(ctx, e, append(pass, files...))
	if !*coverage {
		return code
	}
	for _, f := range files {
		c, ok := coverageOf(f)
		if !ok {
			continue // runTest reported the error
		}
		var b strings.Builder
		c.WriteText(&b)
		fmt.Fprint(e.Stdout, b.String())
	}
	return code
}

func generateTests(e *Env, files []string, out string) int {
	if len(files) != 1 {
		fmt.Fprintln(e.Stderr, "connrules: test --generate takes one policy file")
		return exitUsage
	}
	p, src, code := loadPolicyCode(e, files[0])
	if code != exitOK || p == nil {
		return code
	}
	gen, err := rules.GenerateTests(files[0], src)
	if err != nil {
		fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
		return exitFail
	}
	if out == "-" {
		_, _ = e.Stdout.Write(gen)
		return exitOK
	}
	if err := os.WriteFile(out, gen, 0o644); err != nil {
		fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(e.Stderr, "%s: %d witness tests\n", out, strings.Count(string(gen), "\n- name:"))
	return exitOK
}

// warningsOf lints one file; ok is false when it does not load (lint
// reported the errors).
func warningsOf(f string) ([]*rules.Warning, bool) {
	src, err := os.ReadFile(f)
	if err != nil {
		return []*rules.Warning{}, false
	}
	ws, err := rules.Warnings(f, src)
	if err != nil {
		return []*rules.Warning{}, false
	}
	if ws == nil {
		ws = []*rules.Warning{}
	}
	return ws, true
}

func coverageOf(f string) (*rules.Coverage, bool) {
	src, err := os.ReadFile(f)
	if err != nil {
		return nil, false
	}
	c, err := rules.ComputeCoverage(f, src)
	return c, err == nil
}

// lintReport is lint's JSON for one file with what this file adds.
type lintReport struct {
	lintFile
	Warnings []*rules.Warning `json:"warnings"`
	Coverage *rules.Coverage  `json:"coverage,omitempty"`
	// Fallbacks, with --verbose: the expressions on expr's VM.
	Fallbacks []rules.Fallback `json:"fallbacks,omitempty"`
}

func runLintAuthoring(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "lint", "[--format text|json] [--warnings=false] [--fail-on-warnings] [--require-coverage] [--verbose] FILE...")
	format := fs.String("format", "text", "output format: text or json")
	warnings := fs.Bool("warnings", true, "search for unreachable rules, always-true/false conditions, unused params and lets, retry_after before now")
	failOnWarnings := fs.Bool("fail-on-warnings", false, "exit 1 when there are warnings")
	requireCoverage := fs.Bool("require-coverage", false, "fail unless the policy's tests decide every rule and hold every branch")
	verbose := fs.Bool("verbose", false, "list the expressions that run on expr's VM instead of the typed back end, and why")
	files, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(files) == 0 || (*format != "text" && *format != "json") {
		fs.Usage()
		return exitUsage
	}
	if !*requireCoverage && !*warnings && !*verbose {
		return runLint(ctx, e, append([]string{"--format", *format}, files...))
	}
	// Run lint into a buffer, so its JSON can carry the additions.
	var out bytes.Buffer
	sub := &Env{Stdin: e.Stdin, Stdout: &out, Stderr: e.Stderr}
	code := runLint(ctx, sub, append([]string{"--format", *format}, files...))
	var reports []lintReport
	if *format == "json" {
		if err := json.Unmarshal(out.Bytes(), &reports); err != nil {
			fmt.Fprintf(e.Stderr, "connrules: internal: lint output: %v\n", err)
			return exitFail
		}
	} else {
		e.Stdout.Write(out.Bytes())
	}
	for i, f := range files {
		if *warnings {
			ws, ok := warningsOf(f)
			if i < len(reports) {
				reports[i].Warnings = ws
			}
			if len(ws) > 0 && *failOnWarnings {
				code = exitFail
			}
			if *format == "text" {
				for _, w := range ws {
					fmt.Fprintln(e.Stderr, w.String())
				}
				if ok && len(ws) > 0 {
					fmt.Fprintf(e.Stderr, "%s: %d warning%s\n", f, len(ws), plural(len(ws)))
				}
			}
		}
		if *verbose {
			fbs, loaded := fallbacksOf(f)
			if i < len(reports) {
				reports[i].Fallbacks = fbs
			}
			if *format == "text" && loaded {
				writeFallbacks(e.Stderr, f, fbs)
			}
		}
		if !*requireCoverage {
			continue
		}
		c, ok := coverageOf(f)
		if !ok {
			continue
		}
		if i < len(reports) {
			reports[i].Coverage = c
		}
		if !c.Full() {
			code = exitFail
			if *format == "text" {
				var b strings.Builder
				c.WriteText(&b)
				fmt.Fprint(e.Stderr, b.String())
			}
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(reports)
	}
	return code
}
