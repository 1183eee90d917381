// Package host runs connrules policies inside the WebAssembly module, on
// wazero, from any Go program. The module is embedded: a program that
// imports this package needs no files and no cgo.
//
//	eng, err := host.New(ctx)
//	if err != nil { ... }
//	defer eng.Close(ctx)
//	if err := eng.Load(ctx, "policies.yaml", src); err != nil {
//		// err is a rules.ErrorList: file:line:col, the rule, a caret.
//	}
//	d, err := eng.Decide(ctx, req)
//
// An Engine is safe for concurrent use. Behind it is a pool of module
// instances; one instance serves one call at a time.
//
// # Failing closed
//
// Decide never returns a zero Decision. When no policy is loaded, or an
// instance traps or runs out of memory, the caller gets both an error and
// a well-formed service_unavailable decision ([rules.Unavailable]) with a
// retry_after. An instance that trapped is thrown away and replaced; no
// other call is affected.
//
// # Hot reload
//
// Load may be called at any time, and WatchFile calls it when a file
// changes. A new policy is compiled completely, inside an instance, before
// it is swapped in; a policy with errors leaves the last good one serving.
// Calls already running finish on the policy they started with; every
// call that starts after Load returns uses the new one.
//
// # Compilation cache
//
// Compiling the module to machine code takes a second or two. New keeps
// the compiled code in a per-user cache directory,
// os.UserCacheDir()/connrules/wazero-<checksum of the module>, so that a
// second process (a CLI run, a restarted service) starts in tens of
// milliseconds instead. WithCompilationCache chooses another directory and
// WithoutCompilationCache turns the cache off. When the default directory
// cannot be created, New compiles without a cache. A new module gets a new
// directory; old ones are never read again and may be deleted.
//
// # Time
//
// The guest never reads the clock: the decision time is the request's now.
// wazero gives the module a fake clock and a deterministic random source,
// which only the Go runtime inside it uses.
package host

import (
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/wasm/guest"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Module is the embedded wasip1 build of wasm/wasip1, built by make wasm
// with the command in wasm/README.md. A test rebuilds it and fails if it
// differs.
//
//go:embed connrules.wasm
var Module []byte

// DefaultMemoryLimitPages caps each instance's memory at 64 MiB (64 KiB
// pages). A policy's own limits bound its expressions long before that;
// the cap is for the runaway case, where the instance is replaced.
const DefaultMemoryLimitPages = 1024

// Errors.
var (
	// ErrNoPolicy means Decide was called before a policy loaded.
	ErrNoPolicy = errors.New("host: no policy loaded")
	// ErrClosed means the Engine was closed.
	ErrClosed = errors.New("host: engine closed")
	// ErrTooLarge means a JSON batch over MaxBatchBytes was refused
	// before it was copied into an instance. (One request over
	// rules.MaxRequestBytes is refused too, but as the module answers it:
	// an invalid_request decision.)
	ErrTooLarge = errors.New("host: request too large")
)

// GuestError is a call the module refused, such as a malformed batch. The
// instance is fine and stays in the pool.
type GuestError struct {
	Code    string `json:"code"`
	Message string `json:"error"`
}

// Error says what the module reported.
func (e *GuestError) Error() string { return "connrules module: " + e.Message }

// InstanceError is a call during which an instance trapped, ran out of
// memory or exited. The instance was thrown away.
type InstanceError struct {
	Op  string
	Err error
}

// Error names the call and the instance's failure.
func (e *InstanceError) Error() string {
	return fmt.Sprintf("connrules module: %s: instance failed and was replaced: %v", e.Op, e.Err)
}

// Unwrap returns the trap or exit error from wazero.
func (e *InstanceError) Unwrap() error { return e.Err }

type config struct {
	interrupt bool // compile with WithCloseOnContextDone
	pool      int
	cacheDir  string // "" with noCache false: the default directory
	noCache   bool
	memPages  uint32
	interval  time.Duration
	stderrLog bool
}

// Option configures an Engine.
type Option func(*config)

// WithPoolSize sets the number of module instances, the most calls that
// run at once. The default is GOMAXPROCS. Instances are made on demand.
func WithPoolSize(n int) Option { return func(c *config) { c.pool = max(n, 1) } }

// WithCompilationCache keeps wazero's compiled code in dir, so the next
// process skips compiling the module (about a second, down to tens of
// milliseconds). Without it, New uses DefaultCacheDir.
func WithCompilationCache(dir string) Option {
	return func(c *config) { c.cacheDir, c.noCache = dir, false }
}

// WithoutCompilationCache makes New compile the module without reading or
// writing any cache directory.
func WithoutCompilationCache() Option {
	return func(c *config) { c.cacheDir, c.noCache = "", true }
}

// DefaultCacheDir is the compilation cache New uses unless told
// otherwise: os.UserCacheDir()/connrules/wazero-<CRC-32 of Module>, or ""
// when the system has no cache directory.
func DefaultCacheDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "connrules", fmt.Sprintf("wazero-%08x", moduleSum()))
}

