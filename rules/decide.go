package rules

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/expr-lang/expr/vm"
)

// vms are reused across decisions: a VM keeps its stack between runs, so a
// decision allocates almost nothing. A VM is never shared by two goroutines.
var vms = sync.Pool{New: func() any { return newRunner() }}

// runner is a VM plus a boxed factsValue that it reuses for every decision.
type runner struct {
	vm.VM
	env any // holds a factsValue in a heap object owned by this runner
	fv  *factsValue
}

func newRunner() *runner {
	// Boxing an addressable reflect.Value always copies it to a fresh heap
	// object; a plain any(factsValue{}) may share the runtime's read-only
	// zero value, which must never be written.
	env := reflect.New(reflect.TypeOf(factsValue{})).Elem().Interface()
	return &runner{env: env, fv: (*factsValue)((*[2]unsafe.Pointer)(unsafe.Pointer(&env))[1])}
}

// facts copies req into the runner's box and returns it. Boxing a fresh
// factsValue per decision costs a ~1 KiB allocation, most of a decision's
// garbage. Fields read from the box are not addressable, so expr reads them
// without copying; nothing read from it outlives the VM run, and a runner
// serves one goroutine at a time.
func (r *runner) facts(req *Request) any {
	*r.fv = factsValue{req.Stage, req.Now, req.Note, *req.Sender, *req.Recipient, req.Pair}
	return r.env
}

// Name is the policy's name, from its name: key.
func (p *Policy) Name() string { return p.name }

// Calendar is the policy's calendar: its time zone and week start.
func (p *Policy) Calendar() Calendar { return p.cal }

// GenericMessage is the text every private denial shows the sender.
func (p *Policy) GenericMessage() string { return p.generic }

// Decide runs the request's stage: the first rule whose condition holds
// decides, else the stage default. It never panics and never returns a
// zero Decision: malformed facts and rules failing at run time make the
// stage fail closed (deny, or hold for deliver) with a diagnostic.
func (p *Policy) Decide(req *Request) Decision {
	return p.decide(req, false)
}

// Explain is Decide plus a trace of every rule of the stage, in order,
// saying whether it held and any error. It evaluates every rule, so it is
// slower; use it for debugging and the playground.
func (p *Policy) Explain(req *Request) Decision {
	return p.decide(req, true)
}

func (p *Policy) decide(req *Request, explain bool) (d Decision) {
	// One defer and one return: the defer is open-coded, nearly free.
	defer func() {
		// expr recovers its own panics; this guards our glue code.
		if r := recover(); r != nil {
			stageName := ""
			if req != nil {
				stageName = req.Stage
			}
			d = p.failClosed(stageName, ReasonEvaluationError, "", fmt.Sprint(r))
		}
	}()
	p.decideOnce(&d, req, explain)
	return d
}

// decideOnce decides into d.
func (p *Policy) decideOnce(d *Decision, req *Request, explain bool) {
	if req == nil {
		*d = p.failClosed(StageInvite, ReasonInvalidRequest, "", "invalid request: no request")
		return
	}
	if err := req.Validate(); err != nil {
		*d = p.failClosed(req.Stage, ReasonInvalidRequest, "", err.Error())
		return
	}
	if err := p.checkTiers(req); err != nil {
		*d = p.failClosed(req.Stage, ReasonInvalidRequest, "", err.Error())
		return
	}
	st := p.stage(req.Stage)
	idx := -1
	if st.typed != nil {
		i, ok := p.decideTyped(d, st, req)
		if ok {
			if explain {
				*d = p.explainTyped(*d, st, req)
			}
			return
		}
		// The rule that holds is known (i >= 0): only its message or
		// times are left to the VM.
		idx = i
	}
	*d = p.decideVM(st, req, idx, explain)
}

