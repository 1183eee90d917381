package rules_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/connrules/connrules/rules"
)

// ComputeCoverage tells which rules and branches a policy's tests reach.
func ExampleComputeCoverage() {
	src, _ := os.ReadFile("testdata/coverage/partial.yaml")
	c, err := rules.ComputeCoverage("partial.yaml", src)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d of %d rules, %d of %d branches; full: %v\n", c.RulesDecided, c.RulesTotal, c.BranchesHeld, c.BranchesTotal, c.Full())
	// Output: 2 of 3 rules, 1 of 3 branches; full: false
}

// Warnings finds rules no request reaches, and other likely mistakes.
func ExampleWarnings() {
	src, _ := os.ReadFile("../policies.yaml")
	ws, err := rules.Warnings("policies.yaml", src)
	if err != nil {
		panic(err)
	}
	for _, w := range ws {
		fmt.Println(w.Kind, w.Rule)
	}
	// Output:
	// always_false withdraw_cooldown
	// always_false monthly_limit
}

// Witnesses finds, for each rule, a request it decides.
func ExampleWitnesses() {
	src, _ := os.ReadFile("../policies.yaml")
	ws, _ := rules.Witnesses("policies.yaml", src)
	for _, w := range ws {
		if w.Rule == "daily_limit" || w.Rule == "resend_cooldown" {
			fmt.Println(w.Rule, w.Changes)
		}
	}
	// Output:
	// resend_cooldown map[pair:map[ignored:1 last_ignored_at:2026-02-16T11:00:00-08:00]]
	// daily_limit map[sender:map[sent:map[day:30]]]
}

// GenerateTests writes the witnesses as policy tests.
func ExampleGenerateTests() {
	src, _ := os.ReadFile("testdata/coverage/partial.yaml")
	out, _ := rules.GenerateTests("partial.yaml", src)
	fmt.Print(strings.SplitAfterN(string(out), "\n\n", 3)[1])
	// Output:
	// - name: 'witness: blocked'
	//   request:
	//     pair:
	//       blocked: true
	//     stage: invite
	//   expect:
	//     outcome: deny
	//     reason: blocked
	//     rule: blocked
}

// PolicySchema is the JSON Schema editors use to complete and check keys.
func ExamplePolicySchema() {
	schema, err := rules.PolicySchema(nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Contains(string(schema), `"retry_after"`), strings.Contains(string(schema), rules.SchemaID))
	// Output: true true
}

// HelperDocs lists the helpers with an evaluated example each.
func ExampleHelperDocs() {
	hs, _ := rules.HelperDocs()
	for _, h := range hs {
		if h.Name == "next_day" {
			fmt.Println(h.Example, "=", h.Result)
		}
	}
	// Output: next_day(now) = Mar 3, 2026 12:00 AM PST
}
