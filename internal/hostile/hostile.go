// Package hostile builds the hostile policies of issue 10: inputs that
// once made loading a policy run for minutes, take gigabytes, overflow the
// stack or fail differently in WebAssembly. The rules, host and fuzz tests
// share them, so every runtime is held to the same bounds.
package hostile

import (
	"fmt"
	"strings"
)

// Case is one hostile policy and what loading it must do.
type Case struct {
	Name string
	Src  []byte
	// Error is a substring of the load error, or "" when the policy must load.
	Error string
}

// head is a valid policy up to its stages; every case appends to it.
const head = "version: 1\nname: hostile\n"

// stages is a complete, small set of stages; %s is put into invite's rules.
func stages(inviteRules string) string {
	return "stages:\n  invite:\n    default: {outcome: allow, reason: sent}\n    rules:\n" + inviteRules
}

func rule(id, when string) string {
	return fmt.Sprintf("      - id: %s\n        when: %s\n        outcome: deny\n", id, when)
}

// Cases returns every hostile policy.
func Cases() []Case {
	return []Case{
		{"alias_bomb_params", []byte(head + aliasBomb("params", 9, 9) + stages(rule("r", "true"))), "YAML values"},
		{"alias_bomb_test_defaults", []byte(head + stages(rule("r", "true")) + aliasBomb("test_defaults", 9, 9)), "YAML values"},
		{"alias_cycle", []byte(head + "params:\n  a: &a [1, *a]\n" + stages(rule("r", "true"))), "refers to itself"},
		{"bang_1m", []byte(head + stages(rule("r", "pair.rejected || "+strings.Repeat("!", 1_000_000)+"true"))), "nested too deeply"},
		{"parens_500k", []byte(head + stages(rule("r", strings.Repeat("(", 500_000)+"true"+strings.Repeat(")", 500_000)))), "nested too deeply"},
		{"let_doubling_20", []byte(head + letDoubling(20) + stages(rule("r", "l20"))), "once its lets are inlined"},
		{"let_doubling_40", []byte(head + letDoubling(40) + stages(rule("r", "l40"))), "once its lets are inlined"},
		{"let_chain_66", []byte(head + letChain(66) + stages(rule("r", "l66"))), ""},
		// 95 lets, each negating the one before: an expression 95 deep
		// once inlined, within MaxTreeDepth.
		{"let_not_chain_95", []byte(head + letNot(95) + stages(rule("r", "l95"))), ""},
		// 17 lets of 95 "!" each around the one before: an expression
		// 1,600 deep once inlined, within every node limit. Its tree
		// overflowed the js build's stack; so did a chain of 240 || in
		// a warmed-up Node.
		{"let_deep_nots", []byte(head + "limits: {max_nodes: 10000}\n" + letDeepNots(17, 95) + stages(rule("r", "l17"))), "nested too deeply once its lets are inlined"},
		{"or_chain_1000", []byte(head + "limits: {max_nodes: 10000}\n" + stages(rule("r", strings.TrimSuffix(strings.Repeat("pair.rejected || ", 1000), " || ")))), "nested too deeply once its lets are inlined"},
		{"or_chain_240", []byte(head + stages(rule("r", strings.TrimSuffix(strings.Repeat("pair.rejected || ", 240), " || ")))), "nested too deeply once its lets are inlined"},
		{"or_chain_95", []byte(head + stages(rule("r", strings.TrimSuffix(strings.Repeat("pair.rejected || ", 95), " || ")))), ""},
		// Forty rules of 5,000 nodes each: every rule is within max_nodes,
		// the policy is not.
		{"policy_nodes", []byte(head + "limits: {max_nodes: 10000}\n" + letDoubling(10) + stages(manyRulesOf(40, "l10"))), "are more than 20000 nodes"},
		// Three stages of a thousand rules, each of 5,000 nodes: once the
		// policy is over its budget, nothing more is compiled.
		{"policy_nodes_3000_rules", []byte(head + "limits: {max_nodes: 10000}\n" + letDoubling(10) + "stages:\n" + bigStage("invite", "deny", 1000, "l10") + bigStage("deliver", "hold", 1000, "l10") + bigStage("accept", "deny", 1000, "l10")), "are more than 20000 nodes"},
		{"oversized_10mb", append([]byte(head+"# "), []byte(strings.Repeat("x", 10<<20))...), "the limit is 1048576"},
		{"many_rules_300", []byte(head + stages(manyRules(300))), ""},
		{"many_rules_1000", []byte(head + stages(manyRules(1000))), ""},
		{"many_rules_5000", []byte(head + stages(manyRules(5000))), "rules; the limit is 1000"},
		// yaml.v3 recurses once per level, up to 10,000: the js build's
		// stack overflowed, so deep text is refused before it is parsed.
		{"deep_yaml_flow", []byte(head + "params:\n  deep: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n" + stages(rule("r", "true"))), "YAML nested too deeply"},
		{"deep_yaml_flow_map", []byte(head + "params:\n  deep: " + strings.Repeat("{a: ", 9999) + "1" + strings.Repeat("}", 9999) + "\n" + stages(rule("r", "true"))), "YAML nested too deeply"},
		{"deep_yaml_block_seq", []byte(head + "params:\n  deep:\n    " + strings.Repeat("- ", 9999) + "1\n" + stages(rule("r", "true"))), "YAML nested too deeply"},
		{"deep_yaml_block", []byte(head + deepBlock(1000) + stages(rule("r", "true"))), "YAML nested too deeply"},
		// Within the raw-text bound, the parsed tree is held to 100.
		{"deep_yaml_flow_500", []byte(head + "params:\n  deep: " + strings.Repeat("[", 500) + strings.Repeat("]", 500) + "\n" + stages(rule("r", "true"))), "nested more than 100 deep"},
		{"deep_yaml_99", []byte(head + "params:\n  deep: " + strings.Repeat("[", 98) + "1" + strings.Repeat("]", 98) + "\n" + stages(rule("r", "true"))), ""},
		{"wide_yaml", []byte(head + "params:\n  wide: [" + strings.Repeat("0,", 450_000) + "0]\n" + stages(rule("r", "true"))), "more than 100000 YAML values"},
		// A param list is held to 10,000 entries (rules.MaxParamsList).
		{"wide_yaml_40k", []byte(head + "params:\n  wide: [" + strings.Repeat("0,", 40_000) + "0]\n" + stages(rule("r", "true"))), "param params.wide has 40001 entries, over the limit of 10000"},
		{"wide_yaml_10k", []byte(head + "params:\n  wide: [" + strings.Repeat("0,", 9_999) + "0]\n" + stages(rule("r", "true"))), ""},
	}
}

