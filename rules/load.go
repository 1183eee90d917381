package rules

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

var durationZero time.Duration

// Defaults for a policy's cost bounds; a policy may lower or raise them
// within [maxNodesCeiling] and [memoryBudgetCeiling].
const (
	DefaultMaxNodes     = 1000
	DefaultMemoryBudget = 100_000
	maxNodesCeiling     = 10_000
	memoryBudgetCeiling = 10_000_000
)

// stageDefaults is what a stage decides when the policy leaves it out or
// gives it no default: a policy need only write the stages it uses.
var stageDefaults = map[string]outcomeSpec{
	StageInvite:  {outcome: "allow", reason: "sent", message: "Invitation sent."},
	StageDeliver: {outcome: "inbox", reason: "delivered", message: "You have a new invitation."},
	StageAccept:  {outcome: "allow", reason: "connected", message: "You're now connected."},
}

// StageOutcomes lists the outcomes each stage may decide.
var StageOutcomes = map[string][]string{
	StageInvite:  {"allow", "deny", "shadow"},
	StageDeliver: {"inbox", "hold", "spam", "auto_accept", "auto_ignore"},
	StageAccept:  {"allow", "deny"},
}

var (
	topKeys     = []string{"version", "name", "description", "timezone", "week_start", "messages", "limits", "params", "let", "stages", "test_defaults", "tests"}
	stageKeys   = []string{"default", "rules"}
	ruleKeys    = []string{"id", "description", "when", "outcome", "reason", "message", "private", "retry_after", "effects"}
	defaultKeys = []string{"outcome", "reason", "message"}
	effectKeys  = []string{"kind", "subject", "until"}
	effectKinds = []string{"restrict", "flag"}
	subjects    = []string{"sender", "recipient"}
	reasonRe    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// Names a let may not take: facts, params and the helpers.
	reservedNames = []string{"stage", "now", "note", "sender", "recipient", "pair", "params"}
)

// Policy is a loaded, compiled policy. It is immutable and safe for
// concurrent use; every expression was type-checked and compiled at load.
type Policy struct {
	name     string
	file     string
	cal      Calendar
	generic  string
	nodes    uint
	budget   uint
	stages   map[string]*stage
	tests    []policyTest
	ruleByID map[string]*rule
	params   any
	tiers    map[string]bool // keys of params.tiers, when the policy has a tier table
	tierList string
	tierKeys []string  // the keys again, sorted: Decide scans them (faster than hashing)
	byStage  [3]*stage // stages in the order of Stages, set by typedCompile; nil: look in stages
	// fallbacks are the expressions the typed back end leaves to the VM.
	fallbacks []Fallback
}

type stage struct {
	name  string
	def   outcomeSpec
	rules []*rule
	// chain is every rule in one program, run against factsValue when
	// there is a recipient: it returns the first match's index or -1.
	// It is compiled on first use (chain.go).
	chain *lazyChain
	// typed is the stage on the typed back end (typed_plan.go), or nil.
	typed *typedStage
}

type outcomeSpec struct {
	outcome, reason, message string
}

type rule struct {
	id    string
	stage string
	pos   Position
	size  int // nodes of when, lets inlined
	outcomeSpec
	private bool
	when    *vm.Program
	msg     template
	retry   *vm.Program
	effects []effectSpec
}

type effectSpec struct {
	kind, subject string
	until         *vm.Program
}

// template is a message with ${expr} holes: lits has one more entry than progs.
type template struct {
	lits  []string
	progs []*vm.Program
}

type letDef struct {
	name string
	node *yaml.Node
	// size is the body's node count with its own lets inlined, and
	// height how deep its tree is.
	size, height int
	// inlined is the body parsed and patched, unchecked: a pristine
	// tree to copy into each use.
	inlined ast.Node
}

