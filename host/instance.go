package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/connrules/connrules/wasm/guest"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// instance is one module instance. It is used by one goroutine at a time:
// whoever took it from the pool.
type instance struct {
	mod                                             api.Module
	mem                                             api.Memory
	fAlloc, fFree, fLoad, fDecide, fBatch, fVersion api.Function
	// buf is an input buffer from alloc, reused across calls and grown
	// when an input does not fit.
	buf, bufCap uint32
	gen         uint64  // the policy loaded in the instance, 0 for none
	pol         *policy // that policy
	stack       [4]uint64
	// broken is set when a call failed inside wasm: a trap, an exit (the
	// Go runtime exits on out of memory) or a recovered panic.
	broken bool
	stderr tail
	// busy is set when a call outlived its caller's context: the call
	// goes on and reports its end here; until then the instance is not
	// back in the pool.
	busy chan error
}

// tail keeps the start of what the guest wrote to stderr: the Go
// runtime's "fatal error: out of memory" lands there before the module
// dies; the goroutine stacks after it are dropped.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	if room := 1024 - len(t.b); room > 0 {
		t.b = append(t.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (e *Engine) newInstance(ctx context.Context) (*instance, error) {
	in := &instance{}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions("_initialize").
		WithStderr(&in.stderr)
	mod, err := e.sh.rt.InstantiateModule(ctx, e.sh.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("host: instantiating the module: %w%s", err, in.stderr.suffix())
	}
	in.mod, in.mem = mod, mod.Memory()
	for name, f := range map[string]*api.Function{
		"alloc": &in.fAlloc, "free": &in.fFree, "load": &in.fLoad,
		"decide": &in.fDecide, "decide_batch": &in.fBatch, "version": &in.fVersion,
	} {
		if *f = mod.ExportedFunction(name); *f == nil {
			_ = mod.Close(ctx)
			return nil, fmt.Errorf("host: the module has no export %q", name)
		}
	}
	return in, nil
}

func (t *tail) suffix() string {
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return ""
	}
	if i := strings.Index(s, "\n\n"); i > 0 {
		s = s[:i] // the message, not the stacks
	}
	return " (guest stderr: " + s + ")"
}

// failed marks the instance broken and describes err: the guest's own
// message first, then wazero's, without its wasm stack trace.
func (in *instance) failed(err error) error {
	in.broken = true
	msg := err.Error()
	if i := strings.Index(msg, "\nwasm stack trace:"); i > 0 {
		msg = msg[:i]
	}
	return &trapError{msg: msg + in.stderr.suffix(), err: err}
}

type trapError struct {
	msg string
	err error
}

func (e *trapError) Error() string { return e.msg }
func (e *trapError) Unwrap() error { return e.err }

// alloc asks the guest for a buffer of n bytes.
func (in *instance) alloc(ctx context.Context, n int) (uint32, error) {
	if n > 64<<20 {
		return 0, &GuestError{Code: guest.CodeTooLarge, Message: fmt.Sprintf("input of %d bytes is over the 64 MiB limit", n)}
	}
	in.stack[0] = uint64(n)
	if err := in.fAlloc.CallWithStack(ctx, in.stack[:1]); err != nil {
		return 0, in.failed(err)
	}
	p := uint32(in.stack[0])
	if p == 0 {
		return 0, &GuestError{Code: guest.CodeTooLarge, Message: fmt.Sprintf("alloc(%d) failed", n)}
	}
	return p, nil
}

func (in *instance) free(ctx context.Context, p uint32) error {
	in.stack[0] = uint64(p)
	if err := in.fFree.CallWithStack(ctx, in.stack[:1]); err != nil {
		return in.failed(err)
	}
	return nil
}

// write copies input into the reusable buffer, growing it if needed.
func (in *instance) write(ctx context.Context, input []byte) error {
	if uint32(len(input)) > in.bufCap || in.buf == 0 {
		if in.buf != 0 {
			if err := in.free(ctx, in.buf); err != nil {
				return err
			}
			in.buf, in.bufCap = 0, 0
		}
		size := max(len(input), 2*int(in.bufCap), 4096)
		p, err := in.alloc(ctx, size)
		if err != nil {
			return err
		}
		in.buf, in.bufCap = p, uint32(size)
	}
	if !in.mem.Write(in.buf, input) {
		return in.failed(errors.New("input buffer outside memory"))
	}
	return nil
}

