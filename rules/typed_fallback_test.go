package rules

import (
	"math/rand/v2"
	"testing"
)

// A stage with one condition the back end does not cover (filter) and a
// message it does not cover, between typed rules.
const partlyTypedPolicy = `version: 1
name: partly-typed
stages:
  invite:
    default: {outcome: allow, reason: sent}
    rules:
      - id: no_recipient
        when: recipient == nil
        outcome: deny
      - id: many_schools
        when: 'len(filter(recipient.settings.schools, # != "")) > 1'
        outcome: deny
      - id: busy
        when: pair.mutual >= 100
        outcome: deny
        message: 'Busy: ${len(filter(recipient.settings.companies, # != ""))} companies.'
      - id: daily
        when: sender.sent.day >= 20
        outcome: deny
        message: "Daily: ${sender.sent.day}."
`

// TestTypedFallsBackPerRule: an uncovered condition runs alone on the VM
// and the rest of the stage stays typed (before, the whole stage ran on
// the VM); a rule whose message is not typed is found once, by the typed
// back end, and only its message is left to the VM.
func TestTypedFallsBackPerRule(t *testing.T) {
	p, err := Load("partly.yaml", []byte(partlyTypedPolicy))
	if err != nil {
		t.Fatal(err)
	}
	st := p.stages[StageInvite]
	if st.typed == nil {
		t.Fatalf("invite should run typed: %+v", p.Fallbacks())
	}
	for i, f := range st.typed.when {
		if (f == nil) != (i == 1) {
			t.Errorf("rule %s: typed condition %v", st.rules[i].id, f != nil)
		}
	}
	if st.typed.rules[2].complete || !st.typed.rules[3].complete {
		t.Errorf("only busy's message should fall back")
	}

	q := validRequest()
	q.Recipient.Settings.Schools = []string{"a", "b"}
	if d, idx, ok := typedDecision(p, st, q); !ok || d.Rule != "many_schools" || idx != 1 {
		t.Fatalf("many_schools: %+v %d %v", d, idx, ok)
	}
	q.Recipient.Settings.Schools = nil
	q.Pair.Mutual = 100
	if d, idx, ok := typedDecision(p, st, q); ok || idx != 2 {
		t.Fatalf("busy should leave only its message to the VM: %+v %d %v", d, idx, ok)
	}
	if d := p.Decide(q); d.Message != "Busy: 4 companies." {
		t.Fatalf("busy: %+v", d)
	}
	q.Pair.Mutual, q.Sender.Sent.Day = 0, 25
	if d, _, ok := typedDecision(p, st, q); !ok || d.Message != "Daily: 25." {
		t.Fatalf("daily: %+v %v", d, ok)
	}

	r := rand.New(rand.NewPCG(7, 8))
	for range 2000 {
		q := diffRequest(r)
		diffPolicy(t, "partly", p, q)
		if q.Validate() == nil {
			sameDecision(t, "partly", p, q)
		}
	}
}

// typedDecision is decideTyped returning its decision.
func typedDecision(p *Policy, st *stage, q *Request) (Decision, int, bool) {
	var d Decision
	idx, ok := p.decideTyped(&d, st, q)
	return d, idx, ok
}
