package rules

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"reflect"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/vm"
)

// Bounds on the work one expression may do. expr's memory budget charges
// what a run allocates, not how long it loops: any/all/filter over lists
// that already exist (params, facts) cost nothing against it, so nested
// loops could run for minutes. Params are constants and facts are capped
// by Validate, so every list's length has a bound known at load, and the
// loader refuses an expression whose loops could iterate more than
// MaxIterations times in all (see RATIONALE.md, "Why these decision
// bounds?").
const (
	// MaxIterations bounds the loop iterations of one expression (a rule
	// condition, a stage's chain, a message hole, a retry_after or an
	// effect's until), counted statically with every list at its longest.
	MaxIterations = 1_000_000
	// MaxFactsList is the longest list a request may carry (settings
	// companies and schools, and the auto_accept ones).
	MaxFactsList = 1_000
	// MaxFactsText is the longest text a request may carry in one field,
	// in bytes: a note, a company, an id.
	MaxFactsText = 10_000
	// MaxRequestBytes is the largest request, as JSON, that is decoded at
	// all: a bigger one is invalid_request before any of it is parsed, so a
	// hostile body cannot exhaust a wasm instance's memory.
	MaxRequestBytes = 1 << 20
	// maxRepeat is the longest string repeat() may build, in bytes.
	maxRepeat = 1 << 20
	// MaxParamsList is the most entries a param list or table may hold,
	// and the longest param text, in bytes. A list the loader cannot see
	// at load (a param behind a ternary or a let, a table row's field) is
	// counted at unknownLen, which this keeps a true bound.
	MaxParamsList = 10_000
	// unknownLen is the length assumed for a list computed at run time
	// (split of a fact, a range with a bound from the facts, a param
	// chosen at run time): no fact is longer than MaxFactsText, no param
	// than MaxParamsList, and a run-time range is charged to the memory
	// budget before it is built.
	unknownLen = max(MaxFactsText, MaxParamsList)
)

// loops are the builtins that run their first argument's elements through
// a predicate, or walk them once.
var loops = map[string]bool{
	"all": true, "none": true, "any": true, "one": true, "filter": true, "map": true,
	"count": true, "sum": true, "find": true, "findIndex": true, "findLast": true,
	"findLastIndex": true, "groupBy": true, "sortBy": true, "reduce": true,
	"join": true, "uniq": true, "sort": true, "reverse": true, "concat": true,
	"flatten": true,
}

// sameLen are the builtins whose result is no longer than their first argument.
var sameLen = map[string]bool{"filter": true, "map": true, "sortBy": true, "uniq": true, "sort": true, "reverse": true}

// boundOptions are the compile options that enforce the bounds: a visitor
// that counts iterations and checks constant folds, and a guard on repeat.
func boundOptions() []expr.Option {
	return []expr.Option{
		func(c *conf.Config) {
			c.Visitors = append(c.Visitors, &costVisitor{conf: c})
		},
		expr.Function(repeatGuard, func(p ...any) (any, error) {
			s, n := p[0].(string), p[1].(int)
			if n > 0 && len(s) > maxRepeat/n {
				hi, lo := bits.Mul64(uint64(len(s)), uint64(n))
				return nil, fmt.Errorf("repeat would build %s bytes, over the %d-byte limit", u128(hi, lo), maxRepeat)
			}
			return n, nil
		}, new(func(string, int) int)),
	}
}

const (
	repeatGuard = "__repeat_limit"
	boundError  = "__bound_error"
)

// costVisitor counts, bottom up, how many loop iterations each node may
// run: a loop costs its list's bound times (1 + its body's cost), plus
// its list's own cost; any other node costs the sum of its children. It
// runs after every other patcher (params and lets are inlined by then):
// expr runs visitors that can repeat after the others.
type costVisitor struct {
	conf *conf.Config // nil: only count, as Policy.Iterations does
	cost map[ast.Node]uint64
	done bool // an error was reported; the checker stops at the first
	// changed is set when the visitor changed the tree, which must then
	// be type-checked again.
	changed bool
}

// Reset starts a pass; ShouldRepeat asks for none after it. Together they
// make expr run this visitor last.
func (v *costVisitor) Reset()             { v.cost = map[ast.Node]uint64{} }
func (v *costVisitor) ShouldRepeat() bool { return false }