// decideVM decides on expr's VM; idx is the rule that holds when the
// typed back end found it, else -1.
func (p *Policy) decideVM(st *stage, req *Request, idx int, explain bool) (d Decision) {
	matched := idx >= 0
	rn := vms.Get().(*runner)
	defer vms.Put(rn)
	m := &rn.VM
	m.MemoryBudget = p.budget

	if !matched {
		var failed bool
		if idx, d, failed = p.vmMatch(rn, st, req); failed {
			return p.withTrace(d, st, m, req, explain)
		}
	}
	if idx < 0 {
		d = Decision{Outcome: st.def.outcome, Reason: st.def.reason, Message: st.def.message}
		return p.withTrace(d, st, m, req, explain)
	}
	r := st.rules[idx]
	d = Decision{Outcome: r.outcome, Reason: r.reason, Rule: r.id, Private: r.private}
	var err error
	if d.Message, err = p.render(m, r.msg, req); err != nil {
		return p.withTrace(p.failClosed(req.Stage, ReasonEvaluationError, r.id, "message: "+err.Error()), st, m, req, explain)
	}
	if r.retry != nil {
		if d.RetryAfter, err = p.runTime(m, r.retry, req); err != nil {
			return p.withTrace(p.failClosed(req.Stage, ReasonEvaluationError, r.id, "retry_after: "+err.Error()), st, m, req, explain)
		}
	}
	for _, e := range r.effects {
		ef := Effect{Kind: e.kind, Subject: e.subject}
		if e.until != nil {
			if ef.Until, err = p.runTime(m, e.until, req); err != nil {
				return p.withTrace(p.failClosed(req.Stage, ReasonEvaluationError, r.id, "effect until: "+err.Error()), st, m, req, explain)
			}
		}
		d.Effects = append(d.Effects, ef)
	}
	return p.withTrace(d, st, m, req, explain)
}

// vmMatch finds the first rule that holds on the VM, or the stage's
// failure (failed is true, d the fail-closed decision).
func (p *Policy) vmMatch(rn *runner, st *stage, req *Request) (idx int, d Decision, failed bool) {
	m := &rn.VM
	var chain *vm.Program
	if req.Recipient != nil {
		chain = st.chainProgram()
	}
	if chain != nil {
		out, err := m.Run(chain, rn.facts(req))
		if err == nil {
			return out.(int), d, false
		}
		// Find the rule that failed by walking the rules one by one;
		// if none does alone, fail closed all the same.
		var r *rule
		if idx, r, err = firstMatch(m, st, req); err == nil {
			r, err = nil, errors.New("stage program failed: "+oneLine(err.Error()))
		}
		id := ""
		if r != nil {
			id = r.id
		}
		return -1, p.failClosed(req.Stage, ReasonEvaluationError, id, err.Error()), true
	}
	// Without a recipient the chain's by-value facts do not apply: walk
	// the rules one by one (the first, not_found, usually decides).
	idx, r, err := firstMatch(m, st, req)
	if err != nil {
		return -1, p.failClosed(req.Stage, ReasonEvaluationError, r.id, err.Error()), true
	}
	return idx, d, false
}

// firstMatch runs a stage's rules in order and returns the index of the
// first that holds (or -1), or the first rule that fails and its error.
func firstMatch(m *vm.VM, st *stage, req *Request) (int, *rule, error) {
	for i, r := range st.rules {
		held, err := runBool(m, r.when, req)
		if err != nil {
			return -1, r, err
		}
		if held {
			return i, nil, nil
		}
	}
	return -1, nil, nil
}

func (p *Policy) withTrace(d Decision, st *stage, m *vm.VM, req *Request, explain bool) Decision {
	if !explain || st == nil {
		return d
	}
	d.Trace = make([]TraceEntry, len(st.rules))
	for i, r := range st.rules {
		held, err := runBool(m, r.when, req)
		d.Trace[i] = TraceEntry{Rule: r.id, Held: held}
		if err != nil {
			d.Trace[i].Error = err.Error()
		}
	}
	return d
}

// checkTiers rejects a member whose tier is not in the policy's tier
// table: a missing tier would otherwise read as all-zero limits.
func (p *Policy) checkTiers(req *Request) error {
	if p.tiers == nil {
		return nil
	}
	if !slices.Contains(p.tierKeys, req.Sender.Tier) {
		return &FactsError{Field: "sender.tier", Msg: fmt.Sprintf("%q is not a tier of this policy (%s)", req.Sender.Tier, p.tierList)}
	}
	if req.Recipient != nil {
		if !slices.Contains(p.tierKeys, req.Recipient.Tier) {
			return &FactsError{Field: "recipient.tier", Msg: fmt.Sprintf("%q is not a tier of this policy (%s)", req.Recipient.Tier, p.tierList)}
		}
	}
	return nil
}

// Invalid is the decision for facts that could not be decoded: the stage
// fails closed with reason invalid_request, exactly as Decide does for facts
// that fail validation. An unknown stage is treated as invite.
func (p *Policy) Invalid(stage string, err error) Decision {
	msg := "invalid request"
	if err != nil {
		msg = err.Error()
	}
	return p.failClosed(stage, ReasonInvalidRequest, "", msg)
}

