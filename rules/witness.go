package rules

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// Witness is a request found to reach a rule: the rule decides it.
type Witness struct {
	Rule  string `json:"rule"`
	Stage string `json:"stage"`
	// Changes is the request as a policy test writes it: only the facts
	// that differ from the policy's test_defaults, or the whole request
	// when it has none.
	Changes  map[string]any `json:"changes"`
	Request  *Request       `json:"request"`
	Decision Decision       `json:"decision"`
}

// Budgets of the witness search, per stage and per rule not found by
// changing one fact at a time.
const (
	searchRandom   = 1500
	searchPerRule  = 1500
	minTriedForAll = 50
)

// stageSearch is what the search learnt about one stage.
type stageSearch struct {
	witness map[string]*Witness
	// held and tried count, per rule, the requests on which its condition
	// alone held, and those on which it evaluated without error.
	held, tried map[string]int
	// earlier counts, per rule, the deciding rules of requests on which its
	// condition held but another rule decided first.
	earlier map[string]map[string]int
	// retryPast is, per rule, the witness whose retry_after is the latest
	// of those before now.
	retryPast map[string]*Witness
	total     int
}

type searcher struct {
	a       *analysis
	base    *Request
	baseMap map[string]any
	vars    []variable
	rnd     *rand.Rand
	m       vm.VM
	st      *stageSearch
	rules   []*rule
}

// search looks for a witness of every rule of a stage: first by changing
// one fact of the base request at a time, then by random changes of
// several facts, then, for each rule still without one, by random changes
// of the facts its condition reads.
func (a *analysis) search(stageName string) *stageSearch {
	st := &stageSearch{witness: map[string]*Witness{}, held: map[string]int{}, tried: map[string]int{},
		earlier: map[string]map[string]int{}, retryPast: map[string]*Witness{}}
	s := &searcher{a: a, base: a.baseRequest(stageName), rnd: rand.New(rand.NewPCG(1, uint64(len(stageName)))), st: st,
		rules: a.p.stages[stageName].rules}
	s.baseMap = requestMap(s.base)
	var c constants
	c.add(a.p.params)
	for _, r := range s.rules {
		if r.when != nil {
			n := r.when.Node()
			ast.Walk(&n, collector{&c})
		}
	}
	s.vars = a.variables(&c, s.base)
	s.try(s.base, true)
	for _, v := range s.vars {
		for _, val := range v.values {
			r := cloneRequest(s.base)
			v.set(r, val)
			s.try(r, true)
		}
	}
	for range searchRandom {
		s.try(s.random(s.vars, 2+s.rnd.IntN(4)), true)
	}
	for _, r := range s.rules {
		if st.witness[r.id] != nil || r.when == nil {
			continue
		}
		vars := s.varsFor(r)
		if len(vars) == 0 {
			continue
		}
		for range searchPerRule {
			k := 1 + s.rnd.IntN(min(len(vars), 4))
			req := s.random(vars, k)
			if s.rnd.IntN(4) == 0 { // and something else, to get past earlier rules
				v := s.vars[s.rnd.IntN(len(s.vars))]
				v.set(req, v.values[s.rnd.IntN(len(v.values))])
			}
			s.try(req, false)
			if st.witness[r.id] != nil {
				break
			}
		}
	}
	return st
}

// random changes k distinct variables of the base request.
func (s *searcher) random(vars []variable, k int) *Request {
	r := cloneRequest(s.base)
	idx := s.rnd.Perm(len(vars))
	for _, i := range idx[:min(k, len(idx))] {
		v := vars[i]
		v.set(r, v.values[s.rnd.IntN(len(v.values))])
	}
	return r
}

// varsFor lists the variables a rule's condition reads.
func (s *searcher) varsFor(r *rule) []variable {
	refs := factRefs{paths: map[string]bool{}}
	n := r.when.Node()
	ast.Walk(&n, refs)
	// Keep the longest paths: walking sender.sent.day also visits sender.
	for p := range refs.paths {
		for q := range refs.paths {
			if strings.HasPrefix(q, p+".") {
				delete(refs.paths, p)
				break
			}
		}
	}
	var out []variable
	for _, v := range s.vars {
		for p := range refs.paths {
			if v.path == p || strings.HasPrefix(v.path, p+".") || strings.HasPrefix(p, v.path+".") {
				out = append(out, v)
				break
			}
		}
	}
	return out
}

