// Package guest is what the WebAssembly modules run: bytes in, bytes out.
// wasm/js and wasm/wasip1 are thin adapters around it, and the corpus
// tests run it natively too, so all three runtimes execute the same code
// from the request bytes to the decision bytes.
//
// Every answer is JSON. A decision is [rules.Decision]'s JSON. A failure
// of the call itself (no policy loaded, a malformed batch, a panic) is
// {"error": "...", "code": "..."} with ok false; a policy that does not
// load adds "errors", the positioned [rules.ErrorList].
package guest

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"

	"github.com/connrules/connrules/rules"
)

// ABI is the version of the module's interface; see wasm/README.md.
const ABI = 1

// Error codes of failed calls.
const (
	CodeNoPolicy = "no_policy" // decide before a successful load
	CodeLoad     = "load"      // the policy has errors; "errors" lists them
	CodeBadBatch = "bad_batch" // decide_batch input is not a JSON array
	CodePanic    = "panic"     // a bug: the guest recovered from a panic
	CodeBadInput = "bad_input" // the host broke the ABI (e.g. an unknown buffer)
	CodeTooLarge = "too_large" // an input over the size limit
	CodeOOM      = "oom"       // reserved: the host reports an instance that ran out of memory
	CodeTrap     = "trap"      // reserved: the host reports an instance that trapped
	CodeInternal = "internal"  // anything else
)

// Engine holds one policy and the output buffer. It is not safe for
// concurrent use: a module instance runs one call at a time.
type Engine struct {
	p   *rules.Policy
	out []byte
	req rules.Request
	wc  wireCache // reused by each wire request
}

// Policy returns the loaded policy, or nil.
func (e *Engine) Policy() *rules.Policy { return e.p }

