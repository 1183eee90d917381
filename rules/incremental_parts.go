package rules

// The parts of a load a Loader reuses besides expressions: a rule's part
// of its stage's typed plan and the tests, and the fingerprints of YAML
// they are keyed on.

import (
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

// stageEntry is a stage's typed plan and the programs of the rules it
// was built from.
type stageEntry struct {
	rules []typedRuleEntry
	typed *typedStage
}

// typedStagesBuilt counts the stages whose typed plan a Loader built (for
// the tests).
var typedStagesBuilt atomic.Int64

type typedRuleEntry struct {
	progs []*vm.Program
}

// typedStage builds st's typed plan, or reuses the one an earlier load
// built from the same programs: an edit compiles the plan of its own
// stage only. The plan is not assembled from rule parts, since its
// variants per tier row (typed_spec.go) belong to the whole stage.
// Reuse applies only where no rule fell back.
func (l *loader) typedStage(st *stage) {
	g := l.cache
	if g == nil || !g.ok {
		l.typedCompile(st)
		return
	}
	for _, c := range []*loadCache{g.cur, g.old} {
		if c == nil {
			continue
		}
		if e := c.stages[st.name]; e.typed != nil && len(e.rules) == len(st.rules) && sameRules(e.rules, st.rules) {
			st.typed = e.typed
			if i := stageIndex(st.name); i >= 0 {
				l.p.byStage[i] = st
			}
			g.cur.stages[st.name] = e
			return
		}
	}
	typedStagesBuilt.Add(1)
	before := len(l.p.fallbacks)
	l.typedCompile(st)
	if st.typed != nil && len(l.p.fallbacks) == before {
		entries := make([]typedRuleEntry, len(st.rules))
		for i, r := range st.rules {
			entries[i].progs = rulePrograms(r)
		}
		g.cur.stages[st.name] = stageEntry{rules: entries, typed: st.typed}
	}
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
	b.WriteString(l.src.file) // a test's position names its file
	b.WriteByte(0)
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