func (v *costVisitor) Visit(node *ast.Node) {
	if v.done {
		return
	}
	if v.cost == nil {
		v.Reset()
	}
	n := *node
	var c uint64
	switch x := n.(type) {
	case *ast.BuiltinNode:
		if v.conf != nil {
			if err := checkFold(x); err != nil {
				v.fail(node, err.Error())
				return
			}
			if x.Name == "repeat" && len(x.Arguments) == 2 {
				v.guardRepeat(x)
			}
		}
		c = v.sum(x.Arguments...)
		if loops[x.Name] && len(x.Arguments) > 0 {
			body := v.sum(x.Arguments[1:]...)
			c = add(v.cost[x.Arguments[0]], mul(listBound(x.Arguments[0]), add(1, body)))
		}
	case *ast.BinaryNode:
		c = v.sum(x.Left, x.Right)
		if x.Operator == "in" {
			c = add(c, listBound(x.Right))
		}
	case *ast.CallNode:
		c = v.sum(append([]ast.Node{x.Callee}, x.Arguments...)...)
		if id, ok := x.Callee.(*ast.IdentifierNode); ok && id.Value == "contains_any" && len(x.Arguments) == 2 {
			c = add(c, listBound(x.Arguments[1]))
		}
	case *ast.UnaryNode:
		c = v.cost[x.Node]
	case *ast.ChainNode:
		c = v.cost[x.Node]
	case *ast.MemberNode:
		c = v.sum(x.Node, x.Property)
	case *ast.SliceNode:
		c = v.sum(x.Node, x.From, x.To)
	case *ast.PredicateNode:
		c = v.cost[x.Node]
	case *ast.ConditionalNode:
		c = v.sum(x.Cond, x.Exp1, x.Exp2)
	case *ast.VariableDeclaratorNode:
		c = v.sum(x.Value, x.Expr)
	case *ast.SequenceNode:
		c = v.sum(x.Nodes...)
	case *ast.ArrayNode:
		c = v.sum(x.Nodes...)
	case *ast.MapNode:
		c = v.sum(x.Pairs...)
	case *ast.PairNode:
		c = v.sum(x.Key, x.Value)
	}
	if c > MaxIterations && v.conf != nil {
		v.fail(node, fmt.Sprintf("its loops may run %s times, over the limit of %d per expression (each list counts at its longest: params as written, facts lists %d, other lists %d)",
			humanCount(c), MaxIterations, MaxFactsList, unknownLen))
		return
	}
	v.cost[n] = c
}

// Iterations is the most loop iterations one decision of the policy can
// run, counted as the loader counts them (see [MaxIterations]) over every
// program a decision of the costliest stage may run, explain included. A
// host uses it to tell short calls from ones that may be long.
func (p *Policy) Iterations() uint64 {
	var most uint64
	for _, st := range p.stages {
		var c uint64
		for _, r := range st.rules {
			// The chain runs each condition at most once, then
			// firstMatch and the trace: three runs, counted without
			// compiling the lazy chain (a host asks at every load).
			c = add(c, mul(3, programCost(r.when)))
			for _, m := range r.msg.progs {
				c = add(c, programCost(m))
			}
			c = add(c, programCost(r.retry))
			for _, e := range r.effects {
				c = add(c, programCost(e.until))
			}
		}
		most = max(most, c)
	}
	return most
}

// programCost counts a compiled program's loop iterations; its tree is
// the optimised one, which loops no more than the tree the loader checked.
func programCost(prog *vm.Program) uint64 {
	if prog == nil {
		return 0
	}
	root := prog.Node()
	if root == nil {
		return 0
	}
	v := &costVisitor{}
	ast.Walk(&root, v)
	return v.cost[root]
}

func (v *costVisitor) sum(ns ...ast.Node) uint64 {
	var c uint64
	for _, n := range ns {
		if n != nil {
			c = add(c, v.cost[n])
		}
	}
	return c
}

// fail replaces node by a call that the type checker refuses with msg, at
// node's position: the loader reports it like any other compile error.
func (v *costVisitor) fail(node *ast.Node, msg string) {
	v.done, v.changed = true, true
	v.conf.Functions[boundError] = &builtin.Function{
		Name:     boundError,
		Func:     func(...any) (any, error) { return nil, errors.New(msg) },
		Validate: func([]reflect.Type) (reflect.Type, error) { return nil, errors.New(msg) },
	}
	callee := &ast.IdentifierNode{Value: boundError}
	callee.SetLocation((*node).Location())
	call := &ast.CallNode{Callee: callee}
	call.SetLocation((*node).Location())
	*node = call
}

// guardRepeat makes repeat(s, n) call repeat(s, __repeat_limit(s, n)):
// expr's repeat charges the memory budget only after building the string.
func (v *costVisitor) guardRepeat(x *ast.BuiltinNode) {
	if c, ok := x.Arguments[1].(*ast.CallNode); ok {
		if id, ok := c.Callee.(*ast.IdentifierNode); ok && id.Value == repeatGuard {
			return
		}
	}
	callee := &ast.IdentifierNode{Value: repeatGuard}
	callee.SetLocation(x.Location())
	call := &ast.CallNode{Callee: callee, Arguments: []ast.Node{x.Arguments[0], x.Arguments[1]}}
	call.SetLocation(x.Arguments[1].Location())
	x.Arguments[1] = call
	v.changed = true
}

