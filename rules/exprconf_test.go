package rules

import (
	"math/rand/v2"
	"os"
	"reflect"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// TestCompileMatchesExpr: every condition, message hole and time of every
// repository policy compiles, through the load's shared configuration and
// single type check, to the bytecode expr.Compile gives it with the same
// options (its five checks, a configuration of its own), or, where expr
// leaves part of the tree untyped (a let inlined into the argument of a
// helper, in some messages: its first check, run before the let is
// inlined, resolves the call, and later checks skip the arguments), to
// typed bytecode that gives the same values, or the same errors, on
// random facts.
func TestCompileMatchesExpr(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n, retyped := 0, 0
	for f := range repoPolicies(t) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		l := &loader{src: newSrcMap(f, src), p: &Policy{file: f, stages: map[string]*stage{}, ruleByID: map[string]*rule{}}}
		l.lines = l.src.textLines()
		var doc yaml.Node
		if err := yaml.Unmarshal(src, &doc); err != nil {
			t.Fatal(err)
		}
		l.policy(doc.Content[0])
		if len(l.errs) > 0 {
			t.Fatal(l.errs)
		}
		same := func(where string, prog *vm.Program, as ...expr.Option) {
			t.Helper()
			if prog == nil {
				return
			}
			opts := append(append([]expr.Option{}, l.opts...), expr.Patch(&patcher{l: l, limit: int(l.p.nodes)}))
			want, err := expr.Compile(prog.Source().String(), append(opts, as...)...)
			if err != nil {
				t.Fatalf("%s %s: expr.Compile: %v", f, where, err)
			}
			n++
			if prog.Disassemble() == want.Disassemble() {
				return
			}
			retyped++
			var m vm.VM
			for range 300 {
				q := diffRequest(r)
				got, gerr := m.Run(prog, q)
				w, werr := m.Run(want, q)
				if (gerr == nil) != (werr == nil) || gerr == nil && !reflect.DeepEqual(got, w) || gerr != nil && gerr.Error() != werr.Error() {
					t.Fatalf("%s %s: %v, %v; expr.Compile's: %v, %v\nfacts %s", f, where, got, gerr, w, werr, dumpFacts(q))
				}
			}
		}
		for _, st := range l.p.stages {
			for _, r := range st.rules {
				same(r.id+" when", r.when, expr.AsBool())
				for _, h := range r.msg.progs {
					same(r.id+" message", h)
				}
				same(r.id+" retry_after", r.retry)
				for _, e := range r.effects {
					same(r.id+" until", e.until)
				}
			}
		}
	}
	if n < 100 || retyped > n/10 {
		t.Fatalf("%d expressions compared, %d with other bytecode", n, retyped)
	}
	t.Logf("%d expressions, %d with other bytecode than expr.Compile's", n, retyped)
}
