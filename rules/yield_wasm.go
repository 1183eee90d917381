//go:build wasm

package rules

import "runtime"

// yield lets the collector's background workers run during a long load.
// WebAssembly has one thread and no preemption, so within one call into
// the module a GC cycle that started never finished and a heavy load's
// heap grew past a 64 MiB instance (see wasm/wasip1, which yields after
// each call for the same reason).
func yield() { runtime.Gosched() }
