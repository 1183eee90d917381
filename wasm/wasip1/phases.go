//go:build wasip1 && phases

package main

import "runtime"

// debug_phase, in the phases build only (go build -tags phases), repeats
// one phase of a decide call reps times over the input buffer, so that a
// host can time each phase without the crossing: phase 0 does nothing, 1
// decodes, 2 decodes and decides, 3 also encodes the answer, 4 yields, 5 is
// the whole of Engine.DecideFlags. It answers the number of heap
// allocations the repetitions made.
//
//go:wasmexport debug_phase
func debugPhase(ptr, n, flags, phase, reps uint32) uint64 {
	in, _ := input(ptr, n)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range reps {
		switch phase {
		case 1, 2, 3:
			eng.Phase(in, flags, int(phase))
		case 4:
			runtime.Gosched()
		case 5:
			eng.DecideFlags(in, flags)
		}
	}
	runtime.ReadMemStats(&m1)
	return m1.Mallocs - m0.Mallocs
}
