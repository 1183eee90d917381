package rules

import (
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
)

// toFloat widens an int closure as expr's runtime does when it mixes an
// int with a float.
func toFloat(v tval) fnFloat {
	if v.k == kFloat {
		return v.f
	}
	i := v.i
	return func(r *Request, e string) (float64, error) { x, err := i(r, e); return float64(x), err }
}

func isNum(k tkind) bool { return k == kInt || k == kFloat }

func (c *tcomp) unary(n *ast.UnaryNode) (tval, error) {
	x, err := c.compile(n.Node)
	if err != nil {
		return tval{}, err
	}
	switch {
	case (n.Operator == "not" || n.Operator == "!") && x.k == kBool:
		f := x.b
		return tval{k: kBool, b: func(r *Request, e string) (bool, error) { v, err := f(r, e); return !v, err }}, nil
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

func ok[T any](v T) (T, bool) { return v, true }

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
		a, b := l.b, r.b
		if n.Operator == "and" || n.Operator == "&&" {
			return tval{k: kBool, b: func(q *Request, e string) (bool, error) {
				x, err := a(q, e)
				if err != nil || !x {
					return false, err
				}
				return b(q, e)
			}}, nil
		}
		return tval{k: kBool, b: func(q *Request, e string) (bool, error) {
			x, err := a(q, e)
			if err != nil || x {
				return x, err
			}
			return b(q, e)
		}}, nil
	case "==", "!=":
		eq, ok := equality(l, r)
		if !ok {
			break
		}
		if n.Operator == "!=" {
			f := eq
			eq = func(q *Request, e string) (bool, error) { v, err := f(q, e); return !v, err }
		}
		return tval{k: kBool, b: eq}, nil
	case "<", ">", "<=", ">=":
		if f, ok := compare(n.Operator, l, r); ok {
			return tval{k: kBool, b: f}, nil
		}
	case "+", "-", "*", "/", "%":
		if v, ok := arith(n.Operator, l, r); ok {
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

func equality(l, r tval) (fnBool, bool) {
	switch {
	case l.k == kMember && r.k == kNil:
		m := l.m
		return func(q *Request, e string) (bool, error) { x, err := m(q, e); return x == nil, err }, true
	case l.k == kNil && r.k == kMember:
		return equality(r, l)
	case l.k != r.k && isNum(l.k) && isNum(r.k):
		return bin2(toFloat(l), toFloat(r), func(x, y float64) (bool, bool) { return x == y, true }), true
	case l.k != r.k:
		return nil, false
	}
	switch l.k {
	case kBool:
		return bin2(l.b, r.b, func(x, y bool) (bool, bool) { return x == y, true }), true
	case kInt:
		return bin2(l.i, r.i, func(x, y int) (bool, bool) { return x == y, true }), true
	case kFloat:
		return bin2(l.f, r.f, func(x, y float64) (bool, bool) { return x == y, true }), true
	case kString:
		if r.isC {
			a, y := l.s, r.c.(string)
			return func(q *Request, e string) (bool, error) { x, err := a(q, e); return x == y, err }, true
		}
		return bin2(l.s, r.s, func(x, y string) (bool, bool) { return x == y, true }), true
	case kTime:
		return bin2(l.t, r.t, func(x, y time.Time) (bool, bool) { return x.Equal(y), true }), true
	case kDur:
		return bin2(l.d, r.d, func(x, y time.Duration) (bool, bool) { return x == y, true }), true
	}
	return nil, false
}

func compare(op string, l, r tval) (fnBool, bool) {
	type cmp = func(int) bool
	sel := map[string]cmp{"<": func(c int) bool { return c < 0 }, ">": func(c int) bool { return c > 0 }, "<=": func(c int) bool { return c <= 0 }, ">=": func(c int) bool { return c >= 0 }}[op]
	switch {
	case l.k == kInt && r.k == kInt:
		// The hottest comparison: no indirection through sel.
		a, b := l.i, r.i
		if r.isC {
			y := r.c.(int)
			switch op {
			case "<":
				return func(q *Request, e string) (bool, error) { x, err := a(q, e); return x < y, err }, true
			case ">":
				return func(q *Request, e string) (bool, error) { x, err := a(q, e); return x > y, err }, true
			case "<=":
				return func(q *Request, e string) (bool, error) { x, err := a(q, e); return x <= y, err }, true
			case ">=":
				return func(q *Request, e string) (bool, error) { x, err := a(q, e); return x >= y, err }, true
			}
		}
		return bin2(a, b, func(x, y int) (bool, bool) { return sel(cmpInt(x, y)), true }), true
	case isNum(l.k) && isNum(r.k):
		// NaN fails every comparison, as in Go and expr.
		lt, le := op == "<" || op == "<=", op == "<=" || op == ">="
		return bin2(toFloat(l), toFloat(r), func(x, y float64) (bool, bool) {
			switch {
			case x == y:
				return le, true
			case x < y:
				return lt, true
			case x > y:
				return !lt && op != "<=", true
			}
			return false, true
		}), true
	case l.k == kString && r.k == kString:
		return bin2(l.s, r.s, func(x, y string) (bool, bool) { return sel(strings.Compare(x, y)), true }), true
	case l.k == kTime && r.k == kTime:
		return bin2(l.t, r.t, func(x, y time.Time) (bool, bool) { return sel(x.Compare(y)), true }), true
	case l.k == kDur && r.k == kDur:
		return bin2(l.d, r.d, func(x, y time.Duration) (bool, bool) { return sel(cmpInt(int(x), int(y))), true }), true
	}
	return nil, false
}

func cmpInt(x, y int) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func arith(op string, l, r tval) (tval, bool) {
	switch {
	case l.k == kInt && r.k == kInt && op != "/":
		var f func(x, y int) (int, bool)
		switch op {
		case "+":
			f = func(x, y int) (int, bool) { return x + y, true }
		case "-":
			f = func(x, y int) (int, bool) { return x - y, true }
		case "*":
			f = func(x, y int) (int, bool) { return x * y, true }
		case "%":
			// expr panics on a zero divisor; the VM's message is replayed.
			f = func(x, y int) (int, bool) {
				if y == 0 {
					return 0, false
				}
				return x % y, true
			}
		}
		return tval{k: kInt, i: bin2(l.i, r.i, f)}, true
	case isNum(l.k) && isNum(r.k) && op != "%":
		var f func(x, y float64) (float64, bool)
		switch op {
		case "+":
			f = func(x, y float64) (float64, bool) { return x + y, true }
		case "-":
			f = func(x, y float64) (float64, bool) { return x - y, true }
		case "*":
			f = func(x, y float64) (float64, bool) { return x * y, true }
		case "/":
			f = func(x, y float64) (float64, bool) { return x / y, true }
		}
		return tval{k: kFloat, f: bin2(toFloat(l), toFloat(r), f)}, true
	case op == "+" && l.k == kString && r.k == kString:
		return tval{k: kString, s: bin2(l.s, r.s, func(x, y string) (string, bool) { return x + y, true })}, true
	case op == "+" && l.k == kTime && r.k == kDur:
		return tval{k: kTime, t: bin2(l.t, r.d, func(x time.Time, y time.Duration) (time.Time, bool) { return x.Add(y), true })}, true
	case op == "+" && l.k == kDur && r.k == kTime:
		return tval{k: kTime, t: bin2(l.d, r.t, func(x time.Duration, y time.Time) (time.Time, bool) { return y.Add(x), true })}, true
	case op == "-" && l.k == kTime && r.k == kDur:
		return tval{k: kTime, t: bin2(l.t, r.d, func(x time.Time, y time.Duration) (time.Time, bool) { return x.Add(-y), true })}, true
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

// in covers x in list: constant sets (the optimizer folds a literal list
// of ints or strings into one), constant lists and fact lists of strings.
func (c *tcomp) in(n *ast.BinaryNode, l tval) (tval, error) {
	if cn, isC := n.Right.(*ast.ConstantNode); isC {
		switch set := cn.Value.(type) {
		case map[string]struct{}:
			if l.k == kString {
				return tval{k: kBool, b: inStrings(l.s, keys(set))}, nil
			}
		case map[int]struct{}:
			if l.k == kInt {
				xs, a := keys(set), l.i
				return tval{k: kBool, b: func(q *Request, e string) (bool, error) {
					x, err := a(q, e)
					if err != nil {
						return false, err
					}
					for _, y := range xs {
						if x == y {
							return true, nil
						}
					}
					return false, nil
				}}, nil
			}
		case []string:
			if l.k == kString {
				return tval{k: kBool, b: inStrings(l.s, set)}, nil
			}
		}
	}
	r, err := c.compile(n.Right)
	if err != nil {
		return tval{}, err
	}
	if l.k == kString && r.k == kStrings {
		a, b := l.s, r.ss
		return tval{k: kBool, b: func(q *Request, e string) (bool, error) {
			x, err := a(q, e)
			if err != nil {
				return false, err
			}
			ys, err := b(q, e)
			if err != nil {
				return false, err
			}
			for _, y := range ys {
				if x == y {
					return true, nil
				}
			}
			return false, nil
		}}, nil
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

// inStrings tests membership in a constant list: a scan for a few names,
// a set for many.
func inStrings(a fnString, xs []string) fnBool {
	if len(xs) > 8 {
		set := make(map[string]struct{}, len(xs))
		for _, x := range xs {
			set[x] = struct{}{}
		}
		return func(q *Request, e string) (bool, error) {
			x, err := a(q, e)
			if err != nil {
				return false, err
			}
			_, ok := set[x]
			return ok, nil
		}
	}
	return func(q *Request, e string) (bool, error) {
		x, err := a(q, e)
		if err != nil {
			return false, err
		}
		for _, y := range xs {
			if x == y {
				return true, nil
			}
		}
		return false, nil
	}
}

func (c *tcomp) cond(n *ast.ConditionalNode) (tval, error) {
	cond, err := c.compile(n.Cond)
	if err != nil {
		return tval{}, err
	}
	a, err := c.compile(n.Exp1)
	if err != nil {
		return tval{}, err
	}
	b, err := c.compile(n.Exp2)
	if err != nil {
		return tval{}, err
	}
	if cond.k != kBool || a.k != b.k {
		return tval{}, uncovered(n, "conditional with branches of different types")
	}
	cf := cond.b
	pick := func(q *Request, e string) (bool, error) { return cf(q, e) }
	switch a.k {
	case kBool:
		return tval{k: kBool, b: pickOf(pick, a.b, b.b)}, nil
	case kInt:
		return tval{k: kInt, i: pickOf(pick, a.i, b.i)}, nil
	case kFloat:
		return tval{k: kFloat, f: pickOf(pick, a.f, b.f)}, nil
	case kString:
		return tval{k: kString, s: pickOf(pick, a.s, b.s)}, nil
	case kTime:
		return tval{k: kTime, t: pickOf(pick, a.t, b.t)}, nil
	case kDur:
		return tval{k: kDur, d: pickOf(pick, a.d, b.d)}, nil
	}
	return tval{}, uncovered(n, "conditional of this type")
}

func pickOf[T any](cond fnBool, a, b func(*Request, string) (T, error)) func(*Request, string) (T, error) {
	return func(q *Request, e string) (T, error) {
		c, err := cond(q, e)
		if err != nil {
			var zero T
			return zero, err
		}
		if c {
			return a(q, e)
		}
		return b(q, e)
	}
}

func (c *tcomp) call(n *ast.CallNode) (tval, error) {
	if m, isM := n.Callee.(*ast.MemberNode); isM && m.Method && len(n.Arguments) == 0 {
		if name, isS := m.Property.(*ast.StringNode); isS && name.Value == "IsZero" {
			t, err := c.compile(m.Node)
			if err != nil {
				return tval{}, err
			}
			if t.k == kTime {
				f := t.t
				return tval{k: kBool, b: func(q *Request, e string) (bool, error) { x, err := f(q, e); return x.IsZero(), err }}, nil
			}
		}
	}
	id, isID := n.Callee.(*ast.IdentifierNode)
	if !isID {
		return tval{}, uncovered(n, "call of a non-name")
	}
	args := make([]tval, len(n.Arguments))
	for i, a := range n.Arguments {
		var err error
		if args[i], err = c.compile(a); err != nil {
			return tval{}, err
		}
	}
	if t, isT := c.tables[id.Value]; isT && len(args) == 1 && args[0].k == kString {
		return tval{table: &tableRef{entries: t, key: args[0].s}}, nil
	}
	cal := c.cal
	tt := map[string]func(time.Time) time.Time{
		"next_day": cal.NextDay, "next_week": cal.NextWeek, "next_month": cal.NextMonth,
		"day_start": cal.DayStart, "week_start": cal.WeekStart, "month_start": cal.MonthStart,
	}
	if f, isTT := tt[id.Value]; isTT && len(args) == 1 && args[0].k == kTime {
		a := args[0].t
		return tval{k: kTime, t: func(q *Request, e string) (time.Time, error) {
			x, err := a(q, e)
			if err != nil {
				return time.Time{}, err
			}
			return f(x), nil
		}}, nil
	}
	units := map[string]time.Duration{"days": 24 * time.Hour, "weeks": 7 * 24 * time.Hour, "hours": time.Hour}
	if u, isU := units[id.Value]; isU && len(args) == 1 && args[0].k == kInt {
		a := args[0].i
		return tval{k: kDur, d: func(q *Request, e string) (time.Duration, error) {
			x, err := a(q, e)
			return time.Duration(x) * u, err
		}}, nil
	}
	switch {
	case id.Value == "add_months" && len(args) == 2 && args[0].k == kTime && args[1].k == kInt:
		return tval{k: kTime, t: bin2(args[0].t, args[1].i, func(t time.Time, m int) (time.Time, bool) { return cal.AddMonths(t, m), true })}, nil
	case (id.Value == "format_date" || id.Value == "format_time") && len(args) == 1 && args[0].k == kTime:
		layout := "Jan 2, 2006"
		if id.Value == "format_time" {
			layout = "Jan 2, 2006 3:04 PM MST"
		}
		a := args[0].t
		return tval{k: kString, s: func(q *Request, e string) (string, error) {
			x, err := a(q, e)
			if err != nil {
				return "", err
			}
			return x.In(cal.Loc).Format(layout), nil
		}}, nil
	case id.Value == "contains_any" && len(args) == 2 && args[0].k == kString && args[1].k == kStrings:
		return tval{k: kBool, b: bin2(args[0].s, args[1].ss, func(t string, w []string) (bool, bool) { return containsAnyFold(t, w), true })}, nil
	}
	return tval{}, uncovered(n, "call of %s", id.Value)
}

func (c *tcomp) builtin(n *ast.BuiltinNode) (tval, error) {
	switch n.Name {
	case "all", "any", "none", "one":
		if len(n.Arguments) != 2 {
			break
		}
		list, err := c.compile(n.Arguments[0])
		if err != nil {
			return tval{}, err
		}
		pn, isP := n.Arguments[1].(*ast.PredicateNode)
		if list.k != kStrings || !isP {
			break
		}
		c.inPred++
		pred, err := c.compile(pn.Node)
		c.inPred--
		if err != nil {
			return tval{}, err
		}
		if pred.k != kBool {
			break
		}
		return tval{k: kBool, b: loopOf(n.Name, list.ss, pred.b)}, nil
	case "min", "max":
		if len(n.Arguments) != 2 {
			break
		}
		a, err := c.compile(n.Arguments[0])
		if err != nil {
			return tval{}, err
		}
		b, err := c.compile(n.Arguments[1])
		if err != nil {
			return tval{}, err
		}
		if a.k != kInt || b.k != kInt {
			break
		}
		// expr keeps the first argument on a tie; for ints that is the same value.
		if n.Name == "min" {
			return tval{k: kInt, i: bin2(a.i, b.i, func(x, y int) (int, bool) { return min(x, y), true })}, nil
		}
		return tval{k: kInt, i: bin2(a.i, b.i, func(x, y int) (int, bool) { return max(x, y), true })}, nil
	case "len", "trim", "lower", "upper":
		if len(n.Arguments) != 1 {
			break
		}
		if cn, isC := n.Arguments[0].(*ast.ConstantNode); isC && n.Name == "len" {
			switch rv := reflect.ValueOf(cn.Value); rv.Kind() {
			case reflect.String:
				v, _ := constVal(utf8.RuneCountInString(rv.String()))
				return v, nil
			case reflect.Slice, reflect.Array, reflect.Map:
				v, _ := constVal(rv.Len())
				return v, nil
			}
		}
		a, err := c.compile(n.Arguments[0])
		if err != nil {
			return tval{}, err
		}
		switch {
		case n.Name == "len" && a.k == kString:
			f := a.s
			// expr counts a string's runes.
			return tval{k: kInt, i: func(q *Request, e string) (int, error) { s, err := f(q, e); return utf8.RuneCountInString(s), err }}, nil
		case n.Name == "len" && a.k == kStrings:
			f := a.ss
			return tval{k: kInt, i: func(q *Request, e string) (int, error) { s, err := f(q, e); return len(s), err }}, nil
		case a.k == kString && n.Name != "len":
			op := map[string]func(string) string{"trim": strings.TrimSpace, "lower": strings.ToLower, "upper": strings.ToUpper}[n.Name]
			f := a.s
			return tval{k: kString, s: func(q *Request, e string) (string, error) {
				s, err := f(q, e)
				if err != nil {
					return "", err
				}
				return op(s), nil
			}}, nil
		}
	}
	return tval{}, uncovered(n, "builtin %s", n.Name)
}

// loopOf runs a predicate over a list as expr's all, any, none and one do:
// each stops at the first element that settles the answer.
func loopOf(name string, list fnStrings, pred fnBool) fnBool {
	return func(q *Request, e string) (bool, error) {
		xs, err := list(q, e)
		if err != nil {
			return false, err
		}
		count := 0
		for _, x := range xs {
			held, err := pred(q, x)
			if err != nil {
				return false, err
			}
			switch {
			case name == "all" && !held:
				return false, nil
			case name == "any" && held:
				return true, nil
			case name == "none" && held:
				return false, nil
			case name == "one" && held:
				count++
			}
		}
		switch name {
		case "one":
			return count == 1, nil
		case "any":
			return false, nil
		}
		return true, nil
	}
}