type loader struct {
	src    *srcMap
	lines  []string
	errs   ErrorList
	p      *Policy
	params reflect.Value
	lets   []letDef
	letIdx map[string]int
	// badLets are lets with errors: a use of one is not reported again.
	badLets map[string]bool
	opts    []expr.Option
	// ec is opts as one expr configuration, built once per load.
	ec *exprConfig
	// chainEC is the configuration of the stages' chains (facts by value).
	chainEC *exprConfig
	chainMu *sync.Mutex
	// cache is what a Loader's earlier loads compiled, or nil.
	cache *cacheGen
	// checking is the let being checked (no bytecode), or "".
	checking string
	// tables maps a params table (by map pointer) to its lookup function.
	tables map[uintptr]string
	// tableVals maps a lookup function's name to its table.
	tableVals map[string]reflect.Value
	// paramTypes names the generated params types for error messages.
	paramTypes map[string]paramType
	// compiled counts the expression nodes compiled so far, lets inlined,
	// against MaxPolicyNodes; overBudget is set once it is reported.
	compiled   int
	overBudget bool
	// lastSize and lastHeight are the size and height of the last
	// expression compiled, lets inlined.
	lastSize, lastHeight int
}

type paramType struct {
	path   string
	fields []string
}

// Load parses and compiles a policy. filename is used only in positions.
// On failure the error is an [ErrorList] holding every problem found,
// each with file:line:col, the rule id where there is one, and a caret
// snippet.
//
// Loading is bounded in time and memory whatever the text: see
// [MaxPolicyBytes] and the limits beside it.
func Load(filename string, src []byte) (*Policy, error) {
	return load(filename, src, nil)
}

// load is Load, reusing what an earlier load compiled when cache is set.
func load(filename string, src []byte, cache *cacheGen) (*Policy, error) {
	// The size first, before the text is copied or converted.
	if err := CheckSize(filename, int64(len(src))); err != nil {
		return nil, err
	}
	l := &loader{src: newSrcMap(filename, src), p: &Policy{file: filename, stages: map[string]*stage{}, ruleByID: map[string]*rule{}}, cache: cache}
	l.lines = l.src.textLines()
	switch line, col, over := yamlBudget(src); over {
	case "values":
		l.errPos(Position{filename, line, col}, "", fmt.Sprintf("the policy has more than %d YAML values (each word counted as one, before parsing)", MaxYAMLNodes))
		return nil, l.errs
	case "depth":
		l.errPos(Position{filename, line, col}, "", fmt.Sprintf("YAML nested too deeply: more than %d levels of indentation, indicators and brackets (values may nest %d deep)", yamlScanDepth, MaxYAMLDepth))
		return nil, l.errs
	}
	var doc yaml.Node
	if err := cache.parseYAML(src, &doc); err != nil {
		return nil, l.yamlError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, ErrorList{{Pos: Position{filename, 1, 1}, Msg: "empty policy"}}
	}
	if !l.checkYAML(doc.Content[0]) {
		return nil, l.errs
	}
	l.policy(doc.Content[0])
	if len(l.errs) > 0 {
		l.errs.sort()
		return nil, l.errs
	}
	return l.p, nil
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (l *loader) yamlError(err error) error {
	msg := err.Error()
	line := 1
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	col := 1
	if strings.Contains(msg, "mapping values are not allowed") {
		col, msg = l.secondColon(line, msg)
	}
	pos := Position{l.src.file, line, col}
	return ErrorList{{Pos: pos, Msg: "YAML syntax: " + msg, Snippet: snippet(l.lines, pos)}}
}

// expressionKeys hold expr source, where a ": " means the author forgot
// to quote; anywhere else a second "key: value" on a line is more likely a
// flow mapping that lost its "{".
var expressionKeys = []string{"when", "message", "retry_after", "until", "value"}

// secondColon finds the ": " that YAML refused on the line (the one after
// the line's own key) and words the hint by the key: quoting for an
// expression, a missing "{" for anything else.
func (l *loader) secondColon(line int, msg string) (int, string) {
	if line < 1 || line > len(l.lines) {
		return 1, msg
	}
	text := l.lines[line-1]
	key, rest, ok := strings.Cut(text, ": ")
	if !ok {
		return 1, msg
	}
	i := strings.Index(rest, ": ")
	if i < 0 {
		return 1, msg
	}
	col := len(key) + 2 + i + 1 // the refused ":"
	k := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(key), "- "))
	if slices.Contains(expressionKeys, k) {
		return col, msg + ` (an expression with ": " in it, such as a ? b : c, must be quoted or written as a block with |)`
	}
	first := strings.TrimSpace(rest[:i])
	if j := strings.LastIndexAny(first, " ,"); j >= 0 {
		first = first[j+1:]
	}
	return col, msg + fmt.Sprintf(`: a second "key: value" after %q on one line; is a "{" missing before %q? (several pairs on one line are written {a: 1, b: 2})`, k+":", first)
}

