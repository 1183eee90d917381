//go:build race

package host

// raceEnabled: the race detector slows CPU-bound code 5-20 times, so
// measurements (not correctness checks) skip under it.
const raceEnabled = true
