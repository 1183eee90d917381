package scenario_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/scenario"
)

// The wazero host satisfies the lifecycle's Decider as it is.
var _ lifecycle.Decider = (*host.Engine)(nil)

// wasmEngine runs a scenario's decisions inside the WebAssembly module.
func wasmEngine(ctx context.Context, filename string, src []byte, _ *rules.Policy) (lifecycle.Decider, func(), error) {
	e, err := host.New(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := e.Load(ctx, filename, src); err != nil {
		_ = e.Close(ctx)
		return nil, nil, err
	}
	return e, func() { _ = e.Close(ctx) }, nil
}

// TestExamplesOnWasm runs every example scenario with the wazero host as
// the Decider, and checks that the event log, every fact and decision of
// every action, is byte for byte the native run's.
func TestExamplesOnWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every scenario inside wazero")
	}
	files, err := filepath.Glob("../../../examples/scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal("no scenarios", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			native := runFile(t, f, scenario.Options{})
			wasm := runFile(t, f, scenario.Options{Engine: wasmEngine})
			if len(native.Events) == 0 {
				t.Fatal("no events logged")
			}
			var nb, wb bytes.Buffer
			if err := lifecycle.WriteEvents(&nb, native.Events); err != nil {
				t.Fatal(err)
			}
			if err := lifecycle.WriteEvents(&wb, wasm.Events); err != nil {
				t.Fatal(err)
			}
			if nb.String() != wb.String() {
				nl, wl := strings.Split(nb.String(), "\n"), strings.Split(wb.String(), "\n")
				for i := range min(len(nl), len(wl)) {
					if nl[i] != wl[i] {
						t.Fatalf("event %d differs:\nnative %s\nwasm   %s", i+1, nl[i], wl[i])
					}
				}
				t.Fatalf("event logs differ in length: native %d, wasm %d", len(nl), len(wl))
			}
		})
	}
}
