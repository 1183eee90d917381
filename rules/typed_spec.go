package rules

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/expr-lang/expr/vm"
)

// Stage variants. A params table row chosen by a fact field, such as
// tier: params.tiers[sender.tier], is the same for every rule of one
// decision. A stage whose conditions read such rows gets one variant per
// combination of keys, compiled with the row's fields as constants: they
// fold (tier.monthly > 0 is false for every tier of policies.yaml, so
// monthly_limit is dropped), and the rest become comparisons of a fact
// with a constant. A decision picks its variant once, when it reaches
// the first condition that reads a row, and the first decision that
// picks a variant compiles it. Facts whose key is in no table
// (a bad tier fails Validate, but another table's key may be missing)
// keep the general conditions, which fail as expr does.

// maxVariants bounds the variants of a stage (and so its load time).
const maxVariants = 16

// step is one condition to run; a condition the back end does not cover
// (f nil) runs on the VM, and one that is always false is left out.
type step struct {
	rule int
	f    fnBool
	in   inline
}

// Inline conditions: the simplest shapes, which typedMatch evaluates in
// its loop without calling the closure (a call per rule was most of what
// was left of the allow's time).
const (
	opCall    uint8 = iota // call f
	opInt                  // int field against a constant, by mask
	opStrEq                // string field == constant (neg: !=)
	opBool                 // bool field (neg: its negation)
	opNil                  // member == nil (neg: != nil)
	opStrIn                // string field in a few constants (neg: not in)
	opIntBits              // int field in a set of 0..63 (neg: not in)
	opTime                 // time field against another, by mask
)

// inline is an inline condition; its closure computes the same.
type inline struct {
	op   uint8
	neg  bool
	mask uint8
	lf   leaf
	ci   int
	cs   string
	set  []string // opStrIn
	bits uint64   // opIntBits
	lf2  leaf     // opTime: the right operand
}

// held evaluates an inline condition.
func (in *inline) held(q *Request) (bool, error) {
	var p unsafe.Pointer
	switch in.lf.root {
	case rootSender:
		p = unsafe.Pointer(q.Sender)
	case rootRecipient:
		p = unsafe.Pointer(q.Recipient)
	default:
		p = unsafe.Pointer(q)
	}
	switch {
	case in.op == opNil:
		return (p == nil) != in.neg, nil
	case p == nil:
		return false, errTyped
	case in.op == opInt:
		return in.mask&ordBit(*(*int)(unsafe.Add(p, in.lf.off)), in.ci) != 0, nil
	case in.op == opStrEq:
		return (*(*string)(unsafe.Add(p, in.lf.off)) == in.cs) != in.neg, nil
	case in.op == opStrIn:
		return slices.Contains(in.set, *(*string)(unsafe.Add(p, in.lf.off))) != in.neg, nil
	case in.op == opIntBits:
		x := uint(*(*int)(unsafe.Add(p, in.lf.off)))
		return (x < 64 && in.bits>>x&1 != 0) != in.neg, nil
	case in.op == opTime:
		p2 := in.lf2.base(q)
		if p2 == nil {
			return false, errTyped
		}
		x, y := (*time.Time)(unsafe.Add(p, in.lf.off)), (*time.Time)(unsafe.Add(p2, in.lf2.off))
		return in.mask&ordBit(x.Compare(*y), 0) != 0, nil
	}
	return *(*bool)(unsafe.Add(p, in.lf.off)) != in.neg, nil
}

// negated is the inline condition of the negation.
func (in *inline) negated() *inline {
	if in == nil {
		return nil
	}
	n := *in
	n.neg = !n.neg
	n.mask ^= 7
	return &n
}

// condVal is a compiled condition.
type condVal struct {
	f       fnBool // nil: not covered
	in      *inline
	never   bool // the constant false
	touched bool // reads a table row chosen by a fact field
}

