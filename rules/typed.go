package rules

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
)

// The typed back end: each checked (and optimized) expression tree that
// expr compiled is turned a second time into Go closures over *Request.
// Field reads are direct, comparisons and arithmetic typed, and nothing is
// boxed. A node it does not cover makes the whole expression fall back to
// expr's VM, with the reason kept for lint --verbose. A closure that
// fails returns errTyped; the caller then replays the decision through
// the VM, so every error message is expr's own, byte for byte.

// errTyped is the one error a typed closure returns. Only its presence
// matters: the VM replays the expression for the message.
var errTyped = errors.New("typed evaluation failed")

// Each closure takes the request and the current element of the
// innermost predicate (#), which is always a string here.
type (
	fnBool    func(*Request, string) (bool, error)
	fnInt     func(*Request, string) (int, error)
	fnFloat   func(*Request, string) (float64, error)
	fnString  func(*Request, string) (string, error)
	fnTime    func(*Request, string) (time.Time, error)
	fnDur     func(*Request, string) (time.Duration, error)
	fnStrings func(*Request, string) ([]string, error)
	fnMember  func(*Request, string) (*Member, error)
)

type tkind uint8

const (
	kNone tkind = iota
	kBool
	kInt
	kFloat
	kString
	kTime
	kDur
	kStrings
	kMember
	kNil
)

// tval is one compiled node: its kind and the closure of that kind.
// Constants also keep their value, for folding sets.
type tval struct {
	k     tkind
	b     fnBool
	i     fnInt
	f     fnFloat
	s     fnString
	t     fnTime
	d     fnDur
	ss    fnStrings
	m     fnMember
	c     any // the constant's value, when the node is constant
	isC   bool
	table *tableRef // a params table entry chosen by a fact
}

// tableRef is params.table[key] before a field is chosen.
type tableRef struct {
	entries reflect.Value // map[string]struct
	key     fnString
	path    []string
}

// notCovered says why an expression falls back to the VM.
type notCovered struct {
	off int
	why string
}

func (e *notCovered) Error() string { return e.why }

func uncovered(n ast.Node, format string, args ...any) *notCovered {
	return &notCovered{off: n.Location().From, why: fmt.Sprintf(format, args...)}
}

// tcomp compiles trees for one policy.
type tcomp struct {
	cal    Calendar
	tables map[string]reflect.Value // __tableN -> params table
	inPred int                      // > 0 inside a predicate over strings
}

func kindOf(t reflect.Type) tkind {
	if t == nil {
		return kNone
	}
	switch t {
	case typTime:
		return kTime
	case typDuration:
		return kDur
	case reflect.TypeOf(&Member{}):
		return kMember
	}
	switch t.Kind() {
	case reflect.Bool:
		return kBool
	case reflect.Int:
		return kInt
	case reflect.Float64:
		return kFloat
	case reflect.String:
		return kString
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return kStrings
		}
	}
	return kNone
}

func constVal(v any) (tval, bool) {
	switch x := v.(type) {
	case bool:
		return tval{k: kBool, b: func(*Request, string) (bool, error) { return x, nil }, c: x, isC: true}, true
	case int:
		return tval{k: kInt, i: func(*Request, string) (int, error) { return x, nil }, c: x, isC: true}, true
	case float64:
		return tval{k: kFloat, f: func(*Request, string) (float64, error) { return x, nil }, c: x, isC: true}, true
	case string:
		return tval{k: kString, s: func(*Request, string) (string, error) { return x, nil }, c: x, isC: true}, true
	case time.Duration:
		return tval{k: kDur, d: func(*Request, string) (time.Duration, error) { return x, nil }, c: x, isC: true}, true
	case time.Time:
		return tval{k: kTime, t: func(*Request, string) (time.Time, error) { return x, nil }, c: x, isC: true}, true
	case []string:
		return tval{k: kStrings, ss: func(*Request, string) ([]string, error) { return x, nil }, c: x, isC: true}, true
	}
	return tval{}, false
}