func (l *loader) errAt(n *yaml.Node, ruleID, msg string) {
	pos := l.src.pos(n)
	l.errs = append(l.errs, &Error{Pos: pos, Rule: ruleID, Msg: msg, Snippet: snippet(l.lines, pos)})
}

func (l *loader) errPos(pos Position, ruleID, msg string) {
	l.errs = append(l.errs, &Error{Pos: pos, Rule: ruleID, Msg: msg, Snippet: snippet(l.lines, pos)})
}

// mapping checks that n is a mapping with only known keys and returns its
// values by key.
func (l *loader) mapping(n *yaml.Node, what, ruleID string, known []string) map[string]*yaml.Node {
	n = resolveAlias(n)
	if n.Kind != yaml.MappingNode {
		l.errAt(n, ruleID, what+" must be a mapping")
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAlias(n.Content[i+1])
		switch {
		case known != nil && !slices.Contains(known, k.Value):
			l.errAt(k, ruleID, fmt.Sprintf("unknown key %q in %s (known: %s)", k.Value, what, strings.Join(known, ", ")))
		case out[k.Value] != nil:
			l.errAt(k, ruleID, fmt.Sprintf("duplicate key %q in %s", k.Value, what))
		default:
			out[k.Value] = v
		}
	}
	return out
}

func (l *loader) str(n *yaml.Node, what, ruleID string) (string, bool) {
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		l.errAt(n, ruleID, what+" must be a string")
		return "", false
	}
	return n.Value, true
}

