package rules

import (
	"slices"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/expr-lang/expr/ast"
)

// Comparisons and `in`, fused: each reads its operands through srcs
// (typed_src.go) and, for a fact field against a constant, directly.

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
	case l.k == kTime && r.k == kTime && l.sd != nil && r.sd != nil && l.sd.mode == sField && r.sd.mode == sField:
		return &inline{op: opTime, lf: l.sd.lf, lf2: r.sd.lf, mask: mask}
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
		x, y, err := both(&a, &b, q, e)
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
		x, y, err := both(&a, &b, q, e)
		if err != nil {
			return false, err
		}
		return (x == y) != neg, nil
	}
}

func cmpFloat(a, b src[float64], mask uint8) fnBool {
	return func(q *Request, e string) (bool, error) {
		x, y, err := both(&a, &b, q, e)
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
		x, y, err := both(&a, &b, q, e)
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
				return inStrings(l, a, xs), nil
			}
		case map[int]struct{}:
			if l.k == kInt {
				a, xs := srcOf(l, kInt, l.i), keys(set)
				v := boolOf(func(neg bool) fnBool { return inInts(a, xs, neg) })
				if bits, small := bitsOf(xs); small && a.mode == sField {
					v.in = &inline{op: opIntBits, lf: a.lf, bits: bits}
				}
				return v, nil
			}
		case []string:
			if l.k == kString {
				return inStrings(l, srcOf(l, kString, l.s), set), nil
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
				x, ys, err := both(&a, &b, q, e)
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

// inStrings is x in a constant list of strings; a fact field in a few
// runs inline.
func inStrings(l tval, a src[string], xs []string) tval {
	v := boolOf(func(neg bool) fnBool { return inConst(a, xs, neg) })
	if a.mode == sField && len(xs) <= 8 {
		v.in = &inline{op: opStrIn, lf: a.lf, set: xs}
	}
	return v
}

// bitsOf is a set of ints as a bit mask, when every member is in 0..63.
func bitsOf(xs []int) (uint64, bool) {
	var bits uint64
	for _, x := range xs {
		if x < 0 || x > 63 {
			return 0, false
		}
		bits |= 1 << x
	}
	return bits, true
}

// inInts tests membership in a constant set of ints: a bit mask when
// every member is in 0..63 (degrees, small codes), else as inConst.
func inInts(a src[int], xs []int, neg bool) fnBool {
	bits, small := bitsOf(xs)
	if !small {
		return inConst(a, xs, neg)
	}
	return func(q *Request, e string) (bool, error) {
		x, err := a.get(q, e)
		if err != nil {
			return false, err
		}
		return (uint(x) < 64 && bits>>uint(x)&1 != 0) != neg, nil
	}
}