// failClosed is the answer when a stage cannot be decided.
func (p *Policy) failClosed(stage, reason, ruleID, msg string) Decision {
	if _, ok := StageOutcomes[stage]; !ok {
		stage = StageInvite
	}
	return Decision{
		Outcome:     failOutcome(stage),
		Reason:      reason,
		Rule:        ruleID,
		Message:     p.generic,
		Diagnostics: []Diagnostic{{Rule: ruleID, Message: oneLine(msg)}},
	}
}

// oneLine drops expr's multi-line caret snippet from run-time errors: it
// points into the compiled program, not the policy file.
func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func runBool(m *vm.VM, prog *vm.Program, req *Request) (bool, error) {
	out, err := m.Run(prog, req)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// runTime evaluates a time and shows it in the policy's zone, so every
// runtime prints the same offset whatever zone the facts were written in.
func (p *Policy) runTime(m *vm.VM, prog *vm.Program, req *Request) (time.Time, error) {
	out, err := m.Run(prog, req)
	if err != nil {
		return time.Time{}, err
	}
	t, ok := out.(time.Time)
	if !ok {
		return time.Time{}, fmt.Errorf("expected a time, got %T", out)
	}
	t = t.In(p.cal.Loc)
	if !representable(t) {
		// JSON could not carry the decision: fail closed instead.
		return time.Time{}, fmt.Errorf("year %d is outside 0..9999", t.Year())
	}
	return t, nil
}

func (p *Policy) render(m *vm.VM, t template, req *Request) (string, error) {
	if len(t.progs) == 0 {
		if len(t.lits) == 0 {
			return "", nil
		}
		return t.lits[0], nil
	}
	var b strings.Builder
	for i, prog := range t.progs {
		b.WriteString(t.lits[i])
		out, err := m.Run(prog, req)
		if err != nil {
			return "", err
		}
		b.WriteString(p.formatValue(out))
	}
	b.WriteString(t.lits[len(t.lits)-1])
	return b.String(), nil
}

// Public is the view of d that a host may show the acting user verbatim.
// A private denial, and any failure to decide, shows only the generic
// message; a shadow outcome is indistinguishable from the stage's allow.
func (p *Policy) Public(d Decision) PublicDecision {
	return p.PublicView().Public(d)
}

// PublicView is what [Policy.Public] needs of the policy, so that a host
// holding only decisions (host.Engine, whose policy lives in a
// WebAssembly module) computes the same view.
func (p *Policy) PublicView() PublicView {
	def := p.stages[StageInvite].def
	return PublicView{Generic: p.generic, Allow: PublicDecision{Outcome: def.outcome, Message: def.message}}
}

// GenericDenial is the public view every private denial must equal, byte
// for byte.
func (p *Policy) GenericDenial() PublicDecision {
	return p.PublicView().GenericDenial()
}

// Rules lists the rule ids of a stage in evaluation order.
func (p *Policy) Rules(stage string) []string {
	st := p.stages[stage]
	if st == nil {
		return nil
	}
	ids := make([]string, len(st.rules))
	for i, r := range st.rules {
		ids[i] = r.id
	}
	return ids
}

// RuleInfo describes one rule for tools and documentation.
type RuleInfo struct {
	ID      string   `json:"id"`
	Stage   string   `json:"stage"`
	Pos     Position `json:"pos"`
	Outcome string   `json:"outcome"`
	Reason  string   `json:"reason"`
	Private bool     `json:"private,omitempty"`
}

// Rule describes the rule with the given id.
func (p *Policy) Rule(id string) (RuleInfo, bool) {
	r := p.ruleByID[id]
	if r == nil {
		return RuleInfo{}, false
	}
	return RuleInfo{ID: r.id, Stage: r.stage, Pos: r.pos, Outcome: r.outcome, Reason: r.reason, Private: r.private}, true
}

// Param returns a policy parameter by dotted path, e.g. "tiers.free.daily"
// or "pending_expiry". Durations come back as time.Duration, tables as
// maps and groups as structs.
func (p *Policy) Param(path string) (any, bool) {
	v := p.params
	for _, name := range strings.Split(path, ".") {
		var ok bool
		if v, ok = fetchConst(v, name); !ok {
			return nil, false
		}
	}
	return v, true
}
