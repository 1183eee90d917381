package rules_test

import (
	"encoding/json"
	"fmt"

	"github.com/connrules/connrules/rules"
)

func ExamplePolicy_PublicView() {
	v := examplePolicyLoaded().PublicView()
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
	// Output: {"generic":"Unable to connect.","allow":{"outcome":"allow","message":"Invitation sent."}}
}

func ExamplePublicView_Public() {
	// A host that holds only the view, not the policy, hides a private
	// denial exactly as Policy.Public does.
	v := rules.PublicView{Generic: "Unable to connect.", Allow: rules.PublicDecision{Outcome: "allow"}}
	d := rules.Decision{Outcome: "deny", Reason: "blocked", Rule: "blocked", Message: "You blocked them.", Private: true}
	fmt.Println(string(v.Public(d).JSON()))
	// Output: {"outcome":"deny","message":"Unable to connect."}
}

func ExamplePublicView_GenericDenial() {
	v := rules.PublicView{Generic: "Unable to connect."}
	fmt.Println(string(v.GenericDenial().JSON()))
	// Output: {"outcome":"deny","message":"Unable to connect."}
}

func ExamplePolicy_Iterations() {
	// The default policy loops over a few keywords; the loader refuses
	// any expression that could loop more than rules.MaxIterations times.
	fmt.Println(examplePolicyLoaded().Iterations() <= rules.MaxIterations)
	// Output: true
}
