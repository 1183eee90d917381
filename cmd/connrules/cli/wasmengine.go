package cli

import (
	"context"
	"os"
	"path/filepath"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
)

// The "wasm" engine decides through the embedded WebAssembly module on
// wazero (package host), so every command can check that the module
// agrees with the native engine.
func init() {
	engines["wasm"] = openWasm
}

// wasmCacheDir keeps wazero's compiled code between runs of the command,
// so only the first run pays to compile the module.
func wasmCacheDir() string {
	if d := os.Getenv("CONNRULES_WASM_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "connrules", "wazero")
	}
	return ""
}

func openWasm(ctx context.Context, filename string, src []byte) (Engine, error) {
	opts := []host.Option{host.WithPoolSize(1)}
	if dir := wasmCacheDir(); dir != "" && os.MkdirAll(dir, 0o755) == nil {
		opts = append(opts, host.WithCompilationCache(dir))
	}
	e, err := host.New(ctx, opts...)
	if err != nil {
		return nil, err
	}
	if err := e.Load(ctx, filename, src); err != nil {
		_ = e.Close(ctx)
		return nil, err
	}
	return wasmEngine{e}, nil
}

type wasmEngine struct{ e *host.Engine }

func (w wasmEngine) Decide(ctx context.Context, req *rules.Request, explain bool) (rules.Decision, error) {
	if explain {
		return w.e.Explain(ctx, req)
	}
	return w.e.Decide(ctx, req)
}

func (w wasmEngine) Close(ctx context.Context) error { return w.e.Close(ctx) }
