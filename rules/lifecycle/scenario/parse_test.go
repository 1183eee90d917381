package scenario_test

import (
	"context"
	"strings"
	"testing"

	"github.com/connrules/connrules/rules/lifecycle/scenario"
)

const head = "policy: ../../../policies.yaml\nstart: 2026-03-02T10:00:00-08:00\n"

// TestParseErrors checks that malformed scenarios fail with the position
// of the offending node and a caret under it.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown top-level key", head + "stepz: []\n",
			"s.yaml:3:1: unknown key \"stepz\" (want one of blocks, connections, contacts, description, members, name, policy, start, steps)\n    3 | stepz: []\n      | ^"},
		{"missing steps", head,
			"s.yaml:1:1: missing \"steps\""},
		{"bad start", "policy: p.yaml\nstart: next monday\nsteps: []\n",
			"s.yaml:2:8: bad time \"next monday\": want RFC 3339 with a zone offset, e.g. 2026-03-02T10:00:00-08:00\n    2 | start: next monday\n      |        ^"},
		{"unknown action", head + "steps:\n  - invit: {from: a, to: b}\n",
			"s.yaml:4:5: unknown step key \"invit\" (want one of accept, advance, advance_to, block, check, expire, ignore, import_contacts, invite, reject, remove, unblock, withdraw, or name, repeat, first, every, expect)"},
		{"two actions", head + "steps:\n  - invite: {from: a, to: b}\n    accept: {by: b, from: a}\n",
			"s.yaml:5:5: one action per step: this step already has \"invite\""},
		{"wrong argument", head + "steps:\n  - invite: {from: a, by: b}\n",
			"s.yaml:4:23: invite does not take \"by\" (want from, to, email, note)"},
		{"missing argument", head + "steps:\n  - block: {by: a}\n",
			"s.yaml:4:12: block needs \"member\""},
		{"to and email", head + "steps:\n  - invite: {from: a, to: b, email: b@x}\n",
			"s.yaml:4:13: invite needs exactly one of to (a member id) or email"},
		{"bad duration", head + "steps:\n  - advance: 3 months\n",
			"s.yaml:4:14: bad duration \"3 months\": unknown unit \" months\" (use w, d, h, m, s)\n    4 |   - advance: 3 months\n      |              ^"},
		{"negative repeat", head + "steps:\n  - repeat: 0\n    expire: true\n",
			"s.yaml:4:13: repeat must be at least 1"},
		{"bad expectation key", head + "steps:\n  - invite: {from: a, to: b}\n    expect: {outcom: allow}\n",
			"s.yaml:5:14: unknown key \"outcom\" (want one of connected, degree, deliver, error, expired, matched, message, meter, mutual, outcome, public, reason, restricted_until, retry_after, rule, status)"},
		{"bad meter path", head + "steps:\n  - check: a\n    expect: {meter: {daily.used: 3}}\n",
			"s.yaml:5:22: unknown meter value \"daily.used\""},
		{"wrong type", head + "steps:\n  - invite: {from: a, to: b}\n    expect: {degree: two}\n",
			"s.yaml:5:22: want an integer, got \"two\""},
		{"bad status", head + "members:\n  - {id: a, status: banned}\nsteps: []\n",
			"s.yaml:4:21: status \"banned\" is not one of active, soft_banned, deactivated, closed"},
		{"bad invitations setting", head + "members:\n  - {id: a, settings: {invitations: friends}}\nsteps: []\n",
			"s.yaml:4:37: invitations \"friends\" is not one of everyone, email_or_contacts, contacts_only, mutual, second_degree, third_degree, nobody"},
		{"count without {i}", head + "members:\n  - {id: a, count: 3}\nsteps: []\n",
			"s.yaml:4:10: a member with count needs {i} in its id"},
		{"self connection", head + "connections:\n  - [a, a]\nsteps: []\n",
			"s.yaml:4:5: a member cannot connect to itself"},
		{"YAML syntax", head + "steps:\n  - invite: {from: a\n",
			"s.yaml:3:1: YAML syntax: did not find expected ',' or '}'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scenario.Parse("s.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error:\n%s\nwant it to start with:\n%s", err, tc.want)
			}
		})
	}
}

// TestRunErrors: scenarios that parse but cannot run.
func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown tier", head + "members:\n  - {id: a, tier: gold}\nsteps: []\n",
			"s.yaml:4:19: member a: tier \"gold\" is not in the policy's params.tiers"},
		{"unknown member in a connection", head + "members:\n  - {id: a}\nconnections:\n  - [a, b]\nsteps: []\n",
			"s.yaml:6:5: connection: member \"b\": not found"},
		{"unknown param", "policy: {file: ../../../policies.yaml, params: {tiers.free.dayly: 3}}\nstart: 2026-03-02T10:00:00-08:00\nsteps: []\n",
			"s.yaml:1:49: policy ../../../policies.yaml has no param tiers.free.dayly (params.tiers.free has: daily, weekly, monthly, connections)"},
		{"missing policy", "policy: nope.yaml\nstart: 2026-03-02T10:00:00-08:00\nsteps: []\n",
			"s.yaml:1:9: policy: open nope.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := scenario.Parse("s.yaml", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			_, err = scenario.Run(context.Background(), sc, scenario.Options{})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to start with:\n%s", err, tc.want)
			}
		})
	}
}

// TestFailedExpectationsAreReported: a wrong expectation fails the run
// with the step's line.
func TestFailedExpectationsAreReported(t *testing.T) {
	src := head + `members: [{id: a}, {id: b}, {id: c}]
connections: [[a, c], [c, b]]
steps:
  - invite: {from: a, to: b}
    expect: {outcome: deny, meter: {day.used: 2}}
  - accept: {by: b, from: nobody}
`
	sc, err := scenario.Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := scenario.Run(context.Background(), sc, scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Failed != 2 {
		t.Fatalf("failed = %d, want 2", rep.Failed)
	}
	got := strings.Join(rep.Steps[0].Failures, "\n") + "\n" + strings.Join(rep.Steps[1].Failures, "\n")
	want := `outcome: got "allow", want "deny"
meter day.used of a: got 1, want 2
unexpected error: no pending invitation from nobody to b: not found`
	if got != want {
		t.Fatalf("failures:\n%s\nwant:\n%s", got, want)
	}
	var b strings.Builder
	p := &scenario.TextPrinter{W: &b, Loc: rep.Location}
	for _, r := range rep.Steps {
		p.Step(r)
	}
	p.Footer(rep)
	if !strings.Contains(b.String(), "✗ line 6: outcome: got \"allow\", want \"deny\"") || !strings.HasSuffix(b.String(), "FAIL: 0 step results ok, 2 failed\n") {
		t.Fatalf("report:\n%s", b.String())
	}
}
