package rules

import (
	"time"
)

// Arithmetic over typed nodes, and folding of constant operands.

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

// arith compiles +, -, *, / and %.
func arith(op string, l, r tval) (tval, bool) {
	switch {
	case l.k == kInt && r.k == kInt && op != "/":
		return tval{k: kInt, i: arithOf(op[0], srcOf(l, kInt, l.i), srcOf(r, kInt, r.i), modInt)}, true
	case isNum(l.k) && isNum(r.k) && op != "%":
		l, r = asFloat(l), asFloat(r)
		return tval{k: kFloat, f: arithOf(op[0], srcOf(l, kFloat, l.f), srcOf(r, kFloat, r.f), divFloat)}, true
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

// arithOf runs +, - and * inline; last is the type's own fifth
// operator (% for ints, / for floats), false when it fails.
func arithOf[T int | float64](op byte, a, b src[T], last func(x, y T) (T, bool)) func(*Request, string) (T, error) {
	return func(q *Request, e string) (T, error) {
		x, y, err := both(&a, &b, q, e)
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
		v, ok := last(x, y)
		if !ok {
			return 0, errTyped
		}
		return v, nil
	}
}

// modInt is x % y; expr panics on a zero divisor, and the VM's message
// is replayed.
func modInt(x, y int) (int, bool) {
	if y == 0 {
		return 0, false
	}
	return x % y, true
}

func divFloat(x, y float64) (float64, bool) { return x / y, true }

// timeAdd is t + d, or t - d.
func timeAdd(a src[time.Time], b src[time.Duration], sub bool) fnTime {
	return func(q *Request, e string) (time.Time, error) {
		x, y, err := both(&a, &b, q, e)
		if err != nil {
			return time.Time{}, err
		}
		if sub {
			y = -y
		}
		return x.Add(y), nil
	}
}
