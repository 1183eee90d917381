package rules

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// chain prepares a stage's rules as one program that returns the index
// of the first rule that holds, or -1. One VM run per decision instead of
// one per rule is most of the VM's speed. The program is compiled when a
// decision first needs it: where the typed back end decides (every
// repository policy), explanations included, nothing does, and compiling
// it was a tenth of a load and most of an edit's reload in the browser.
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
	key := l.cache.key(text, reflect.Int, true, "")
	if c, ok := l.cache.expr(key); ok {
		st.chain = c.chain
		return
	}
	if l.chainEC == nil {
		opts := slices.Clone(l.opts)
		opts[0] = expr.Env(factsValue{})
		l.chainEC = newExprConfig(opts)
		l.chainMu = new(sync.Mutex)
	}
	ec, mu := l.chainEC, l.chainMu
	st.chain = &lazyChain{compile: func() *vm.Program {
		// The stages of one load share ec and the loader's inlined lets.
		mu.Lock()
		defer mu.Unlock()
		prog, err := ec.compile(text, reflect.Int, 0, true, &patcher{l: l}, recipientPresent{})
		if err != nil {
			// Every rule compiled alone, so this is our bug, not the
			// author's: the rules are run one by one instead.
			return nil
		}
		return prog
	}}
	l.cache.putExpr(key, compiledExpr{chain: st.chain})
}

// lazyChain is a stage's chain program, compiled on first use.
type lazyChain struct {
	once    sync.Once
	compile func() *vm.Program
	prog    *vm.Program
}

// program returns the chain program, or nil when there is none.
func (c *lazyChain) program() *vm.Program {
	if c == nil {
		return nil
	}
	c.once.Do(func() {
		c.prog = c.compile()
		c.compile = nil // the loader it holds can go
	})
	return c.prog
}

// chainProgram is the stage's chain program, or nil.
func (st *stage) chainProgram() *vm.Program { return st.chain.program() }

// explainTyped adds the trace to a decision the typed back end made.
func (p *Policy) explainTyped(d Decision, st *stage, req *Request) Decision {
	rn := vms.Get().(*runner)
	defer vms.Put(rn)
	rn.VM.MemoryBudget = p.budget
	return p.withTrace(d, st, &rn.VM, req, true)
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
