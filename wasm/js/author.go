//go:build js && wasm && author

// Command js built with -tags author is the editor's module, loaded only
// by the page's workers (web/impact-worker.js): globalThis.connrulesAuthor
// and nothing else. Build it with
//
//	GOOS=js GOARCH=wasm go build -tags author -trimpath -ldflags='-s -w' -o web/connrules-author.wasm ./wasm/js
//
// The page's module (the same directory without the tag) decides; this one
// lints and replays, so the first decision does not wait for the replay's
// code to download and compile.
package main

// This file is the editor's global: globalThis.connrulesAuthor lints a
// policy as it is typed and replays the recorded decisions under it.
//
//	lint(filename, yaml)     -> {errors: [...], warnings: [...], us}   errors and warnings with pos {file, line, column}
//	setSample(bytes)         -> number of lines                         the page's sample log (gzip or plain JSON lines)
//	impact(file, yaml, baseFile, baseYaml[, session]) -> {session, sample, us}    two replay.Reports
//
// session is the session's event log as JSON lines (the page passes
// connrulesSim's events()). The page runs lint and impact in a
// Worker (web/impact-worker.js), on its own copy of the module, passing the
// log: the main thread stays free while a replay runs.
//	explain(source, line)    -> {request, old, new}                     a decision of the last impact run, both explained
//
// impact re-decides every decision of the session's event log and of the
// sample, on the recorded facts, under the edited policy and under the
// baseline, and reports what differs (package rules/replay).

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"syscall/js"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/replay"
)

// authorState is what impact keeps for explain: the log it replayed and
// the two policies.
var authorState struct {
	sample, session []byte
	edited, base    *rules.Policy
	baseSrc         string
	// ld loads the edited policy: a replay after an edit recompiles only
	// what the edit changed.
	ld rules.Loader
}

// impactExamples bounds the flips each transition lists in the panel.
const impactExamples = 25

const authorShim = `
const unwrap = (r) => {
  if (r.error !== undefined) throw new Error("connrulesAuthor: " + r.error);
  return JSON.parse(r.ok);
};
return Object.freeze({
  lint(file, yaml) { return unwrap(raw.lint(String(file), String(yaml))); },
  setSample(bytes) { return unwrap(raw.setSample(bytes)); },
  impact(file, yaml, baseFile, baseYaml, session) {
    return unwrap(session === undefined ? raw.impact(String(file), String(yaml), String(baseFile), String(baseYaml))
      : raw.impact(String(file), String(yaml), String(baseFile), String(baseYaml), String(session)));
  },
  explain(source, line) { return unwrap(raw.explain(String(source), line | 0)); },
});
`

func init() {
	raw := js.Global().Get("Object").New()
	fn := func(name string, f func(args []js.Value) (any, error)) {
		raw.Set(name, js.FuncOf(func(_ js.Value, args []js.Value) (v any) {
			defer func() {
				if r := recover(); r != nil {
					v = map[string]any{"error": fmt.Sprintf("panic in %s: %v", name, r)}
				}
			}()
			return simReply(f(args))
		}))
	}
	fn("lint", func(a []js.Value) (any, error) { return lintPolicy(simArg(a, 0), []byte(simArg(a, 1))), nil })
	fn("setSample", func(a []js.Value) (any, error) {
		if len(a) == 0 || !a[0].InstanceOf(js.Global().Get("Uint8Array")) {
			return nil, errors.New("setSample(bytes): a Uint8Array")
		}
		b := make([]byte, a[0].Get("length").Int())
		js.CopyBytesToGo(b, a[0])
		plain, err := gunzip(b)
		if err != nil {
			return nil, err
		}
		authorState.sample = plain
		return bytes.Count(plain, []byte{'\n'}), nil
	})
	fn("impact", func(a []js.Value) (any, error) {
		var session []byte
		if len(a) > 4 && a[4].Type() == js.TypeString {
			session = []byte(a[4].String())
		} else {
			return nil, errors.New("impact(file, yaml, baseFile, baseYaml, session): the session's event log is missing")
		}
		return impact(simArg(a, 0), []byte(simArg(a, 1)), simArg(a, 2), []byte(simArg(a, 3)), session)
	})
	fn("explain", func(a []js.Value) (any, error) {
		if len(a) < 2 || a[1].Type() != js.TypeNumber {
			return nil, errors.New("explain(source, line): \"session\" or \"sample\" and a line number")
		}
		return explainLine(simArg(a, 0), a[1].Int())
	})
	api := js.Global().Get("Function").New("raw", authorShim).Invoke(raw)
	js.Global().Set("connrulesAuthor", api)
}