func (l *loader) policy(root *yaml.Node) {
	m := l.mapping(root, "the policy (top level)", "", topKeys)
	if m == nil {
		return
	}
	p := l.p
	if v := m["version"]; v != nil && v.Value != "1" {
		l.errAt(v, "", fmt.Sprintf("unsupported policy version %q; this engine reads version 1", v.Value))
	}
	p.name, _ = l.str(m["name"], "name", "")
	p.cal = DefaultCalendar()
	if tz := m["timezone"]; tz != nil {
		if loc, err := time.LoadLocation(tz.Value); err != nil || tz.Value == "" || tz.Value == "Local" {
			l.errAt(tz, "", fmt.Sprintf("unknown time zone %q (use an IANA name such as America/Los_Angeles)", tz.Value))
		} else {
			p.cal.Loc = loc
		}
	}
	if ws := m["week_start"]; ws != nil {
		wm := l.mapping(ws, "week_start", "", []string{"day", "time"})
		if d := wm["day"]; d != nil {
			if wd, ok := weekdays[strings.ToLower(d.Value)]; ok {
				p.cal.WeekDay = wd
			} else {
				l.errAt(d, "", fmt.Sprintf("unknown weekday %q", d.Value))
			}
		}
		if t := wm["time"]; t != nil {
			if c, err := parseClock(t.Value); err != nil {
				l.errAt(t, "", err.Error())
			} else {
				p.cal.WeekClock = c
			}
		}
	}
	p.generic = "Unable to connect. Please try again later."
	if ms := m["messages"]; ms != nil {
		mm := l.mapping(ms, "messages", "", []string{"generic"})
		if g, ok := l.str(mm["generic"], "messages.generic", ""); ok {
			p.generic = g
		}
	}
	p.nodes, p.budget = DefaultMaxNodes, DefaultMemoryBudget
	if lim := m["limits"]; lim != nil {
		lm := l.mapping(lim, "limits", "", []string{"max_nodes", "memory_budget"})
		p.nodes = l.limit(lm["max_nodes"], "limits.max_nodes", p.nodes, maxNodesCeiling)
		p.budget = l.limit(lm["memory_budget"], "limits.memory_budget", p.budget, memoryBudgetCeiling)
	}
	l.params = reflect.ValueOf(struct{}{})
	if pn := m["params"]; pn != nil {
		if pn.Kind != yaml.MappingNode {
			l.errAt(pn, "", "params must be a mapping")
		} else {
			l.params = l.paramValue(pn, "params")
			l.collectTiers()
		}
	}
	l.p.params = l.params.Interface()
	l.cache.setEnv(m)
	l.setupExpr()
	if ln := m["let"]; ln != nil {
		l.letBlock(ln)
	}
	sn := m["stages"]
	if sn == nil {
		l.errAt(root, "", "missing key \"stages\"")
	} else {
		sm := l.mapping(sn, "stages", "", Stages)
		if sm != nil && len(sm) == 0 && len(resolveAlias(sn).Content) == 0 {
			l.errAt(sn, "", "stages is empty: write at least one of "+strings.Join(Stages, ", "))
		}
		// A stage left out decides its default.
		for _, name := range Stages {
			if n := sm[name]; n != nil {
				l.stage(name, n)
			} else {
				l.p.stages[name] = &stage{name: name, def: stageDefaults[name]}
			}
		}
	}
	if len(l.errs) == 0 {
		l.tests(m["test_defaults"], m["tests"])
	}
}

func (l *loader) collectTiers() {
	t, ok := fetchConst(l.params.Interface(), "tiers")
	if !ok {
		return
	}
	rv := reflect.ValueOf(t)
	if rv.Kind() != reflect.Map {
		return
	}
	l.p.tiers = map[string]bool{}
	var names []string
	for _, k := range rv.MapKeys() {
		l.p.tiers[k.String()] = true
		names = append(names, k.String())
	}
	slices.Sort(names)
	l.p.tierKeys = names
	l.p.tierList = strings.Join(names, ", ")
}

func (l *loader) limit(n *yaml.Node, what string, def, ceiling uint) uint {
	if n == nil {
		return def
	}
	v, err := strconv.ParseUint(n.Value, 10, 64)
	if err != nil || v == 0 || v > uint64(ceiling) {
		l.errAt(n, "", fmt.Sprintf("%s must be a whole number from 1 to %d", what, ceiling))
		return def
	}
	return uint(v)
}

func (l *loader) letBlock(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		l.errAt(n, "", "let must be a mapping of names to expressions")
		return
	}
	l.letIdx = map[string]int{}
	l.badLets = map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAlias(n.Content[i+1])
		switch {
		case !isIdent(k.Value):
			l.errAt(k, "", fmt.Sprintf("let name %q is not an identifier", k.Value))
			continue
		case slices.Contains(reservedNames, k.Value) || l.isFunc(k.Value):
			l.errAt(k, "", fmt.Sprintf("let name %q is taken by a fact or helper", k.Value))
			continue
		case strings.HasPrefix(k.Value, "__"):
			l.errAt(k, "", fmt.Sprintf("let name %q: names starting with __ are the engine's", k.Value))
			continue
		case l.hasLet(k.Value):
			l.errAt(k, "", fmt.Sprintf("duplicate let %q", k.Value))
			continue
		}
		// Check the body with only earlier lets in scope; each use
		// compiles it inlined, so it needs no program of its own.
		l.checking = k.Value
		_, ok := l.compile(v, "", "let "+k.Value, reflect.Invalid)
		l.checking = ""
		if ok {
			l.letIdx[k.Value] = len(l.lets)
			l.lets = append(l.lets, letDef{name: k.Value, node: v, size: l.lastSize, height: l.lastHeight})
		} else {
			l.badLets[k.Value] = true
		}
	}
}

