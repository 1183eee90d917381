package rules_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/connrules/connrules/rules"
)

const examplePolicy = `
version: 1
timezone: America/Los_Angeles
messages: {generic: "Unable to connect."}
params:
  tiers:
    free:    {daily: 30}
    premium: {daily: 100}
let:
  tier: params.tiers[sender.tier]
stages:
  invite:
    default: {outcome: allow, reason: sent, message: "Invitation sent."}
    rules:
      - id: blocked
        when: pair.blocked
        outcome: deny
        private: true
      - id: daily_limit
        when: sender.sent.day >= tier.daily
        outcome: deny
        message: "Daily limit of ${tier.daily} reached; try again after ${format_time(next_day(now))}."
        retry_after: next_day(now)
  deliver:
    default: {outcome: inbox}
  accept:
    default: {outcome: allow}
tests:
  - name: the 31st is refused
    request:
      stage: invite
      now: "2026-03-02T10:00:00-08:00"
      sender: {id: a, kind: person, tier: free, status: active, sent: {day: 30}}
      recipient: {id: b, kind: person, tier: free, status: active}
    expect: {outcome: deny, reason: daily_limit}
`

func examplePolicyLoaded() *rules.Policy {
	p, err := rules.Load("example.yaml", []byte(examplePolicy))
	if err != nil {
		panic(err)
	}
	return p
}

const exampleRequest = `{
  "stage": "invite", "now": "2026-03-02T10:00:00-08:00",
  "sender": {"id": "alice", "kind": "person", "tier": "free", "status": "active", "sent": {"day": 30}},
  "recipient": {"id": "bob", "kind": "person", "tier": "free", "status": "active"},
  "pair": {"degree": 2}
}`

func ExampleLoad() {
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		panic(err)
	}
	p, err := rules.Load("policies.yaml", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Name(), len(p.Rules(rules.StageInvite)), "invite rules")
	// Output: linkedin-default 25 invite rules
}

func ExampleLoad_errors() {
	_, err := rules.Load("bad.yaml", []byte(`
version: 1
stages:
  invite:
    default: {outcome: allow}
    rules:
      - id: typo
        when: sender.sent.dya > 3
        outcome: deny
  deliver: {default: {outcome: inbox}}
  accept: {default: {outcome: allow}}
`))
	fmt.Println(err)
	// Output:
	// bad.yaml:8:27: rule "typo": when: counts has no field dya (did you mean day?)
	//     8 |         when: sender.sent.dya > 3
	//       |                           ^
}

func ExampleDecodeRequest() {
	_, err := rules.DecodeRequest([]byte(`{"stage": "invite", "now": "2026-03-02T10:00:00Z", "sender": {"kind": "robot", "status": "active"}}`))
	fmt.Println(err)
	// Output: invalid request: sender.kind: "robot" is not one of person, company
}

func ExamplePolicy_Decide() {
	p := examplePolicyLoaded()
	req, err := rules.DecodeRequest([]byte(exampleRequest))
	if err != nil {
		panic(err)
	}
	d := p.Decide(req)
	fmt.Println(d.Outcome, d.Reason)
	fmt.Println(d.Message)
	fmt.Println(d.RetryAfter.Format(time.RFC3339))
	// Output:
	// deny daily_limit
	// Daily limit of 30 reached; try again after Mar 3, 2026 12:00 AM PST.
	// 2026-03-03T00:00:00-08:00
}

func ExamplePolicy_Explain() {
	p := examplePolicyLoaded()
	req, _ := rules.DecodeRequest([]byte(exampleRequest))
	for _, t := range p.Explain(req).Trace {
		fmt.Println(t.Rule, t.Held)
	}
	// Output:
	// blocked false
	// daily_limit true
}

func ExamplePolicy_Public() {
	p := examplePolicyLoaded()
	req, _ := rules.DecodeRequest([]byte(exampleRequest))
	req.Pair.Blocked = true
	d := p.Decide(req)
	fmt.Println("operator:", d.Reason, d.Private)
	fmt.Println("sender:  ", string(p.Public(d).JSON()))
	// Output:
	// operator: blocked true
	// sender:   {"outcome":"deny","message":"Unable to connect."}
}

func ExamplePolicy_GenericDenial() {
	fmt.Println(string(examplePolicyLoaded().GenericDenial().JSON()))
	// Output: {"outcome":"deny","message":"Unable to connect."}
}

func ExamplePolicy_RunTests() {
	var b strings.Builder
	rules.FormatResults(&b, "example.yaml", examplePolicyLoaded().RunTests(), true)
	fmt.Print(b.String())
	// Output:
	// --- PASS: the 31st is refused
	// ok  	example.yaml	1 tests
}

func ExamplePolicy_Param() {
	v, _ := examplePolicyLoaded().Param("tiers.premium.daily")
	fmt.Println(v)
	// Output: 100
}

func ExamplePolicy_Rule() {
	info, _ := examplePolicyLoaded().Rule("blocked")
	fmt.Println(info.Stage, info.Pos, info.Private)
	// Output: invite example.yaml:15:9 true
}

func ExampleCalendar_NextWeek() {
	c := rules.DefaultCalendar() // Monday 00:01, America/Los_Angeles
	now := time.Date(2026, 3, 6, 9, 0, 0, 0, c.Loc)
	fmt.Println(c.NextWeek(now))
	// Output: 2026-03-09 00:01:00 -0700 PDT
}

func ExampleParseDuration() {
	d, _ := rules.ParseDuration("1w12h")
	fmt.Println(d)
	// Output: 180h0m0s
}

func ExampleUnavailable() {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	fmt.Println(string(rules.Unavailable(rules.StageInvite, now, "").JSON()))
	// Output: {"outcome":"deny","reason":"service_unavailable","rule":"","message":"The service is unavailable. Please try again shortly.","retry_after":"2026-03-02T10:00:30Z"}
}

func ExamplePolicy_Invalid() {
	_, err := rules.DecodeRequest([]byte(`{"stage": "deliver"`))
	d := examplePolicyLoaded().Invalid("deliver", err)
	fmt.Println(d.Outcome, d.Reason, d.Diagnostics[0].Message)
	// Output: hold invalid_request invalid request: unexpected EOF
}