func main() {
	select {} // serve calls until the worker goes away
}

// lintResult is lint's answer: the load errors, or the warnings of a
// policy that loads.
type lintResult struct {
	Errors   rules.ErrorList  `json:"errors"`
	Warnings []*rules.Warning `json:"warnings"`
	Micros   int64            `json:"us"`
}

func lintPolicy(name string, src []byte) lintResult {
	t0 := time.Now()
	res := lintResult{Errors: rules.ErrorList{}, Warnings: []*rules.Warning{}}
	ws, err := rules.Warnings(name, src)
	if err != nil {
		var list rules.ErrorList
		if !errors.As(err, &list) {
			list = rules.ErrorList{{Pos: rules.Position{Filename: name, Line: 1, Column: 1}, Msg: err.Error()}}
		}
		res.Errors = list
	} else if ws != nil {
		res.Warnings = ws
	}
	res.Micros = time.Since(t0).Microseconds()
	return res
}

// impactResult is impact's answer: one report for the session's log and
// one for the sample, so that each count is about a known log.
type impactResult struct {
	Session *replay.Report `json:"session"`
	Sample  *replay.Report `json:"sample"`
	Micros  int64          `json:"us"`
}

func impact(name string, src []byte, baseName string, baseSrc []byte, session []byte) (any, error) {
	t0 := time.Now()
	edited, err := authorState.ld.Load(name, src)
	if err != nil {
		return nil, errors.New("the edited policy does not load")
	}
	if authorState.base == nil || authorState.baseSrc != string(baseSrc) {
		base, err := rules.Load(baseName, baseSrc)
		if err != nil {
			return nil, errors.New("the baseline policy does not load")
		}
		authorState.base, authorState.baseSrc = base, string(baseSrc)
	}
	res := impactResult{}
	for _, l := range []struct {
		log []byte
		out **replay.Report
	}{{session, &res.Session}, {authorState.sample, &res.Sample}} {
		rep, err := replay.Replay(context.Background(), bytes.NewReader(l.log), replay.Options{
			Policy: edited, Baseline: authorState.base, Workers: 1, Examples: impactExamples, Members: 1,
			Label: "edited", BaselineLabel: "baseline",
		})
		if err != nil {
			return nil, err
		}
		*l.out = rep
	}
	authorState.session, authorState.edited = session, edited
	res.Micros = time.Since(t0).Microseconds()
	return res, nil
}

// explainLine explains, under both policies of the last impact run, the
// decision recorded on a line of the session's log or of the sample.
func explainLine(source string, line int) (any, error) {
	if authorState.edited == nil {
		return nil, errors.New("no impact run yet")
	}
	log := authorState.sample
	if source == "session" {
		log = authorState.session
	}
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 0, 64<<10), replay.MaxLineBytes)
	for n := 1; sc.Scan(); n++ {
		if n != line {
			continue
		}
		var ev struct {
			Request json.RawMessage `json:"request"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || len(ev.Request) == 0 {
			return nil, fmt.Errorf("line %d has no request", line)
		}
		var req rules.Request
		if err := rules.UnmarshalRequest(ev.Request, &req); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		return map[string]any{
			"request": ev.Request,
			"old":     authorState.base.Explain(&req),
			"new":     authorState.edited.Explain(&req),
		}, nil
	}
	return nil, fmt.Errorf("no line %d", line)
}

// gunzip returns b uncompressed when it starts with gzip's magic bytes.
func gunzip(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	return out, nil
}