// moduleSum checksums the embedded module once: a few milliseconds, not
// the tens sha256 would take on every start.
var moduleSum = sync.OnceValue(func() uint32 { return crc32.ChecksumIEEE(Module) })

// resolveCache fills in the default cache directory, or none when it
// cannot be created.
func (c *config) resolveCache() {
	if c.noCache || c.cacheDir != "" {
		return
	}
	if dir := DefaultCacheDir(); dir != "" && os.MkdirAll(dir, 0o755) == nil {
		c.cacheDir = dir
	}
}

// WithMemoryLimitPages caps each instance's linear memory, in 64 KiB
// pages. An instance that needs more fails its call and is replaced.
func WithMemoryLimitPages(pages uint32) Option { return func(c *config) { c.memPages = pages } }

// WithWatchInterval sets how often WatchFile looks at the file; the
// default is 500ms.
func WithWatchInterval(d time.Duration) Option { return func(c *config) { c.interval = d } }

// shared is a compiled module and its runtime. The module is compiled
// once per process for each distinct memory limit and cache directory.
type shared struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
}

var (
	sharedMu sync.Mutex
	sharedBy = map[[3]any]*shared{}
)

func getShared(ctx context.Context, c config) (*shared, error) {
	key := [3]any{c.memPages, c.cacheDir, c.interrupt}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if s := sharedBy[key]; s != nil {
		return s, nil
	}
	s, err := compile(ctx, c)
	if err != nil {
		return nil, err
	}
	sharedBy[key] = s
	return s, nil
}

// compile makes a runtime and compiles the module into it.
func compile(ctx context.Context, c config) (*shared, error) {
	// No WithCloseOnContextDone: it makes every call several times slower
	// (see RATIONALE.md). A policy's max_nodes and memory_budget bound
	// its expressions instead, and the memory cap bounds the instance.
	rc := wazero.NewRuntimeConfig().WithMemoryLimitPages(c.memPages).WithCloseOnContextDone(c.interrupt)
	if c.cacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(c.cacheDir)
		if err != nil {
			return nil, fmt.Errorf("host: compilation cache: %w", err)
		}
		rc = rc.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("host: WASI: %w", err)
	}
	cctx := experimental.WithCompilationWorkers(ctx, runtime.GOMAXPROCS(0))
	compiled, err := rt.CompileModule(cctx, Module)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("host: compiling the module: %w", err)
	}
	return &shared{rt: rt, compiled: compiled}, nil
}

// policy is a loaded policy's source; gen orders policies.
type policy struct {
	gen      uint64
	filename string
	src      []byte
	name     string
	pub      rules.PublicView // from the guest's load answer
	iters    uint64           // the most loop iterations of one decision
}

// Engine decides requests with a policy inside a pool of module instances.
type Engine struct {
	cfg    config
	sh     *shared
	idle   chan *instance
	slots  chan struct{} // one token per live instance
	cur    atomic.Pointer[policy]
	loadMu sync.Mutex // serialises Load
	gen    uint64     // guarded by loadMu
	closed atomic.Bool
	done   chan struct{}
	wg     sync.WaitGroup // watchers and the rebuilder
	bufs   sync.Pool
	// rebuilds holds one token per broken instance awaiting its
	// replacement; each keeps its slot until the rebuilder fills it.
	rebuilds chan struct{}
	built    atomic.Int64 // instances made on a caller's path, for tests
}

