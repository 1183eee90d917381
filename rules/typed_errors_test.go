package rules

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

const typedErrorsPolicy = `version: 1
name: typed-errors
timezone: UTC
limits: {memory_budget: 50}
params:
  tiers:
    free: {daily: 10}
    premium: {daily: 20}
stages:
  invite:
    default: {outcome: allow}
    rules:
      - id: overflow
        when: sender.connections + 1 < 0
        outcome: deny
      - id: nil_recipient
        when: recipient.connections > 5
        outcome: deny
      - id: index
        when: recipient.settings.companies[3] == "x"
        outcome: deny
      - id: modulo
        when: sender.over_limit % pair.mutual == 1
        outcome: deny
      - id: table_key
        when: params.tiers[sender.company].daily > 100
        outcome: deny
      - id: far_retry
        when: pair.pending > 0
        outcome: deny
        retry_after: add_months(now, 100000)
  deliver:
    rules:
      - id: budget
        when: len(1..pair.mutual) > 3
        outcome: hold
`

// TestTypedErrorsReplayed makes each failure the back ends must agree on
// happen once, and requires the typed decision to equal the VM's, error
// text included. The budget rule is a range, which the typed back end
// leaves to the VM, so the memory budget binds exactly as before.
func TestTypedErrorsReplayed(t *testing.T) {
	p, err := Load("typed-errors.yaml", []byte(typedErrorsPolicy))
	if err != nil {
		t.Fatal(err)
	}
	// deliver's one condition falls back, so deliver runs on the VM.
	if p.stages[StageInvite].typed == nil || p.stages[StageDeliver].typed != nil {
		t.Fatalf("invite should be typed, deliver not: %+v", p.Fallbacks())
	}
	cases := []struct {
		name, rule, msg string
		mutate          func(*Request)
	}{
		{"overflow wraps in both", "overflow", "", func(q *Request) { q.Sender.Connections = math.MaxInt }},
		{"no recipient", "nil_recipient", "cannot get connections", func(q *Request) { q.Recipient = nil }},
		{"index out of range", "index", "index out of range", func(q *Request) { q.Recipient.Settings.Companies = []string{"a"} }},
		{"modulo by zero", "modulo", "integer divide by zero", func(q *Request) { q.Pair.Mutual = 0 }},
		{"unknown table key", "table_key", `has no entry "Acme"`, func(q *Request) { q.Pair.Mutual = 1; q.Sender.Company = "Acme" }},
		{"time JSON cannot write", "far_retry", "outside 0..9999", func(q *Request) { q.Pair.Mutual = 1; q.Sender.Company = "free"; q.Pair.Pending = 1 }},
		{"memory budget", "budget", "memory budget exceeded", func(q *Request) { q.Stage = StageDeliver; q.Pair.Mutual = 1000 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := validRequest()
			c.mutate(q)
			got := p.Decide(q)
			want := p.Explain(q)
			want.Trace = nil
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("typed %+v\nVM    %+v", got, want)
			}
			// A failure is left to the VM; a wrapped sum is not a failure.
			if st := p.stages[q.Stage]; st.typed != nil {
				if _, _, ok := typedDecision(p, st, q); ok != (c.msg == "") {
					t.Fatalf("typed path decided: %v", ok)
				}
			}
			if got.Rule != c.rule {
				t.Fatalf("rule %q, want %q: %+v", got.Rule, c.rule, got)
			}
			if c.msg != "" && (len(got.Diagnostics) != 1 || !strings.Contains(got.Diagnostics[0].Message, c.msg)) {
				t.Fatalf("diagnostics %+v, want %q", got.Diagnostics, c.msg)
			}
		})
	}
}

// validRequest passes Validate and every rule of typedErrorsPolicy.
func validRequest() *Request {
	return &Request{
		Stage: StageInvite, Now: diffBase,
		Sender:    &Member{ID: "a", Kind: "person", Tier: "free", Status: "active", Company: "free", OverLimit: 2},
		Recipient: &Member{ID: "b", Kind: "person", Tier: "free", Status: "active", Settings: Settings{Companies: []string{"a", "b", "c", "d"}}},
		Pair:      Pair{Mutual: 3},
	}
}
