package rules

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
)

// variable is one fact the witness search may change: its dotted path
// (the key path in a policy test's request), the values it tries, and how
// to set one on a request.
type variable struct {
	path   string
	values []any
	set    func(r *Request, v any)
}

// constants are the literals a policy's conditions and params compare
// against; the search tries them and their neighbours.
type constants struct {
	ints      []int
	floats    []float64
	strs      []string
	durations []time.Duration
}

func (c *constants) add(v any) {
	switch x := v.(type) {
	case int:
		c.ints = append(c.ints, x)
	case float64:
		c.floats = append(c.floats, x)
	case string:
		if len(x) <= 64 {
			c.strs = append(c.strs, x)
		}
	case time.Duration:
		c.durations = append(c.durations, x)
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Slice, reflect.Array:
			for i := 0; i < rv.Len() && i < 100_000; i++ { // a policy is at most 1 MB
				c.add(rv.Index(i).Interface())
			}
		case reflect.Struct:
			for i := 0; i < rv.NumField(); i++ {
				c.add(rv.Field(i).Interface())
			}
		case reflect.Map:
			for _, k := range rv.MapKeys() {
				c.add(rv.MapIndex(k).Interface())
			}
		}
	}
}

// collect gathers the literals of a compiled (patched) expression tree.
type collector struct{ c *constants }

func (v collector) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IntegerNode:
		v.c.add(n.Value)
	case *ast.FloatNode:
		v.c.add(n.Value)
	case *ast.StringNode:
		v.c.add(n.Value)
	case *ast.ConstantNode:
		v.c.add(n.Value)
	case *ast.BinaryNode:
		// A bound computed from constants, such as params.daily + 5.
		x, ok1 := intConst(n.Left)
		y, ok2 := intConst(n.Right)
		if ok1 && ok2 {
			switch n.Operator {
			case "+":
				v.c.add(x + y)
			case "-":
				v.c.add(x - y)
			case "*":
				v.c.add(x * y)
			}
		}
	}
}

func intConst(n ast.Node) (int, bool) {
	switch x := n.(type) {
	case *ast.IntegerNode:
		return x.Value, true
	case *ast.ConstantNode:
		i, ok := x.Value.(int)
		return i, ok
	}
	return 0, false
}

// factRefs gathers the fact paths an expression reads, such as
// "sender.sent.day", "pair" or "now".
type factRefs struct{ paths map[string]bool }

func (v factRefs) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		v.paths[n.Value] = true
	case *ast.MemberNode:
		if p, ok := memberPath(n); ok {
			v.paths[p] = true
		}
	}
}

func memberPath(n ast.Node) (string, bool) {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		return x.Value, true
	case *ast.MemberNode:
		s, ok := x.Property.(*ast.StringNode)
		if !ok {
			return "", false
		}
		base, ok := memberPath(x.Node)
		return base + "." + s.Value, ok
	}
	return "", false
}

// maxCandidates bounds the values tried per fact, so that a policy with
// thousands of constants still lints in bounded time.
const maxCandidates = 64

// capValues keeps at most n values, evenly spread, the first and last
// included.
func capValues[T any](xs []T, n int) []T {
	if len(xs) <= n {
		return xs
	}
	out := make([]T, n)
	for i := range n {
		out[i] = xs[i*(len(xs)-1)/(n-1)]
	}
	return out
}

func uniqInts(xs []int) []int {
	slices.Sort(xs)
	return slices.Compact(xs)
}