// rebuildGap is the least time between two rebuilds of broken instances:
// a caller whose requests keep crashing instances costs at most one
// rebuild per gap, on one goroutine, never a wait for other callers.
const rebuildGap = 20 * time.Millisecond

// New compiles the module, or reuses this process's compiled copy or the
// compilation cache's (see the package doc), and returns an Engine with
// no policy. Instances are made on first use.
func New(ctx context.Context, opts ...Option) (*Engine, error) {
	c := config{pool: runtime.GOMAXPROCS(0), memPages: DefaultMemoryLimitPages, interval: 500 * time.Millisecond}
	for _, o := range opts {
		o(&c)
	}
	c.resolveCache()
	sh, err := getShared(ctx, c)
	if err != nil {
		return nil, err
	}
	return newEngine(c, sh), nil
}

func newEngine(c config, sh *shared) *Engine {
	e := &Engine{
		cfg:      c,
		sh:       sh,
		idle:     make(chan *instance, c.pool),
		slots:    make(chan struct{}, c.pool),
		done:     make(chan struct{}),
		bufs:     sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }},
		rebuilds: make(chan struct{}, c.pool),
	}
	e.wg.Add(1)
	go e.rebuilder()
	return e
}

// Close stops watchers and closes every idle instance; instances in use
// close when their call returns. Calls after Close fail with ErrClosed.
func (e *Engine) Close(ctx context.Context) error {
	if e.closed.Swap(true) {
		return nil
	}
	close(e.done)
	e.wg.Wait()
	for {
		select {
		case in := <-e.idle:
			e.discard(ctx, in)
		default:
			return nil
		}
	}
}

// PolicyName is the name of the loaded policy, or "" when none is.
func (e *Engine) PolicyName() string {
	if p := e.cur.Load(); p != nil {
		return p.name
	}
	return ""
}

// Load compiles a policy inside the module and, if it compiles, makes it
// the policy of every call that starts from now on. filename is used only
// in positions. A policy with errors returns a [rules.ErrorList] and
// leaves the last good policy serving.
func (e *Engine) Load(ctx context.Context, filename string, src []byte) error {
	// An oversized policy is refused before it is copied into an instance.
	if err := rules.CheckSize(filename, int64(len(src))); err != nil {
		return err
	}
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	in, err := e.get(ctx)
	if err != nil {
		return err
	}
	out, ok, err := in.load(ctx, filename, src)
	if err != nil {
		if !in.broken {
			e.put(ctx, in)
			return err
		}
		e.discard(ctx, in)
		return &InstanceError{Op: "load", Err: err}
	}
	if !ok {
		e.put(ctx, in)
		return loadError(out)
	}
	e.gen++
	p := loadInfo(out)
	p.gen, p.filename, p.src = e.gen, filename, append([]byte(nil), src...)
	in.gen, in.pol = p.gen, p
	e.cur.Store(p)
	e.put(ctx, in)
	e.refreshIdle(ctx, p)
	return nil
}

// refreshIdle loads p into the instances that are idle now, so that the
// next calls do not pay for compiling it. Busy instances catch up when
// they are next taken from the pool.
func (e *Engine) refreshIdle(ctx context.Context, p *policy) {
	for range e.cfg.pool {
		var in *instance
		select {
		case in = <-e.idle:
		default:
			return
		}
		if in.gen == p.gen {
			e.put(ctx, in)
			return // every idle instance has been seen
		}
		if err := e.sync(ctx, in, p); err != nil {
			e.discard(ctx, in)
			continue
		}
		e.put(ctx, in)
	}
}

// loadInfo reads a successful load answer. An answer without
// "iterations" (a module older than the field) reads as a policy whose
// decisions may be long, never as 0: 0 would run every decision on the
// caller's goroutine with no deadline watch.
func loadInfo(out []byte) *policy {
	var info struct {
		Name       string           `json:"name"`
		Public     rules.PublicView `json:"public"`
		Iterations *uint64          `json:"iterations"`
	}
	_ = json.Unmarshal(out, &info)
	p := &policy{name: info.Name, pub: info.Public, iters: math.MaxUint64}
	if info.Iterations != nil {
		p.iters = *info.Iterations
	}
	return p
}