// listBound is the most elements a list-valued node can hold.
func listBound(n ast.Node) uint64 {
	switch x := n.(type) {
	case *ast.ConstantNode:
		rv := reflect.ValueOf(x.Value)
		switch rv.Kind() {
		case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
			return uint64(rv.Len())
		}
		return 0
	case *ast.ArrayNode:
		return uint64(len(x.Nodes))
	case *ast.StringNode:
		return uint64(len(x.Value))
	case *ast.BinaryNode:
		if x.Operator == ".." {
			if lo, ok := x.Left.(*ast.IntegerNode); ok {
				if hi, ok := x.Right.(*ast.IntegerNode); ok {
					if hi.Value < lo.Value {
						return 0
					}
					return uint64(hi.Value) - uint64(lo.Value) + 1
				}
			}
		}
	case *ast.BuiltinNode:
		if sameLen[x.Name] && len(x.Arguments) > 0 {
			return listBound(x.Arguments[0])
		}
	case *ast.SliceNode:
		return listBound(x.Node)
	case *ast.MemberNode:
		if p, ok := x.Property.(*ast.StringNode); ok && (p.Value == "companies" || p.Value == "schools") {
			return MaxFactsList
		}
	}
	return unknownLen
}

// checkFold refuses sum and reduce over a constant range whose value expr
// would fold at compile time with silent overflow.
func checkFold(x *ast.BuiltinNode) error {
	if (x.Name != "sum" && x.Name != "reduce") || len(x.Arguments) == 0 {
		return nil
	}
	r, ok := x.Arguments[0].(*ast.BinaryNode)
	if !ok || r.Operator != ".." {
		return nil
	}
	lo, ok1 := r.Left.(*ast.IntegerNode)
	hi, ok2 := r.Right.(*ast.IntegerNode)
	if !ok1 || !ok2 || hi.Value < lo.Value {
		return nil
	}
	// The fold's value is a multiple of the sum or the count by a
	// constant of the predicate; allow for the largest int a predicate
	// could hold, i.e. require the plain sum and count to leave room.
	// 128-bit arithmetic with math/bits, not math/big: math/big was a
	// quarter of a megabyte of the browser's module for these few lines.
	limit := uint64(math.MaxInt64) / foldFactor(x)
	m, n := int64(lo.Value), int64(hi.Value)
	// count = n-m+1: n >= m, so the wrapped difference is the true one.
	if diff := uint64(n) - uint64(m); diff >= limit {
		return fmt.Errorf("%s(%d..%d) overflows a 64-bit integer", x.Name, lo.Value, hi.Value)
	}
	count := uint64(n) - uint64(m) + 1
	// |m+n| as a signed 128-bit sum, then its magnitude.
	sl, carry := bits.Add64(uint64(m), uint64(n), 0)
	sh, _ := bits.Add64(uint64(m>>63), uint64(n>>63), carry)
	if int64(sh) < 0 {
		sl, carry = bits.Add64(^sl, 1, 0)
		sh, _ = bits.Add64(^sh, 0, carry)
	}
	// |m+n| < 2^65 and count < 2^63: the product fits 128 bits.
	ph, pl := bits.Mul64(sl, count)
	if ph+sh*count != 0 || pl > limit {
		return fmt.Errorf("%s(%d..%d) overflows a 64-bit integer", x.Name, lo.Value, hi.Value)
	}
	return nil
}

// foldFactor is 2 + the largest magnitude of an integer constant in the
// predicate of sum(a..b, predicate) or reduce, at least 2: the factor by
// which a fold can grow.
func foldFactor(x *ast.BuiltinNode) uint64 {
	k := uint64(2) // the sum formula divides (a+b)*count by 2 last
	for _, a := range x.Arguments[1:] {
		ast.Walk(&a, loopVisitor(func(n ast.Node) {
			if i, ok := n.(*ast.IntegerNode); ok {
				v := uint64(i.Value)
				if i.Value < 0 {
					v = -v // |MinInt64| is 2^63, which a uint64 holds
				}
				if v+2 > k {
					k = v + 2
				}
			}
		}))
	}
	return k
}

// u128 formats the unsigned 128-bit number hi*2^64+lo in decimal.
func u128(hi, lo uint64) string {
	const e19 = 10_000_000_000_000_000_000
	if hi == 0 {
		return fmt.Sprint(lo)
	}
	if hi >= e19 {
		return fmt.Sprintf("more than %d", uint64(math.MaxUint64))
	}
	q, r := bits.Div64(hi, lo, e19)
	return fmt.Sprintf("%d%019d", q, r)
}

type loopVisitor func(ast.Node)

func (f loopVisitor) Visit(n *ast.Node) { f(*n) }

func add(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

func mul(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/a {
		return math.MaxUint64
	}
	return a * b
}

func humanCount(c uint64) string {
	if c == math.MaxUint64 {
		return "more than 10^19"
	}
	return fmt.Sprintf("%d", c)
}
