//go:build wasip1

// Command wasip1 is the connrules reactor module for WASI hosts such as
// wazero. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags='-s -w' -o host/connrules.wasm ./wasm/wasip1
//
// (make wasm does exactly that). The ABI is in wasm/README.md: buffers
// come from alloc and go back with free; load, decide, decide_batch and
// version answer a packed result, ptr | len<<32 | error<<63, whose bytes
// stay valid until the next call into the module.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/connrules/connrules/wasm/guest"
)

// main is not run: a c-shared module is a reactor, started by _initialize.
func main() {}

// Exports that allocate yield (runtime.Gosched). In a reactor no Go code
// runs between calls, and within a call nothing else is scheduled unless
// the call yields, so the collector's background goroutines could starve:
// a GC cycle that started inside a call never finished and the heap grew
// until the instance ran out of memory (TestMemoryStaysBounded in host/
// caught it). load and decide_batch yield every time; decide, whose
// garbage is a few hundred bytes, every yieldEvery calls, because a yield
// costs about a microsecond inside wazero, as much as an early denial.

var (
	eng guest.Engine
	// bufs keeps every allocated buffer reachable, so the collector
	// neither frees nor reuses it while the host writes into it. Go's
	// collector does not move objects, so the address stays put.
	bufs = map[uint32][]byte{}
)

// maxInput bounds one input buffer; the host splits larger batches.
const maxInput = 64 << 20

const errFlag = 1 << 63

// yieldEvery is how many decide calls may pass between two yields.
const yieldEvery = 16

var sinceYield int

func pack(b []byte, ok bool) uint64 {
	r := uint64(addr(b)) | uint64(len(b))<<32
	if !ok {
		r |= errFlag
	}
	return r
}

// lastPtr and lastBuf are the buffer input found last: a host reuses one
// buffer call after call, and a map lookup costs a tenth of a microsecond
// inside wazero.
var (
	lastPtr uint32
	lastBuf []byte
)

// input returns the first n bytes of a buffer from alloc. A pointer that
// alloc did not return, or a length past the buffer, is the host's bug.
func input(ptr, n uint32) ([]byte, bool) {
	if ptr != lastPtr || lastBuf == nil {
		b, ok := bufs[ptr]
		if !ok {
			return nil, false
		}
		lastPtr, lastBuf = ptr, b
	}
	if int(n) > len(lastBuf) {
		return nil, false
	}
	return lastBuf[:n], true
}

// alloc returns a buffer of size bytes for the host to write an input
// into. It stays valid until free.
//
//go:wasmexport alloc
func alloc(size uint32) (ptr uint32) {
	defer func() {
		if recover() != nil {
			ptr = 0
		}
	}()
	if size > maxInput {
		return 0
	}
	b := make([]byte, max(size, 1))
	ptr = addr(b)
	bufs[ptr] = b
	return ptr
}

// free releases a buffer from alloc. Freeing an unknown pointer does nothing.
//
//go:wasmexport free
func free(ptr uint32) {
	defer func() { _ = recover() }()
	delete(bufs, ptr)
	if ptr == lastPtr {
		lastPtr, lastBuf = 0, nil
	}
}

// load compiles the policy in src; name is the file name for positions.
//
//go:wasmexport load
func load(namePtr, nameLen, srcPtr, srcLen uint32) (res uint64) {
	var out []byte
	ok := false
	defer func() { res = pack(out, ok) }()
	defer guest.Recover(&eng, &out, &ok)
	name, ok1 := input(namePtr, nameLen)
	src, ok2 := input(srcPtr, srcLen)
	if !ok1 || !ok2 {
		out = eng.Fail(guest.CodeBadInput, "load: a buffer that alloc did not return, or a length past its end")
		return
	}
	// A policy compiles into a few MiB of short-lived garbage: with the
	// collector's goal raised while it does, the default policy's load
	// runs no collection at all (26% fewer wasm calls, about a fifth less
	// CPU for a cold instance's load) for about 0.75 MiB more memory an
	// instance. The soft memory limit keeps a huge policy's load
	// collecting well before the instance's cap.
	gc := debug.SetGCPercent(loadGCPercent)
	limit := debug.SetMemoryLimit(loadMemoryLimit)
	out, ok = eng.Load(string(name), src)
	debug.SetMemoryLimit(limit)
	debug.SetGCPercent(gc)
	runtime.Gosched()
	return
}