func loadError(out []byte) error {
	var ge struct {
		GuestError
		Errors rules.ErrorList `json:"errors"`
	}
	if err := json.Unmarshal(out, &ge); err != nil {
		return fmt.Errorf("connrules module: unreadable answer to load: %v", err)
	}
	if len(ge.Errors) > 0 {
		return ge.Errors
	}
	return &GuestError{Code: ge.Code, Message: ge.Message}
}

// sync brings an instance to policy p.
func (e *Engine) sync(ctx context.Context, in *instance, p *policy) error {
	out, ok, err := in.load(ctx, p.filename, p.src)
	if err != nil {
		return &InstanceError{Op: "load", Err: err}
	}
	if !ok {
		// The same source loaded before; only a broken instance fails now.
		return &InstanceError{Op: "load", Err: loadError(out)}
	}
	in.gen, in.pol = p.gen, p
	return nil
}

// Decide decides one request. On any failure it returns the error and a
// fail-closed service_unavailable decision, never a zero Decision.
func (e *Engine) Decide(ctx context.Context, req *rules.Request) (rules.Decision, error) {
	return e.decide(ctx, req, false)
}

// Public is the view of d that a host may show the acting user verbatim,
// computed as [rules.Policy.Public] computes it, from the current policy's
// [rules.PublicView], which the module returns when it loads a policy.
// Under a concurrent Load, use DecidePublic, whose view comes from the
// policy that made the decision. With no policy loaded, a private or
// failed decision shows an empty generic message.
func (e *Engine) Public(d rules.Decision) rules.PublicDecision {
	var v rules.PublicView
	if p := e.cur.Load(); p != nil {
		v = p.pub
	}
	return v.Public(d)
}

// DecidePublic is Decide and the decision's public view, both from the
// same policy even while another is being loaded.
func (e *Engine) DecidePublic(ctx context.Context, req *rules.Request) (rules.Decision, rules.PublicDecision, error) {
	var v rules.PublicView
	d, err := e.decideWith(ctx, req, false, func(p *policy) { v = p.pub })
	return d, v.Public(d), err
}

// Explain is Decide with a trace of every rule of the stage.
func (e *Engine) Explain(ctx context.Context, req *rules.Request) (rules.Decision, error) {
	return e.decide(ctx, req, true)
}

func (e *Engine) decide(ctx context.Context, req *rules.Request, explain bool) (rules.Decision, error) {
	return e.decideWith(ctx, req, explain, nil)
}

// decideWith is decide that tells used, if not nil, the policy that decided.
func (e *Engine) decideWith(ctx context.Context, req *rules.Request, explain bool, used func(*policy)) (rules.Decision, error) {
	bp := e.bufs.Get().(*[]byte)
	defer e.bufs.Put(bp)
	if req == nil {
		return unavailable(nil), errors.New("host: nil request")
	}
	in, flags, err := encodeRequest((*bp)[:0], req, explain)
	if err != nil {
		return unavailable(req), fmt.Errorf("host: encoding the request: %w", err)
	}
	*bp = in
	var d rules.Decision
	err = e.call(ctx, "decide", func(inst *instance) error {
		out, err := inst.call(ctx, inst.fDecide, in, flags)
		if err != nil {
			return err
		}
		if used != nil {
			used(inst.pol)
		}
		if guest.IsWireDecision(out) {
			return guest.DecodeWireDecision(out, &d)
		}
		// Only here does a decision escape (to encoding/json), so d
		// stays off the heap on the wire path.
		var j rules.Decision
		err = rules.UnmarshalDecision(out, &j)
		d = j
		return err
	})
	if err != nil {
		return unavailable(req), err
	}
	return d, nil
}

