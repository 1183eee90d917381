package rules_test

import (
	"fmt"

	"github.com/connrules/connrules/rules"
)

func ExamplePolicy_Fallbacks() {
	src := `version: 1
name: fallback
stages:
  invite:
    default: {outcome: allow}
    rules:
      - id: many_schools
        when: 'len(filter(recipient.settings.schools, # != "")) > 2'
        outcome: deny
      - id: daily
        when: sender.sent.day >= 100
        outcome: deny
`
	p, err := rules.Load("fallback.yaml", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	// The first condition runs alone on expr's VM; the second runs typed.
	for _, fb := range p.Fallbacks() {
		fmt.Println(fb.Pos, fb.Rule, fb.What+":", fb.Why)
	}
	// Output: fallback.yaml:7:9 many_schools when: builtin count
}
