package cli

import (
	"context"
	"os"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
)

// The "wasm" engine decides through the embedded WebAssembly module on
// wazero (package host), so every command can check that the module
// agrees with the native engine.
func init() {
	engines["wasm"] = openWasm
}

// wasmCacheDir is CONNRULES_WASM_CACHE, or "" for host.New's default
// per-user compilation cache.
func wasmCacheDir() string { return os.Getenv("CONNRULES_WASM_CACHE") }

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