// DecideJSON decides a request given as JSON and returns the decision's
// JSON, exactly as the module wrote it. Malformed facts, and a request
// over rules.MaxRequestBytes (refused before it is copied into an
// instance), are an invalid_request decision, not an error, as natively.
// On an error the bytes are a
// fail-closed service_unavailable decision, as Decide's are.
func (e *Engine) DecideJSON(ctx context.Context, req []byte, explain bool) ([]byte, error) {
	if len(req) > rules.MaxRequestBytes {
		// Refused before the copy, with the module's own answer.
		p := e.cur.Load()
		if p == nil {
			return unavailableJSON(nil, nil), ErrNoPolicy
		}
		return tooLargeJSON(p, req), nil
	}
	var res []byte
	err := e.call(ctx, "decide", func(inst *instance) error {
		out, err := inst.call(ctx, inst.fDecide, req, jsonFlags(explain))
		res = append([]byte(nil), out...)
		return err
	})
	if err != nil {
		return unavailableJSON(nil, req), err
	}
	return res, nil
}

// tooLargeJSON is what the module (and a native decision) answers for a
// request over rules.MaxRequestBytes: invalid_request, failed closed on
// the invite stage since the stage is never read, naming the limit.
func tooLargeJSON(p *policy, req []byte) []byte {
	var r rules.Request
	err := rules.UnmarshalRequest(req, &r) // refused on its size, unparsed
	d := rules.Decision{
		Outcome: "deny", Reason: rules.ReasonInvalidRequest, Message: p.pub.Generic,
		Diagnostics: []rules.Diagnostic{{Message: err.Error()}},
	}
	return d.AppendJSON(nil)
}

// unavailableJSON appends the fail-closed answer for a request given as
// JSON, with its stage and time when they can be read.
func unavailableJSON(b, req []byte) []byte {
	var r rules.Request
	_ = rules.UnmarshalRequest(req, &r)
	return unavailable(&r).AppendJSON(b)
}

// DecideBatch decides requests in one call into the module, which
// amortises the crossing; the decisions come back in order.
func (e *Engine) DecideBatch(ctx context.Context, reqs []*rules.Request) ([]rules.Decision, error) {
	return e.decideBatch(ctx, reqs, false)
}

// ExplainBatch is DecideBatch with traces.
func (e *Engine) ExplainBatch(ctx context.Context, reqs []*rules.Request) ([]rules.Decision, error) {
	return e.decideBatch(ctx, reqs, true)
}

func (e *Engine) decideBatch(ctx context.Context, reqs []*rules.Request, explain bool) ([]rules.Decision, error) {
	ds := make([]rules.Decision, len(reqs))
	failAll := func(err error) ([]rules.Decision, error) {
		for i, r := range reqs {
			ds[i] = unavailable(r)
		}
		return ds, err
	}
	bp := e.bufs.Get().(*[]byte)
	defer e.bufs.Put(bp)
	b, flags, err := encodeBatch((*bp)[:0], reqs, explain)
	if err != nil {
		return failAll(err)
	}
	*bp = b
	err = e.call(ctx, "decide_batch", func(inst *instance) error {
		out, err := inst.call(ctx, inst.fBatch, b, flags)
		if err != nil {
			return err
		}
		n := 0
		err = splitArray(out, func(elem []byte) error {
			if n >= len(ds) {
				return errors.New("more decisions than requests")
			}
			if err := rules.UnmarshalDecision(elem, &ds[n]); err != nil {
				return err
			}
			n++
			return nil
		})
		if err == nil && n != len(ds) {
			err = fmt.Errorf("%d decisions for %d requests", n, len(ds))
		}
		if err != nil {
			return fmt.Errorf("connrules module: unreadable batch answer: %w", err)
		}
		return nil
	})
	if err != nil {
		return failAll(err)
	}
	return ds, nil
}

// MaxBatchBytes is the largest JSON batch DecideBatchJSON copies into an
// instance (of 64 MiB by default): larger ones are refused with ErrTooLarge.
const MaxBatchBytes = 16 << 20