// Load compiles a policy and, only if it compiles, replaces the current
// one: a policy with errors leaves the last good policy serving. The
// answer is {"name","rules","tests","public","iterations"} ("public" is
// the policy's [rules.PublicView], "iterations" [rules.Policy.Iterations])
// or an error with "errors".
func (e *Engine) Load(filename string, src []byte) (out []byte, ok bool) {
	defer Recover(e, &out, &ok)
	p, err := rules.Load(filename, src)
	if err != nil {
		var list rules.ErrorList
		if !errors.As(err, &list) {
			list = rules.ErrorList{{Pos: rules.Position{Filename: filename, Line: 1, Column: 1}, Msg: err.Error()}}
		}
		b, _ := json.Marshal(struct {
			Error  string          `json:"error"`
			Code   string          `json:"code"`
			Errors rules.ErrorList `json:"errors"`
		}{fmt.Sprintf("%s: %d error%s", filename, len(list), plural(len(list))), CodeLoad, list})
		e.out = append(e.out[:0], b...)
		return e.out, false
	}
	e.p = p
	n := 0
	for _, s := range rules.Stages {
		n += len(p.Rules(s))
	}
	b := append(e.out[:0], `{"name":`...)
	b, _ = appendJSONString(b, p.Name())
	b = append(b, `,"rules":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `,"tests":`...)
	b = strconv.AppendInt(b, int64(p.Tests()), 10)
	// What the host needs to show the sender a decision: see host.Engine.Public.
	pub, _ := json.Marshal(p.PublicView())
	b = append(b, `,"public":`...)
	b = append(b, pub...)
	b = append(b, `,"iterations":`...)
	b = strconv.AppendUint(b, p.Iterations(), 10)
	e.out = append(b, '}')
	return e.out, true
}

// Decide decides one request given as JSON. Malformed facts are not a
// failure of the call: they are an invalid_request decision, failed closed.
// The answer is valid until the next call.
func (e *Engine) Decide(req []byte, explain bool) (out []byte, ok bool) {
	var flags uint32
	if explain {
		flags = FlagExplain
	}
	return e.DecideFlags(req, flags)
}

// DecideFlags is Decide with the ABI's flags: FlagExplain, and FlagWire
// for a request in the wire format (see wire.go) rather than JSON.
func (e *Engine) DecideFlags(req []byte, flags uint32) (out []byte, ok bool) {
	defer Recover(e, &out, &ok)
	if e.p == nil {
		return e.fail(CodeNoPolicy, "no policy loaded: call load first"), false
	}
	b, err := e.decide(e.out[:0], req, flags)
	if err != nil {
		return e.fail(CodeBadInput, "decide: "+err.Error()), false
	}
	e.out = b
	return e.out, true
}

func (e *Engine) decide(b, raw []byte, flags uint32) ([]byte, error) {
	e.req = rules.Request{}
	if flags&FlagWire != 0 {
		// The host wrote it: a malformed wire request is the host's bug.
		if err := decodeWire(raw, &e.req, &e.wc); err != nil {
			return b, err
		}
	} else if err := rules.UnmarshalRequest(raw, &e.req); err != nil {
		return e.p.Invalid(e.req.Stage, err).AppendJSON(b), nil
	}
	if flags&FlagExplain != 0 {
		return e.p.Explain(&e.req).AppendJSON(b), nil
	}
	d := e.p.Decide(&e.req)
	if flags&FlagWireOut != 0 {
		if w, ok := appendWireDecision(b, &d); ok {
			return w, nil
		}
	}
	return d.AppendJSON(b), nil
}

// DecideBatch decides a JSON array of requests and answers a JSON array
// of decisions in the same order. A malformed element is an
// invalid_request decision; input that is not an array fails the call.
func (e *Engine) DecideBatch(reqs []byte, explain bool) (out []byte, ok bool) {
	var flags uint32
	if explain {
		flags = FlagExplain
	}
	return e.DecideBatchFlags(reqs, flags)
}

// DecideBatchFlags is DecideBatch with the ABI's flags. With FlagWire the
// input is uvarint(n) and n times uvarint(len) and a wire request.
func (e *Engine) DecideBatchFlags(reqs []byte, flags uint32) (out []byte, ok bool) {
	defer Recover(e, &out, &ok)
	if e.p == nil {
		return e.fail(CodeNoPolicy, "no policy loaded: call load first"), false
	}
	flags &^= FlagWireOut // a batch answers a JSON array
	b := append(e.out[:0], '[')
	n := 0
	var derr error
	each := func(elem []byte) {
		if derr != nil {
			return
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b, derr = e.decide(b, elem, flags)
	}
	var err error
	if flags&FlagWire != 0 {
		err = splitWire(reqs, each)
	} else {
		err = SplitArray(reqs, each)
	}
	if err == nil {
		err = derr
	}
	if err != nil {
		e.out = b
		return e.fail(CodeBadBatch, "decide_batch: "+err.Error()), false
	}
	e.out = append(b, ']')
	return e.out, true
}

func splitWire(b []byte, fn func([]byte)) error {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return errWire
	}
	b = b[k:]
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return errWire
		}
		fn(b[k : k+int(l)])
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return errWire
	}
	return nil
}

// Test runs the policy's own tests and answers their results.
func (e *Engine) Test() (out []byte, ok bool) {
	defer Recover(e, &out, &ok)
	if e.p == nil {
		return e.fail(CodeNoPolicy, "no policy loaded: call load first"), false
	}
	b, err := json.Marshal(e.p.RunTests())
	if err != nil {
		return e.fail(CodeInternal, err.Error()), false
	}
	e.out = append(e.out[:0], b...)
	return e.out, true
}

// Version describes the module: {"abi":1,"go":"go1.26.8","os":"wasip1","policy":"name"}.
func (e *Engine) Version() []byte {
	b := append(e.out[:0], `{"abi":`...)
	b = strconv.AppendInt(b, ABI, 10)
	b = append(b, `,"go":`...)
	b, _ = appendJSONString(b, runtime.Version())
	b = append(b, `,"os":`...)
	b, _ = appendJSONString(b, runtime.GOOS)
	if e.p != nil {
		b = append(b, `,"policy":`...)
		b, _ = appendJSONString(b, e.p.Name())
	}
	e.out = append(b, '}')
	return e.out
}

// Fail sets the output to an error answer and returns it.
func (e *Engine) Fail(code, msg string) []byte { return e.fail(code, msg) }

func (e *Engine) fail(code, msg string) []byte {
	b := append(e.out[:0], `{"error":`...)
	b, _ = appendJSONString(b, msg)
	b = append(b, `,"code":`...)
	b, _ = appendJSONString(b, code)
	e.out = append(b, '}')
	return e.out
}

// Recover turns a panic into an error answer: a bug must come back to
// the host as a message, not a trap. Every entry point, here and in the
// adapters, defers it: defer guest.Recover(e, &out, &ok).
func Recover(e *Engine, out *[]byte, ok *bool) {
	if r := recover(); r != nil {
		*out, *ok = e.fail(CodePanic, fmt.Sprintf("panic: %v\n%s", r, debug.Stack())), false
	}
}

// appendJSONString quotes s as encoding/json does. Only rare answers
// (errors, versions, load summaries) use it.
func appendJSONString(b []byte, s string) ([]byte, error) {
	q, err := json.Marshal(s)
	return append(b, q...), err
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// SplitArray calls fn with each element of a JSON array, in order. It
// checks the structure (brackets, strings, commas) but not the elements'
// contents, which their decoder checks.
func SplitArray(b []byte, fn func(elem []byte)) error {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return errors.New("want a JSON array of requests")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		if j := skipWS(b, i+1); j != len(b) {
			return fmt.Errorf("trailing data at offset %d", j)
		}
		return nil
	}
	for {
		start := i
		end, err := skipValue(b, i)
		if err != nil {
			return err
		}
		fn(b[start:end])
		i = skipWS(b, end)
		if i >= len(b) {
			return errors.New("unexpected end of the array")
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			if j := skipWS(b, i+1); j != len(b) {
				return fmt.Errorf("trailing data at offset %d", j)
			}
			return nil
		default:
			return fmt.Errorf("invalid character %q at offset %d: want , or ]", b[i], i)
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, errors.New("unexpected end of the array")
	}
	switch b[i] {
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			case '"':
				j, err := skipString(b, i)
				if err != nil {
					return j, err
				}
				i = j - 1
			}
		}
		return i, errors.New("unexpected end inside an element")
	case '"':
		return skipString(b, i)
	case ',', ']', '}', ':':
		return i, fmt.Errorf("invalid character %q at offset %d: want a value", b[i], i)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j, nil
}

func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return len(b), errors.New("unterminated string")
}
