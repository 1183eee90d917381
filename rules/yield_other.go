//go:build !wasm

package rules

// yield is a no-op where the collector runs on its own threads; see
// yield_wasm.go.
func yield() {}
