package rules

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/expr-lang/expr/vm"
)

// repoSources reads every policy of the repository that loads.
func repoSources(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for f := range repoPolicies(t) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = src
	}
	return out
}

// mutate makes an editor's kind of edit: a digit changed (params, literals,
// tests), an operator changed, a comment line inserted (every position
// after it moves), a line moved up (lets reordered), a character deleted
// or doubled (mostly errors), a word of a message changed.
func mutate(r *rand.Rand, src string) string {
	pickIdx := func(pred func(byte) bool) int {
		var idx []int
		for i := 0; i < len(src); i++ {
			if pred(src[i]) {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			return -1
		}
		return idx[r.IntN(len(idx))]
	}
	switch r.IntN(7) {
	case 0, 1:
		if i := pickIdx(func(c byte) bool { return c >= '0' && c <= '9' }); i >= 0 {
			return src[:i] + string(rune('0'+r.IntN(10))) + src[i+1:]
		}
	case 2:
		if i := pickIdx(func(c byte) bool { return c == '<' || c == '>' }); i >= 0 {
			return src[:i] + string("<>"[r.IntN(2)]) + src[i+1:]
		}
	case 3:
		lines := strings.SplitAfter(src, "\n")
		i := r.IntN(len(lines))
		return strings.Join(lines[:i], "") + "# an edit\n" + strings.Join(lines[i:], "")
	case 5:
		// A line moved up one: lets and rules reordered, or YAML errors.
		lines := strings.SplitAfter(src, "\n")
		if i := 1 + r.IntN(len(lines)-1); strings.HasSuffix(lines[i], "\n") {
			lines[i-1], lines[i] = lines[i], lines[i-1]
			return strings.Join(lines, "")
		}
	case 4:
		i := r.IntN(len(src))
		if r.IntN(2) == 0 {
			return src[:i] + src[i+1:]
		}
		return src[:i] + src[i:i+1] + src[i:]
	}
	return strings.Replace(src, "Invitation", "Request", 1)
}

// TestLoaderMatchesLoad edits every repository policy step by step, as a
// playground author does, and requires a Loader's load of each version to
// equal a fresh Load: the same errors, or the same decisions (and
// explanations, fallbacks, iterations and test results) on random facts.
func TestLoaderMatchesLoad(t *testing.T) {
	steps, reqs := 40, 60
	if testing.Short() {
		steps, reqs = 10, 20
	}
	r := rand.New(rand.NewPCG(16, 20))
	for name, orig := range repoSources(t) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			var ld Loader
			good := string(orig)
			for step := 0; step <= steps; step++ {
				src := good
				if step > 0 {
					src = mutate(r, good)
				}
				want, werr := Load(name, []byte(src))
				got, gerr := ld.Load(name, []byte(src))
				if (werr == nil) != (gerr == nil) {
					t.Fatalf("step %d: Load error %v, Loader error %v", step, werr, gerr)
				}
				if werr != nil {
					wj, _ := json.Marshal(werr)
					gj, _ := json.Marshal(gerr)
					if werr.Error() != gerr.Error() || string(wj) != string(gj) {
						t.Fatalf("step %d: errors differ:\nLoad:   %s\nLoader: %s", step, wj, gj)
					}
					continue
				}
				good = src
				samePolicy(t, r, step, want, got, reqs)
			}
		})
	}
}

// samePolicy requires two loads of one text to decide alike.
func samePolicy(t *testing.T, r *rand.Rand, step int, want, got *Policy, reqs int) {
	t.Helper()
	if !reflect.DeepEqual(want.Fallbacks(), got.Fallbacks()) {
		t.Fatalf("step %d: fallbacks %v, Loader %v", step, want.Fallbacks(), got.Fallbacks())
	}
	if want.Iterations() != got.Iterations() {
		t.Fatalf("step %d: iterations %d, Loader %d", step, want.Iterations(), got.Iterations())
	}
	if w, g := want.RunTests(), got.RunTests(); !reflect.DeepEqual(w, g) {
		t.Fatalf("step %d: tests\n%+v\nLoader\n%+v", step, w, g)
	}
	for i := 0; i < reqs; i++ {
		q := diffRequest(r)
		for _, explain := range []bool{false, true} {
			w, g := want.decide(q, explain), got.decide(q, explain)
			if !reflect.DeepEqual(w, g) {
				t.Fatalf("step %d (explain %v): Load decides %+v, Loader %+v\nfacts %s", step, explain, w, g, dumpFacts(q))
			}
		}
	}
}