// aliasBomb is a key whose value has levels anchors, each listing the
// previous one width times: width^levels nodes from a few hundred bytes.
func aliasBomb(key string, levels, width int) string {
	var b strings.Builder
	b.WriteString(key + ":\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < levels; i++ {
		refs := make([]string, width)
		for j := range refs {
			refs[j] = fmt.Sprintf("*a%d", i-1)
		}
		fmt.Fprintf(&b, "  a%d: &a%d [%s]\n", i, i, strings.Join(refs, ", "))
	}
	return b.String()
}

// letDoubling is l1: l0 || l0, l2: l1 || l1, ...: ln inlines to 2^n copies of l0.
func letDoubling(n int) string {
	var b strings.Builder
	b.WriteString("let:\n  l0: sender.connections > 10\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  l%d: l%d || l%d\n", i, i-1, i-1)
	}
	return b.String()
}

// letChain is l1: l0 && true, l2: l1 && true, ... n deep.
func letChain(n int) string {
	var b strings.Builder
	b.WriteString("let:\n  l0: sender.connections > 10\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  l%d: l%d && sender.connections < %d\n", i, i-1, 100000+i)
	}
	return b.String()
}

// letNot is l1: !l0, l2: !l1, ... n deep.
func letNot(n int) string {
	var b strings.Builder
	b.WriteString("let:\n  l0: pair.rejected\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  l%d: \"!l%d\"\n", i, i-1)
	}
	return b.String()
}

// letDeepNots is n lets, each width "!" around the one before.
func letDeepNots(n, width int) string {
	var b strings.Builder
	b.WriteString("let:\n  l0: pair.rejected\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  l%d: \"%sl%d\"\n", i, strings.Repeat("!", width), i-1)
	}
	return b.String()
}

func manyRulesOf(n int, when string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(rule(fmt.Sprintf("r%d", i), when))
	}
	return b.String()
}

func bigStage(name, outcome string, n int, when string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %s:\n    rules:\n", name)
	for i := range n {
		fmt.Fprintf(&b, "      - {id: %s%d, when: %s, outcome: %s}\n", name, i, when, outcome)
	}
	return b.String()
}

func manyRules(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(rule(fmt.Sprintf("r%d", i), fmt.Sprintf("sender.connections == %d", i)))
	}
	return b.String()
}

// deepBlock nests block mappings n deep under params.
func deepBlock(n int) string {
	var b strings.Builder
	b.WriteString("params:\n")
	for i := range n {
		fmt.Fprintf(&b, "%sk%d:\n", strings.Repeat(" ", 2+i), i)
	}
	fmt.Fprintf(&b, "%sv: 1\n", strings.Repeat(" ", 2+n))
	return b.String()
}
