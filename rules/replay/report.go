package replay

import (
	"cmp"
	"slices"
	"time"

	"github.com/connrules/connrules/rules"
)

// Report is what a replay or a simulation found. Its JSON encoding is the
// --format json output.
type Report struct {
	// Mode is "replay" (each decision re-decided on its recorded facts) or
	// "simulate" (the recorded actions re-run through the lifecycle).
	Mode string `json:"mode"`
	// Policy names the new policy; Baseline the baseline, or is
	// "recorded decisions" when there is none.
	Policy   string `json:"policy"`
	Baseline string `json:"baseline"`
	// Events is the number of events read.
	Events int `json:"events"`
	// Decisions is the number of decisions compared.
	Decisions int `json:"decisions"`
	// Flips counts decisions whose outcome, reason or deciding rule changed.
	Flips int `json:"flips"`
	// Reworded counts decisions that kept outcome, reason and rule but
	// changed message or retry_after (a lower limit shown in the text).
	Reworded int `json:"reworded"`
	// Stages counts decisions and flips per stage, in stage order.
	Stages []StageCount `json:"stages"`
	// Transitions lists each (old → new) pair that occurred, most frequent
	// first.
	Transitions []Transition `json:"transitions"`
	// Rules lists every rule that decides more or fewer requests than
	// before, most changed first.
	Rules []RuleChange `json:"rules"`
	// Members lists the members most affected, most flips first.
	Members []MemberCount `json:"members"`
	// Simulation holds what only a simulation has; nil for a replay.
	Simulation *SimulationCounts `json:"simulation,omitempty"`
}

// Outcome is a decision's outcome and reason, the key of a transition.
type Outcome struct {
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
}

func (o Outcome) String() string { return o.Outcome + "/" + o.Reason }

// StageCount is the number of decisions and flips of one stage.
type StageCount struct {
	Stage     string `json:"stage"`
	Decisions int    `json:"decisions"`
	Flips     int    `json:"flips"`
}

// Transition is every flip from one outcome/reason to another.
type Transition struct {
	From     Outcome   `json:"from"`
	To       Outcome   `json:"to"`
	Count    int       `json:"count"`
	Examples []Example `json:"examples"`
}

// RuleChange is how much more (Gained) or less (Lost) often a rule
// decides. Rule is empty for the stage's default.
type RuleChange struct {
	Stage    string    `json:"stage"`
	Rule     string    `json:"rule"`
	Gained   int       `json:"gained"`
	Lost     int       `json:"lost"`
	Examples []Example `json:"examples"`
}

// MemberCount is how many flips touched a member, as sender or recipient.
type MemberCount struct {
	Member      string `json:"member"`
	Flips       int    `json:"flips"`
	AsSender    int    `json:"as_sender"`
	AsRecipient int    `json:"as_recipient"`
}

// Example is one flipped decision: where it is in the log and both answers.
type Example struct {
	// Line is the log line of the event (replay), or of the action's
	// first event (simulate).
	Line      int       `json:"line"`
	Seq       uint64    `json:"seq"`
	At        time.Time `json:"at"`
	Stage     string    `json:"stage"`
	Sender    string    `json:"sender"`
	Recipient string    `json:"recipient,omitempty"`
	Old       Brief     `json:"old"`
	New       Brief     `json:"new"`
}

// Brief is the part of a decision a report shows.
type Brief struct {
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	Rule    string `json:"rule,omitempty"`
}

func brief(d *rules.Decision) Brief { return Brief{d.Outcome, d.Reason, d.Rule} }

// SimulationCounts is what a simulation adds: the actions it re-ran and
// those it could not, by cause.
type SimulationCounts struct {
	Actions int `json:"actions"`
	// NotRerun counts recorded actions that had nothing to act on under the
	// new policy, by cause, e.g. an accept of an invitation the new policy
	// refused to send.
	NotRerun map[string]int `json:"not_rerun"`
	// NewOnly counts, with a baseline, actions that had nothing to act on
	// under the baseline but did under the new policy.
	NewOnly map[string]int `json:"new_only"`
}

// Limits of a report's examples and member list.
const (
	DefaultExamples = 3
	DefaultMembers  = 10
)

// agg folds compared decisions into a report, in log order.
type agg struct {
	examples, members int
	r                 Report
	stages            map[string]*StageCount
	trans             map[[2]Outcome]*Transition
	rules             map[[2]string]*RuleChange
	mem               map[string]*MemberCount
}

