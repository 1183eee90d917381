package rules

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// A Loader loads successive versions of a policy, as an editor does on
// every keystroke, and reuses what earlier loads compiled where the text
// and everything it depends on are unchanged:
//   - an expression's program, when its text and the policy's environment
//     (params, lets, time zone, week start and limits) are the same;
//   - a rule's part of its stage's typed plan, when all the rule's
//     programs are the ones reused (where no rule of the stage falls
//     back to the VM);
//   - the policy's tests, when their YAML (positions included) and the
//     rule ids are the same.
//
// What it returns is what [Load] returns for the same text: the same
// decisions, the same errors (only what loaded without error is kept).
// After a failed load it keeps what the last successful one compiled
// too, so the edit that fixes an error compiles only what it changed.
// A Loader is safe for concurrent use; its loads run one at a time.
type Loader struct {
	mu sync.Mutex
	c  *loadCache
}

// maxCachedExprs bounds what a Loader keeps across a failed load: past
// it, only the failed load's programs are kept.
const maxCachedExprs = 4096

// Load parses and compiles a policy as [Load] does, reusing what earlier
// loads through l compiled.
func (ld *Loader) Load(filename string, src []byte) (*Policy, error) {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	cur := newLoadCache()
	p, err := load(filename, src, &cacheGen{old: ld.c, cur: cur})
	if err != nil && ld.c != nil {
		// Keep the last good load's programs for the edit that fixes this.
		if len(cur.exprs)+len(ld.c.exprs) <= maxCachedExprs {
			for k, v := range ld.c.exprs {
				if _, ok := cur.exprs[k]; !ok {
					cur.exprs[k] = v
				}
			}
		}
		for k, v := range ld.c.stages {
			if _, ok := cur.stages[k]; !ok {
				cur.stages[k] = v
			}
		}
		if cur.tests == nil {
			cur.tests = ld.c.tests
		}
		if cur.sections == nil {
			cur.sections = map[string]*yamlSection{}
		}
		for k, v := range ld.c.sections {
			if _, ok := cur.sections[k]; !ok && len(cur.sections) < 2*maxSections {
				cur.sections[k] = v
			}
		}
	}
	ld.c = cur
	return p, err
}

type loadCache struct {
	exprs    map[exprKey]compiledExpr
	stages   map[string]stageEntry
	tests    *testsEntry
	sections map[string]*yamlSection // the YAML's top-level sections, by text
}

func newLoadCache() *loadCache {
	return &loadCache{exprs: map[exprKey]compiledExpr{}, stages: map[string]stageEntry{}}
}

// exprKey is what an expression's compiled program depends on.
type exprKey struct {
	env   string // the environment's fingerprint
	src   string
	kind  reflect.Kind
	chain bool // a stage's chain, compiled on the facts by value
	// checkOnly: checked, no program (a let alone)
	checkOnly bool
}

type compiledExpr struct {
	prog         *vm.Program
	size, height int
	chain        *lazyChain // for a chain, its program compiled or not
}

// testsEntry is the policy's parsed tests and what they were parsed from.
type testsEntry struct {
	key   string
	tests []policyTest
}

// cacheGen is one load's view of a Loader's cache: it reads old and
// records in cur what this load used or compiled.
type cacheGen struct {
	old, cur *loadCache
	ok       bool // the environment has a fingerprint: the cache applies
	// base fingerprints what every expression depends on: time zone,
	// week start, limits; params what those that use params do.
	base, params string
	// lets are each let name's definitions (more than one is an error),
	// letFP their fingerprints and letOrder where the first one is.
	lets     map[string][]*yaml.Node
	letFP    map[string]string
	letOrder map[string]int
}