func (l *loader) hasLet(name string) bool {
	_, ok := l.letIdx[name]
	return ok
}

func (l *loader) stage(name string, n *yaml.Node) {
	m := l.mapping(n, "stage "+name, "", stageKeys)
	if m == nil {
		return
	}
	st := &stage{name: name}
	if d := m["default"]; d != nil {
		dm := l.mapping(d, "stages."+name+".default", "", defaultKeys)
		st.def.outcome = l.outcome(dm["outcome"], name, "")
		st.def.reason = ReasonDefault
		if r, ok := l.str(dm["reason"], "reason", ""); ok {
			st.def.reason = l.reason(dm["reason"], r, "")
		}
		st.def.message, _ = l.str(dm["message"], "message", "")
		if dm["outcome"] == nil {
			l.errAt(d, "", "default needs an outcome")
		}
		if strings.Contains(st.def.message, "${") {
			l.errAt(dm["message"], "", "a default message is shown verbatim and cannot interpolate ${...}")
		}
	} else {
		st.def = stageDefaults[name]
	}
	if rn := m["rules"]; rn != nil {
		if rn.Kind != yaml.SequenceNode {
			l.errAt(rn, "", "rules must be a list")
		} else if len(rn.Content) > MaxRulesPerStage {
			// Refused before any is compiled, so the error comes fast.
			l.errAt(rn.Content[MaxRulesPerStage], "", fmt.Sprintf("stage %s has %d rules; the limit is %d", name, len(rn.Content), MaxRulesPerStage))
		} else {
			for _, r := range rn.Content {
				if ru := l.rule(name, r); ru != nil {
					st.rules = append(st.rules, ru)
				}
			}
		}
	}
	l.p.stages[name] = st
	if len(l.errs) == 0 {
		l.chain(st)
		l.typedStage(st)
	}
}

func (l *loader) outcome(n *yaml.Node, stage, ruleID string) string {
	if n == nil {
		return ""
	}
	if !slices.Contains(StageOutcomes[stage], n.Value) {
		l.errAt(n, ruleID, fmt.Sprintf("unknown outcome %q for stage %s (want one of %s)", n.Value, stage, strings.Join(StageOutcomes[stage], ", ")))
	}
	return n.Value
}

func (l *loader) reason(n *yaml.Node, r, ruleID string) string {
	if !reasonRe.MatchString(r) {
		l.errAt(n, ruleID, fmt.Sprintf("reason %q must be a snake_case code such as daily_limit", r))
	}
	return r
}