// try decides one request and records what it shows. count says whether
// it joins the sample the always-true and always-false checks run on.
func (s *searcher) try(req *Request, count bool) {
	st := s.st
	d := s.a.p.Decide(req)
	ok := len(d.Diagnostics) == 0 && d.Reason != ReasonInvalidRequest
	if ok && d.Rule != "" && st.witness[d.Rule] == nil {
		st.witness[d.Rule] = s.witness(req, d)
	}
	// Of the retry_after times before now, keep the latest: the most
	// plausible example.
	if ok && d.Rule != "" && !d.RetryAfter.IsZero() && d.RetryAfter.Before(req.Now) {
		if prev := st.retryPast[d.Rule]; prev == nil || d.RetryAfter.After(prev.Decision.RetryAfter) {
			st.retryPast[d.Rule] = s.witness(req, d)
		}
	}
	if !count || !ok {
		return
	}
	st.total++
	for _, r := range s.rules {
		held, err := runBool(&s.m, r.when, req)
		if err != nil {
			continue
		}
		st.tried[r.id]++
		if !held {
			continue
		}
		st.held[r.id]++
		if d.Rule != r.id {
			if st.earlier[r.id] == nil {
				st.earlier[r.id] = map[string]int{}
			}
			st.earlier[r.id][d.Rule]++
		}
	}
}

func (s *searcher) witness(req *Request, d Decision) *Witness {
	w := &Witness{Rule: d.Rule, Stage: req.Stage, Request: cloneRequest(req), Decision: d}
	if s.a.builtinBase {
		w.Changes = requestMap(req) // no test_defaults to lay it over
	} else {
		w.Changes, _ = diffMap(s.baseMap, requestMap(req)).(map[string]any)
	}
	if w.Changes == nil {
		w.Changes = map[string]any{}
	}
	return w
}

// requestMap is a request as plain JSON values.
func requestMap(r *Request) map[string]any {
	b, _ := json.Marshal(r)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// diffMap returns what over changes in base: for mappings, only the keys
// that differ, recursively; else over itself (nil when equal).
func diffMap(base, over any) any {
	bm, ok1 := base.(map[string]any)
	om, ok2 := over.(map[string]any)
	if !ok1 || !ok2 {
		if reflect.DeepEqual(base, over) {
			return nil
		}
		if over == nil {
			return explicitNull{}
		}
		return over
	}
	out := map[string]any{}
	for k, ov := range om {
		if d := diffMap(bm[k], ov); d != nil {
			out[k] = d
		}
	}
	for k, bv := range bm {
		if _, ok := om[k]; !ok && bv != nil {
			out[k] = zeroLike(bv)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// explicitNull marks a fact changed to null, such as a missing recipient.
type explicitNull struct{}

// MarshalJSON writes null.
func (explicitNull) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// zeroLike is the value of a key the base has and the witness omits: a
// zero time, which JSON leaves out.
func zeroLike(v any) any {
	if _, ok := v.(string); ok {
		return time.Time{}.Format(time.RFC3339)
	}
	return nil
}

// baseRequest is the request the search starts from: the policy's
// test_defaults when they decode to a valid request, else a typical one.
func (a *analysis) baseRequest(stage string) *Request {
	if td := mapValue(a.doc, "test_defaults"); td != nil {
		b, err := json.Marshal(a.l.plain(td))
		if err == nil {
			if r, err := DecodeRequestFast(b); err == nil && r.Recipient != nil && a.p.checkTiers(r) == nil {
				r.Stage = stage
				a.builtinBase = false
				return r
			}
		}
	}
	a.builtinBase = true
	tier := "free"
	if a.p.tiers != nil && !a.p.tiers[tier] {
		names := strings.Split(a.p.tierList, ", ")
		tier = names[0]
	}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, a.p.cal.Loc)
	member := func(id, company, school string) *Member {
		return &Member{ID: id, Kind: "person", Tier: tier, Status: "active", Connections: 100, Company: company, School: school,
			AcceptanceRate: 0.5, Settings: Settings{Invitations: "everyone"}}
	}
	return &Request{Stage: stage, Now: now, Sender: member("alice", "Acme", "State U"), Recipient: member("bob", "Globex", "Tech"),
		Pair: Pair{Degree: 2, Mutual: 3}}
}

// Witnesses searches a request that reaches each rule of the policy in
// src, in stage and rule order. Rules it finds none for are left out; see
// [Warnings] for them.
func Witnesses(filename string, src []byte) (out []*Witness, err error) {
	defer guard(&err)
	a, err := analyze(filename, src)
	if err != nil {
		return nil, err
	}
	for _, s := range Stages {
		st := a.search(s)
		for _, r := range a.p.stages[s].rules {
			if w := st.witness[r.id]; w != nil {
				out = append(out, w)
			}
		}
	}
	return out, nil
}

// sortedCounts lists a count map's keys, most counted first.
func sortedCounts(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	return keys
}
