package rules

// The parts of a load a Loader reuses besides expressions: a rule's part
// of its stage's typed plan and the tests, and the fingerprints of YAML
// they are keyed on.

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// maxFingerprint bounds a fingerprint's text; past it the cache is not
// used (aliases can make a small text expand).
const maxFingerprint = 4 << 20

// fingerprint writes what of n a load reads: kinds, styles, tags and
// values, aliases expanded, and with pos the positions too. It reports
// false past maxFingerprint.
func fingerprint(b *strings.Builder, n *yaml.Node, pos bool, depth int) bool {
	if n == nil {
		b.WriteString("\x00-")
		return true
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		if depth > MaxYAMLDepth {
			return false
		}
		return fingerprint(b, n.Alias, pos, depth+1)
	}
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(int(n.Kind)))
	b.WriteByte(',')
	b.WriteString(strconv.Itoa(int(n.Style)))
	if pos {
		b.WriteByte('@')
		b.WriteString(strconv.Itoa(n.Line))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(n.Column))
	}
	b.WriteByte(',')
	b.WriteString(strconv.Itoa(len(n.Tag)))
	b.WriteByte(':')
	b.WriteString(n.Tag)
	b.WriteString(strconv.Itoa(len(n.Value)))
	b.WriteByte(':')
	b.WriteString(n.Value)
	b.WriteByte('[')
	for _, c := range n.Content {
		if !fingerprint(b, c, pos, depth+1) {
			return false
		}
	}
	b.WriteByte(']')
	return b.Len() <= maxFingerprint
}

// rulePrograms lists every program of a rule, in order, nil included.
func rulePrograms(r *rule) []*vm.Program {
	ps := append([]*vm.Program{r.when, r.retry}, r.msg.progs...)
	ps = append(ps, nil) // the holes' end
	for _, e := range r.effects {
		ps = append(ps, e.until)
	}
	return ps
}

// stageEntry is a stage's typed plan, rule by rule, and the programs
// each rule's part was built from.
type stageEntry struct {
	rules []typedRuleEntry
	typed *typedStage
}

// typedRulesBuilt counts the rules whose typed part a Loader built (for
// the tests).
var typedRulesBuilt atomic.Int64

type typedRuleEntry struct {
	progs []*vm.Program
	when  fnBool
	rule  typedRule
}

// typedSplice says whether a typed stage is its rules' parts and nothing
// more (typed_plan.go), so that one can be assembled from parts built by
// different loads. Should the stage gain a field of its own, reuse stops
// here rather than assembling a stage without it.
var typedSplice = reflect.TypeFor[typedStage]().NumField() == 2

// typedStage builds st's typed plan, reusing the parts of rules whose
// programs an earlier load built them from: an edit of one condition
// compiles one rule's part. Reuse applies only where no rule fell back.
func (l *loader) typedStage(st *stage) {
	g := l.cache
	if g == nil || !g.ok || !typedSplice {
		l.typedCompile(st)
		return
	}
	// The same stage as before, or the parts built before by their
	// rule's condition.
	known := map[*vm.Program][]typedRuleEntry{}
	for _, c := range []*loadCache{g.cur, g.old} {
		if c == nil {
			continue
		}
		if e := c.stages[st.name]; e.typed != nil && len(e.rules) == len(st.rules) && sameRules(e.rules, st.rules) {
			st.typed = e.typed
			g.cur.stages[st.name] = e
			return
		}
		for _, e := range c.stages[st.name].rules {
			known[e.progs[0]] = append(known[e.progs[0]], e)
		}
	}
	entries := make([]typedRuleEntry, len(st.rules))
	found := make([]bool, len(st.rules))
	missing := &stage{name: st.name}
	var at []int // missing.rules[k] is st.rules[at[k]]
	for i, r := range st.rules {
		progs := rulePrograms(r)
		for _, e := range known[r.when] {
			if slices.Equal(e.progs, progs) {
				entries[i], found[i] = e, true
				break
			}
		}
		if !found[i] {
			entries[i].progs = progs
			missing.rules = append(missing.rules, r)
			at = append(at, i)
		}
	}
	before := len(l.p.fallbacks)
	if len(missing.rules) > 0 {
		typedRulesBuilt.Add(int64(len(missing.rules)))
		l.typedCompile(missing)
		if missing.typed == nil || len(l.p.fallbacks) != before {
			// A rule falls back: the whole stage's plan and fallbacks as
			// Load builds them.
			l.p.fallbacks = l.p.fallbacks[:before]
			l.typedCompile(st)
			return
		}
		for k, i := range at {
			entries[i].when, entries[i].rule = missing.typed.when[k], missing.typed.rules[k]
		}
	}
	ts := &typedStage{when: make([]fnBool, len(entries)), rules: make([]typedRule, len(entries))}
	for i, e := range entries {
		ts.when[i], ts.rules[i] = e.when, e.rule
	}
	st.typed = ts
	g.cur.stages[st.name] = stageEntry{rules: entries, typed: ts}
}

// sameRules says whether each rule's programs are those of its entry.
func sameRules(es []typedRuleEntry, rs []*rule) bool {
	for i, r := range rs {
		if es[i].progs[0] != r.when || !slices.Equal(es[i].progs, rulePrograms(r)) {
			return false
		}
	}
	return true
}

// tests parses the policy's tests, or reuses the last ones parsed from
// the same YAML when the rule ids are the same.
func (l *loader) tests(defaults, tests *yaml.Node) {
	g := l.cache
	if g == nil {
		l.testsBlock(defaults, tests)
		return
	}
	var b strings.Builder
	ok := fingerprint(&b, defaults, true, 0) && fingerprint(&b, tests, true, 0)
	ids := make([]string, 0, len(l.p.ruleByID))
	for id := range l.p.ruleByID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b.WriteString(strings.Join(ids, ","))
	key := b.String()
	if ok {
		for _, c := range []*loadCache{g.cur, g.old} {
			if c != nil && c.tests != nil && c.tests.key == key {
				l.p.tests = c.tests.tests
				g.cur.tests = c.tests
				return
			}
		}
	}
	errs := len(l.errs)
	l.testsBlock(defaults, tests)
	if ok && len(l.errs) == errs {
		g.cur.tests = &testsEntry{key: key, tests: l.p.tests}
	}
}
