// Package rules is the connrules engine: it loads a policy written in YAML
// with expr-lang/expr conditions, compiles every expression once against
// typed facts, and decides connection-invitation requests.
//
// # Quick start
//
//	src, _ := os.ReadFile("policies.yaml")
//	policy, err := rules.Load("policies.yaml", src)
//	if err != nil {
//		log.Fatal(err) // every problem, each with file:line:col and a caret
//	}
//	req, err := rules.DecodeRequest(requestJSON) // malformed facts: a clear error
//	d := policy.Decide(req)                      // never panics; fails closed
//	show(policy.Public(d))                       // what the sender may see
//
// # Policies
//
// A policy has three stages, invite, deliver and accept. Each is an ordered
// list of rules and a default; the first rule whose when condition holds
// decides (first match). params holds the numbers a trust-and-safety editor
// changes, let names shared sub-expressions, and tests holds the policy's
// own test cases. See policies.yaml for the full language in use.
//
// A policy writes only the stages it uses (at least one). A stage left
// out, or written without a default, decides its built-in default:
//
//	invite:  {outcome: allow, reason: sent,      message: "Invitation sent."}
//	deliver: {outcome: inbox, reason: delivered, message: "You have a new invitation."}
//	accept:  {outcome: allow, reason: connected, message: "You're now connected."}
//
// # Limits
//
// Loading is bounded in time and memory whatever the text, natively and in
// WebAssembly, and each limit fails with a positioned error: the text is
// at most [MaxPolicyBytes]; its YAML at most [MaxYAMLNodes] values (an
// alias counts as all it stands for) nested at most [MaxYAMLDepth] deep;
// one expression nests at most [MaxExprDepth] levels in its text and
// [MaxTreeDepth] once its lets are inlined, and has at most
// limits.max_nodes nodes once its lets are inlined; a stage has at most
// [MaxRulesPerStage] rules; and the whole policy compiles at most
// [MaxPolicyNodes] nodes. RATIONALE.md says why each has its value.
//
// # Errors
//
// Loading returns an [ErrorList]. Deciding returns data: a rule that fails
// at run time becomes a [Diagnostic] and the stage fails closed (deny, or
// hold at deliver) with reason evaluation_error.
//
// # Determinism
//
// The engine never reads the clock or the host's time zone: now comes in
// with the facts, and time zone data is embedded, so the same request gives
// the same bytes natively and in WebAssembly.
//
// connrules is licensed under the Apache License 2.0; see LICENSE.
package rules