func (c *tcomp) compile(n ast.Node) (tval, error) {
	switch n := n.(type) {
	case *ast.NilNode:
		return tval{k: kNil}, nil
	case *ast.BoolNode:
		v, _ := constVal(n.Value)
		return v, nil
	case *ast.StringNode:
		v, _ := constVal(n.Value)
		return v, nil
	case *ast.IntegerNode:
		// The checker may type an integer literal as a float.
		if kindOf(n.Type()) == kFloat {
			v, _ := constVal(float64(n.Value))
			return v, nil
		}
		v, _ := constVal(n.Value)
		return v, nil
	case *ast.FloatNode:
		v, _ := constVal(n.Value)
		return v, nil
	case *ast.ConstantNode:
		if v, ok := constVal(n.Value); ok {
			return v, nil
		}
		return tval{}, uncovered(n, "constant of type %T", n.Value)
	case *ast.IdentifierNode:
		return c.ident(n)
	case *ast.PointerNode:
		if c.inPred == 0 || n.Name != "" {
			return tval{}, uncovered(n, "pointer #%s", n.Name)
		}
		return tval{k: kString, s: func(_ *Request, e string) (string, error) { return e, nil }}, nil
	case *ast.MemberNode:
		return c.member(n)
	case *ast.UnaryNode:
		return c.unary(n)
	case *ast.BinaryNode:
		return c.binary(n)
	case *ast.ConditionalNode:
		return c.cond(n)
	case *ast.CallNode:
		return c.call(n)
	case *ast.BuiltinNode:
		return c.builtin(n)
	}
	return tval{}, uncovered(n, "%s is not covered", strings.TrimPrefix(fmt.Sprintf("%T", n), "*ast."))
}

func (c *tcomp) ident(n *ast.IdentifierNode) (tval, error) {
	switch n.Value {
	case "stage":
		return tval{k: kString, s: func(r *Request, _ string) (string, error) { return r.Stage, nil }}, nil
	case "note":
		return tval{k: kString, s: func(r *Request, _ string) (string, error) { return r.Note, nil }}, nil
	case "now":
		return tval{k: kTime, t: func(r *Request, _ string) (time.Time, error) { return r.Now, nil }}, nil
	case "sender":
		return tval{k: kMember, m: func(r *Request, _ string) (*Member, error) { return r.Sender, nil }}, nil
	case "recipient":
		return tval{k: kMember, m: func(r *Request, _ string) (*Member, error) { return r.Recipient, nil }}, nil
	}
	return tval{}, uncovered(n, "name %s", n.Value)
}

// path flattens a.b.c over a fact root into the root and the names.
func typedPath(n ast.Node) (root ast.Node, names []string, ok bool) {
	for {
		m, isM := n.(*ast.MemberNode)
		if !isM {
			return n, names, true
		}
		if m.Optional || m.Method {
			return nil, nil, false
		}
		s, isS := m.Property.(*ast.StringNode)
		if !isS {
			return nil, nil, false
		}
		names = append([]string{s.Value}, names...)
		n = m.Node
	}
}

func (c *tcomp) member(n *ast.MemberNode) (tval, error) {
	if n.Optional || n.Method {
		return tval{}, uncovered(n, "optional chaining or a method call")
	}
	if _, isS := n.Property.(*ast.StringNode); !isS {
		return c.index(n)
	}
	root, names, ok := typedPath(n)
	if !ok {
		return tval{}, uncovered(n, "member access over an index")
	}
	switch r := root.(type) {
	case *ast.IdentifierNode:
		switch r.Value {
		case "pair":
			return pairField(n, strings.Join(names, "."))
		case "sender", "recipient":
			return memberField(n, r.Value == "recipient", strings.Join(names, "."))
		}
	case *ast.CallNode:
		base, err := c.compile(r)
		if err != nil {
			return tval{}, err
		}
		if base.table != nil {
			return tableField(n, base.table, names)
		}
	}
	return tval{}, uncovered(n, "member access on %T", root)
}

func (c *tcomp) index(n *ast.MemberNode) (tval, error) {
	if cn, isC := n.Node.(*ast.ConstantNode); isC {
		idx, err := c.compile(n.Property)
		if err != nil {
			return tval{}, err
		}
		if idx.k == kInt {
			switch xs := cn.Value.(type) {
			case []time.Duration:
				return tval{k: kDur, d: constIndex(xs, idx.i)}, nil
			case []int:
				return tval{k: kInt, i: constIndex(xs, idx.i)}, nil
			case []float64:
				return tval{k: kFloat, f: constIndex(xs, idx.i)}, nil
			case []string:
				return tval{k: kString, s: constIndex(xs, idx.i)}, nil
			}
		}
		return tval{}, uncovered(n, "index of a constant %T", cn.Value)
	}
	list, err := c.compile(n.Node)
	if err != nil {
		return tval{}, err
	}
	idx, err := c.compile(n.Property)
	if err != nil {
		return tval{}, err
	}
	if list.k != kStrings || idx.k != kInt {
		return tval{}, uncovered(n, "index of this type")
	}
	l, i := list.ss, idx.i
	return tval{k: kString, s: func(r *Request, e string) (string, error) {
		xs, err := l(r, e)
		if err != nil {
			return "", err
		}
		j, err := i(r, e)
		if err != nil {
			return "", err
		}
		if j < 0 {
			j += len(xs)
		}
		if j < 0 || j >= len(xs) {
			return "", errTyped
		}
		return xs[j], nil
	}}, nil
}

