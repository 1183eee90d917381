//go:build js && wasm && !author

// Command js is the connrules module for browsers and Node. Build it with
//
//	GOOS=js GOARCH=wasm go build -trimpath -ldflags='-s -w' -o bin/connrules-js.wasm ./wasm/js
//
// and run it with $(go env GOROOT)/lib/wasm/wasm_exec.js. Once main has
// run, globalThis.connrules has:
//
//	load(yaml, filename = "policy.yaml") -> [] | [{pos: {file, line, column}, rule, message, snippet}, ...]
//	loadJSON(yaml, filename)             -> the module's answer as a JSON string, byte for byte the wasip1 one
//	decide(request, {explain} = {})      -> decision object
//	decideBatch(requests, {explain} = {}) -> [decision, ...]
//	decideJSON(json, explain = false)    -> decision JSON string, byte for byte the wasip1 answer
//	decideBatchJSON(json, explain)       -> JSON array string
//	test()                               -> [{name, pos, pass, failures, got}, ...]
//	testJSON()                           -> the same as a JSON string
//	version()                            -> {abi, go, os, policy}
//
// The editor's lint warnings and impact replay (globalThis.connrulesAuthor,
// author.go) are a separate build, `-tags author`, loaded only by the
// page's workers (web/impact-worker.js): the page's own module, which the
// first decision waits for, does not carry rules/replay and its decoders.
//
// A request is a plain object, a JSON string or a Uint8Array of JSON.
// Every failure throws an Error with a message; none escapes without one.
package main

import (
	"encoding/json"
	"errors"
	"syscall/js"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/wasm/guest"
)

var eng guest.Engine

// shim wraps the raw functions, which answer {ok} or {error, code}, in an
// API that returns plain values and throws Errors: a Go callback cannot
// throw into JavaScript itself.
const shim = `
const unwrap = (r) => {
  if (r.error !== undefined) {
    const e = new Error("connrules: " + r.error);
    e.code = r.code;
    if (r.errors) e.errors = r.errors;
    throw e;
  }
  return r.ok;
};
const toJSON = (v) => (typeof v === "string" || v instanceof Uint8Array) ? v : JSON.stringify(v);
const parse = (r) => JSON.parse(unwrap(r));
return Object.freeze({
  load(yaml, filename = "policy.yaml") {
    const src = String(yaml);
    const r = raw.load(src, String(filename), src.length);
    if (r.error !== undefined && r.errors) return r.errors;
    unwrap(r);
    return [];
  },
  decide(request, opts = {}) { return parse(raw.decide(toJSON(request), !!(opts && opts.explain))); },
  decideBatch(requests, opts = {}) {
    const body = Array.isArray(requests) ? "[" + requests.map(toJSON).map((x) => typeof x === "string" ? x : new TextDecoder().decode(x)).join(",") + "]" : toJSON(requests);
    return parse(raw.decideBatch(body, !!(opts && opts.explain)));
  },
  loadJSON(yaml, filename = "policy.yaml") {
    const src = String(yaml);
    const r = raw.load(src, String(filename), src.length);
    return r.error !== undefined ? r.raw : r.ok;
  },
  decideJSON(request, explain = false) { return unwrap(raw.decide(request, !!explain)); },
  decideBatchJSON(requests, explain = false) { return unwrap(raw.decideBatch(requests, !!explain)); },
  test() { return parse(raw.test()); },
  testJSON() { return unwrap(raw.test()); },
  version() { return parse(raw.version()); },
});
`

func main() {
	raw := js.Global().Get("Object").New()
	raw.Set("load", js.FuncOf(load))
	raw.Set("decide", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return call(args, func(in []byte, explain bool) ([]byte, bool) { return eng.Decide(in, explain) })
	}))
	raw.Set("decideBatch", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return call(args, func(in []byte, explain bool) ([]byte, bool) { return eng.DecideBatch(in, explain) })
	}))
	raw.Set("test", js.FuncOf(func(js.Value, []js.Value) any { return answer(eng.Test()) }))
	raw.Set("version", js.FuncOf(func(js.Value, []js.Value) any { return answer(eng.Version(), true) }))
	api := js.Global().Get("Function").New("raw", shim).Invoke(raw)
	js.Global().Set("connrules", api)
	select {} // serve calls until the page goes away
}

// answer turns a guest answer into {ok: string} or the parsed error object.
func answer(out []byte, ok bool) (v any) {
	if ok {
		return map[string]any{"ok": string(out)}
	}
	v = js.Global().Get("JSON").Call("parse", string(out))
	v.(js.Value).Set("raw", string(out))
	return v
}

func load(_ js.Value, args []js.Value) (v any) {
	defer func() {
		if r := recover(); r != nil {
			v = map[string]any{"error": "panic in load", "code": guest.CodePanic}
		}
	}()
	if len(args) < 2 {
		return map[string]any{"error": "load(yaml, filename): missing arguments", "code": guest.CodeBadInput}
	}
	filename := args[1].String()
	// The size before the text is copied into Go memory: copying a 10 MB
	// paste ran the module out of memory. A string longer than the limit
	// in UTF-16 units (the shim passes its length: a string is not an
	// object Go can ask) is longer in UTF-8 bytes, which JavaScript counts.
	if len(args) > 2 && args[2].Type() == js.TypeNumber && args[2].Int() > rules.MaxPolicyBytes {
		size := js.Global().Get("TextEncoder").New().Call("encode", args[0]).Get("length").Int()
		return answer(tooLarge(filename, size), false)
	}
	return answer(eng.Load(filename, []byte(args[0].String())))
}

// tooLarge is the guest's answer for a policy over the size limit, the
// bytes a load of the text itself would give.
func tooLarge(filename string, size int) []byte {
	var list rules.ErrorList
	errors.As(rules.CheckSize(filename, int64(size)), &list)
	b, _ := json.Marshal(struct {
		Error  string          `json:"error"`
		Code   string          `json:"code"`
		Errors rules.ErrorList `json:"errors"`
	}{filename + ": 1 error", guest.CodeLoad, list})
	return b
}

// call decodes (request, explain) and runs f, recovering from panics.
func call(args []js.Value, f func([]byte, bool) ([]byte, bool)) (v any) {
	var out []byte
	ok := false
	defer func() {
		if r := recover(); r != nil {
			v = map[string]any{"error": "panic", "code": guest.CodePanic}
		}
	}()
	func() {
		defer guest.Recover(&eng, &out, &ok)
		if len(args) == 0 {
			out, ok = eng.Fail(guest.CodeBadInput, "missing request"), false
			return
		}
		in, good := bytesOf(args[0])
		if !good {
			out, ok = eng.Fail(guest.CodeBadInput, "a request is a JSON string or a Uint8Array"), false
			return
		}
		explain := len(args) > 1 && args[1].Truthy()
		out, ok = f(in, explain)
	}()
	return answer(out, ok)
}

func bytesOf(v js.Value) ([]byte, bool) {
	switch v.Type() {
	case js.TypeString:
		return []byte(v.String()), true
	case js.TypeObject:
		if v.InstanceOf(js.Global().Get("Uint8Array")) {
			b := make([]byte, v.Get("length").Int())
			js.CopyBytesToGo(b, v)
			return b, true
		}
	}
	return nil, false
}