// TestLoaderReuses: an edit of one rule's message recompiles that message
// alone; the other programs, the stages' typed plans and the tests are the
// last load's.
func TestLoaderReuses(t *testing.T) {
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ld Loader
	p1, err := ld.Load("policies.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "You can't invite yourself.", "You cannot invite yourself.", 1)
	if edited == string(src) {
		t.Fatal("the edit changed nothing")
	}
	p2, err := ld.Load("policies.yaml", []byte(edited))
	if err != nil {
		t.Fatal(err)
	}
	fresh, changed := 0, 0
	for name, st := range p2.stages {
		old := p1.stages[name]
		if st.chain != old.chain {
			t.Errorf("stage %s: chain recompiled", name)
		}
		for i, r := range st.rules {
			if r.when != old.rules[i].when {
				fresh++
			}
			if !reflect.DeepEqual(r.msg.lits, old.rules[i].msg.lits) {
				changed++
			}
		}
	}
	if fresh != 0 || changed != 1 {
		t.Errorf("%d conditions recompiled (want 0), %d messages changed (want 1)", fresh, changed)
	}
	if &p2.tests[0] != &p1.tests[0] {
		t.Error("tests parsed again")
	}
	// An edited condition is compiled again, its stage's chain and typed
	// plan with it; the other stages' are kept.
	built := typedStagesBuilt.Load()
	p4, err := ld.Load("policies.yaml", []byte(strings.Replace(edited, "when: recipient.id == sender.id", "when: sender.id == recipient.id", 1)))
	if err != nil {
		t.Fatal(err)
	}
	inv, old := p4.stages[StageInvite], p2.stages[StageInvite]
	if inv.rules[1].when == old.rules[1].when || inv.chain == old.chain || inv.typed == old.typed {
		t.Error("the edited condition, or its stage's chain or plan, was not compiled again")
	}
	if inv.rules[0].when != old.rules[0].when || inv.rules[2].when != old.rules[2].when {
		t.Error("an unchanged condition was compiled again")
	}
	if p4.stages[StageAccept].typed != p2.stages[StageAccept].typed {
		t.Error("an unchanged stage's plan was built again")
	}
	if n := typedStagesBuilt.Load() - built; n != 1 {
		t.Errorf("%d stages' typed plans built for an edit of one condition, want 1", n)
	}
	// An edit that does not load keeps the cache for the next one.
	if _, err := ld.Load("policies.yaml", []byte(edited+"\n  - broken: [")); err == nil {
		t.Fatal("a broken policy loaded")
	}
	p3, err := ld.Load("policies.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	if p3.stages[StageInvite].rules[0].when != p1.stages[StageInvite].rules[0].when {
		t.Error("a condition was recompiled after a failed load")
	}
}

// TestLoaderKeepsTheFileName: the same policy loaded under another name
// names that file in its tests' positions, as a fresh Load does.
func TestLoaderKeepsTheFileName(t *testing.T) {
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ld Loader
	if _, err := ld.Load("a.yaml", src); err != nil {
		t.Fatal(err)
	}
	p, err := ld.Load("b.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := Load("b.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	got, want := p.RunTests(), fresh.RunTests()
	if len(got) == 0 || len(got) != len(want) {
		t.Fatalf("%d test results, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Pos != want[i].Pos {
			t.Errorf("test %d at %v, want %v", i, got[i].Pos, want[i].Pos)
		}
	}
}

// TestLoaderReusedPlanIsIndexed: a stage whose typed plan an edit reuses
// is found by its index, as a stage built afresh is.
func TestLoaderReusedPlanIsIndexed(t *testing.T) {
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ld Loader
	if _, err := ld.Load("policies.yaml", src); err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "You can't invite yourself.", "You cannot invite yourself.", 1)
	p, err := ld.Load("policies.yaml", []byte(edited))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Stages {
		if i := stageIndex(name); p.byStage[i] != p.stages[name] {
			t.Errorf("stage %s: not indexed after its plan was reused", name)
		}
	}
}

// TestLazyChainConcurrent: the first decisions to need the stages' chains
// (here through Iterations and the VM's own path) may come at once, from
// many goroutines; run with -race.
func TestLazyChainConcurrent(t *testing.T) {
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load("policies.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Load("policies.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan uint64)
	for range 4 {
		go func() {
			var n uint64
			for _, st := range p.stages {
				n += programCost(st.chainProgram())
			}
			done <- n
		}()
	}
	var wantCost uint64
	for _, st := range want.stages {
		wantCost += programCost(st.chainProgram())
	}
	for range 4 {
		if got := <-done; got != wantCost {
			t.Fatalf("chains' iterations %d, want %d", got, wantCost)
		}
	}
	for _, st := range p.stages {
		if len(st.rules) > 0 && st.chainProgram() == nil {
			t.Errorf("stage %s: no chain program", st.name)
		}
	}
}

// TestLoaderDependsOnWhatItReads: an expression is reused across edits
// of lets and params it does not read, and compiled again when what it
// reads changes, the order of lets included (a let sees only earlier ones).
func TestLoaderDependsOnWhatItReads(t *testing.T) {
	policy := func(lets, limit string) string {
		return `
version: 1
params:
  limit: ` + limit + `
let:
` + lets + `
stages:
  invite:
    rules:
      - id: far
        when: pair.degree > 2
        outcome: deny
      - id: busy
        when: b
        outcome: deny
      - id: over
        when: sender.sent.day >= params.limit
        outcome: deny
`
	}
	ordered := "  a: pair.mutual == 0\n  b: a && pair.degree == 2\n"
	var ld Loader
	p1, err := ld.Load("p.yaml", []byte(policy(ordered, "10")))
	if err != nil {
		t.Fatal(err)
	}
	rule := func(p *Policy, i int) *vm.Program { return p.stages[StageInvite].rules[i].when }
	// A param edit: only the rule that reads params is compiled again.
	p2, err := ld.Load("p.yaml", []byte(policy(ordered, "20")))
	if err != nil {
		t.Fatal(err)
	}
	if rule(p2, 0) != rule(p1, 0) || rule(p2, 1) != rule(p1, 1) || rule(p2, 2) == rule(p1, 2) {
		t.Error("a param edit: want only the rule reading params compiled again")
	}
	// A let edit: only the rule that reads it (through b) is.
	p3, err := ld.Load("p.yaml", []byte(policy("  a: pair.mutual == 1\n  b: a && pair.degree == 2\n", "20")))
	if err != nil {
		t.Fatal(err)
	}
	if rule(p3, 0) != rule(p2, 0) || rule(p3, 1) == rule(p2, 1) || rule(p3, 2) != rule(p2, 2) {
		t.Error("a let edit: want only the rule reading it compiled again")
	}
	// The same lets in the other order do not load, through a Loader too.
	if _, err := ld.Load("p.yaml", []byte(policy(ordered, "10"))); err != nil {
		t.Fatal(err)
	}
	swapped := []byte(policy("  b: a && pair.degree == 2\n  a: pair.mutual == 0\n", "10"))
	_, werr := Load("p.yaml", swapped)
	_, gerr := ld.Load("p.yaml", swapped)
	if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
		t.Errorf("lets out of order: Load %v, Loader %v", werr, gerr)
	}
}

// TestIterationsLeavesChainsLazy: a host asks for Iterations at every
// load, so it must not compile the chains; the count it gives still
// covers what each chain may run.
func TestIterationsLeavesChainsLazy(t *testing.T) {
	for name, p := range repoPolicies(t) {
		n := p.Iterations()
		for _, st := range p.stages {
			if st.chain != nil && st.chain.compile == nil {
				t.Errorf("%s: stage %s's chain compiled by Iterations", name, st.name)
			}
		}
		for _, st := range p.stages {
			var whens uint64
			for _, r := range st.rules {
				whens = add(whens, programCost(r.when))
			}
			if c := programCost(st.chainProgram()); c > whens || c > n {
				t.Errorf("%s: stage %s's chain may run %d iterations, its conditions %d, Iterations %d", name, st.name, c, whens, n)
			}
		}
	}
}