// DecideBatchJSON decides a JSON array of requests and returns the JSON
// array of decisions as the module wrote it. On an error, including a
// batch over MaxBatchBytes (ErrTooLarge), the bytes are an array of
// fail-closed service_unavailable decisions, one per request, or nil when
// the input is not an array.
func (e *Engine) DecideBatchJSON(ctx context.Context, reqs []byte, explain bool) ([]byte, error) {
	var res []byte
	var err error
	if len(reqs) > MaxBatchBytes {
		err = fmt.Errorf("%w: a batch of %d bytes, over the limit of %d", ErrTooLarge, len(reqs), MaxBatchBytes)
	} else {
		err = e.call(ctx, "decide_batch", func(inst *instance) error {
			out, err := inst.call(ctx, inst.fBatch, reqs, jsonFlags(explain))
			res = append([]byte(nil), out...)
			return err
		})
	}
	if err != nil {
		b := []byte{'['}
		if guest.SplitArray(reqs, func(elem []byte) {
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = unavailableJSON(b, elem)
		}) != nil {
			return nil, err
		}
		return append(b, ']'), err
	}
	return res, nil
}

// Version is the module's self-description, as JSON.
func (e *Engine) Version(ctx context.Context) ([]byte, error) {
	var res []byte
	err := e.call(ctx, "version", func(inst *instance) error {
		out, err := inst.version(ctx)
		res = append([]byte(nil), out...)
		return err
	})
	return res, err
}

func jsonFlags(explain bool) uint32 {
	if explain {
		return guest.FlagExplain
	}
	return 0
}

// encodeRequest writes req in the wire format, which the module decodes
// several times faster than JSON, or as JSON when the wire format cannot
// carry it exactly as JSON would (text that is not UTF-8, say).
func encodeRequest(b []byte, req *rules.Request, explain bool) ([]byte, uint32, error) {
	flags := jsonFlags(explain)
	if w, err := guest.AppendWire(b, req); err == nil {
		return w, flags | guest.FlagWire | guest.FlagWireOut, nil
	}
	b, err := req.AppendJSON(b[:0])
	return b, flags, err
}

// encodeBatch writes a batch in the wire format, or as a JSON array when
// one of the requests cannot go as wire.
func encodeBatch(b []byte, reqs []*rules.Request, explain bool) ([]byte, uint32, error) {
	for i, r := range reqs {
		if r == nil {
			return b, 0, fmt.Errorf("host: request %d is nil", i)
		}
	}
	flags := jsonFlags(explain)
	w := binary.AppendUvarint(b[:0], uint64(len(reqs)))
	var one []byte
	wireOK := true
	for _, r := range reqs {
		var err error
		if one, err = guest.AppendWire(one[:0], r); err != nil {
			wireOK = false
			break
		}
		w = binary.AppendUvarint(w, uint64(len(one)))
		w = append(w, one...)
	}
	if wireOK {
		return w, flags | guest.FlagWire, nil
	}
	b = append(w[:0], '[')
	for i, r := range reqs {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = r.AppendJSON(b); err != nil {
			return b, 0, fmt.Errorf("host: encoding request %d: %w", i, err)
		}
	}
	return append(b, ']'), flags, nil
}

// unavailable is the fail-closed answer for req. The host may read the
// clock, unlike the guest, when the request has no time.
func unavailable(req *rules.Request) rules.Decision {
	stage, now := rules.StageInvite, time.Time{}
	if req != nil {
		stage, now = req.Stage, req.Now
	}
	if now.IsZero() {
		now = time.Now()
	}
	return rules.Unavailable(stage, now, "")
}

// call runs fn on an instance that holds the current policy. An instance
// whose call failed at the wasm level is discarded; a GuestError leaves it
// in the pool.
func (e *Engine) call(ctx context.Context, op string, fn func(*instance) error) error {
	p := e.cur.Load()
	if p == nil && op != "version" {
		return ErrNoPolicy
	}
	in, err := e.get(ctx)
	if err != nil {
		return err
	}
	if p != nil && in.gen != p.gen {
		if err := e.sync(ctx, in, p); err != nil {
			e.discard(ctx, in)
			return err
		}
	}
	err = fn(in)
	if in.busy != nil {
		// The caller's context ended first; the instance comes back to
		// the pool when its call does.
		go e.settle(in)
		return err
	}
	if in.broken {
		e.replace(ctx, in)
		var ge *GuestError
		if !errors.As(err, &ge) {
			err = &InstanceError{Op: op, Err: err}
		}
		return err
	}
	e.put(ctx, in)
	return err
}