func (l *loader) rule(stageName string, n *yaml.Node) *rule {
	m := l.mapping(n, "a rule", "", nil)
	if m == nil {
		return nil
	}
	r := &rule{stage: stageName, pos: l.src.pos(n)}
	id, ok := l.str(m["id"], "id", "")
	switch {
	case !ok:
		l.errAt(n, "", "rule without an id")
	case !reasonRe.MatchString(id):
		l.errAt(m["id"], id, "rule id must be snake_case (lower-case letters, digits and _)")
	case l.p.ruleByID[id] != nil:
		prev := l.p.ruleByID[id]
		l.errAt(m["id"], id, fmt.Sprintf("duplicate rule id; first defined at %d:%d", prev.pos.Line, prev.pos.Column))
	default:
		l.p.ruleByID[id] = r
	}
	r.id = id
	// Unknown keys are reported with the id, now that we know it.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !slices.Contains(ruleKeys, k.Value) {
			l.errAt(k, id, fmt.Sprintf("unknown key %q in rule (known: %s)", k.Value, strings.Join(ruleKeys, ", ")))
		}
	}
	if m["outcome"] == nil {
		l.errAt(n, id, "rule needs an outcome")
	}
	r.outcome = l.outcome(m["outcome"], stageName, id)
	r.reason = r.id
	if rs, ok := l.str(m["reason"], "reason", id); ok {
		r.reason = l.reason(m["reason"], rs, id)
	}
	if pv := m["private"]; pv != nil {
		if err := pv.Decode(&r.private); err != nil || pv.ShortTag() != "!!bool" {
			l.errAt(pv, id, "private must be true or false")
		}
	}
	if w := m["when"]; w == nil {
		l.errAt(n, id, "rule needs a when condition")
	} else {
		r.when, _ = l.compile(w, id, "when", reflect.Bool)
		r.size = l.lastSize
	}
	if mn := m["message"]; mn != nil {
		if _, ok := l.str(mn, "message", id); ok {
			r.msg = l.template(mn, id)
		}
	}
	if ra := m["retry_after"]; ra != nil {
		r.retry = l.compileTime(ra, id, "retry_after")
	}
	if r.private && m["retry_after"] != nil {
		l.errAt(m["retry_after"], id, "a private rule cannot have retry_after: it would tell the sender apart from the generic denial")
	}
	if r.private && m["effects"] != nil {
		l.errAt(m["effects"], id, "a private rule cannot have effects: a restriction or flag shows in what the sender sees, which would tell them apart from the generic denial")
	}
	if en := m["effects"]; en != nil {
		if en.Kind != yaml.SequenceNode {
			l.errAt(en, id, "effects must be a list")
		} else {
			for _, e := range en.Content {
				em := l.mapping(e, "an effect", id, effectKeys)
				if em == nil {
					continue
				}
				var ef effectSpec
				if k := em["kind"]; k == nil || !slices.Contains(effectKinds, k.Value) {
					l.errAt(e, id, fmt.Sprintf("effect kind must be one of %s", strings.Join(effectKinds, ", ")))
				} else {
					ef.kind = k.Value
				}
				ef.subject = "sender"
				if s := em["subject"]; s != nil {
					if !slices.Contains(subjects, s.Value) {
						l.errAt(s, id, "effect subject must be sender or recipient")
					}
					ef.subject = s.Value
				}
				if u := em["until"]; u != nil {
					ef.until = l.compileTime(u, id, "until")
				} else if ef.kind == "restrict" {
					l.errAt(e, id, "a restrict effect needs until")
				}
				r.effects = append(r.effects, ef)
			}
		}
	}
	return r
}

var holeRe = regexp.MustCompile(`\$\{([^}]*)\}`)

// template splits a message into literal text and ${expr} holes, and
// compiles each hole.
func (l *loader) template(n *yaml.Node, ruleID string) template {
	var t template
	s := n.Value
	last := 0
	for _, m := range holeRe.FindAllStringSubmatchIndex(s, -1) {
		t.lits = append(t.lits, s[last:m[0]])
		inner := s[m[2]:m[3]]
		base := len([]rune(s[:m[2]]))
		prog, _ := l.compileText(inner, func(off int) Position { return l.src.at(n, base+off) }, ruleID, "message", reflect.Invalid)
		t.progs = append(t.progs, prog)
		last = m[1]
	}
	t.lits = append(t.lits, s[last:])
	return t
}

var typTime = reflect.TypeOf(time.Time{})

// compileTime compiles an expression that must give a time.
func (l *loader) compileTime(n *yaml.Node, ruleID, what string) *vm.Program {
	prog, ok := l.compile(n, ruleID, what, reflect.Invalid)
	if !ok {
		return nil
	}
	if t := prog.Node().Type(); t != typTime && t != nil && t != typAny {
		l.errPos(l.src.at(n, 0), ruleID, fmt.Sprintf("%s: must be a time, but is %s", what, t))
		return nil
	}
	return prog
}

func (l *loader) isFunc(name string) bool {
	_, ok := helperNames[name]
	return ok
}

