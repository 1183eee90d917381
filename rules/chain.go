package rules

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// chain compiles a stage's rules into one program that returns the index
// of the first rule that holds, or -1. One VM run per decision instead of
// one per rule is most of the engine's speed.
func (l *loader) chain(st *stage) {
	if len(st.rules) == 0 {
		return
	}
	var b strings.Builder
	chainText(&b, st.rules, 0, len(st.rules))
	// Each rule was compiled alone under limits.max_nodes; the program
	// that chains them is bounded by MaxRulesPerStage and MaxPolicyNodes.
	size := 0
	for _, r := range st.rules {
		size += r.size + 3
	}
	if !l.spend(size, st.rules[len(st.rules)-1].pos, "") {
		return
	}
	text := b.String()
	if c, ok := l.cache.expr(exprKey{src: text, kind: reflect.Int, chain: true}); ok {
		st.chain = c.prog
		return
	}
	if l.chainEC == nil {
		opts := slices.Clone(l.opts)
		opts[0] = expr.Env(factsValue{})
		l.chainEC = newExprConfig(opts)
	}
	prog, err := l.chainEC.compile(text, reflect.Int, 0, &patcher{l: l}, recipientPresent{})
	if err != nil {
		// Every rule compiled alone, so this is our bug, not the author's.
		l.errPos(Position{l.src.file, 1, 1}, "", "internal: compiling stage "+st.name+": "+err.Error())
		return
	}
	st.chain = prog
	l.cache.putExpr(exprKey{src: text, kind: reflect.Int, chain: true}, compiledExpr{prog: prog})
}

// chainGroup is how many rules chainText nests one in another.
const chainGroup = 8

// chainText writes the first-match program of rules[lo:hi]. A few rules
// nest as (when) ? i : (...); more split in two halves, the second tried
// only when the first matched none, so the program nests as deep as the
// logarithm of the rule count. Nested as deep as the rule count, a stage
// of a thousand rules overflowed the JavaScript stack of the js build.
func chainText(b *strings.Builder, rules []*rule, lo, hi int) {
	if hi-lo <= chainGroup {
		for i := lo; i < hi; i++ {
			fmt.Fprintf(b, "(\n%s\n) ? %d : (", rules[i].when.Source().String(), i)
		}
		b.WriteString("-1")
		b.WriteString(strings.Repeat(")", hi-lo))
		return
	}
	mid := lo + (hi-lo)/2
	v := fmt.Sprintf("%s%d", chainVar, lo)
	fmt.Fprintf(b, "(let %s = (", v)
	chainText(b, rules, lo, mid)
	fmt.Fprintf(b, "); %s >= 0 ? %s : (", v, v)
	chainText(b, rules, mid, hi)
	b.WriteString("))")
}

// chainVar prefixes the chain's variables; no let may start with it.
const chainVar = "__first"

// recipientPresent rewrites recipient == nil to false (and != nil to true)
// for the factsValue program, which runs only when there is a recipient.
type recipientPresent struct{}

func (recipientPresent) Visit(node *ast.Node) {
	n, ok := (*node).(*ast.BinaryNode)
	if !ok || (n.Operator != "==" && n.Operator != "!=") {
		return
	}
	isRecipient := func(x ast.Node) bool { id, ok := x.(*ast.IdentifierNode); return ok && id.Value == "recipient" }
	isNil := func(x ast.Node) bool { _, ok := x.(*ast.NilNode); return ok }
	if isRecipient(n.Left) && isNil(n.Right) || isNil(n.Left) && isRecipient(n.Right) {
		ast.Patch(node, &ast.BoolNode{Value: n.Operator == "!="})
	}
}