// tableField reads a field of params.table[key]: each field becomes a map
// from the key to the field's value, built once at load.
func tableField(n ast.Node, t *tableRef, names []string) (tval, error) {
	var k tkind
	vals := map[string]any{}
	iter := t.entries.MapRange()
	for iter.Next() {
		v := iter.Value().Interface()
		for _, name := range names {
			var ok bool
			if v, ok = fetchConst(v, name); !ok {
				return tval{}, uncovered(n, "table field %s", strings.Join(names, "."))
			}
		}
		vk := kindOf(reflect.TypeOf(v))
		if k == kNone {
			k = vk
		}
		if vk != k || vk == kNone || vk == kMember {
			return tval{}, uncovered(n, "table field %s of mixed or unsupported type", strings.Join(names, "."))
		}
		vals[iter.Key().String()] = v
	}
	key := t.key
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	// A table has a few entries: comparing the key with each is faster
	// than hashing it.
	find := func(r *Request, e string) (int, error) {
		s, err := key(r, e)
		if err != nil {
			return 0, err
		}
		for i, k := range keys {
			if k == s {
				return i, nil
			}
		}
		return 0, errTyped
	}
	switch k {
	case kInt:
		return tval{k: k, i: tableOf[int](find, keys, vals)}, nil
	case kDur:
		return tval{k: k, d: tableOf[time.Duration](find, keys, vals)}, nil
	case kFloat:
		return tval{k: k, f: tableOf[float64](find, keys, vals)}, nil
	case kBool:
		return tval{k: k, b: tableOf[bool](find, keys, vals)}, nil
	case kString:
		return tval{k: k, s: tableOf[string](find, keys, vals)}, nil
	case kStrings:
		return tval{k: k, ss: tableOf[[]string](find, keys, vals)}, nil
	}
	return tval{}, uncovered(n, "table field of this type")
}

// tableOf reads one field of the entry find picks.
func tableOf[T any](find func(*Request, string) (int, error), keys []string, vals map[string]any) func(*Request, string) (T, error) {
	col := make([]T, len(keys))
	for i, k := range keys {
		col[i] = vals[k].(T)
	}
	return func(r *Request, e string) (T, error) {
		i, err := find(r, e)
		if err != nil {
			var zero T
			return zero, err
		}
		return col[i], nil
	}
}

func pairField(n ast.Node, path string) (tval, error) {
	b := func(f func(*Pair) bool) (tval, error) {
		return tval{k: kBool, b: func(r *Request, _ string) (bool, error) { return f(&r.Pair), nil }}, nil
	}
	i := func(f func(*Pair) int) (tval, error) {
		return tval{k: kInt, i: func(r *Request, _ string) (int, error) { return f(&r.Pair), nil }}, nil
	}
	t := func(f func(*Pair) time.Time) (tval, error) {
		return tval{k: kTime, t: func(r *Request, _ string) (time.Time, error) { return f(&r.Pair), nil }}, nil
	}
	switch path {
	case "connected":
		return tval{k: kBool, b: func(r *Request, _ string) (bool, error) { return r.Pair.Connected, nil }}, nil
	case "knows_email":
		return b(func(p *Pair) bool { return p.KnowsEmail })
	case "in_contacts":
		return b(func(p *Pair) bool { return p.InContacts })
	case "blocked":
		return tval{k: kBool, b: func(r *Request, _ string) (bool, error) { return r.Pair.Blocked, nil }}, nil
	case "rejected":
		return tval{k: kBool, b: func(r *Request, _ string) (bool, error) { return r.Pair.Rejected, nil }}, nil
	case "degree":
		return tval{k: kInt, i: func(r *Request, _ string) (int, error) { return r.Pair.Degree, nil }}, nil
	case "mutual":
		return tval{k: kInt, i: func(r *Request, _ string) (int, error) { return r.Pair.Mutual, nil }}, nil
	case "pending":
		return tval{k: kInt, i: func(r *Request, _ string) (int, error) { return r.Pair.Pending, nil }}, nil
	case "ignored":
		return i(func(p *Pair) int { return p.Ignored })
	case "last_ignored_at":
		return t(func(p *Pair) time.Time { return p.LastIgnoredAt })
	case "withdrawn_at":
		return t(func(p *Pair) time.Time { return p.WithdrawnAt })
	}
	return tval{}, uncovered(n, "pair.%s", path)
}