func newAgg(mode string, examples, members int) *agg {
	if examples <= 0 {
		examples = DefaultExamples
	}
	if members <= 0 {
		members = DefaultMembers
	}
	a := &agg{examples: examples, members: members, r: Report{Mode: mode},
		stages: map[string]*StageCount{}, trans: map[[2]Outcome]*Transition{},
		rules: map[[2]string]*RuleChange{}, mem: map[string]*MemberCount{}}
	for _, s := range rules.Stages {
		a.stages[s] = &StageCount{Stage: s}
	}
	return a
}

// add compares one decision pair. ex carries the event's place and the
// members; its Old and New are filled here.
func (a *agg) add(ex Example, old, new *rules.Decision) {
	a.r.Decisions++
	sc := a.stages[ex.Stage]
	if sc == nil {
		sc = &StageCount{Stage: ex.Stage}
		a.stages[ex.Stage] = sc
	}
	sc.Decisions++
	if old.Outcome == new.Outcome && old.Reason == new.Reason && old.Rule == new.Rule {
		if old.Message != new.Message || !old.RetryAfter.Equal(new.RetryAfter) {
			a.r.Reworded++
		}
		return
	}
	a.r.Flips++
	sc.Flips++
	ex.Old, ex.New = brief(old), brief(new)
	key := [2]Outcome{{old.Outcome, old.Reason}, {new.Outcome, new.Reason}}
	t := a.trans[key]
	if t == nil {
		t = &Transition{From: key[0], To: key[1]}
		a.trans[key] = t
	}
	t.Count++
	if len(t.Examples) < a.examples {
		t.Examples = append(t.Examples, ex)
	}
	if old.Rule != new.Rule {
		a.rule(ex, old.Rule, false)
		a.rule(ex, new.Rule, true)
	}
	a.member(ex.Sender, true)
	if ex.Recipient != "" && ex.Recipient != ex.Sender {
		a.member(ex.Recipient, false)
	}
}

func (a *agg) rule(ex Example, id string, gained bool) {
	key := [2]string{ex.Stage, id}
	rc := a.rules[key]
	if rc == nil {
		rc = &RuleChange{Stage: ex.Stage, Rule: id}
		a.rules[key] = rc
	}
	if gained {
		rc.Gained++
	} else {
		rc.Lost++
	}
	if len(rc.Examples) < a.examples {
		rc.Examples = append(rc.Examples, ex)
	}
}

func (a *agg) member(id string, sender bool) {
	if id == "" {
		return
	}
	m := a.mem[id]
	if m == nil {
		m = &MemberCount{Member: id}
		a.mem[id] = m
	}
	m.Flips++
	if sender {
		m.AsSender++
	} else {
		m.AsRecipient++
	}
}

// report sorts the tallies into the final report.
func (a *agg) report() *Report {
	r := a.r
	r.Stages = []StageCount{}
	for _, s := range rules.Stages {
		r.Stages = append(r.Stages, *a.stages[s])
	}
	r.Transitions = []Transition{}
	for _, t := range a.trans {
		r.Transitions = append(r.Transitions, *t)
	}
	slices.SortFunc(r.Transitions, func(x, y Transition) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.From.String(), y.From.String()), cmp.Compare(x.To.String(), y.To.String()))
	})
	r.Rules = []RuleChange{}
	for _, rc := range a.rules {
		r.Rules = append(r.Rules, *rc)
	}
	stageIdx := func(s string) int { return slices.Index(rules.Stages, s) }
	slices.SortFunc(r.Rules, func(x, y RuleChange) int {
		return cmp.Or(cmp.Compare(y.Gained+y.Lost, x.Gained+x.Lost), cmp.Compare(stageIdx(x.Stage), stageIdx(y.Stage)), cmp.Compare(x.Rule, y.Rule))
	})
	r.Members = []MemberCount{}
	for _, m := range a.mem {
		r.Members = append(r.Members, *m)
	}
	slices.SortFunc(r.Members, func(x, y MemberCount) int {
		return cmp.Or(cmp.Compare(y.Flips, x.Flips), cmp.Compare(x.Member, y.Member))
	})
	if len(r.Members) > a.members {
		r.Members = r.Members[:a.members]
	}
	return &r
}
