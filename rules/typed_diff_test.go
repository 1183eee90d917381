package rules

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"
)

// repoPolicies loads every policy of the repository that loads.
func repoPolicies(t testing.TB) map[string]*Policy {
	t.Helper()
	files := []string{"../policies.yaml"}
	for _, glob := range []string{"../examples/policies/*.yaml", "testdata/*/*.yaml", "testdata/*.yaml"} {
		m, _ := filepath.Glob(glob)
		files = append(files, m...)
	}
	out := map[string]*Policy{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := Load(f, src); err == nil {
			out[f] = p
		}
	}
	if len(out) < 4 {
		t.Fatalf("only %d policies load", len(out))
	}
	return out
}

// Boundary values the random facts draw from: zero, one, limits and
// their neighbours, and the ints that overflow.
var (
	diffInts    = []int{0, 1, 2, 3, 4, 5, 9, 10, 19, 20, 21, 99, 100, 101, 248, 249, 250, 299, 300, 301, 999, 1000, 1001, 30000, math.MaxInt, math.MaxInt - 1}
	diffFloats  = []float64{0, 0.1, 0.19, 0.2, 0.21, 0.5, 1}
	diffStrings = []string{"", "a", "acme", "Acme", "free", "premium", "gold", "crypto now", "CLICK HERE", "hi", "é", "State U", "x y"}
	diffKinds   = []string{"person", "company"}
	diffTiers   = []string{"free", "premium", "business", "unknown"}
	diffZone    = time.FixedZone("PST", -8*3600)
	diffBase    = time.Date(2026, 3, 2, 10, 0, 0, 0, diffZone)
	diffDurs    = []time.Duration{0, -1, 1, time.Hour, -time.Hour, 24 * time.Hour, -7 * 24 * time.Hour, 7 * 24 * time.Hour, 90 * 24 * time.Hour, 365 * 24 * time.Hour}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func diffTime(r *rand.Rand) time.Time {
	if r.IntN(4) == 0 {
		return time.Time{}
	}
	return diffBase.Add(pick(r, diffDurs))
}

func diffList(r *rand.Rand) []string {
	n := r.IntN(4)
	if n == 0 && r.IntN(2) == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = pick(r, diffStrings)
	}
	return out
}

func diffMember(r *rand.Rand) *Member {
	c := func() Counts {
		return Counts{pick(r, diffInts), pick(r, diffInts), pick(r, diffInts), pick(r, diffInts)}
	}
	return &Member{
		ID: pick(r, []string{"alice", "bob", ""}), Kind: pick(r, diffKinds), Tier: pick(r, diffTiers),
		Status: pick(r, memberStatuses), RestrictedUntil: diffTime(r), SoftBannedUntil: diffTime(r),
		Connections: pick(r, diffInts), Company: pick(r, diffStrings), School: pick(r, diffStrings), Title: pick(r, diffStrings),
		Sent: c(), Received: c(), OverLimit: pick(r, diffInts), AcceptanceRate: pick(r, diffFloats),
		Settings: Settings{Invitations: pick(r, invitationOpts), Companies: diffList(r), Schools: diffList(r), Titles: diffList(r),
			RequireConfirmation: r.IntN(2) == 0, AutoAccept: AutoAccept{Companies: diffList(r), Schools: diffList(r), Titles: diffList(r)}},
	}
}

// diffRequest draws facts from the boundary pools. They need not pass
// Validate: expressions run on them directly.
func diffRequest(r *rand.Rand) *Request {
	q := &Request{
		Stage: pick(r, Stages), Now: diffBase.Add(pick(r, diffDurs)), Note: pick(r, diffStrings),
		Sender: diffMember(r), Recipient: diffMember(r),
		Pair: Pair{Connected: r.IntN(2) == 0, Degree: r.IntN(4), Mutual: pick(r, diffInts), KnowsEmail: r.IntN(2) == 0,
			InContacts: r.IntN(2) == 0, Blocked: r.IntN(5) == 0, Pending: pick(r, diffInts), Ignored: pick(r, diffInts),
			LastIgnoredAt: diffTime(r), Rejected: r.IntN(5) == 0, WithdrawnAt: diffTime(r)},
	}
	if r.IntN(4) == 0 {
		q.Recipient = nil
	}
	if r.IntN(8) == 0 {
		q.Now = time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC) // times past what JSON can write
	}
	return q
}

// diffExpr checks one typed expression against the VM on one request:
// the same value, or an error from both.
func diffExpr(t testing.TB, p *Policy, where string, prog *vm.Program, typed func(*Request) (string, error), q *Request, asTime bool) {
	t.Helper()
	m := &vm.VM{MemoryBudget: p.budget}
	out, vmErr := m.Run(prog, q)
	got, tErr := typed(q)
	if (vmErr != nil) != (tErr != nil) {
		t.Fatalf("%s: VM error %v, typed error %v\nfacts %s", where, vmErr, tErr, dumpFacts(q))
	}
	if vmErr != nil {
		return
	}
	want := p.formatValue(out)
	if tm, ok := out.(time.Time); ok && asTime {
		want = tm.In(p.cal.Loc).Format(time.RFC3339Nano)
	}
	if b, ok := out.(bool); ok {
		want = fmt.Sprint(b)
	}
	if got != want {
		t.Fatalf("%s: VM %q, typed %q\nfacts %s", where, want, got, dumpFacts(q))
	}
}