// memberField reads a member's field; a nil member (no recipient) fails
// as expr does. The member is picked inline, not through a closure: a
// call fewer on the hottest reads.
func memberField(n ast.Node, rec bool, path string) (tval, error) {
	s := func(f func(*Member) string) (tval, error) {
		return tval{k: kString, s: func(r *Request, e string) (string, error) {
			m := r.Sender
			if rec {
				m = r.Recipient
			}
			if m == nil {
				return "", errTyped
			}
			return f(m), nil
		}}, nil
	}
	i := func(f func(*Member) int) (tval, error) {
		return tval{k: kInt, i: func(r *Request, e string) (int, error) {
			m := r.Sender
			if rec {
				m = r.Recipient
			}
			if m == nil {
				return 0, errTyped
			}
			return f(m), nil
		}}, nil
	}
	t := func(f func(*Member) time.Time) (tval, error) {
		return tval{k: kTime, t: func(r *Request, e string) (time.Time, error) {
			m := r.Sender
			if rec {
				m = r.Recipient
			}
			if m == nil {
				return time.Time{}, errTyped
			}
			return f(m), nil
		}}, nil
	}
	ss := func(f func(*Member) []string) (tval, error) {
		return tval{k: kStrings, ss: func(r *Request, e string) ([]string, error) {
			m := r.Sender
			if rec {
				m = r.Recipient
			}
			if m == nil {
				return nil, errTyped
			}
			return f(m), nil
		}}, nil
	}
	switch path {
	case "id":
		return s(func(m *Member) string { return m.ID })
	case "kind":
		return s(func(m *Member) string { return m.Kind })
	case "tier":
		return s(func(m *Member) string { return m.Tier })
	case "status":
		return s(func(m *Member) string { return m.Status })
	case "company":
		return s(func(m *Member) string { return m.Company })
	case "school":
		return s(func(m *Member) string { return m.School })
	case "title":
		return s(func(m *Member) string { return m.Title })
	case "settings.invitations":
		return s(func(m *Member) string { return m.Settings.Invitations })
	case "restricted_until":
		return t(func(m *Member) time.Time { return m.RestrictedUntil })
	case "soft_banned_until":
		return t(func(m *Member) time.Time { return m.SoftBannedUntil })
	case "connections":
		return i(func(m *Member) int { return m.Connections })
	case "over_limit":
		return i(func(m *Member) int { return m.OverLimit })
	case "sent.hour":
		return i(func(m *Member) int { return m.Sent.Hour })
	case "sent.day":
		return i(func(m *Member) int { return m.Sent.Day })
	case "sent.week":
		return i(func(m *Member) int { return m.Sent.Week })
	case "sent.month":
		return i(func(m *Member) int { return m.Sent.Month })
	case "received.hour":
		return i(func(m *Member) int { return m.Received.Hour })
	case "received.day":
		return i(func(m *Member) int { return m.Received.Day })
	case "received.week":
		return i(func(m *Member) int { return m.Received.Week })
	case "received.month":
		return i(func(m *Member) int { return m.Received.Month })
	case "acceptance_rate":
		return tval{k: kFloat, f: func(r *Request, e string) (float64, error) {
			m := r.Sender
			if rec {
				m = r.Recipient
			}
			if m == nil {
				return 0, errTyped
			}
			return m.AcceptanceRate, nil
		}}, nil
	case "settings.require_confirmation":
		return tval{k: kBool, b: func(r *Request, e string) (bool, error) {
			m := r.Sender
			if rec {
				m = r.Recipient
			}
			if m == nil {
				return false, errTyped
			}
			return m.Settings.RequireConfirmation, nil
		}}, nil
	case "settings.companies":
		return ss(func(m *Member) []string { return m.Settings.Companies })
	case "settings.schools":
		return ss(func(m *Member) []string { return m.Settings.Schools })
	case "settings.titles":
		return ss(func(m *Member) []string { return m.Settings.Titles })
	case "settings.auto_accept.companies":
		return ss(func(m *Member) []string { return m.Settings.AutoAccept.Companies })
	case "settings.auto_accept.schools":
		return ss(func(m *Member) []string { return m.Settings.AutoAccept.Schools })
	case "settings.auto_accept.titles":
		return ss(func(m *Member) []string { return m.Settings.AutoAccept.Titles })
	}
	return tval{}, uncovered(n, "member field %s", path)
}

// constIndex reads a constant list at an index from the facts; a negative
// index counts from the end, as in expr.
func constIndex[T any](xs []T, i fnInt) func(*Request, string) (T, error) {
	return func(r *Request, e string) (T, error) {
		var zero T
		j, err := i(r, e)
		if err != nil {
			return zero, err
		}
		if j < 0 {
			j += len(xs)
		}
		if j < 0 || j >= len(xs) {
			return zero, errTyped
		}
		return xs[j], nil
	}
}
