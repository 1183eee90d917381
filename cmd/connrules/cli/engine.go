package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/connrules/connrules/rules"
)

// Engine decides requests for the CLI: natively, or through the
// WebAssembly module (registered by engine_wasm.go).
type Engine interface {
	Decide(ctx context.Context, req *rules.Request, explain bool) (rules.Decision, error)
	Close(ctx context.Context) error
}

// engines maps --engine names to constructors. The policy is always also
// loaded natively, for positioned errors and the public view.
var engines = map[string]func(ctx context.Context, filename string, src []byte) (Engine, error){
	"native": func(_ context.Context, filename string, src []byte) (Engine, error) {
		p, err := rules.Load(filename, src)
		if err != nil {
			return nil, err
		}
		return nativeEngine{p}, nil
	},
}

type nativeEngine struct{ p *rules.Policy }

func (n nativeEngine) Decide(_ context.Context, req *rules.Request, explain bool) (rules.Decision, error) {
	if explain {
		return n.p.Explain(req), nil
	}
	return n.p.Decide(req), nil
}

func (nativeEngine) Close(context.Context) error { return nil }

func engineNames() string {
	names := make([]string, 0, len(engines))
	for n := range engines {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, "|")
}

func openEngine(ctx context.Context, name, filename string, src []byte) (Engine, error) {
	mk, ok := engines[name]
	if !ok {
		return nil, fmt.Errorf("unknown engine %q (want %s)", name, engineNames())
	}
	return mk(ctx, filename, src)
}