// variables builds the search's domain: enumerations, booleans, counts at
// and around the policy's constants, times before and after now at the
// policy's durations.
func (a *analysis) variables(c *constants, base *Request) []variable {
	// Sorted, so that map order in params cannot change the search.
	slices.Sort(c.strs)
	c.strs = slices.Compact(c.strs)
	slices.Sort(c.durations)
	c.durations = capValues(slices.Compact(c.durations), maxCandidates/4)
	c.strs = capValues(c.strs, maxCandidates/2)
	ints := []int{0, 1, 2, 3}
	for _, n := range c.ints {
		if n >= 0 && n <= 1_000_000 {
			ints = append(ints, max(n-1, 0), n, n+1)
		}
	}
	ints = capValues(uniqInts(ints), maxCandidates)
	rates := []float64{0, 0.5, 1}
	for _, f := range c.floats {
		if f >= 0 && f <= 1 {
			rates = append(rates, math.Max(f-0.01, 0), f, math.Min(f+0.01, 1))
		}
	}
	slices.Sort(rates)
	rates = capValues(slices.Compact(rates), maxCandidates)
	now := base.Now
	past := []time.Time{{}, now.Add(-time.Hour), now.Add(-24 * time.Hour), now.Add(-48 * time.Hour), now.Add(-30 * 24 * time.Hour)}
	for _, d := range c.durations {
		if d > 0 && d < 100*365*24*time.Hour {
			past = append(past, now.Add(-d).Add(time.Hour), now.Add(-d).Add(-time.Hour))
		}
	}
	future := []time.Time{{}, now.Add(-time.Hour), now.Add(time.Hour), now.Add(7 * 24 * time.Hour)}
	strs := []string{""}
	for _, s := range c.strs {
		if !slices.Contains(strs, s) {
			strs = append(strs, s)
		}
	}
	notes := slices.Clone(strs)
	notes = append(notes, "Hello, we met at the meetup.")
	for _, n := range capValues(uniqInts(c.ints), 16) {
		if n > 0 && n < 10_000 {
			notes = append(notes, strings.Repeat("x", n+1))
		}
	}
	tiers := []string{"free"}
	if a.p.tiers != nil {
		tiers = tiers[:0]
		for t := range a.p.tiers {
			tiers = append(tiers, t)
		}
		slices.Sort(tiers)
	}
	anyOf := func(xs ...any) []any { return xs }
	intVals := func() []any {
		out := make([]any, len(ints))
		for i, n := range ints {
			out[i] = n
		}
		return out
	}
	timeVals := func(ts []time.Time) []any {
		out := make([]any, len(ts))
		for i, t := range ts {
			out[i] = t
		}
		return out
	}
	strVals := func(ss []string) []any {
		out := make([]any, len(ss))
		for i, s := range ss {
			out[i] = s
		}
		return out
	}
	var vars []variable
	addInt := func(path string, f func(r *Request) *int) {
		vars = append(vars, variable{path, intVals(), func(r *Request, v any) { *f(r) = v.(int) }})
	}
	vars = append(vars, variable{"note", strVals(notes), func(r *Request, v any) { r.Note = v.(string) }})
	vars = append(vars, variable{"recipient", anyOf(true, false), func(r *Request, v any) {
		if !v.(bool) {
			r.Recipient = nil
		}
	}})
	for _, who := range []string{"sender", "recipient"} {
		m := func(r *Request) *Member {
			if who == "sender" {
				return r.Sender
			}
			if r.Recipient == nil {
				return &Member{} // the recipient was removed: a scratch member
			}
			return r.Recipient
		}
		vars = append(vars,
			variable{who + ".kind", strVals(memberKinds), func(r *Request, v any) { m(r).Kind = v.(string) }},
			variable{who + ".status", strVals(memberStatuses), func(r *Request, v any) { m(r).Status = v.(string) }},
			variable{who + ".tier", strVals(tiers), func(r *Request, v any) { m(r).Tier = v.(string) }},
			variable{who + ".restricted_until", timeVals(future), func(r *Request, v any) { m(r).RestrictedUntil = v.(time.Time) }},
			variable{who + ".company", strVals(append(slices.Clone(strs), "Acme", "Globex")), func(r *Request, v any) { m(r).Company = v.(string) }},
			variable{who + ".school", strVals(append(slices.Clone(strs), "State U", "Tech")), func(r *Request, v any) { m(r).School = v.(string) }},
			variable{who + ".acceptance_rate", floatVals(rates), func(r *Request, v any) { m(r).AcceptanceRate = v.(float64) }},
			variable{who + ".settings.invitations", strVals(invitationOpts[1:]), func(r *Request, v any) { m(r).Settings.Invitations = v.(string) }},
			variable{who + ".settings.require_confirmation", anyOf(false, true), func(r *Request, v any) { m(r).Settings.RequireConfirmation = v.(bool) }},
		)
		addInt(who+".connections", func(r *Request) *int { return &m(r).Connections })
		addInt(who+".over_limit", func(r *Request) *int { return &m(r).OverLimit })
		for _, w := range []string{"hour", "day", "week", "month"} {
			addInt(who+".sent."+w, func(r *Request) *int { return countField(&m(r).Sent, w) })
			addInt(who+".received."+w, func(r *Request) *int { return countField(&m(r).Received, w) })
		}
		lists := []struct {
			path string
			get  func(*Member) *[]string
		}{
			{"settings.companies", func(x *Member) *[]string { return &x.Settings.Companies }},
			{"settings.schools", func(x *Member) *[]string { return &x.Settings.Schools }},
			{"settings.auto_accept.companies", func(x *Member) *[]string { return &x.Settings.AutoAccept.Companies }},
			{"settings.auto_accept.schools", func(x *Member) *[]string { return &x.Settings.AutoAccept.Schools }},
		}
		for _, l := range lists {
			// Lists name the other member's company or school, or another.
			vars = append(vars, variable{who + "." + l.path, anyOf("", "other", "theirs"), func(r *Request, v any) {
				other := r.Sender
				if who == "sender" && r.Recipient != nil {
					other = r.Recipient
				}
				val := other.Company
				if strings.HasSuffix(l.path, "schools") {
					val = other.School
				}
				switch v.(string) {
				case "":
					*l.get(m(r)) = nil
				case "other":
					*l.get(m(r)) = []string{"Other Inc"}
				default:
					*l.get(m(r)) = []string{val}
				}
			}})
		}
	}
	vars = append(vars, variable{"recipient.id", anyOf("other", "sender"), func(r *Request, v any) {
		if r.Recipient != nil && v.(string) == "sender" {
			r.Recipient.ID = r.Sender.ID
		}
	}})
	for _, b := range []struct {
		path string
		f    func(p *Pair) *bool
	}{
		{"pair.connected", func(p *Pair) *bool { return &p.Connected }},
		{"pair.knows_email", func(p *Pair) *bool { return &p.KnowsEmail }},
		{"pair.in_contacts", func(p *Pair) *bool { return &p.InContacts }},
		{"pair.blocked", func(p *Pair) *bool { return &p.Blocked }},
		{"pair.rejected", func(p *Pair) *bool { return &p.Rejected }},
	} {
		vars = append(vars, variable{b.path, anyOf(false, true), func(r *Request, v any) { *b.f(&r.Pair) = v.(bool) }})
	}
	vars = append(vars, variable{"pair.degree", anyOf(0, 1, 2, 3), func(r *Request, v any) { r.Pair.Degree = v.(int) }})
	addInt("pair.mutual", func(r *Request) *int { return &r.Pair.Mutual })
	addInt("pair.pending", func(r *Request) *int { return &r.Pair.Pending })
	addInt("pair.ignored", func(r *Request) *int { return &r.Pair.Ignored })
	vars = append(vars,
		variable{"pair.last_ignored_at", timeVals(past), func(r *Request, v any) { r.Pair.LastIgnoredAt = v.(time.Time) }},
		variable{"pair.withdrawn_at", timeVals(past), func(r *Request, v any) { r.Pair.WithdrawnAt = v.(time.Time) }},
	)
	return vars
}

func floatVals(fs []float64) []any {
	out := make([]any, len(fs))
	for i, f := range fs {
		out[i] = f
	}
	return out
}

func countField(c *Counts, w string) *int {
	switch w {
	case "hour":
		return &c.Hour
	case "day":
		return &c.Day
	case "week":
		return &c.Week
	}
	return &c.Month
}

// cloneRequest copies a request deeply enough for the search to change it.
func cloneRequest(r *Request) *Request {
	c := *r
	s := *r.Sender
	c.Sender = &s
	if r.Recipient != nil {
		rc := *r.Recipient
		c.Recipient = &rc
	}
	return &c
}
