package scenario_test

import (
	"context"
	"fmt"
	"os"

	"github.com/connrules/connrules/rules/lifecycle/scenario"
)

func ExampleRun() {
	src := []byte(`
name: second invitation
policy: ../../../policies.yaml
start: 2026-03-02T10:00:00-08:00
members: [{id: alice}, {id: bob}, {id: carol}]
connections: [[alice, carol], [carol, bob]]
steps:
  - invite: {from: alice, to: bob}
    expect: {outcome: allow, deliver: inbox}
  - invite: {from: alice, to: bob}
    expect: {outcome: deny, reason: already_pending}
`)
	sc, err := scenario.Parse("example.yaml", src)
	if err != nil {
		panic(err)
	}
	rep, err := scenario.Run(context.Background(), sc, scenario.Options{})
	if err != nil {
		panic(err)
	}
	p := &scenario.TextPrinter{W: os.Stdout, Loc: rep.Location}
	for _, r := range rep.Steps {
		p.Step(r)
	}
	p.Footer(rep)
	// Output:
	// ok     1  Mon 2026-03-02 10:00 PST  invite alice → bob
	//              allow (sent) → inbox, pending
	// ok     2  Mon 2026-03-02 10:00 PST  invite alice → bob
	//              deny (already_pending)
	// PASS: 2 step results ok, 0 failed
}

func ExampleParse() {
	_, err := scenario.Parse("bad.yaml", []byte("policy: p.yaml\nstart: 2026-03-02T10:00:00-08:00\nsteps:\n  - invite: {from: alice}\n"))
	fmt.Println(err)
	// Output:
	// bad.yaml:4:13: invite needs exactly one of to (a member id) or email
	//     4 |   - invite: {from: alice}
	//       |             ^
}
