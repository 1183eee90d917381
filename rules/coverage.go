package rules

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr/vm"
)

// Coverage is how much of a policy its own tests exercise: which rules
// some test reaches (no earlier rule decided first) and which one
// decides, and, for a condition of several ||-joined parts, which parts
// hold in some test that reaches the rule.
type Coverage struct {
	File  string         `json:"file"`
	Rules []RuleCoverage `json:"rules"`
	// RulesDecided and BranchesHeld count what the tests cover, of
	// RulesTotal and BranchesTotal.
	RulesDecided  int `json:"rules_decided"`
	RulesTotal    int `json:"rules_total"`
	BranchesHeld  int `json:"branches_held"`
	BranchesTotal int `json:"branches_total"`
}

// RuleCoverage is one rule's coverage.
type RuleCoverage struct {
	ID    string   `json:"id"`
	Stage string   `json:"stage"`
	Pos   Position `json:"pos"`
	// Reached counts tests in which every earlier rule of the stage was
	// false, so this rule was evaluated; Decided those in which it held.
	Reached  int              `json:"reached"`
	Decided  int              `json:"decided"`
	Branches []BranchCoverage `json:"branches,omitempty"`
}

// BranchCoverage is one ||-joined part of a condition: Held counts the
// tests that reach the rule with this part true.
type BranchCoverage struct {
	Pos  Position `json:"pos"`
	Text string   `json:"text"`
	Held int      `json:"held"`
}

// Full reports whether every rule is decided by some test and every
// branch holds in some test.
func (c *Coverage) Full() bool {
	return c.RulesDecided == c.RulesTotal && c.BranchesHeld == c.BranchesTotal
}

// ComputeCoverage loads the policy in src and runs its tests natively,
// recording which rules and branches they reach.
func ComputeCoverage(filename string, src []byte) (c *Coverage, err error) {
	defer guard(&err)
	a, err := analyze(filename, src)
	if err != nil {
		return nil, err
	}
	return a.coverage(), nil
}

func (a *analysis) coverage() *Coverage {
	p := a.p
	c := &Coverage{File: p.file}
	type ruleState struct {
		rc       *RuleCoverage
		branches []branch
	}
	byStage := map[string][]ruleState{}
	for _, s := range Stages {
		for _, r := range p.stages[s].rules {
			rc := RuleCoverage{ID: r.id, Stage: s, Pos: r.pos}
			bs := a.branches(r)
			if len(bs) > 1 {
				for _, b := range bs {
					rc.Branches = append(rc.Branches, BranchCoverage{Pos: b.pos, Text: b.text})
				}
			}
			c.Rules = append(c.Rules, rc)
			byStage[s] = append(byStage[s], ruleState{branches: bs})
		}
	}
	// Point the states at the rules' final places in c.Rules.
	i := 0
	for _, s := range Stages {
		for j := range byStage[s] {
			byStage[s][j].rc = &c.Rules[i]
			i++
		}
	}
	var m vm.VM
	for _, t := range p.tests {
		req := t.req
		if req.Validate() != nil || p.checkTiers(req) != nil {
			continue // fails closed before any rule
		}
		for _, st := range byStage[req.Stage] {
			st.rc.Reached++
			held, err := runBool(&m, p.ruleByID[st.rc.ID].when, req)
			if err != nil {
				break
			}
			if len(st.rc.Branches) > 0 {
				for k, b := range st.branches {
					if ok, err := runBool(&m, b.prog, req); err == nil && ok {
						st.rc.Branches[k].Held++
					}
				}
			}
			if held {
				st.rc.Decided++
				break
			}
		}
	}
	for _, rc := range c.Rules {
		c.RulesTotal++
		if rc.Decided > 0 {
			c.RulesDecided++
		}
		for _, b := range rc.Branches {
			c.BranchesTotal++
			if b.Held > 0 {
				c.BranchesHeld++
			}
		}
	}
	return c
}

// WriteText writes a summary line and one positioned line per rule no
// test decides and per branch that never holds.
func (c *Coverage) WriteText(b *strings.Builder) {
	fmt.Fprintf(b, "coverage: %s: %d of %d rules decided by a test (%s), %d of %d branches held (%s)\n",
		c.File, c.RulesDecided, c.RulesTotal, percent(c.RulesDecided, c.RulesTotal),
		c.BranchesHeld, c.BranchesTotal, percent(c.BranchesHeld, c.BranchesTotal))
	for _, rc := range c.Rules {
		if rc.Decided == 0 {
			fmt.Fprintf(b, "%s: rule %q: no test decides it (%d reach it)\n", rc.Pos, rc.ID, rc.Reached)
		}
		for k, br := range rc.Branches {
			if br.Held == 0 {
				fmt.Fprintf(b, "%s: rule %q: branch %d of %d holds in no test: %s\n", br.Pos, rc.ID, k+1, len(rc.Branches), br.Text)
			}
		}
	}
}

func percent(n, of int) string {
	if of == 0 {
		return "100%"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}
