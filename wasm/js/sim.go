//go:build js && wasm && !author

package main

// This file adds a second global for the browser demo (web/):
// globalThis.connrulesSim runs wasm/internal/sim, a seeded network on the
// lifecycle under a policy the page can replace at any time.
//
//	start(seedJSON, filename, yaml) -> view        begin a session (throws if the policy does not load)
//	load(filename, yaml)            -> {ok, errors, name, file, rules, tests, compile_us}
//	info()                          -> load's answer for the policy in force
//	tests()                         -> {policy, tests, passed, failed, us}: the policy's own tests
//	do(command)                     -> {op, result, decisions, public, now}   (throws on a bad command)
//	preview(from, to, note)         -> {decisions, public, request, us}      (changes nothing)
//	view(from, to)                  -> {now, members, invitations, blocks, pair, next_reset, ...}
//	journal() / replay(journal)     -> the commands since the seed / replays them over the seed
//	reset()                         -> back to the seed, keeping the policy in force
//	events()                        -> the event log as JSON lines
//	eventsTail(n)                   -> the last n events, oldest first
//	policy()                        -> {file, src} of the policy in force
//
// Values cross as JSON strings and the shim parses them; every failure
// comes back as an Error with a message.

import (
	"encoding/json"
	"fmt"
	"syscall/js"

	"github.com/connrules/connrules/wasm/internal/sim"
)

var simSession *sim.Sim

const simShim = `
const unwrap = (r) => {
  if (r.error !== undefined) throw new Error("connrulesSim: " + r.error);
  return r.ok === undefined ? undefined : JSON.parse(r.ok);
};
const str = (v) => typeof v === "string" ? v : JSON.stringify(v);
return Object.freeze({
  start(seed, file, yaml) { return unwrap(raw.start(str(seed), String(file), String(yaml))); },
  load(file, yaml) { return unwrap(raw.load(String(file), String(yaml))); },
  tests() { return unwrap(raw.tests()); },
  info() { return unwrap(raw.info()); },
  do(cmd) { return unwrap(raw.do(str(cmd))); },
  preview(from, to, note = "") { return unwrap(raw.preview(String(from), String(to), String(note))); },
  view(from = "", to = "") { return unwrap(raw.view(String(from || ""), String(to || ""))); },
  journal() { return unwrap(raw.journal()); },
  replay(journal) { return unwrap(raw.replay(str(journal))); },
  reset() { return unwrap(raw.reset()); },
  events() { return unwrap(raw.events()); },
  eventsTail(n = 50) { return unwrap(raw.eventsTail(n | 0)); },
  policy() { return unwrap(raw.policy()); },
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
	fn("start", func(a []js.Value) (any, error) {
		s, err := sim.New([]byte(simArg(a, 0)), simArg(a, 1), []byte(simArg(a, 2)))
		if err != nil {
			return nil, err
		}
		simSession = s
		return s.View("", "")
	})
	fn("load", func(a []js.Value) (any, error) {
		if err := simStarted(); err != nil {
			return nil, err
		}
		return simSession.Load(simArg(a, 0), []byte(simArg(a, 1))), nil
	})
	fn("info", func([]js.Value) (any, error) {
		if err := simStarted(); err != nil {
			return nil, err
		}
		return simSession.Info(), nil
	})
	fn("tests", func([]js.Value) (any, error) {
		if err := simStarted(); err != nil {
			return nil, err
		}
		return simSession.Tests(), nil
	})
	fn("do", func(a []js.Value) (any, error) {
		if err := simStarted(); err != nil {
			return nil, err
		}
		var c sim.Command
		if err := json.Unmarshal([]byte(simArg(a, 0)), &c); err != nil {
			return nil, fmt.Errorf("command: %w", err)
		}
		return simSession.Do(c)
	})
	fn("preview", func(a []js.Value) (any, error) {
		if err := simStarted(); err != nil {
			return nil, err
		}
		return simSession.Preview(simArg(a, 0), simArg(a, 1), simArg(a, 2))
	})
	fn("view", func(a []js.Value) (any, error) {
		if err := simStarted(); err != nil {
			return nil, err
		}
		return simSession.View(simArg(a, 0), simArg(a, 1))
	})
	fn("journal", func([]js.Value) (any, error) {
		if err := simStarted(); err != nil {
			return nil, err
		}
		return simSession.Journal(), nil
	})
	fn("replay", func(a []js.Value) (any, error) {
		if err := simStarted(); err != nil {
			return nil, err
		}
		var j []sim.Command
		if err := json.Unmarshal([]byte(simArg(a, 0)), &j); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		return simSession.Replay(j)
	})
	fn("reset", func([]js.Value) (any, error) {
		if err := simStarted(); err != nil {
			return nil, err
		}
		return nil, simSession.Reset()
	})
	fn("events", func([]js.Value) (any, error) {
		if err := simStarted(); err != nil {
			return nil, err
		}
		return simSession.Events(), nil
	})
	fn("eventsTail", func(a []js.Value) (any, error) {
		if err := simStarted(); err != nil {
			return nil, err
		}
		n := 50
		if len(a) > 0 && a[0].Type() == js.TypeNumber {
			n = a[0].Int()
		}
		return simSession.EventsTail(n), nil
	})
	fn("policy", func([]js.Value) (any, error) {
		if err := simStarted(); err != nil {
			return nil, err
		}
		file, src := simSession.PolicySource()
		return map[string]string{"file": file, "src": src}, nil
	})
	api := js.Global().Get("Function").New("raw", simShim).Invoke(raw)
	js.Global().Set("connrulesSim", api)
}

func simStarted() error {
	if simSession == nil {
		return fmt.Errorf("no session: call start(seed, file, yaml) first")
	}
	return nil
}