// get takes an idle instance or makes one, waiting when the pool is full.
func (e *Engine) get(ctx context.Context) (*instance, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	select {
	case in := <-e.idle:
		return in, nil
	default:
	}
	select {
	case in := <-e.idle:
		return in, nil
	case e.slots <- struct{}{}:
		in, err := e.newInstance(ctx)
		if err != nil {
			<-e.slots
			return nil, err
		}
		e.built.Add(1)
		return in, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-e.done:
		return nil, ErrClosed
	}
}

func (e *Engine) put(ctx context.Context, in *instance) {
	if e.closed.Load() {
		e.discard(ctx, in)
		return
	}
	e.idle <- in
}

func (e *Engine) discard(ctx context.Context, in *instance) {
	_ = in.mod.Close(ctx)
	<-e.slots
}

// settle waits for a call that outlived its caller and returns the
// instance to the pool, or replaces it if the call broke it.
func (e *Engine) settle(in *instance) {
	err := <-in.busy
	in.busy = nil
	if err != nil {
		_ = in.failed(err)
		e.replace(context.Background(), in)
		return
	}
	e.put(context.Background(), in)
}

// replace closes a broken instance and leaves its replacement to the
// rebuilder: the caller whose call broke it returns at once, and no other
// caller pays for the rebuild (see rebuildGap).
func (e *Engine) replace(ctx context.Context, in *instance) {
	_ = in.mod.Close(ctx)
	select {
	case e.rebuilds <- struct{}{}: // never full: each token holds a slot
	default:
		<-e.slots
	}
}

// rebuilder makes the replacements of broken instances, one at a time and
// at most one per rebuildGap, each loaded with the current policy.
func (e *Engine) rebuilder() {
	defer e.wg.Done()
	ctx := context.Background()
	var last time.Time
	for {
		select {
		case <-e.done:
			e.drainRebuilds()
			return
		case <-e.rebuilds:
		}
		if wait := rebuildGap - time.Since(last); wait > 0 {
			select {
			case <-time.After(wait):
			case <-e.done:
				<-e.slots
				e.drainRebuilds()
				return
			}
		}
		last = time.Now()
		in, err := e.newInstance(ctx)
		if err != nil {
			<-e.slots
			continue
		}
		if p := e.cur.Load(); p != nil {
			if err := e.sync(ctx, in, p); err != nil {
				e.discard(ctx, in)
				continue
			}
		}
		e.put(ctx, in)
	}
}

// drainRebuilds gives back the slots of replacements that will not be made.
func (e *Engine) drainRebuilds() {
	for {
		select {
		case <-e.rebuilds:
			<-e.slots
		default:
			return
		}
	}
}

// Instances is the number of live instances, for tests and metrics.
func (e *Engine) Instances() int { return len(e.slots) }

// InstanceMemory is the linear memory, in bytes, of each instance that is
// idle at the moment of the call, for metrics.
func (e *Engine) InstanceMemory() []uint32 {
	var taken []*instance
	var out []uint32
	for {
		select {
		case in := <-e.idle:
			taken = append(taken, in)
			out = append(out, in.mem.Size())
			continue
		default:
		}
		break
	}
	for _, in := range taken {
		e.idle <- in
	}
	return out
}

// splitArray walks a JSON array of objects written by the module.
func splitArray(b []byte, fn func(elem []byte) error) error {
	i := 0
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return errors.New("not an array")
	}
	b = b[1 : len(b)-1]
	for i < len(b) {
		if b[i] != '{' {
			return fmt.Errorf("unexpected %q", b[i])
		}
		depth, j, inStr := 0, i, false
		for ; j < len(b); j++ {
			c := b[j]
			if inStr {
				switch c {
				case '\\':
					j++
				case '"':
					inStr = false
				}
				continue
			}
			switch c {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			if depth == 0 {
				break
			}
		}
		if j >= len(b) {
			return errors.New("truncated")
		}
		if err := fn(b[i : j+1]); err != nil {
			return err
		}
		i = j + 1
		if i < len(b) {
			if b[i] != ',' {
				return fmt.Errorf("unexpected %q", b[i])
			}
			i++
		}
	}
	return nil
}
