package lifecycle

import (
	"context"

	"github.com/connrules/connrules/rules"
)

// Decider decides one stage of one request. The native engine (through
// [Native]) and the wazero host (*host.Engine) both satisfy it, so the
// lifecycle runs on either.
//
// An error means the engine could not decide at all (the module trapped,
// the context ended); the lifecycle then fails closed with
// [rules.Unavailable] and returns the error too.
type Decider interface {
	Decide(ctx context.Context, req *rules.Request) (rules.Decision, error)
}

// Native adapts a loaded policy to [Decider]. It never returns an error:
// the native engine fails closed inside the decision instead.
func Native(p *rules.Policy) Decider { return nativeDecider{p} }

type nativeDecider struct{ p *rules.Policy }

func (n nativeDecider) Decide(_ context.Context, req *rules.Request) (rules.Decision, error) {
	return n.p.Decide(req), nil
}

// DeciderFunc adapts a function to [Decider].
type DeciderFunc func(ctx context.Context, req *rules.Request) (rules.Decision, error)

// Decide implements [Decider].
func (f DeciderFunc) Decide(ctx context.Context, req *rules.Request) (rules.Decision, error) {
	return f(ctx, req)
}