func (l *loader) setupExpr() {
	l.opts = []expr.Option{
		expr.Env(Request{}),
		expr.DisableBuiltin("now"),
		expr.DisableBuiltin("date"),
		expr.MaxNodes(l.p.nodes),
	}
	l.opts = append(l.opts, helpers(l.p.cal)...)
	l.tableFuncs(l.params, "params")
	l.ec = newExprConfig(l.opts)
}

// tableFuncs registers a lookup function for every table in params (a map
// of same-shaped groups, such as tiers). The patcher turns
// params.tiers[sender.tier] into a call of it. Its entries are boxed once,
// here, so a lookup neither reflects nor allocates, where expr's own map
// indexing does both; a missing key is an error rather than a zero group.
func (l *loader) tableFuncs(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			l.tableFuncs(v.Field(i), path+"."+v.Type().Field(i).Tag.Get("expr"))
		}
	case reflect.Map:
		if v.Type().Elem().Kind() != reflect.Struct {
			return
		}
		boxed := make(map[string]any, v.Len())
		for _, k := range v.MapKeys() {
			boxed[k.String()] = v.MapIndex(k).Interface()
		}
		name := "__table" + strconv.Itoa(len(l.tables))
		if l.tables == nil {
			l.tables = map[uintptr]string{}
		}
		l.tables[v.Pointer()] = name
		if l.tableVals == nil {
			l.tableVals = map[string]reflect.Value{}
		}
		l.tableVals[name] = v
		where := path
		sig := reflect.FuncOf([]reflect.Type{typString}, []reflect.Type{v.Type().Elem()}, false)
		l.opts = append(l.opts, expr.Function(name, func(args ...any) (any, error) {
			key, _ := args[0].(string)
			if e, ok := boxed[key]; ok {
				return e, nil
			}
			return nil, fmt.Errorf("%s has no entry %q", where, key)
		}, reflect.Zero(sig).Interface()))
	}
}

// compile compiles a YAML scalar as an expression and maps any error back
// to the YAML file.
// as is the kind the expression must have, or reflect.Invalid for any.
func (l *loader) compile(n *yaml.Node, ruleID, what string, as reflect.Kind) (*vm.Program, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		l.errAt(n, ruleID, what+" must be an expression")
		return nil, false
	}
	errs := len(l.errs)
	prog, ok := l.compileText(n.Value, func(off int) Position { return l.src.at(n, off) }, ruleID, what, as)
	if !ok && len(l.errs) > errs && n.Style == 0 && strings.Contains(l.errs[len(l.errs)-1].Msg, "unexpected token EOF") {
		if end := l.src.at(n, len([]rune(n.Value))); end.Line <= len(l.lines) && strings.Contains(l.lines[end.Line-1], " #") {
			l.errs[len(l.errs)-1].Msg += " (a # after a space starts a YAML comment: quote the expression)"
		}
	}
	return prog, ok
}

