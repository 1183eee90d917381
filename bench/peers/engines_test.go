package peers

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
)

// engine is one way of deciding an invite request.
type engine struct {
	name   string
	decide func(*rules.Request) Result
}

// fromDecision is the part of a connrules decision the peers give.
func fromDecision(t testing.TB, d rules.Decision) Result {
	r := Result{Outcome: d.Outcome, Reason: d.Reason, Rule: d.Rule, Message: d.Message, Private: d.Private, RetryAfter: d.RetryAfter}
	for _, e := range d.Effects {
		if e.Kind != "restrict" || e.Subject != "sender" || !r.RestrictUntil.IsZero() {
			t.Fatalf("%s: effect %+v: the peers know only one restrict effect on the sender", d.Rule, e)
		}
		r.RestrictUntil = e.Until
	}
	return r
}

// policySource is the default policy, or it with the rules it ships
// switched off switched on, as host/conformance_test.go makes
// policies-switched-on.yaml for the corpus.
func policySource(t testing.TB, name string) []byte {
	t.Helper()
	src, err := os.ReadFile("../../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if name == "policies.yaml" {
		return src
	}
	s := string(src)
	for _, r := range [][2]string{{"withdraw_cooldown: 0d", "withdraw_cooldown: 7d"}, {"monthly: 0,", "monthly: 300,"}} {
		if !strings.Contains(s, r[0]) {
			t.Fatalf("policies.yaml no longer has %q; update policySource (and switchedOn in host/conformance_test.go)", r[0])
		}
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return []byte(s)
}

var (
	wazeroOnce sync.Once
	wazeroErr  error
	wazeroEng  = map[string]*host.Engine{}
)

// engines builds every engine for one policy of the corpus.
func engines(t testing.TB, name string) []engine {
	t.Helper()
	src := policySource(t, name)
	pol, err := rules.Load(name, src)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ConfigOf(pol)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	wz, err := host.New(ctx, host.WithPoolSize(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wz.Close(ctx) })
	if err := wz.Load(ctx, name, src); err != nil {
		t.Fatalf("wazero: %v\n(is host/connrules.wasm older than rules/? `make wasm` rebuilds it)", err)
	}
	rg, err := NewRego(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := NewCEL(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hand := &Hand{C: cfg}
	return []engine{
		{"native", func(r *rules.Request) Result { return fromDecision(t, pol.Decide(r)) }},
		{"wazero", func(r *rules.Request) Result {
			d, err := wz.Decide(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			return fromDecision(t, d)
		}},
		{"opa", func(r *rules.Request) Result {
			res, err := rg.Decide(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}},
		{"cel", func(r *rules.Request) Result {
			res, err := cl.Decide(r)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}},
		{"hand", hand.Decide},
	}
}
