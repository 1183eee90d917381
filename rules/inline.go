package rules

import (
	"fmt"
	"reflect"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
)

// treeHeight returns how deep the tree at root is once lets are inlined,
// and the offset of its deepest node, walking with a stack of its own:
// the point is to learn the depth before anything recurses that deep.
func (l *loader) treeHeight(root ast.Node) (height, off int) {
	type item struct {
		n     ast.Node
		depth int
	}
	stack := []item{{root, 1}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		h := it.depth
		if id, ok := it.n.(*ast.IdentifierNode); ok {
			if i, ok := l.letIdx[id.Value]; ok {
				h += l.lets[i].height - 1
			}
		}
		if h > height {
			height, off = h, it.n.Location().From
		}
		for _, c := range children(it.n) {
			if c != nil {
				stack = append(stack, item{c, it.depth + 1})
			}
		}
	}
	return height, off
}

// children lists a node's children, as cloneNode copies them.
func children(n ast.Node) []ast.Node {
	switch n := n.(type) {
	case *ast.UnaryNode:
		return []ast.Node{n.Node}
	case *ast.BinaryNode:
		return []ast.Node{n.Left, n.Right}
	case *ast.ChainNode:
		return []ast.Node{n.Node}
	case *ast.MemberNode:
		return []ast.Node{n.Node, n.Property}
	case *ast.SliceNode:
		return []ast.Node{n.Node, n.From, n.To}
	case *ast.CallNode:
		return append([]ast.Node{n.Callee}, n.Arguments...)
	case *ast.BuiltinNode:
		return append([]ast.Node{n.Map}, n.Arguments...)
	case *ast.PredicateNode:
		return []ast.Node{n.Node}
	case *ast.ConditionalNode:
		return []ast.Node{n.Cond, n.Exp1, n.Exp2}
	case *ast.VariableDeclaratorNode:
		return []ast.Node{n.Value, n.Expr}
	case *ast.SequenceNode:
		return n.Nodes
	case *ast.ArrayNode:
		return n.Nodes
	case *ast.MapNode:
		return n.Pairs
	case *ast.PairNode:
		return []ast.Node{n.Key, n.Value}
	}
	return nil
}

// spend charges n compiled nodes to the policy's MaxPolicyNodes and
// reports, once, the expression that goes over.
func (l *loader) spend(n int, pos Position, ruleID string) bool {
	l.compiled += n
	if l.compiled <= MaxPolicyNodes {
		return true
	}
	if !l.overBudget {
		l.overBudget = true
		l.errPos(pos, ruleID, fmt.Sprintf("the policy's expressions, lets inlined and each stage's rules counted again as one program, are more than %d nodes", MaxPolicyNodes))
	}
	return false
}

// patcher substitutes params (a typed constant) and lets (their bodies,
// each parsed once) into an expression before it is type-checked. It counts
// the nodes of the result and stops inlining before they pass limit: a
// let used twice in each of twenty lets once inlined to a million nodes.
type patcher struct {
	l     *loader
	depth int // > 0 inside an inlined let, whose nodes are counted already
	size  int
	limit int // 0: no limit
	// over is set, with the offset of the let's use, when inlining it
	// would pass limit.
	over   bool
	overAt int
}

func (p *patcher) Visit(node *ast.Node) {
	if p.depth == 0 {
		p.size++
	}
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if n.Value == "params" {
			c := &ast.ConstantNode{Value: p.l.params.Interface()}
			c.SetLocation(n.Location())
			ast.Patch(node, c)
			return
		}
		i, ok := p.l.letIdx[n.Value]
		if !ok || p.over {
			return
		}
		if p.depth == 0 {
			if p.size += p.l.lets[i].size - 1; p.limit > 0 && p.size > p.limit {
				p.over, p.overAt = true, n.Location().From
				return
			}
		}
		// The let's body is parsed and patched once; each use gets a
		// copy, which costs a tenth of parsing it again.
		body := p.l.lets[i].inlined
		if body == nil {
			tree, err := parser.Parse(p.l.lets[i].node.Value)
			if err != nil {
				return // reported when the let itself was checked
			}
			// Nested lets and params inside the body.
			p.depth++
			ast.Walk(&tree.Node, p)
			p.depth--
			p.l.lets[i].inlined = tree.Node
			body = tree.Node
		}
		body = cloneNode(body)
		relocate(body, n.Location())
		*node = body
	case *ast.MemberNode:
		// Fold params.a.b into one constant, so the hot path does no lookup.
		c, ok := n.Node.(*ast.ConstantNode)
		if !ok || n.Optional {
			return
		}
		prop, ok2 := n.Property.(*ast.StringNode)
		if !ok2 {
			// A table indexed by a fact: call its lookup function.
			if rv := reflect.ValueOf(c.Value); rv.Kind() == reflect.Map {
				if fn, ok := p.l.tables[rv.Pointer()]; ok {
					callee := &ast.IdentifierNode{Value: fn}
					callee.SetLocation(n.Location())
					call := &ast.CallNode{Callee: callee, Arguments: []ast.Node{n.Property}}
					call.SetLocation(n.Location())
					*node = call
				}
			}
			return
		}
		if v, ok := fetchConst(c.Value, prop.Value); ok {
			nc := &ast.ConstantNode{Value: v}
			nc.SetLocation(n.Location())
			*node = nc
		}
	}
}