// key is the cache key of an expression: its text, kind and what it
// reads of the policy around it. An expression depends on the lets its
// identifiers name (and theirs, transitively) and on params only when it
// or one of those names params (or a table's lookup function): an edit of
// a let or a param recompiles only what reads it.
//
// A let is checked with only the lets before it in scope, so the lets a
// key names are written in the order the policy defines them, and self,
// the let being checked (or ""), among them.
func (g *cacheGen) key(src string, kind reflect.Kind, chain bool, self string) exprKey {
	k := exprKey{src: src, kind: kind, chain: chain, checkOnly: self != ""}
	if g == nil || !g.ok {
		return k
	}
	var b strings.Builder
	b.WriteString(g.base)
	seen := map[string]bool{}
	var deps []string
	if self != "" {
		seen[self] = true
		deps = append(deps, self)
	}
	params := false
	var visit func(text string)
	visit = func(text string) {
		idents(text, func(id string) {
			if id == "params" || strings.HasPrefix(id, "__table") {
				params = true
			}
			if seen[id] || g.lets[id] == nil {
				return
			}
			seen[id] = true
			deps = append(deps, id)
			for _, t := range g.letTexts(id) {
				visit(t)
			}
		})
	}
	visit(src)
	if params {
		b.WriteString("\x00params")
		b.WriteString(g.params)
	}
	slices.SortFunc(deps, func(a, b string) int { return g.letOrder[a] - g.letOrder[b] })
	for _, d := range deps {
		b.WriteString("\x00let ")
		b.WriteString(d)
		b.WriteString(g.letFP[d])
	}
	k.env = b.String()
	return k
}

// letTexts are the texts of a let's definitions.
func (g *cacheGen) letTexts(name string) []string {
	var out []string
	for _, n := range g.lets[name] {
		out = append(out, n.Value)
	}
	return out
}

// idents calls f with every run of the characters expr's identifiers are
// made of (and such a run without its leading digits): every identifier
// of the text is among them, and more (words in strings), which only
// makes a key depend on more than it must.
func idents(s string, f func(string)) {
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !identRune(r) {
			i += w
			continue
		}
		j := i
		for j < len(s) {
			r, w := utf8.DecodeRuneInString(s[j:])
			if !identRune(r) {
				break
			}
			j += w
		}
		f(s[i:j])
		if t := strings.TrimLeft(s[i:j], "0123456789"); t != "" && len(t) < j-i {
			f(t)
		}
		i = j
	}
}

func identRune(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func (g *cacheGen) expr(k exprKey) (compiledExpr, bool) {
	if g == nil || !g.ok {
		return compiledExpr{}, false
	}
	if c, ok := g.cur.exprs[k]; ok {
		return c, true
	}
	if g.old != nil {
		if c, ok := g.old.exprs[k]; ok {
			g.cur.exprs[k] = c
			return c, true
		}
	}
	return compiledExpr{}, false
}

func (g *cacheGen) putExpr(k exprKey, c compiledExpr) {
	if g == nil || !g.ok {
		return
	}
	g.cur.exprs[k] = c
}

// setEnv fingerprints what expressions' compilation depends on besides
// their own text: the time zone, week start and limits, params, and each
// let's definitions.
func (g *cacheGen) setEnv(m map[string]*yaml.Node) {
	if g == nil {
		return
	}
	var b strings.Builder
	for _, k := range []string{"timezone", "week_start", "limits"} {
		b.WriteString(k)
		if !fingerprint(&b, m[k], false, 0) {
			return
		}
	}
	g.base = b.String()
	b.Reset()
	if !fingerprint(&b, m["params"], false, 0) {
		return
	}
	g.params = b.String()
	g.lets, g.letFP, g.letOrder = map[string][]*yaml.Node{}, map[string]string{}, map[string]int{}
	if ln := resolveAlias(m["let"]); ln != nil {
		if ln.Kind != yaml.MappingNode {
			return // an error: nothing compiles
		}
		for i := 0; i+1 < len(ln.Content); i += 2 {
			name, v := ln.Content[i].Value, resolveAlias(ln.Content[i+1])
			if g.lets[name] == nil {
				g.letOrder[name] = i
			}
			g.lets[name] = append(g.lets[name], v)
			b.Reset()
			if !fingerprint(&b, v, false, 0) {
				return
			}
			g.letFP[name] += b.String()
		}
	}
	g.ok = true
}
