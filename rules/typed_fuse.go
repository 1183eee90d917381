package rules

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/expr-lang/expr/ast"
)

// Fused nodes: comparisons, `in`, arithmetic, not and and/or chains read
// their operands through srcs (typed_src.go), so a typical condition is
// one closure call, not one per node.

// asFloat widens an int node as expr's runtime does when it mixes an int
// with a float.
func asFloat(v tval) tval {
	if v.k == kFloat {
		return v
	}
	if x, isInt := v.c.(int); v.isC && isInt {
		f, _ := constVal(float64(x))
		return f
	}
	i := v.i
	return tval{k: kFloat, f: func(r *Request, e string) (float64, error) { x, err := i(r, e); return float64(x), err }}
}

func isNum(k tkind) bool { return k == kInt || k == kFloat }

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

// bin2 builds a closure of two operands that evaluates both, left first.
func bin2[A, B, R any](a func(*Request, string) (A, error), b func(*Request, string) (B, error), op func(A, B) (R, bool)) func(*Request, string) (R, error) {
	return func(r *Request, e string) (R, error) {
		var zero R
		x, err := a(r, e)
		if err != nil {
			return zero, err
		}
		y, err := b(r, e)
		if err != nil {
			return zero, err
		}
		v, ok := op(x, y)
		if !ok {
			return zero, errTyped
		}
		return v, nil
	}
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

// foldConst evaluates a node whose operands are all constants once, at
// load; one that fails is left to fail at run time, as expr does.
func foldConst(v tval) tval {
	var x any
	var err error
	switch v.k {
	case kInt:
		x, err = v.i(nil, "")
	case kFloat:
		x, err = v.f(nil, "")
	case kString:
		x, err = v.s(nil, "")
	case kTime:
		x, err = v.t(nil, "")
	case kDur:
		x, err = v.d(nil, "")
	default:
		return v
	}
	if err != nil {
		return v
	}
	if c, ok := constVal(x); ok {
		return c
	}
	return v
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

// compareOp compiles a comparison whose mask is one of cmpMasks.
func compareOp(mask uint8, l, r tval) (fnBool, bool) {
	eqOnly := mask == 2 || mask == 5
	switch {
	case eqOnly && l.k == kMember && r.k == kNil:
		return nilTest(l, mask == 5), true
	case eqOnly && l.k == kNil && r.k == kMember:
		return nilTest(r, mask == 5), true
	case l.k != r.k && isNum(l.k) && isNum(r.k):
		l, r = asFloat(l), asFloat(r)
	case l.k != r.k:
		return nil, false
	}
	switch l.k {
	case kBool:
		if eqOnly {
			return eqOf(srcOf(l, kBool, l.b), srcOf(r, kBool, r.b), mask == 5), true
		}
	case kInt:
		if l.sd != nil && (l.sd.mode == sLen || l.sd.mode == sRunes) && r.isC {
			return cmpLen(l.sd.lf, l.sd.mode == sRunes, r.c.(int), mask), true
		}
		return cmpOrd(srcOf(l, kInt, l.i), srcOf(r, kInt, r.i), mask), true
	case kString:
		return cmpOrd(srcOf(l, kString, l.s), srcOf(r, kString, r.s), mask), true
	case kDur:
		return cmpOrd(srcOf(l, kDur, l.d), srcOf(r, kDur, r.d), mask), true
	case kFloat:
		return cmpFloat(srcOf(l, kFloat, l.f), srcOf(r, kFloat, r.f), mask), true
	case kTime:
		return cmpTime(srcOf(l, kTime, l.t), srcOf(r, kTime, r.t), mask), true
	}
	return nil, false
}

// inlineOf is a comparison as an inline condition, when it is one of
// those shapes: the same tests as cmpOrd's and eqOf's fused closures, and
// nilTest's.
func inlineOf(mask uint8, l, r tval) *inline {
	eqOnly := mask == 2 || mask == 5
	switch {
	case eqOnly && l.k == kMember && r.k == kNil && l.sd != nil && l.sd.mode == sMember:
		return &inline{op: opNil, lf: l.sd.lf, neg: mask == 5}
	case eqOnly && l.k == kNil && r.k == kMember:
		return inlineOf(mask, r, l)
	case l.sd == nil || l.sd.mode != sField || !r.isC || l.k != r.k:
		return nil
	case l.k == kInt:
		return &inline{op: opInt, lf: l.sd.lf, mask: mask, ci: r.c.(int)}
	case l.k == kString && eqOnly:
		return &inline{op: opStrEq, lf: l.sd.lf, cs: r.c.(string), neg: mask == 5}
	}
	return nil
}

// nilTest is member == nil (or != nil).
func nilTest(v tval, neg bool) fnBool {
	if v.sd != nil && v.sd.mode == sMember {
		lf := v.sd.lf
		return func(q *Request, _ string) (bool, error) { return (lf.base(q) == nil) != neg, nil }
	}
	m := v.m
	return func(q *Request, e string) (bool, error) { x, err := m(q, e); return (x == nil) != neg, err }
}

// lenOf is the source of len(v) when v is a fact field.
func lenOf(v tval, mode uint8) *srcDesc {
	if v.sd == nil || v.sd.mode != sField {
		return nil
	}
	return &srcDesc{mode: mode, lf: v.sd.lf}
}

// cmpLen compares the length of a list field, or the rune count of a
// string field, with a constant. A string of fewer bytes than the
// constant has fewer runes: it is not counted (note_too_long).
func cmpLen(lf leaf, runes bool, y int, mask uint8) fnBool {
	if runes {
		return func(q *Request, _ string) (bool, error) {
			p := lf.base(q)
			if p == nil {
				return false, errTyped
			}
			s := *(*string)(unsafe.Add(p, lf.off))
			if len(s) < y {
				return mask&1 != 0, nil
			}
			return mask&ordBit(utf8.RuneCountInString(s), y) != 0, nil
		}
	}
	return func(q *Request, _ string) (bool, error) {
		p := lf.base(q)
		if p == nil {
			return false, errTyped
		}
		return mask&ordBit(len(*(*[]string)(unsafe.Add(p, lf.off))), y) != 0, nil
	}
}

type ordered interface{ ~int | ~int64 | ~string }

func ordBit[T ordered](x, y T) uint8 {
	if x < y {
		return 1
	}
	if x > y {
		return 4
	}
	return 2
}

func cmpOrd[T ordered](a, b src[T], mask uint8) fnBool {
	if mask == 2 || mask == 5 {
		return eqOf(a, b, mask == 5)
	}
	if a.mode == sField && b.mode == sConst {
		// The commonest condition: a fact against a number.
		lf, y := a.lf, b.c
		return func(q *Request, _ string) (bool, error) {
			p := lf.base(q)
			if p == nil {
				return false, errTyped
			}
			return mask&ordBit(*(*T)(unsafe.Add(p, lf.off)), y) != 0, nil
		}
	}
	return func(q *Request, e string) (bool, error) {
		x, err := a.get(q, e)
		if err != nil {
			return false, err
		}
		y, err := b.get(q, e)
		if err != nil {
			return false, err
		}
		return mask&ordBit(x, y) != 0, nil
	}
}

func eqOf[T comparable](a, b src[T], neg bool) fnBool {
	if a.mode == sField && b.mode == sConst {
		lf, y := a.lf, b.c
		return func(q *Request, _ string) (bool, error) {
			p := lf.base(q)
			if p == nil {
				return false, errTyped
			}
			return (*(*T)(unsafe.Add(p, lf.off)) == y) != neg, nil
		}
	}
	return func(q *Request, e string) (bool, error) {
		x, err := a.get(q, e)
		if err != nil {
			return false, err
		}
		y, err := b.get(q, e)
		if err != nil {
			return false, err
		}
		return (x == y) != neg, nil
	}
}

func cmpFloat(a, b src[float64], mask uint8) fnBool {
	return func(q *Request, e string) (bool, error) {
		x, err := a.get(q, e)
		if err != nil {
			return false, err
		}
		y, err := b.get(q, e)
		if err != nil {
			return false, err
		}
		if x != x || y != y {
			// NaN: only != holds, as in Go and expr.
			return mask == 5, nil
		}
		return mask&ordBit(int(cmpFloats(x, y)), 0) != 0, nil
	}
}

func cmpFloats(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func cmpTime(a, b src[time.Time], mask uint8) fnBool {
	if a.mode == sField && b.mode == sField {
		// A fact's time against another, most often now.
		la, lb := a.lf, b.lf
		return func(q *Request, _ string) (bool, error) {
			pa, pb := la.base(q), lb.base(q)
			if pa == nil || pb == nil {
				return false, errTyped
			}
			x, y := (*time.Time)(unsafe.Add(pa, la.off)), (*time.Time)(unsafe.Add(pb, lb.off))
			return mask&ordBit(x.Compare(*y), 0) != 0, nil
		}
	}
	return func(q *Request, e string) (bool, error) {
		x, err := a.get(q, e)
		if err != nil {
			return false, err
		}
		y, err := b.get(q, e)
		if err != nil {
			return false, err
		}
		return mask&ordBit(x.Compare(y), 0) != 0, nil
	}
}

// in covers x in list: constant sets (the optimizer folds a literal list
// of ints or strings into one), constant lists and fact lists of strings.
func (c *tcomp) in(n *ast.BinaryNode, l tval) (tval, error) {
	if cn, isC := n.Right.(*ast.ConstantNode); isC {
		switch set := cn.Value.(type) {
		case map[string]struct{}:
			if l.k == kString {
				a, xs := srcOf(l, kString, l.s), keys(set)
				return boolOf(func(neg bool) fnBool { return inConst(a, xs, neg) }), nil
			}
		case map[int]struct{}:
			if l.k == kInt {
				a, xs := srcOf(l, kInt, l.i), keys(set)
				return boolOf(func(neg bool) fnBool { return inInts(a, xs, neg) }), nil
			}
		case []string:
			if l.k == kString {
				a := srcOf(l, kString, l.s)
				return boolOf(func(neg bool) fnBool { return inConst(a, set, neg) }), nil
			}
		}
	}
	r, err := c.compile(n.Right)
	if err != nil {
		return tval{}, err
	}
	if l.k == kString && r.k == kStrings {
		a, b := srcOf(l, kString, l.s), srcOf(r, kStrings, r.ss)
		return boolOf(func(neg bool) fnBool {
			return func(q *Request, e string) (bool, error) {
				x, err := a.get(q, e)
				if err != nil {
					return false, err
				}
				ys, err := b.get(q, e)
				if err != nil {
					return false, err
				}
				return slices.Contains(ys, x) != neg, nil
			}
		}), nil
	}
	return tval{}, uncovered(n, "in over this kind of list")
}

func keys[K comparable](m map[K]struct{}) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// inConst tests membership in a constant list: a scan for a few
// values, a set for many.
func inConst[T comparable](a src[T], xs []T, neg bool) fnBool {
	if len(xs) > 8 {
		set := make(map[T]struct{}, len(xs))
		for _, x := range xs {
			set[x] = struct{}{}
		}
		return func(q *Request, e string) (bool, error) {
			x, err := a.get(q, e)
			if err != nil {
				return false, err
			}
			_, ok := set[x]
			return ok != neg, nil
		}
	}
	return func(q *Request, e string) (bool, error) {
		x, err := a.get(q, e)
		if err != nil {
			return false, err
		}
		return slices.Contains(xs, x) != neg, nil
	}
}

// inInts tests membership in a constant set of ints: a bit mask when
// every member is in 0..63 (degrees, small codes), else as inConst.
func inInts(a src[int], xs []int, neg bool) fnBool {
	var bits uint64
	for _, x := range xs {
		if x < 0 || x > 63 {
			return inConst(a, xs, neg)
		}
		bits |= 1 << x
	}
	return func(q *Request, e string) (bool, error) {
		x, err := a.get(q, e)
		if err != nil {
			return false, err
		}
		return (uint(x) < 64 && bits>>uint(x)&1 != 0) != neg, nil
	}
}

func arith(op string, l, r tval) (tval, bool) {
	switch {
	case l.k == kInt && r.k == kInt && op != "/":
		return tval{k: kInt, i: arithInt(op[0], srcOf(l, kInt, l.i), srcOf(r, kInt, r.i))}, true
	case isNum(l.k) && isNum(r.k) && op != "%":
		l, r = asFloat(l), asFloat(r)
		return tval{k: kFloat, f: arithFloat(op[0], srcOf(l, kFloat, l.f), srcOf(r, kFloat, r.f))}, true
	case op == "+" && l.k == kString && r.k == kString:
		return tval{k: kString, s: bin2(l.s, r.s, func(x, y string) (string, bool) { return x + y, true })}, true
	case (op == "+" || op == "-") && l.k == kTime && r.k == kDur && r.isC && r.c.(time.Duration) == 0:
		// t + 0 is t (withdraw_cooldown: 0d turns a rule off).
		return l, true
	case (op == "+" || op == "-") && l.k == kTime && r.k == kDur:
		return tval{k: kTime, t: timeAdd(srcOf(l, kTime, l.t), srcOf(r, kDur, r.d), op == "-")}, true
	case op == "+" && l.k == kDur && r.k == kTime:
		return tval{k: kTime, t: timeAdd(srcOf(r, kTime, r.t), srcOf(l, kDur, l.d), false)}, true
	case op == "-" && l.k == kTime && r.k == kTime:
		return tval{k: kDur, d: bin2(l.t, r.t, func(x, y time.Time) (time.Duration, bool) { return x.Sub(y), true })}, true
	case (op == "+" || op == "-") && l.k == kDur && r.k == kDur:
		neg := op == "-"
		return tval{k: kDur, d: bin2(l.d, r.d, func(x, y time.Duration) (time.Duration, bool) {
			if neg {
				return x - y, true
			}
			return x + y, true
		})}, true
	case op == "*" && l.k == kInt && r.k == kDur:
		return tval{k: kDur, d: bin2(l.i, r.d, func(x int, y time.Duration) (time.Duration, bool) { return time.Duration(x) * y, true })}, true
	case op == "*" && l.k == kDur && r.k == kInt:
		return tval{k: kDur, d: bin2(l.d, r.i, func(x time.Duration, y int) (time.Duration, bool) { return x * time.Duration(y), true })}, true
	}
	return tval{}, false
}

func arithInt(op byte, a, b src[int]) fnInt {
	return func(q *Request, e string) (int, error) {
		x, err := a.get(q, e)
		if err != nil {
			return 0, err
		}
		y, err := b.get(q, e)
		if err != nil {
			return 0, err
		}
		switch op {
		case '+':
			return x + y, nil
		case '-':
			return x - y, nil
		case '*':
			return x * y, nil
		}
		if y == 0 {
			// expr panics on a zero divisor; the VM's message is replayed.
			return 0, errTyped
		}
		return x % y, nil
	}
}

func arithFloat(op byte, a, b src[float64]) fnFloat {
	return func(q *Request, e string) (float64, error) {
		x, err := a.get(q, e)
		if err != nil {
			return 0, err
		}
		y, err := b.get(q, e)
		if err != nil {
			return 0, err
		}
		switch op {
		case '+':
			return x + y, nil
		case '-':
			return x - y, nil
		case '*':
			return x * y, nil
		}
		return x / y, nil
	}
}

// timeAdd is t + d, or t - d.
func timeAdd(a src[time.Time], b src[time.Duration], sub bool) fnTime {
	return func(q *Request, e string) (time.Time, error) {
		x, err := a.get(q, e)
		if err != nil {
			return time.Time{}, err
		}
		y, err := b.get(q, e)
		if err != nil {
			return time.Time{}, err
		}
		if sub {
			y = -y
		}
		return x.Add(y), nil
	}
}