// cloneNode deep-copies an expression tree, so that the checker and the
// optimizer, which change nodes in place, never touch a let's pristine
// tree. A type switch, because reflection cost more than the parse it
// saves.
func cloneNode(n ast.Node) ast.Node {
	switch n := n.(type) {
	case nil:
		return nil
	case *ast.NilNode:
		c := *n
		return &c
	case *ast.IdentifierNode:
		c := *n
		return &c
	case *ast.IntegerNode:
		c := *n
		return &c
	case *ast.FloatNode:
		c := *n
		return &c
	case *ast.BoolNode:
		c := *n
		return &c
	case *ast.StringNode:
		c := *n
		return &c
	case *ast.BytesNode:
		c := *n
		return &c
	case *ast.ConstantNode:
		c := *n
		return &c
	case *ast.PointerNode:
		c := *n
		return &c
	case *ast.UnaryNode:
		c := *n
		c.Node = cloneNode(n.Node)
		return &c
	case *ast.BinaryNode:
		c := *n
		c.Left, c.Right = cloneNode(n.Left), cloneNode(n.Right)
		return &c
	case *ast.ChainNode:
		c := *n
		c.Node = cloneNode(n.Node)
		return &c
	case *ast.MemberNode:
		c := *n
		c.Node, c.Property = cloneNode(n.Node), cloneNode(n.Property)
		return &c
	case *ast.SliceNode:
		c := *n
		c.Node, c.From, c.To = cloneNode(n.Node), cloneNode(n.From), cloneNode(n.To)
		return &c
	case *ast.CallNode:
		c := *n
		c.Callee, c.Arguments = cloneNode(n.Callee), cloneNodes(n.Arguments)
		return &c
	case *ast.BuiltinNode:
		c := *n
		c.Arguments, c.Map = cloneNodes(n.Arguments), cloneNode(n.Map)
		return &c
	case *ast.PredicateNode:
		c := *n
		c.Node = cloneNode(n.Node)
		return &c
	case *ast.ConditionalNode:
		c := *n
		c.Cond, c.Exp1, c.Exp2 = cloneNode(n.Cond), cloneNode(n.Exp1), cloneNode(n.Exp2)
		return &c
	case *ast.VariableDeclaratorNode:
		c := *n
		c.Value, c.Expr = cloneNode(n.Value), cloneNode(n.Expr)
		return &c
	case *ast.SequenceNode:
		c := *n
		c.Nodes = cloneNodes(n.Nodes)
		return &c
	case *ast.ArrayNode:
		c := *n
		c.Nodes = cloneNodes(n.Nodes)
		return &c
	case *ast.MapNode:
		c := *n
		c.Pairs = cloneNodes(n.Pairs)
		return &c
	case *ast.PairNode:
		c := *n
		c.Key, c.Value = cloneNode(n.Key), cloneNode(n.Value)
		return &c
	}
	return cloneReflect(n) // a node type a later expr adds
}

var (
	typNode  = reflect.TypeOf((*ast.Node)(nil)).Elem()
	typNodes = reflect.TypeOf([]ast.Node(nil))
)

// cloneReflect copies any node whose children are in exported fields of
// type Node or []Node, as every expr node's are.
func cloneReflect(n ast.Node) ast.Node {
	src := reflect.ValueOf(n)
	if src.Kind() != reflect.Pointer || src.IsNil() {
		return n
	}
	dst := reflect.New(src.Elem().Type())
	dst.Elem().Set(src.Elem())
	e := dst.Elem()
	for i := 0; i < e.NumField(); i++ {
		f := e.Field(i)
		if !f.CanSet() || f.IsZero() {
			continue
		}
		switch f.Type() {
		case typNode:
			f.Set(reflect.ValueOf(cloneNode(f.Interface().(ast.Node))))
		case typNodes:
			f.Set(reflect.ValueOf(cloneNodes(f.Interface().([]ast.Node))))
		}
	}
	return dst.Interface().(ast.Node)
}

func cloneNodes(ns []ast.Node) []ast.Node {
	if ns == nil {
		return nil
	}
	c := make([]ast.Node, len(ns))
	for i, n := range ns {
		c[i] = cloneNode(n)
	}
	return c
}

// relocate points every node of an inlined let at the place it is used,
// so errors and carets land in the rule that uses it.
func relocate(n ast.Node, loc file.Location) {
	ast.Walk(&n, locSetter{loc})
}

type locSetter struct{ loc file.Location }

func (s locSetter) Visit(node *ast.Node) { (*node).SetLocation(s.loc) }