func (l *loader) compileText(src string, at func(int) Position, ruleID, what string, as reflect.Kind) (*vm.Program, bool) {
	if strings.TrimSpace(src) == "" {
		l.errPos(at(0), ruleID, what+" is empty")
		return nil, false
	}
	if l.overBudget {
		return nil, false // compiling more would only take longer
	}
	key := l.cache.key(src, as, false, l.checking)
	if c, ok := l.cache.expr(key); ok {
		l.lastHeight, l.lastSize = c.height, c.size
		if !l.spend(c.size, at(0), ruleID) {
			return nil, false
		}
		return c.prog, true
	}
	if off, over := exprDepth(src); over {
		l.errPos(at(off), ruleID, fmt.Sprintf("%s: nested too deeply (more than %d levels of brackets, operators, ternaries or lets); name parts of it with let", what, MaxExprDepth))
		return nil, false
	}
	// expr's checker, optimizer and compiler recurse on the tree, which
	// lets and left-associative chains (a || b || ...) make deeper than
	// the text nests: measure it, lets inlined, without recursing.
	l.lastHeight = 0
	if tree, err := parser.Parse(src); err == nil {
		h, off := l.treeHeight(tree.Node)
		if h > MaxTreeDepth {
			l.errPos(at(off), ruleID, fmt.Sprintf("%s: nested too deeply once its lets are inlined (%d levels; the limit is %d); split it into rules", what, h, MaxTreeDepth))
			return nil, false
		}
		l.lastHeight = h
	}
	pt := &patcher{l: l, limit: int(l.p.nodes)}
	prog, err := l.ec.compile(src, as, l.p.nodes, l.checking == "", pt)
	yield()
	l.lastSize = pt.size
	if pt.over {
		l.errPos(at(pt.overAt), ruleID, fmt.Sprintf("%s: more than %d nodes once its lets are inlined (limits.max_nodes)", what, l.p.nodes))
		return nil, false
	}
	if !l.spend(pt.size, at(0), ruleID) {
		return nil, false
	}
	if err != nil {
		var fe *file.Error
		off := 0
		msg := err.Error()
		if errors.As(err, &fe) {
			off, msg = fe.From, fe.Message
		}
		if m := unknownNameRe.FindStringSubmatch(msg); m != nil && l.badLets[m[1]] {
			return nil, false // the let's own error says what is wrong
		}
		msg = l.tidyExprMessage(msg)
		l.errPos(at(off), ruleID, what+": "+msg)
		return nil, false
	}
	l.cache.putExpr(key, compiledExpr{prog: prog, size: l.lastSize, height: l.lastHeight})
	return prog, true
}

var (
	noFieldRe     = regexp.MustCompile(`^type (.+) has no field (\w+)$`)
	unknownNameRe = regexp.MustCompile(`^unknown name (\w+)$`)
	factTypes     = map[string]reflect.Type{}
)

func init() {
	for _, v := range []any{Request{}, Member{}, Counts{}, Settings{}, AutoAccept{}, Pair{}} {
		t := reflect.TypeOf(v)
		factTypes[t.String()] = t
	}
}

// tidyExprMessage rewords expr's messages where they would confuse a
// policy author, and suggests the name they probably meant.
func (l *loader) tidyExprMessage(msg string) string {
	switch {
	case strings.HasPrefix(msg, "expected bool, but got"):
		return "must be true or false, but is " + strings.TrimPrefix(msg, "expected bool, but got ")
	case strings.HasPrefix(msg, "expected struct, but got"):
		return "must be a time, but is " + strings.TrimPrefix(msg, "expected struct, but got ")
	}
	if m := noFieldRe.FindStringSubmatch(msg); m != nil {
		typeName, field := m[1], m[2]
		var names []string
		if t, ok := factTypes[typeName]; ok {
			names = exprNames(t)
			typeName = strings.ToLower(strings.TrimPrefix(typeName, "rules."))
		} else if pt, ok := l.paramTypes[typeName]; ok {
			typeName, names = pt.path, pt.fields
		} else {
			return msg
		}
		return fmt.Sprintf("%s has no field %s%s", typeName, field, suggest(field, names))
	}
	if m := unknownNameRe.FindStringSubmatch(msg); m != nil {
		names := append(exprNames(reflect.TypeOf(Request{})), "params")
		for _, lt := range l.lets {
			names = append(names, lt.name)
		}
		return msg + suggest(m[1], names)
	}
	return msg
}

// exprNames lists the expr names of a struct's fields.
func exprNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if n := t.Field(i).Tag.Get("expr"); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// suggest returns " (did you mean x?)" for the closest name within two
// edits, or lists the names when there are few.
func suggest(name string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	if len(names) > 0 && len(names) <= 12 {
		return " (known: " + strings.Join(names, ", ") + ")"
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func fetchConst(v any, name string) (any, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Struct:
		for i := 0; i < rv.NumField(); i++ {
			if rv.Type().Field(i).Tag.Get("expr") == name {
				return rv.Field(i).Interface(), true
			}
		}
	case reflect.Map:
		if e := rv.MapIndex(reflect.ValueOf(name)); e.IsValid() {
			return e.Interface(), true
		}
	}
	return nil, false
}