func dumpFacts(q *Request) string {
	s := fmt.Sprintf("%+v sender %+v", *q, *q.Sender)
	if q.Recipient != nil {
		s += fmt.Sprintf(" recipient %+v", *q.Recipient)
	}
	return s
}

// diffPolicy runs every typed expression of p against the VM on q, and
// the whole decision against the VM's (vmOnly).
func diffPolicy(t testing.TB, name string, p *Policy, q *Request) int {
	t.Helper()
	n := 0
	for _, sn := range Stages {
		st := p.stages[sn]
		if st == nil || st.typed == nil {
			continue
		}
		for i, r := range st.rules {
			tr := st.typed.rules[i]
			if f := st.typed.when[i]; f != nil {
				diffExpr(t, p, name+" "+r.id+" when", r.when, func(q *Request) (string, error) {
					b, err := f(q, "")
					return fmt.Sprint(b), err
				}, q, false)
				n++
			}
			if !tr.complete {
				continue
			}
			for h, prog := range r.msg.progs {
				hole := tr.holes[h]
				diffExpr(t, p, name+" "+r.id+" message", prog, func(q *Request) (string, error) {
					b, err := hole(q, nil)
					return string(b), err
				}, q, false)
				n++
			}
			timeDiff := func(what string, prog *vm.Program, f fnTime) {
				diffExpr(t, p, name+" "+r.id+" "+what, prog, func(q *Request) (string, error) {
					tm, err := f(q, "")
					return tm.In(p.cal.Loc).Format(time.RFC3339Nano), err
				}, q, true)
				n++
			}
			if tr.retry != nil {
				timeDiff("retry_after", r.retry, tr.retry)
			}
			for e, ef := range r.effects {
				if ef.until != nil {
					timeDiff("until", ef.until, tr.until[e])
				}
			}
		}
	}
	for _, sn := range Stages {
		// The stage variant these facts pick, condition by condition.
		st := p.stages[sn]
		if st == nil || st.typed == nil || st.typed.spec == nil {
			continue
		}
		if v := st.typed.spec.pick(q); v >= 0 {
			for _, s := range st.typed.spec.variant(v) {
				if f := s.f; f != nil {
					diffExpr(t, p, name+" "+st.rules[s.rule].id+" when (variant)", st.rules[s.rule].when, func(q *Request) (string, error) {
						b, err := f(q, "")
						return fmt.Sprint(b), err
					}, q, false)
					n++
				}
			}
		}
	}
	sameDecision(t, name, p, q)
	return n
}

// sameDecision requires Decide (typed where it can) to equal the VM's
// decision, and Explain without its trace to equal both.
func sameDecision(t testing.TB, name string, p *Policy, q *Request) {
	t.Helper()
	got := p.Decide(q)
	want := vmOnly(p).Decide(q)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: typed decision %+v, VM decision %+v\nfacts %s", name, got, want, dumpFacts(q))
	}
	ex := p.Explain(q)
	ex.Trace = nil
	if !reflect.DeepEqual(ex, want) {
		t.Fatalf("%s: explained decision %+v, VM decision %+v\nfacts %s", name, ex, want, dumpFacts(q))
	}
}

// vmOnly is p with every stage on expr's VM: the same rules and programs,
// no typed plan.
func vmOnly(p *Policy) *Policy {
	c := *p
	c.byStage = [3]*stage{}
	c.stages = make(map[string]*stage, len(p.stages))
	for name, st := range p.stages {
		vs := *st
		vs.typed = nil
		c.stages[name] = &vs
	}
	return &c
}

func TestTypedMatchesVM(t *testing.T) {
	ps := repoPolicies(t)
	r := rand.New(rand.NewPCG(1, 2))
	runs := 3000
	if testing.Short() {
		runs = 300
	}
	total := 0
	for name, p := range ps {
		for range runs {
			q := diffRequest(r)
			total += diffPolicy(t, name, p, q)
			// The same facts, valid: the decision's typed path proper.
			if q.Validate() == nil {
				sameDecision(t, name, p, q)
			}
		}
	}
	t.Logf("%d policies, %d expression runs compared", len(ps), total)
}

// TestTypedCoversRepoPolicies pins what the back end covers: every
// condition of the repository's policies runs typed.
func TestTypedCoversRepoPolicies(t *testing.T) {
	for name, p := range repoPolicies(t) {
		if !strings.Contains(name, "testdata") {
			for _, fb := range p.Fallbacks() {
				t.Errorf("%s: %s %s falls back: %s", name, fb.Rule, fb.What, fb.Why)
			}
		}
	}
}
