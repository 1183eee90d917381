package rules

import (
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
)

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
	pick := cond.b
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
				f := srcOf(t, kTime, t.t)
				return boolOf(func(neg bool) fnBool {
					return func(q *Request, e string) (bool, error) { x, err := f.get(q, e); return x.IsZero() != neg, err }
				}), nil
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
		return tval{table: &tableRef{name: id.Value, entries: t, key: args[0].s, keySD: args[0].sd}}, nil
	}
	cal := c.cal
	// Switches, not maps of method values built per call node: those were
	// most of the typed back end's allocations at load.
	var tt func(time.Time) time.Time
	switch id.Value {
	case "next_day":
		tt = cal.NextDay
	case "next_week":
		tt = cal.NextWeek
	case "next_month":
		tt = cal.NextMonth
	case "day_start":
		tt = cal.DayStart
	case "week_start":
		tt = cal.WeekStart
	case "month_start":
		tt = cal.MonthStart
	}
	if f := tt; f != nil && len(args) == 1 && args[0].k == kTime {
		a := args[0].t
		return tval{k: kTime, t: func(q *Request, e string) (time.Time, error) {
			x, err := a(q, e)
			if err != nil {
				return time.Time{}, err
			}
			return f(x), nil
		}}, nil
	}
	if u := timeUnits[id.Value]; u != 0 && len(args) == 1 && args[0].k == kInt {
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

// timeUnits are the duration helpers' units.
var timeUnits = map[string]time.Duration{"days": 24 * time.Hour, "weeks": 7 * 24 * time.Hour, "hours": time.Hour}

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
			f := srcOf(a, kString, a.s)
			// expr counts a string's runes.
			return tval{k: kInt, i: func(q *Request, e string) (int, error) { s, err := f.get(q, e); return utf8.RuneCountInString(s), err }, sd: lenOf(a, sRunes)}, nil
		case n.Name == "len" && a.k == kStrings:
			f := srcOf(a, kStrings, a.ss)
			return tval{k: kInt, i: func(q *Request, e string) (int, error) { s, err := f.get(q, e); return len(s), err }, sd: lenOf(a, sLen)}, nil
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