// result reads a packed result: ptr | len<<32 | error<<63. The bytes are
// a view of guest memory, valid until the next call.
func (in *instance) result(res uint64) ([]byte, bool, error) {
	ptr, n, isErr := uint32(res), uint32(res>>32)&0x7fffffff, res>>63 == 1
	out, ok := in.mem.Read(ptr, n)
	if !ok {
		return nil, false, in.failed(fmt.Errorf("result [%d, +%d) outside memory", ptr, n))
	}
	return out, !isErr, nil
}

// call runs decide or decide_batch on input with the ABI's flags. A
// refused call returns the answer and a *GuestError.
func (in *instance) call(ctx context.Context, f api.Function, input []byte, flags uint32) ([]byte, error) {
	if err := in.write(ctx, input); err != nil {
		return nil, err
	}
	in.stack[0], in.stack[1], in.stack[2] = uint64(in.buf), uint64(len(input)), uint64(flags)
	if err := in.run(ctx, f, in.stack[:3]); err != nil {
		if in.busy != nil {
			return nil, err
		}
		return nil, in.failed(err)
	}
	out, ok, err := in.result(in.stack[0])
	if err != nil {
		return nil, err
	}
	if !ok {
		return out, in.guestError(out)
	}
	return out, nil
}

// shortCall is the most loop iterations (rules.Policy.Iterations) of a
// policy whose single decisions run on the caller's goroutine: at about
// 1.5 µs an iteration inside wazero, such a call ends within about 75
// ms, past any deadline by no more than that (the default policy counts
// about 6,000).
const shortCall = 50_000

// run calls f and returns when it ends or when ctx does, whichever comes
// first. A call cannot be stopped midway without compiling the module
// with WithCloseOnContextDone, which makes every call 3-4 times slower
// (RATIONALE.md, "Why these decision bounds?"); it is bounded instead
// (rules.MaxIterations), so when ctx ends first the caller gets ctx's
// error at once and the call finishes in the background: in.busy reports
// its end. Only a call that may be long (a batch, or a policy that loops
// more than shortCall times) with a context that can end pays for the
// goroutine.
func (in *instance) run(ctx context.Context, f api.Function, stack []uint64) error {
	if ctx.Done() == nil || (f == in.fDecide && in.pol != nil && in.pol.iters <= shortCall) {
		return f.CallWithStack(ctx, stack)
	}
	if err := ctx.Err(); err != nil {
		in.busy = make(chan error, 1)
		in.busy <- nil
		return err
	}
	done := make(chan error, 1)
	go func() { done <- f.CallWithStack(context.WithoutCancel(ctx), stack) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		in.busy = done
		return ctx.Err()
	}
}

func (in *instance) guestError(out []byte) error {
	ge := &GuestError{}
	if err := json.Unmarshal(out, ge); err != nil || ge.Code == "" {
		in.broken = true
		return fmt.Errorf("connrules module: unreadable error answer %q", out)
	}
	if ge.Code == guest.CodePanic {
		// Recovered, but a panic means a bug: do not trust the instance.
		in.broken = true
	}
	return ge
}

// load compiles a policy in the instance. ok is false when the policy has
// errors (out holds them); err is for a failed instance.
func (in *instance) load(ctx context.Context, filename string, src []byte) (out []byte, ok bool, err error) {
	np, err := in.alloc(ctx, len(filename))
	if err != nil {
		return nil, false, err
	}
	sp, err := in.alloc(ctx, len(src))
	if err != nil {
		return nil, false, err
	}
	if !in.mem.WriteString(np, filename) || !in.mem.Write(sp, src) {
		return nil, false, in.failed(errors.New("load buffers outside memory"))
	}
	in.stack[0], in.stack[1], in.stack[2], in.stack[3] = uint64(np), uint64(len(filename)), uint64(sp), uint64(len(src))
	if err := in.fLoad.CallWithStack(ctx, in.stack[:4]); err != nil {
		return nil, false, in.failed(err)
	}
	view, ok, err := in.result(in.stack[0])
	if err != nil {
		return nil, false, err
	}
	out = append([]byte(nil), view...)
	if err := in.free(ctx, np); err != nil {
		return nil, false, err
	}
	if err := in.free(ctx, sp); err != nil {
		return nil, false, err
	}
	if !ok {
		var ge GuestError
		if json.Unmarshal(out, &ge) == nil && ge.Code != guest.CodeLoad {
			return out, false, in.guestError(out)
		}
	}
	return out, ok, nil
}

func (in *instance) version(ctx context.Context) ([]byte, error) {
	if err := in.fVersion.CallWithStack(ctx, in.stack[:1]); err != nil {
		return nil, in.failed(err)
	}
	out, _, err := in.result(in.stack[0])
	return out, err
}
