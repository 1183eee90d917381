package rules

import (
	"strconv"
	"time"
	"unsafe"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// typedStage is a stage compiled by the typed back end. A condition it
// does not cover is nil in when and runs on the VM alone, the rest of
// the stage typed; a rule's message, retry_after and effect times are
// typed where covered (complete), else a decision that matches that rule
// renders them on the VM.
type typedStage struct {
	when  []fnBool
	steps []step
	spec  *stageSpec // nil: no variants (typed_spec.go)
	rules []typedRule
}

type typedRule struct {
	complete bool
	holes    []holeFn
	retry    fnTime
	until    []fnTime
}

// holeFn appends a message hole's value, formatted as formatValue does.
type holeFn func(q *Request, buf []byte) ([]byte, error)

// Fallback is an expression that the typed back end does not cover and
// expr's VM evaluates instead.
type Fallback struct {
	// Stage and Rule locate the expression; What is when, message,
	// retry_after or until.
	Stage string `json:"stage"`
	Rule  string `json:"rule"`
	What  string `json:"what"`
	// Pos is the rule's position in the policy file.
	Pos Position `json:"pos"`
	// Why names the first node the back end does not cover.
	Why string `json:"why"`
}

// Fallbacks lists the expressions that run on expr's VM instead of the
// typed back end, and why. Each runs on the VM alone: an uncovered
// condition for its own rule, an uncovered message or time when its rule
// decides; the rest of the stage stays typed.
func (p *Policy) Fallbacks() []Fallback { return p.fallbacks }

// typedCompile builds the typed stage from the programs expr compiled.
func (l *loader) typedCompile(st *stage) {
	if i := stageIndex(st.name); i >= 0 {
		l.p.byStage[i] = st
	}
	c := &tcomp{cal: l.p.cal, tables: l.tableVals}
	miss := func(r *rule, what string, err error) {
		l.p.fallbacks = append(l.p.fallbacks, Fallback{Stage: st.name, Rule: r.id, What: what, Pos: r.pos, Why: err.Error()})
	}
	ts := &typedStage{}
	typed := 0
	var conds []condVal
	for _, r := range st.rules {
		cv, err := c.condVal(r.when)
		if err != nil {
			miss(r, "when", err)
		} else {
			typed++
		}
		conds = append(conds, cv)
		ts.when = append(ts.when, cv.f)
		tr := typedRule{complete: true}
		for _, prog := range r.msg.progs {
			h, err := c.hole(l.p, prog)
			if err != nil {
				miss(r, "message", err)
				tr.complete = false
				break
			}
			tr.holes = append(tr.holes, h)
		}
		if r.retry != nil {
			if tr.retry, err = c.timeOf(r.retry); err != nil {
				miss(r, "retry_after", err)
				tr.complete = false
			}
		}
		for _, e := range r.effects {
			if e.until == nil {
				tr.until = append(tr.until, nil)
				continue
			}
			u, err := c.timeOf(e.until)
			if err != nil {
				miss(r, "until", err)
				tr.complete = false
			}
			tr.until = append(tr.until, u)
		}
		ts.rules = append(ts.rules, tr)
	}
	// With no condition typed, the VM's one program for the whole stage
	// is faster than a VM run per rule.
	if typed > 0 {
		ts.steps = stepsOf(conds, 0)
		ts.spec = c.specialize(st, conds, ts.steps)
		st.typed = ts
	}
}

func (c *tcomp) timeOf(prog *vm.Program) (fnTime, error) {
	v, err := c.compile(prog.Node())
	if err != nil {
		return nil, err
	}
	if v.k != kTime {
		return nil, &notCovered{why: "the expression is not typed time"}
	}
	return v.t, nil
}

func (c *tcomp) hole(p *Policy, prog *vm.Program) (holeFn, error) {
	v, err := c.compile(prog.Node())
	if err != nil {
		return nil, err
	}
	loc := p.cal.Loc
	switch v.k {
	case kString:
		f := v.s
		return func(q *Request, b []byte) ([]byte, error) { s, err := f(q, ""); return append(b, s...), err }, nil
	case kInt:
		f := v.i
		return func(q *Request, b []byte) ([]byte, error) {
			x, err := f(q, "")
			return strconv.AppendInt(b, int64(x), 10), err
		}, nil
	case kFloat:
		f := v.f
		return func(q *Request, b []byte) ([]byte, error) {
			x, err := f(q, "")
			return strconv.AppendFloat(b, x, 'f', -1, 64), err
		}, nil
	case kTime:
		f := v.t
		return func(q *Request, b []byte) ([]byte, error) {
			x, err := f(q, "")
			return x.In(loc).AppendFormat(b, "Jan 2, 2006 3:04 PM MST"), err
		}, nil
	case kDur:
		f := v.d
		return func(q *Request, b []byte) ([]byte, error) {
			x, err := f(q, "")
			return append(b, humanDuration(x)...), err
		}, nil
	case kBool:
		f := v.b
		return func(q *Request, b []byte) ([]byte, error) { x, err := f(q, ""); return strconv.AppendBool(b, x), err }, nil
	}
	return nil, &notCovered{why: "a message hole of this type"}
}

// decideTyped decides on the typed back end, into d (the caller's, so a
// decision is not copied at each return). When ok is false, idx says
// what is left to the VM: the rule that holds, whose message or time is
// not typed (idx >= 0), or the whole decision, since an expression failed
// and the VM gives expr's own error (idx < 0).
func (p *Policy) decideTyped(d *Decision, st *stage, req *Request) (idx int, ok bool) {
	ts := st.typed
	idx, ok = p.typedMatch(st, req)
	if !ok {
		return -1, false
	}
	if idx < 0 {
		*d = Decision{Outcome: st.def.outcome, Reason: st.def.reason, Message: st.def.message}
		return -1, true
	}
	r, tr := st.rules[idx], &ts.rules[idx]
	if !tr.complete {
		return idx, false
	}
	*d = Decision{Outcome: r.outcome, Reason: r.reason, Rule: r.id, Private: r.private}
	if len(tr.holes) == 0 {
		if len(r.msg.lits) > 0 {
			d.Message = r.msg.lits[0]
		}
	} else {
		n := 0
		for _, s := range r.msg.lits {
			n += len(s)
		}
		buf := make([]byte, 0, n+16*len(tr.holes))
		var err error
		for i, h := range tr.holes {
			buf = append(buf, r.msg.lits[i]...)
			if buf, err = h(req, buf); err != nil {
				return -1, false
			}
		}
		buf = append(buf, r.msg.lits[len(r.msg.lits)-1]...)
		d.Message = unsafeString(buf)
	}
	var err error
	if tr.retry != nil {
		if d.RetryAfter, err = p.typedTime(tr.retry, req); err != nil {
			return -1, false
		}
	}
	if len(r.effects) > 0 {
		d.Effects = make([]Effect, 0, len(r.effects))
		for i, e := range r.effects {
			ef := Effect{Kind: e.kind, Subject: e.subject}
			if u := tr.until[i]; u != nil {
				if ef.Until, err = p.typedTime(u, req); err != nil {
					return -1, false
				}
			}
			d.Effects = append(d.Effects, ef)
		}
	}
	return idx, true
}

// typedMatch finds the first rule whose condition holds (-1 for none);
// ok is false when a condition failed.
func (p *Policy) typedMatch(st *stage, req *Request) (idx int, ok bool) {
	var rn *runner // for conditions the back end does not cover
	steps, sp := st.typed.steps, st.typed.spec
	idx, ok = -1, true
	for k := 0; k < len(steps); k++ {
		if sp != nil && k == sp.from {
			// The first condition that reads a table row: the rows are
			// known from here on.
			if v := sp.pick(req); v >= 0 {
				steps = sp.variant(v)
			}
			sp = nil
			if k == len(steps) {
				break
			}
		}
		s := &steps[k]
		i, f := s.rule, s.f
		var held bool
		var err error
		if s.in.op != opCall {
			// The same test as f and inline.held, the commonest shapes
			// written out here: a call of held costs more than the switch.
			var p unsafe.Pointer
			switch s.in.lf.root {
			case rootSender:
				p = unsafe.Pointer(req.Sender)
			case rootRecipient:
				p = unsafe.Pointer(req.Recipient)
			default:
				p = unsafe.Pointer(req)
			}
			switch {
			case s.in.op == opNil:
				held = (p == nil) != s.in.neg
			case p == nil:
				err = errTyped
			case s.in.op == opInt:
				held = s.in.mask&ordBit(*(*int)(unsafe.Add(p, s.in.lf.off)), s.in.ci) != 0
			case s.in.op == opStrEq:
				held = (*(*string)(unsafe.Add(p, s.in.lf.off)) == s.in.cs) != s.in.neg
			case s.in.op == opBool:
				held = *(*bool)(unsafe.Add(p, s.in.lf.off)) != s.in.neg
			default:
				held, err = s.in.held(req)
			}
		} else if f != nil {
			held, err = f(req, "")
		} else {
			// A condition the back end does not cover runs alone on the VM.
			if rn == nil {
				rn = vms.Get().(*runner)
				rn.MemoryBudget = p.budget
			}
			held, err = runBool(&rn.VM, st.rules[i].when, req)
		}
		if err != nil {
			idx, ok = -1, false
			break
		}
		if held {
			idx = i
			break
		}
	}
	if rn != nil {
		vms.Put(rn)
	}
	return idx, ok
}

// stageIndex is a stage's place in Stages, or -1.
func stageIndex(name string) int {
	switch name {
	case StageInvite:
		return 0
	case StageDeliver:
		return 1
	case StageAccept:
		return 2
	}
	return -1
}

// stage finds a stage without hashing its name.
func (p *Policy) stage(name string) *stage {
	if i := stageIndex(name); i >= 0 && p.byStage[i] != nil {
		return p.byStage[i]
	}
	return p.stages[name]
}

func (p *Policy) typedTime(f fnTime, req *Request) (time.Time, error) {
	t, err := f(req, "")
	if err != nil {
		return t, err
	}
	t = t.In(p.cal.Loc)
	if !representable(t) {
		return t, errTyped
	}
	return t, nil
}

// unsafeString keeps the message's buffer as its string: nothing else
// holds the buffer, so it never changes.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// nodeOf is the checked tree of a program, for tests.
func nodeOf(prog *vm.Program) ast.Node { return prog.Node() }
