package rules

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
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
	// sd says how a fused parent reads this node without its closure
	// (typed_src.go); nil for any other node.
	sd *srcDesc
	// neg builds the negation of a bool node without a closure more:
	// a comparison with the opposite mask, De Morgan over and/or.
	neg func() fnBool
	// and/or chains are flattened: conj is "and" or "or", parts the
	// operands in order.
	conj  string
	parts []tval
	// guard marks field == "constant", for dispatching an or over it.
	guard *caseGuard
	// in is the node as an inline condition of typedMatch, when it is one.
	in *inline
}

// tableRef is params.table[key] before a field is chosen.
type tableRef struct {
	name    string        // the lookup function's name, __tableN
	entries reflect.Value // map[string]struct
	key     fnString
	keySD   *srcDesc // the key's source, when it is a fact field
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
	// Table rows chosen by a fact field (tier[sender.tier]): keys records
	// each such field's possible keys, touched that the expression being
	// compiled reads one, and fix the key a stage variant assumes for a
	// field, which makes the row's fields constants (typed_spec.go).
	keys    map[leaf]map[string]bool
	touched bool
	fix     map[leaf]string
	cols    map[string]*tableCol // table columns by table and field
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
	case "stage", "note", "now":
		if v, ok := factField(rootReq, []string{n.Value}); ok {
			return v, nil
		}
	case "sender":
		return tval{k: kMember, m: func(r *Request, _ string) (*Member, error) { return r.Sender, nil }, sd: &srcDesc{mode: sMember, lf: leaf{root: rootSender}}}, nil
	case "recipient":
		return tval{k: kMember, m: func(r *Request, _ string) (*Member, error) { return r.Recipient, nil }, sd: &srcDesc{mode: sMember, lf: leaf{root: rootRecipient}}}, nil
	}
	return tval{}, uncovered(n, "name %s", n.Value)
}

// path flattens a.b.c over a fact root into the root and the names.
func typedPath(n ast.Node) (root ast.Node, names []string, ok bool) {
	for {
		m, isM := n.(*ast.MemberNode)
		if !isM {
			slices.Reverse(names) // gathered from the last name back
			return n, names, true
		}
		if m.Optional || m.Method {
			return nil, nil, false
		}
		s, isS := m.Property.(*ast.StringNode)
		if !isS {
			return nil, nil, false
		}
		names = append(names, s.Value)
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
			if v, ok := factField(rootReq, append([]string{"pair"}, names...)); ok {
				return v, nil
			}
			return tval{}, uncovered(n, "pair.%s", strings.Join(names, "."))
		case "sender", "recipient":
			root := rootSender
			if r.Value == "recipient" {
				root = rootRecipient
			}
			if v, ok := factField(root, names); ok {
				return v, nil
			}
			return tval{}, uncovered(n, "member field %s", strings.Join(names, "."))
		}
	case *ast.CallNode:
		base, err := c.compile(r)
		if err != nil {
			return tval{}, err
		}
		if base.table != nil {
			return c.tableField(n, base.table, names)
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
func (c *tcomp) tableField(n ast.Node, t *tableRef, names []string) (tval, error) {
	ck := t.name + "." + strings.Join(names, ".")
	col, seen := c.cols[ck]
	if !seen {
		var err error
		if col, err = tableColumn(n, t, names); err != nil {
			return tval{}, err
		}
		if c.cols == nil {
			c.cols = map[string]*tableCol{}
		}
		c.cols[ck] = col
	}
	k, keys, vals := col.k, col.keys, col.vals
	if d := t.keySD; d != nil && d.mode == sField {
		if key, isFixed := c.fix[d.lf]; isFixed {
			if v, has := vals[key]; has {
				cv, _ := constVal(v)
				return cv, nil
			}
		}
		c.touched = true
		if c.keys == nil {
			c.keys = map[leaf]map[string]bool{}
		}
		if c.keys[d.lf] == nil {
			c.keys[d.lf] = map[string]bool{}
		}
		for _, key := range keys {
			c.keys[d.lf][key] = true
		}
	}
	switch k {
	case kInt:
		f, sd := tableOf[int](t, keys, vals)
		return tval{k: k, i: f, sd: sd}, nil
	case kDur:
		f, sd := tableOf[time.Duration](t, keys, vals)
		return tval{k: k, d: f, sd: sd}, nil
	case kFloat:
		f, sd := tableOf[float64](t, keys, vals)
		return tval{k: k, f: f, sd: sd}, nil
	case kBool:
		f, sd := tableOf[bool](t, keys, vals)
		return tval{k: k, b: f, sd: sd}, nil
	case kString:
		f, sd := tableOf[string](t, keys, vals)
		return tval{k: k, s: f, sd: sd}, nil
	case kStrings:
		f, sd := tableOf[[]string](t, keys, vals)
		return tval{k: k, ss: f, sd: sd}, nil
	}
	return tval{}, uncovered(n, "table field of this type")
}

// tableCol is one field of every entry of a table, read once per
// policy: tier.daily appears in many rules.
type tableCol struct {
	k    tkind
	keys []string
	vals map[string]any
}

// tableColumn reads a field of every entry of a table.
func tableColumn(n ast.Node, t *tableRef, names []string) (*tableCol, error) {
	var k tkind
	vals := map[string]any{}
	iter := t.entries.MapRange()
	for iter.Next() {
		v := iter.Value().Interface()
		for _, name := range names {
			var ok bool
			if v, ok = fetchConst(v, name); !ok {
				return nil, uncovered(n, "table field %s", strings.Join(names, "."))
			}
		}
		vk := kindOf(reflect.TypeOf(v))
		if k == kNone {
			k = vk
		}
		if vk != k || vk == kNone || vk == kMember {
			return nil, uncovered(n, "table field %s of mixed or unsupported type", strings.Join(names, "."))
		}
		vals[iter.Key().String()] = v
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	return &tableCol{k: k, keys: keys, vals: vals}, nil
}

// tableOf reads one field of the entry the key picks: its column, and a
// source a fused parent reads inline when the key is a fact field.
func tableOf[T any](t *tableRef, keys []string, vals map[string]any) (func(*Request, string) (T, error), *srcDesc) {
	col := make([]T, len(keys))
	for i, k := range keys {
		col[i] = vals[k].(T)
	}
	if d := t.keySD; d != nil && d.mode == sField {
		sd := &srcDesc{mode: sTable, lf: d.lf, keys: keys, col: col}
		s := src[T]{mode: sTable, lf: d.lf, keys: keys, col: col}
		return s.get, sd
	}
	key := t.key
	return func(r *Request, e string) (T, error) {
		var zero T
		s, err := key(r, e)
		if err != nil {
			return zero, err
		}
		// A table has a few entries: comparing the key with each is
		// faster than hashing it.
		for i, k := range keys {
			if k == s {
				return col[i], nil
			}
		}
		return zero, errTyped
	}, nil
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
