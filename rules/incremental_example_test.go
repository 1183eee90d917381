package rules_test

import (
	"fmt"
	"strings"

	"github.com/connrules/connrules/rules"
)

// A Loader reloads a policy as it is edited; each load compiles only the
// expressions that changed, and a version that does not load leaves the
// caller's last good policy in force.
func ExampleLoader() {
	src := `
version: 1
stages:
  invite:
    rules:
      - id: too_many
        when: sender.sent.day >= 100
        outcome: deny
`
	var ld rules.Loader
	p, err := ld.Load("policy.yaml", []byte(src))
	fmt.Println(p != nil, err)

	// A keystroke: the limit becomes 10.
	edited := strings.Replace(src, ">= 100", ">= 10", 1)
	if next, err := ld.Load("policy.yaml", []byte(edited)); err == nil {
		p = next
	}
	// A keystroke that breaks it: p stays.
	if _, err := ld.Load("policy.yaml", []byte(strings.Replace(edited, ">=", "=>", 1))); err != nil {
		fmt.Println(err.(rules.ErrorList)[0].Pos.Line)
	}
	fmt.Println(p.Decide(&rules.Request{Stage: rules.StageInvite, Now: rules.MinNow,
		Sender: &rules.Member{ID: "a", Kind: "person", Status: "active", Sent: rules.Counts{Day: 12}}}).Reason)
	// Output:
	// true <nil>
	// 7
	// too_many
}
