package rules

import (
	"strings"
	"unsafe"

	"github.com/expr-lang/expr/ast"
)

// Fused nodes: comparisons, `in`, arithmetic, not and and/or chains read
// their operands through srcs (typed_src.go), so a typical condition is
// one closure call, not one per node.

// boolOf is a bool node whose negation build makes with neg set.
func boolOf(build func(neg bool) fnBool) tval {
	return tval{k: kBool, b: build(false), neg: func() fnBool { return build(true) }}
}

// notOf negates a bool node: its own negation when it has one, else a
// closure around it.
func notOf(x tval) tval {
	if x.isC {
		v, _ := constVal(!x.c.(bool))
		return v
	}
	f := x.b
	if x.neg != nil {
		return tval{k: kBool, b: x.neg(), neg: func() fnBool { return f }, in: x.in.negated()}
	}
	return tval{k: kBool, b: func(r *Request, e string) (bool, error) { v, err := f(r, e); return !v, err }, neg: func() fnBool { return f }}
}

func (c *tcomp) unary(n *ast.UnaryNode) (tval, error) {
	x, err := c.compile(n.Node)
	if err != nil {
		return tval{}, err
	}
	switch {
	case (n.Operator == "not" || n.Operator == "!") && x.k == kBool:
		return notOf(x), nil
	case n.Operator == "-" && x.k == kInt:
		f := x.i
		return tval{k: kInt, i: func(r *Request, e string) (int, error) { v, err := f(r, e); return -v, err }}, nil
	case n.Operator == "-" && x.k == kFloat:
		f := x.f
		return tval{k: kFloat, f: func(r *Request, e string) (float64, error) { v, err := f(r, e); return -v, err }}, nil
	case n.Operator == "+" && isNum(x.k):
		return x, nil
	}
	return tval{}, uncovered(n, "unary %s", n.Operator)
}

// cmpMasks: bit 1 is less, 2 equal, 4 greater; an operator holds when
// the comparison's bit is in its mask, and mask^7 is its negation.
var cmpMasks = map[string]uint8{"<": 1, "<=": 3, "==": 2, "!=": 5, ">": 4, ">=": 6}

func (c *tcomp) binary(n *ast.BinaryNode) (tval, error) {
	l, err := c.compile(n.Left)
	if err != nil {
		return tval{}, err
	}
	if n.Operator == "in" {
		return c.in(n, l)
	}
	r, err := c.compile(n.Right)
	if err != nil {
		return tval{}, err
	}
	switch n.Operator {
	case "and", "&&", "or", "||":
		if l.k != kBool || r.k != kBool {
			break
		}
		conj := "and"
		if n.Operator == "or" || n.Operator == "||" {
			conj = "or"
		}
		parts := append(append([]tval{}, partsOf(l, conj)...), partsOf(r, conj)...)
		return andOr(conj, parts), nil
	case "==", "!=", "<", ">", "<=", ">=":
		mask := cmpMasks[n.Operator]
		f, ok := compareOp(mask, l, r)
		if !ok {
			break
		}
		if l.isC && r.isC {
			if b, err := f(nil, ""); err == nil {
				v, _ := constVal(b)
				return v, nil
			}
		}
		v := tval{k: kBool, b: f}
		v.in = inlineOf(mask, l, r)
		if mask == 2 && l.k == kString && l.sd != nil && l.sd.mode == sField && r.isC {
			v.guard = &caseGuard{lf: l.sd.lf, c: r.c.(string)}
		}
		// NaN fails every ordering, so !(x < y) is not x >= y for floats.
		if (l.k != kFloat && r.k != kFloat) || mask == 2 || mask == 5 {
			v.neg = func() fnBool { f, _ := compareOp(mask^7, l, r); return f }
		}
		return v, nil
	case "+", "-", "*", "/", "%":
		if v, ok := arith(n.Operator, l, r); ok {
			if l.isC && r.isC {
				return foldConst(v), nil
			}
			return v, nil
		}
	case "contains", "startsWith", "endsWith":
		if l.k != kString || r.k != kString {
			break
		}
		op := map[string]func(string, string) bool{"contains": strings.Contains, "startsWith": strings.HasPrefix, "endsWith": strings.HasSuffix}[n.Operator]
		return tval{k: kBool, b: bin2(l.s, r.s, func(x, y string) (bool, bool) { return op(x, y), true })}, nil
	}
	return tval{}, uncovered(n, "operator %s on these operand types", n.Operator)
}

// partsOf is a chain's operands, or the node itself.
func partsOf(v tval, conj string) []tval {
	if v.conj == conj {
		return v.parts
	}
	return []tval{v}
}

