package rules

import (
	"errors"
	"reflect"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// exprConfig is expr's configuration for one load, built once from the
// loader's options. expr.Compile builds a new one for every expression:
// the builtins table, each helper's signature by reflection and the facts'
// type information (its nature cache), a fifth of a load's time.
type exprConfig struct {
	c *conf.Config
	// funcs are the configuration's own functions: a failing loop bound
	// adds one, removed after its expression.
	funcs int
	cost  *costVisitor
}

func newExprConfig(opts []expr.Option) *exprConfig {
	c := conf.CreateNew()
	for _, op := range opts {
		op(c)
	}
	for name := range c.Disabled {
		delete(c.Builtins, name)
	}
	// The loop bound's visitor (boundOptions) is run by compile itself, a
	// new one per expression: it stops at its first error.
	c.Visitors = nil
	return &exprConfig{c: c, funcs: len(c.Functions)}
}

// compile does what expr.Compile does with the loader's options plus
// expect (reflect.Invalid: any type), maxNodes and the patchers pre, with
// fewer type checks: expr checks the whole tree before each patcher and
// once more at the end (five checks with the loader's two patchers). The
// patchers here need no types (they inline params and lets, and rewrite
// recipient == nil), so they run on the parsed tree; the loop bound, which
// needs types, runs after one check, and only when it changed the tree
// (a bound's error, a guarded repeat) is it checked again, as expr's last
// check would.
//
// Neither checker, optimizer nor compiler writes to the configuration
// (but for the loop bound's error function, removed below), and a loader
// compiles one expression at a time, so the per-expression fields are set
// in place.
//
// Without code it stops before the bytecode and returns a nil program:
// a let is compiled alone only to check it.
func (ec *exprConfig) compile(src string, expect reflect.Kind, maxNodes uint, code bool, pre ...ast.Visitor) (*vm.Program, error) {
	c := ec.c
	c.Expect, c.ExpectAny = expect, expect != reflect.Invalid
	c.MaxNodes = maxNodes
	defer func() {
		if len(c.Functions) != ec.funcs {
			delete(c.Functions, boundError)
		}
	}()
	tree, err := parser.ParseWithConfig(src, c)
	if err != nil {
		return nil, err
	}
	for _, v := range pre {
		ast.Walk(&tree.Node, v)
	}
	_, err = checker.Check(tree, c)
	// One visitor for the load, its map cleared: growing a new one for
	// each expression was a tenth of a load.
	cv := ec.cost
	if cv == nil {
		cv = &costVisitor{conf: c, cost: map[ast.Node]uint64{}}
		ec.cost = cv
	}
	clear(cv.cost)
	cv.done, cv.changed = false, false
	ast.Walk(&tree.Node, cv)
	if cv.changed {
		_, err = checker.Check(tree, c)
	}
	if err != nil {
		return nil, err
	}
	if c.Optimize {
		if err := optimizer.Optimize(&tree.Node, c); err != nil {
			var fe *file.Error
			if errors.As(err, &fe) {
				return nil, fe.Bind(tree.Source)
			}
			return nil, err
		}
	}
	if !code {
		return nil, nil
	}
	return compiler.Compile(tree, c)
}