// stageSpec holds a stage's variants. Each is compiled when a decision
// first needs it, so loading a policy costs no more than before.
type stageSpec struct {
	leaves []leaf     // the key fields, in a fixed order
	cands  [][]string // each field's keys, sorted
	// from is the first step that differs: every variant shares the
	// general steps before it.
	from     int
	variants []atomic.Pointer[[]step]

	mu      sync.Mutex // serialises compiling; c is not safe for concurrent use
	c       *tcomp
	st      *stage
	conds   []condVal
	general []step
	first   int // the first rule that reads a row
}

func (c *tcomp) condVal(prog *vm.Program) (condVal, error) {
	c.touched = false
	v, err := c.compile(prog.Node())
	if err != nil {
		return condVal{}, err
	}
	if v.k != kBool {
		return condVal{}, &notCovered{why: "the condition is not typed bool"}
	}
	never := v.isC && !v.c.(bool)
	return condVal{f: v.b, in: v.in, never: never, touched: c.touched}, nil
}

// stepsOf lists the conditions of rules from on that can hold.
func stepsOf(conds []condVal, from int) []step {
	var out []step
	for i := from; i < len(conds); i++ {
		if cv := conds[i]; !cv.never {
			s := step{rule: i, f: cv.f}
			if cv.in != nil {
				s.in = *cv.in
			}
			out = append(out, s)
		}
	}
	return out
}

// specialize compiles the variants of a stage whose general conditions
// are conds; nil when no condition reads a row or there would be too many.
func (c *tcomp) specialize(st *stage, conds []condVal, general []step) *stageSpec {
	first := slices.IndexFunc(conds, func(cv condVal) bool { return cv.touched })
	if first < 0 || len(c.keys) == 0 {
		return nil
	}
	sp := &stageSpec{}
	for lf := range c.keys {
		sp.leaves = append(sp.leaves, lf)
	}
	slices.SortFunc(sp.leaves, func(a, b leaf) int {
		return cmp.Or(cmp.Compare(a.root, b.root), cmp.Compare(a.off, b.off))
	})
	total := 1
	for _, lf := range sp.leaves {
		var ks []string
		for k := range c.keys[lf] {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		sp.cands = append(sp.cands, ks)
		total *= len(ks)
		if total > maxVariants {
			return nil
		}
	}
	for sp.from < len(general) && general[sp.from].rule < first {
		sp.from++
	}
	sp.variants = make([]atomic.Pointer[[]step], total)
	sp.c, sp.st, sp.conds, sp.general, sp.first = c, st, conds, general, first
	return sp
}

// variant is the steps of variant v, compiled on first use.
func (sp *stageSpec) variant(v int) []step {
	if steps := sp.variants[v].Load(); steps != nil {
		return *steps
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if steps := sp.variants[v].Load(); steps != nil {
		return *steps
	}
	c := sp.c
	c.fix = map[leaf]string{}
	defer func() { c.fix = nil }()
	rem := v
	for j := len(sp.leaves) - 1; j >= 0; j-- {
		c.fix[sp.leaves[j]] = sp.cands[j][rem%len(sp.cands[j])]
		rem /= len(sp.cands[j])
	}
	vc := slices.Clone(sp.conds)
	for i := sp.first; i < len(vc); i++ {
		if vc[i].touched {
			// It compiled in general, so it compiles with constants.
			if cv, err := c.condVal(sp.st.rules[i].when); err == nil {
				vc[i] = cv
			}
		}
	}
	steps := append(sp.general[:sp.from:sp.from], stepsOf(vc, sp.first)...)
	sp.variants[v].Store(&steps)
	return steps
}

// pick is the variant for the request's keys, or -1: a member is
// missing or a key is in no table.
func (sp *stageSpec) pick(q *Request) int {
	v := 0
	for j, lf := range sp.leaves {
		p := lf.base(q)
		if p == nil {
			return -1
		}
		i := slices.Index(sp.cands[j], *(*string)(unsafe.Add(p, lf.off)))
		if i < 0 {
			return -1
		}
		v = v*len(sp.cands[j]) + i
	}
	return v
}