// andOr is a flattened chain: a && b && c runs as one loop. Its negation
// is De Morgan's when every operand has its own.
func andOr(conj string, parts []tval) tval {
	isAnd := conj == "and"
	// Constants fold: true drops out of an and, false ends it (the
	// operands before it still run, for their errors); or the same way.
	var kept []tval
	for _, p := range parts {
		if !p.isC {
			kept = append(kept, p)
			continue
		}
		if p.c.(bool) != isAnd {
			if len(kept) == 0 {
				return p
			}
			kept = append(kept, p)
			break
		}
	}
	switch len(kept) {
	case 0:
		v, _ := constVal(isAnd)
		return v
	case 1:
		return kept[0]
	}
	parts = kept
	var fs []fnBool
	if isAnd {
		for _, p := range parts {
			fs = append(fs, p.b)
		}
	} else {
		fs = orCases(parts)
	}
	v := tval{k: kBool, b: chainOf(isAnd, fs), conj: conj, parts: parts}
	if ins := inlinesOf(parts); ins != nil && len(fs) == len(parts) {
		v.b = inlineChain(isAnd, ins)
	}
	for _, p := range parts {
		if p.neg == nil {
			return v
		}
	}
	v.neg = func() fnBool {
		if ins := inlinesOf(parts); ins != nil {
			for i := range ins {
				ins[i] = *ins[i].negated()
			}
			return inlineChain(!isAnd, ins)
		}
		nfs := make([]fnBool, len(parts))
		for i, p := range parts {
			nfs[i] = p.neg()
		}
		return chainOf(!isAnd, nfs)
	}
	return v
}

// caseGuard is field == "constant", a case of a dispatch.
type caseGuard struct {
	lf leaf
	c  string
}

// caseOf splits an operand of an or of the form field == "c" && rest.
func caseOf(p tval) (*caseGuard, []tval, bool) {
	if p.guard != nil {
		return p.guard, nil, true
	}
	if p.conj == "and" && p.parts[0].guard != nil {
		return p.parts[0].guard, p.parts[1:], true
	}
	return nil, nil, false
}

// orCases is the operands of an or, where a run of three or more cases
// on one field with distinct constants (settings.invitations == "mutual"
// && ... || settings.invitations == "contacts_only" && ...) becomes one
// dispatch: the field is read once and only the matching case's rest
// runs. At most one case's guard holds, and a guard that fails skips its
// rest, so the or's value and errors are the same.
func orCases(parts []tval) []fnBool {
	var fs []fnBool
	for i := 0; i < len(parts); {
		j := i
		if g, _, ok := caseOf(parts[i]); ok {
			seen := map[string]bool{}
			for ; j < len(parts); j++ {
				g2, _, ok2 := caseOf(parts[j])
				if !ok2 || g2.lf != g.lf || seen[g2.c] {
					break
				}
				seen[g2.c] = true
			}
		}
		if j-i < 3 {
			fs = append(fs, parts[i].b)
			i++
			continue
		}
		var consts []string
		var rests []fnBool
		for _, p := range parts[i:j] {
			g, rest, _ := caseOf(p)
			consts = append(consts, g.c)
			var f fnBool
			if len(rest) > 0 {
				f = andOr("and", rest).b
			}
			rests = append(rests, f)
		}
		g, _, _ := caseOf(parts[i])
		fs = append(fs, dispatchOf(g.lf, consts, rests))
		i = j
	}
	return fs
}

// dispatchOf runs the rest of the case whose constant the field equals
// (nil: the case is its guard alone).
func dispatchOf(lf leaf, consts []string, rests []fnBool) fnBool {
	return func(q *Request, e string) (bool, error) {
		p := lf.base(q)
		if p == nil {
			return false, errTyped
		}
		s := *(*string)(unsafe.Add(p, lf.off))
		for i, c := range consts {
			if s == c {
				if rests[i] == nil {
					return true, nil
				}
				return rests[i](q, e)
			}
		}
		return false, nil
	}
}

// inlinesOf is the operands as inline conditions, or nil when one is not.
func inlinesOf(parts []tval) []inline {
	ins := make([]inline, len(parts))
	for i, p := range parts {
		if p.in == nil {
			return nil
		}
		ins[i] = *p.in
	}
	return ins
}

// inlineChain is chainOf over inline conditions: no closure per operand
// (pair.connected || pair.degree == 1).
func inlineChain(isAnd bool, ins []inline) fnBool {
	stop := !isAnd
	return func(q *Request, _ string) (bool, error) {
		for i := range ins {
			x, err := ins[i].held(q)
			if err != nil || x == stop {
				return x, err
			}
		}
		return !stop, nil
	}
}

// chainOf runs operands in order: and stops at the first false, or at
// the first true, either at the first error.
func chainOf(isAnd bool, fs []fnBool) fnBool {
	stop := !isAnd
	if len(fs) == 1 {
		return fs[0]
	}
	if len(fs) == 2 {
		a, b := fs[0], fs[1]
		return func(q *Request, e string) (bool, error) {
			x, err := a(q, e)
			if err != nil || x == stop {
				return x, err
			}
			return b(q, e)
		}
	}
	return func(q *Request, e string) (bool, error) {
		for _, f := range fs {
			x, err := f(q, e)
			if err != nil || x == stop {
				return x, err
			}
		}
		return !stop, nil
	}
}