// The collector's GOGC and soft memory limit while a policy loads; the
// host's default cap is 64 MiB (host.DefaultMemoryLimitPages).
const (
	loadGCPercent   = 400
	loadMemoryLimit = 24 << 20
)

// decide decides one request. flags bit 0 asks for an explain trace; bit
// 1 says the request is in the wire format (wasm/guest/wire.go), not JSON.
//
//go:wasmexport decide
func decide(ptr, n, flags uint32) uint64 {
	// call's work without its closure and second guard: DecideFlags
	// recovers from its own panics, and nothing else here can panic. A
	// decision is the call a host makes most.
	in, ok := input(ptr, n)
	if !ok {
		return pack(eng.Fail(guest.CodeBadInput, "decide: a buffer that alloc did not return, or a length past its end"), false)
	}
	out, ok := eng.DecideFlags(in, flags)
	if sinceYield++; sinceYield >= yieldEvery {
		sinceYield = 0
		runtime.Gosched()
	}
	return pack(out, ok)
}

// decide_batch decides a JSON array of requests into a JSON array of
// decisions. flags as for decide.
//
//go:wasmexport decide_batch
func decideBatch(ptr, n, flags uint32) uint64 {
	return call("decide_batch", ptr, n, 1, func(in []byte) ([]byte, bool) { return eng.DecideBatchFlags(in, flags) })
}

// call runs one export over the input buffer at ptr: it checks the buffer,
// turns a panic into an error result, and yields before returning once
// every calls (see RATIONALE, "Why does every export end with
// runtime.Gosched?").
func call(op string, ptr, n uint32, every int, f func([]byte) ([]byte, bool)) (res uint64) {
	var out []byte
	ok := false
	defer func() { res = pack(out, ok) }()
	defer guest.Recover(&eng, &out, &ok)
	in, ok1 := input(ptr, n)
	if !ok1 {
		out = eng.Fail(guest.CodeBadInput, op+": a buffer that alloc did not return, or a length past its end")
		return
	}
	out, ok = f(in)
	if sinceYield++; sinceYield >= every {
		sinceYield = 0
		runtime.Gosched()
	}
	return
}

// version describes the module as JSON: {"abi":1,"go":...,"os":"wasip1"}.
//
//go:wasmexport version
func version() (res uint64) {
	var out []byte
	ok := true
	defer func() { res = pack(out, ok) }()
	defer guest.Recover(&eng, &out, &ok)
	out = eng.Version()
	return
}

// debug_fault fails on purpose, for the host's tests of failure handling:
// kind 0 panics (the guard must turn it into an error answer), 1 reads
// outside linear memory (a wasm trap) and 2 allocates until the memory
// cap stops it (the Go runtime exits). Hosts never call it otherwise.
//
//go:wasmexport debug_fault
func debugFault(kind uint32) (res uint64) {
	var out []byte
	ok := false
	defer func() { res = pack(out, ok) }()
	defer guest.Recover(&eng, &out, &ok)
	switch kind {
	case 0:
		panic("debug_fault: a deliberate panic")
	case 1:
		sink = trap()
	case 2:
		for {
			hog = append(hog, make([]byte, 1<<20))
		}
	case 3:
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		out = fmt.Appendf(nil, `{"heap_alloc":%d,"heap_sys":%d,"num_gc":%d,"next_gc":%d,"gc_sys":%d,"stack_sys":%d,"gcpercent_env":%q}`, m.HeapAlloc, m.HeapSys, m.NumGC, m.NextGC, m.GCSys, m.StackSys, os.Getenv("GOGC"))
		ok = true
		return
	}
	out = eng.Fail(guest.CodeBadInput, "debug_fault: unknown kind")
	return
}

var (
	sink byte
	hog  [][]byte
)
