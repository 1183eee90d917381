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
	register("test", "run a policy's own tests (--coverage: what they reach)", runTestAuthoring)
	register("lint", "check policies; print file:line:col errors and warnings", runLintAuthoring)
}

func runTestAuthoring(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "test", "[-v] [--engine native|wasm] [--coverage] FILE...")
	verbose := fs.Bool("v", false, "list every test")
	engine := fs.String("engine", "native", "where to decide: "+engineNames())
	coverage := fs.Bool("coverage", false, "report which rules, and which ||-joined branches of their conditions, the tests reach")
	files, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(files) == 0 {
		files = []string{"policies.yaml"}
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
	Coverage *rules.Coverage `json:"coverage,omitempty"`
}

func runLintAuthoring(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "lint", "[--format text|json] [--require-coverage] FILE...")
	format := fs.String("format", "text", "output format: text or json")
	requireCoverage := fs.Bool("require-coverage", false, "fail unless the policy's tests decide every rule and hold every branch")
	files, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(files) == 0 || (*format != "text" && *format != "json") {
		fs.Usage()
		return exitUsage
	}
	if !*requireCoverage {
		return runLint(ctx, e, append([]string{"--format", *format}, files...))
	}
	// Run lint into a buffer, so its JSON can carry the coverage.
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
