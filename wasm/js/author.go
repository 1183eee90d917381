//go:build js && wasm

package main

// This file adds the editor's global: globalThis.connrulesAuthor lints a
// policy as it is typed and replays the recorded decisions under it.
//
//	lint(filename, yaml)     -> {errors: [...], warnings: [...], us}   errors and warnings with pos {file, line, column}
//	setSample(bytes)         -> number of lines                         the page's sample log (gzip or plain JSON lines)
//	impact(filename, yaml)   -> {decisions, flips, session, sample, transitions, us}
//	explain(line)            -> {request, old, new}                     a decision of the last impact run, both explained
//
// impact re-decides every decision of the session's event log followed by
// the sample, on the recorded facts, under the edited policy and under the
// policy in force, and reports what differs (package rules/replay).

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
	sample       []byte
	log          []byte
	sessionLines int
	edited, base *rules.Policy
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
  impact(file, yaml) { return unwrap(raw.impact(String(file), String(yaml))); },
  explain(line) { return unwrap(raw.explain(line | 0)); },
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
	fn("impact", func(a []js.Value) (any, error) { return impact(simArg(a, 0), []byte(simArg(a, 1))) })
	fn("explain", func(a []js.Value) (any, error) {
		if len(a) == 0 || a[0].Type() != js.TypeNumber {
			return nil, errors.New("explain(line): a line number")
		}
		return explainLine(a[0].Int())
	})
	api := js.Global().Get("Function").New("raw", authorShim).Invoke(raw)
	js.Global().Set("connrulesAuthor", api)
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

// impactResult is impact's answer. Lines of examples count from 1 over the
// session's log then the sample: Session is how many lines are the session's.
type impactResult struct {
	Decisions   int                 `json:"decisions"`
	Flips       int                 `json:"flips"`
	Reworded    int                 `json:"reworded"`
	Session     int                 `json:"session"`
	Sample      int                 `json:"sample"`
	Transitions []replay.Transition `json:"transitions"`
	Micros      int64               `json:"us"`
}

func impact(name string, src []byte) (any, error) {
	if err := simStarted(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	edited, err := rules.Load(name, src)
	if err != nil {
		return nil, errors.New("the edited policy does not load")
	}
	session := simSession.Events()
	log := make([]byte, 0, len(session)+len(authorState.sample))
	log = append(append(log, session...), authorState.sample...)
	base := simSession.Policy()
	rep, err := replay.Replay(context.Background(), bytes.NewReader(log), replay.Options{
		Policy: edited, Baseline: base, Workers: 1, Examples: impactExamples, Members: 1,
	})
	if err != nil {
		return nil, err
	}
	authorState.log, authorState.sessionLines = log, countLines(session)
	authorState.edited, authorState.base = edited, base
	return impactResult{
		Decisions: rep.Decisions, Flips: rep.Flips, Reworded: rep.Reworded,
		Session: authorState.sessionLines, Sample: countLines(string(authorState.sample)),
		Transitions: rep.Transitions, Micros: time.Since(t0).Microseconds(),
	}, nil
}

func countLines(s string) int {
	n := 0
	for i := range len(s) {
		if s[i] == '\n' {
			n++
		}
	}
	return n
}

// explainLine explains, under both policies of the last impact run, the
// decision recorded on a line of its log.
func explainLine(line int) (any, error) {
	if authorState.edited == nil {
		return nil, errors.New("no impact run yet")
	}
	sc := bufio.NewScanner(bytes.NewReader(authorState.log))
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
