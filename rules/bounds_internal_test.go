package rules

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"gopkg.in/yaml.v3"
)

// FuzzYAMLTokens: the token count and nesting bound that limit a
// policy's YAML before it is parsed are upper bounds of the nodes yaml.v3
// builds and of how deep it recurses, whatever the text. If they were
// not, a policy could take more memory than MaxYAMLNodes allows, or
// overflow the js build's stack, before the loader sees its tree.
//
//	go test -run '^$' -fuzz FuzzYAMLTokens -fuzztime 10m ./rules
func FuzzYAMLTokens(f *testing.F) {
	files, _ := filepath.Glob("testdata/errors/*.yaml")
	files = append(files, "../policies.yaml")
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, s := range []string{"{a, b, c}", "[a, [b, {c: d}], e]", "? a\n: b\n", "-\n-\n- - -\n", "a:\nb:\n  c:\n", "{a: , b: }", "'x' : \"y\"", "!!str a: &x b\nc: *x\n", "|\n  a b\n  c\n", "[a,b,,]", "a: [b,c]#d\n", "  0: \n       00:00 \"0000000000: \n  0:\n  0:", "a: \"x #\" [1, 2, 3]\n", "- - - [[{a: - }]]\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		var doc yaml.Node
		if yaml.Unmarshal(src, &doc) != nil {
			return
		}
		sc := yamlTokens(src, math.MaxInt, math.MaxInt)
		if n := countNodes(&doc, map[*yaml.Node]bool{}) - 1; n > 2*sc.tokens+1 {
			t.Fatalf("%d nodes from %d tokens in %q", n, sc.tokens, src)
		}
		if d := treeDepth(&doc) - 1; d > sc.depth+1 {
			t.Fatalf("nested %d deep, bound %d, in %q", d, sc.depth, src)
		}
	})
}

// treeDepth is how deep a tree nests, aliases not followed.
func treeDepth(n *yaml.Node) int {
	d := 0
	for _, k := range n.Content {
		d = max(d, treeDepth(k))
	}
	return d + 1
}

// countNodes counts the distinct nodes of a tree, aliases as one node.
func countNodes(n *yaml.Node, seen map[*yaml.Node]bool) int {
	if seen[n] {
		return 0
	}
	seen[n] = true
	c := 1
	for _, k := range n.Content {
		c += countNodes(k, seen)
	}
	return c
}

// TestCloneNode: a copied tree prints the same and shares no node with
// the original, for every kind of node a let can hold.
func TestCloneNode(t *testing.T) {
	for _, src := range []string{
		`nil || a == 1 && -b < 2.5 && c?.d["e"] != "f" && g[1:2] == h(i, j) && len(k) > 0`,
		`all(xs, {# > 1}) && map(ys, .z)[0] ?? 3 ? [1, 2] : {"a": true, b: false}`,
		`let x = 1; x + 1 in 1..3 ? b"raw" : nil`,
		`if a { 1 } else { 2 }`,
	} {
		tree, err := parser.Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		orig := map[ast.Node]bool{}
		ast.Walk(&tree.Node, visitFunc(func(n *ast.Node) { orig[*n] = true }))
		c := cloneNode(tree.Node)
		if c.String() != tree.Node.String() {
			t.Errorf("clone prints %q, want %q", c.String(), tree.Node.String())
		}
		ast.Walk(&c, visitFunc(func(n *ast.Node) {
			if orig[*n] {
				t.Errorf("%s: the clone shares %T %s", src, *n, (*n).String())
			}
		}))
		if r := cloneReflect(tree.Node); r.String() != tree.Node.String() {
			t.Errorf("reflect clone prints %q, want %q", r.String(), tree.Node.String())
		}
	}
}

type visitFunc func(*ast.Node)

func (f visitFunc) Visit(n *ast.Node) { f(n) }

// TestExprDepth: the model of expr's recursion counts what nests and
// resets what does not, so long flat expressions pass and deep ones fail.
func TestExprDepth(t *testing.T) {
	rep := strings.Repeat
	for _, c := range []struct {
		src  string
		over bool
	}{
		{rep("(", 99) + "a" + rep(")", 99), false},
		{rep("(", 100) + "a" + rep(")", 100), true},
		{rep("!", 99) + "a", false},
		{rep("!", 100) + "a", true},
		{rep("-", 100) + "1", true},
		{rep("not ", 100) + "a", true},
		{rep("!a && ", 5000) + "b", false},       // each ! closes at &&
		{rep("a + b * c - ", 5000) + "d", false}, // left-associative: flat
		{rep("-a * ", 200) + "b", false},         // unary - closes at *
		{rep("!a * ", 200) + "b", true},          // * binds tighter than !
		{rep("a ** ", 200) + "b", true},          // right-associative
		{rep("a ? b : ", 200) + "c", true},       // ternaries nest in the else
		{rep("let x = 1; ", 200) + "x", true},
		{rep("[", 100) + rep("]", 100), true},
		{rep("f(a, ", 50) + "b" + rep(")", 50), false},
		{rep("a not in b || ", 1000) + "c", false},
		{rep("(a) || ", 5000) + "b", false},
		{"a @ " + rep("(", 200), false}, // a lexer error: expr reports it
	} {
		if _, over := exprDepth(c.src); over != c.over {
			t.Errorf("%.40q...: over %v, want %v", c.src, over, c.over)
		}
	}
}

// TestFlatFlowMappingIsNotDeep: the keys of one flow mapping do not nest,
// however many there are; a flow sequence of pairs still counts each.
func TestFlatFlowMappingIsNotDeep(t *testing.T) {
	var b strings.Builder
	b.WriteString("params:\n  t: {")
	for i := range 2 * yamlScanDepth {
		fmt.Fprintf(&b, "k%d: 1, ", i)
	}
	b.WriteString("z: 1}\n")
	if _, _, over := yamlBudget([]byte(b.String())); over != "" {
		t.Errorf("a flat flow mapping of %d keys: over the %s limit", 2*yamlScanDepth+1, over)
	}
	if sc := yamlTokens([]byte("[a: [b: [c: 1]]]"), math.MaxInt, math.MaxInt); sc.depth < 5 {
		t.Errorf("[a: [b: [c: 1]]] bounded at depth %d, want at least 5", sc.depth)
	}
}
