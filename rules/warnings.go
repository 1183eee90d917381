package rules

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"gopkg.in/yaml.v3"
)

// Warning kinds.
const (
	WarnUnreachable = "unreachable"
	WarnAlwaysFalse = "always_false"
	WarnAlwaysTrue  = "always_true"
	WarnUnusedParam = "unused_param"
	WarnUnusedLet   = "unused_let"
	WarnRetryInPast = "retry_before_now"
)

// Warning is something in a valid policy that is probably a mistake. The
// search behind the reachability warnings tries requests built from the
// constants the conditions compare against, the enumerations and their
// boundaries; it is not a proof, and its messages say so.
type Warning struct {
	Pos     Position `json:"pos"`
	Rule    string   `json:"rule,omitempty"`
	Kind    string   `json:"kind"`
	Msg     string   `json:"message"`
	Snippet string   `json:"snippet,omitempty"`
}

// String formats the warning as file:line:col: warning: rule "id": message,
// then the source line and a caret.
func (w *Warning) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: warning: ", w.Pos)
	if w.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", w.Rule)
	}
	b.WriteString(w.Msg)
	if w.Snippet != "" {
		b.WriteString("\n" + w.Snippet)
	}
	return b.String()
}

// Warnings loads the policy in src and returns its warnings in source
// order: rules no request found reaches, conditions that held for no
// request or for every request tried, params and lets nothing reads, and
// retry_after times that can be before now. Params the lifecycle reads
// (pending_expiry and the tier limits) count as read.
func Warnings(filename string, src []byte) (ws []*Warning, err error) {
	defer guard(&err)
	a, err := analyze(filename, src)
	if err != nil {
		return nil, err
	}
	add := func(n *yaml.Node, pos Position, ruleID, kind, msg string) {
		if n != nil {
			pos = a.l.src.pos(n)
		}
		ws = append(ws, &Warning{Pos: pos, Rule: ruleID, Kind: kind, Msg: msg, Snippet: snippet(a.l.lines, pos)})
	}
	for _, s := range Stages {
		st := a.search(s)
		rs := a.p.stages[s].rules
		for i, r := range rs {
			when := a.when[r.id]
			switch {
			case st.witness[r.id] != nil:
			case st.held[r.id] == 0:
				add(when, r.pos, r.id, WarnAlwaysFalse, fmt.Sprintf("condition held for none of the %d requests tried; no request found that reaches this rule", st.tried[r.id]))
			default:
				by := sortedCounts(st.earlier[r.id])
				names := make([]string, 0, 3)
				for _, id := range by[:min(3, len(by))] {
					names = append(names, ruleLabel(id))
				}
				add(nil, r.pos, r.id, WarnUnreachable, fmt.Sprintf("no request found that reaches this rule: where its condition holds (%d of %d requests tried), an earlier rule decides first (%s)",
					st.held[r.id], st.tried[r.id], strings.Join(names, ", ")))
			}
			if t := st.tried[r.id]; t >= minTriedForAll && st.held[r.id] == t {
				next := "the stage default is never used"
				if i+1 < len(rs) {
					next = "the rules after it never decide"
				}
				add(when, r.pos, r.id, WarnAlwaysTrue, fmt.Sprintf("condition held for all %d requests tried: %s", t, next))
			}
			if w := st.retryPast[r.id]; w != nil {
				ra := mapValue(a.ruleNode[r.id], "retry_after")
				add(ra, r.pos, r.id, WarnRetryInPast, fmt.Sprintf("retry_after can be earlier than now: with %s it is %s, %s before now",
					compactJSON(w.Changes), fmtTime(w.Decision.RetryAfter), w.Request.Now.Sub(w.Decision.RetryAfter)))
			}
		}
	}
	ws = append(ws, a.unused()...)
	sort.SliceStable(ws, func(i, j int) bool {
		x, y := ws[i].Pos, ws[j].Pos
		if x.Line != y.Line {
			return x.Line < y.Line
		}
		return x.Column < y.Column
	})
	return ws, nil
}

func ruleLabel(id string) string {
	if id == "" {
		return "the default"
	}
	return id
}

func compactJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// exprSources lists every expression of the policy that rules use (when,
// retry_after, message holes, effect until), and, separately, the lets'
// bodies by name.
func (a *analysis) exprSources() (ruleExprs []string, lets map[string]string) {
	lets = map[string]string{}
	if ln := mapValue(a.doc, "let"); ln != nil && ln.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(ln.Content); i += 2 {
			lets[ln.Content[i].Value] = resolveAlias(ln.Content[i+1]).Value
		}
	}
	for _, rn := range a.ruleNode {
		for _, k := range []string{"when", "retry_after"} {
			if n := mapValue(rn, k); n != nil {
				ruleExprs = append(ruleExprs, n.Value)
			}
		}
		if n := mapValue(rn, "message"); n != nil {
			for _, m := range holeRe.FindAllStringSubmatch(n.Value, -1) {
				ruleExprs = append(ruleExprs, m[1])
			}
		}
		for _, e := range seqItems(mapValue(rn, "effects")) {
			if u := mapValue(e, "until"); u != nil {
				ruleExprs = append(ruleExprs, u.Value)
			}
		}
	}
	return ruleExprs, lets
}

// names collects the identifiers and params paths an expression reads,
// without substituting lets or params. A params path indexed by a fact
// has "*" for the index.
type names struct {
	idents map[string]bool
	params map[string]bool
}

func (v names) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		v.idents[n.Value] = true
	case *ast.MemberNode:
		if p, ok := paramsPath(n); ok {
			v.params[p] = true
		}
	}
}

func paramsPath(n ast.Node) (string, bool) {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		return "", x.Value == "params"
	case *ast.MemberNode:
		base, ok := paramsPath(x.Node)
		if !ok {
			return "", false
		}
		seg := "*"
		if s, isStr := x.Property.(*ast.StringNode); isStr {
			seg = s.Value
		}
		if base == "" {
			return seg, true
		}
		return base + "." + seg, true
	}
	return "", false
}

func readNames(src string) names {
	nm := names{idents: map[string]bool{}, params: map[string]bool{}}
	tree, err := parser.Parse(src)
	if err != nil {
		return nm
	}
	ast.Walk(&tree.Node, nm)
	return nm
}

// lifecycleParams are the params the lifecycle reads itself.
var lifecycleParams = []string{"pending_expiry", "tiers.*.daily", "tiers.*.weekly", "tiers.*.monthly", "tiers.*.connections"}

// unused warns about lets no rule reads (directly or through other lets)
// and params nothing reads.
func (a *analysis) unused() []*Warning {
	ruleExprs, lets := a.exprSources()
	used := map[string]bool{}
	paramRefs := map[string]bool{}
	for _, p := range lifecycleParams {
		paramRefs[p] = true
	}
	var queue []string
	for _, src := range ruleExprs {
		nm := readNames(src)
		for id := range nm.idents {
			if _, ok := lets[id]; ok && !used[id] {
				used[id] = true
				queue = append(queue, id)
			}
		}
		for p := range nm.params {
			paramRefs[p] = true
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		nm := readNames(lets[id])
		for p := range nm.params {
			paramRefs[p] = true
		}
		for ref := range nm.idents {
			if _, ok := lets[ref]; ok && !used[ref] {
				used[ref] = true
				queue = append(queue, ref)
			}
		}
	}
	var ws []*Warning
	if ln := mapValue(a.doc, "let"); ln != nil && ln.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(ln.Content); i += 2 {
			k := ln.Content[i]
			if !used[k.Value] {
				pos := a.l.src.pos(k)
				ws = append(ws, &Warning{Pos: pos, Kind: WarnUnusedLet, Msg: fmt.Sprintf("let %s is not read by any rule", k.Value), Snippet: snippet(a.l.lines, pos)})
			}
		}
	}
	var walk func(n *yaml.Node, path []string)
	walk = func(n *yaml.Node, path []string) {
		n = resolveAlias(n)
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				p := append(slicesClone(path), k.Value)
				v := resolveAlias(n.Content[i+1])
				if v.Kind == yaml.MappingNode {
					walk(v, p)
					continue
				}
				if !paramUsed(p, paramRefs) {
					pos := a.l.src.pos(k)
					ws = append(ws, &Warning{Pos: pos, Kind: WarnUnusedParam, Msg: fmt.Sprintf("param %s is not read by any rule or let", strings.Join(p, ".")), Snippet: snippet(a.l.lines, pos)})
				}
			}
		}
	}
	if pn := mapValue(a.doc, "params"); pn != nil {
		walk(pn, nil)
	}
	return ws
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// paramUsed reports whether a reference reads the leaf at path: they agree
// on their common segments, "*" matching any.
func paramUsed(path []string, refs map[string]bool) bool {
	for ref := range refs {
		segs := strings.Split(ref, ".")
		match := true
		for i := 0; i < len(segs) && i < len(path); i++ {
			if segs[i] != "*" && segs[i] != path[i] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
