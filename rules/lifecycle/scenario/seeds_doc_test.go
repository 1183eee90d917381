package scenario_test

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// seedRow is one row of the table in docs/seeds.md.
type seedRow struct {
	line                                      int
	seed, statement, rules, life, scen, notes string
}

// readSeedTable reads the rows of the table in docs/seeds.md.
func readSeedTable(t *testing.T) []seedRow {
	t.Helper()
	src, err := os.ReadFile("../../../docs/seeds.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []seedRow
	for i, l := range strings.Split(string(src), "\n") {
		if !strings.HasPrefix(l, "| 00") {
			continue
		}
		c := strings.Split(strings.Trim(strings.TrimSpace(l), "|"), "|") // no cell holds a |
		if len(c) != 6 {
			t.Errorf("docs/seeds.md:%d: %d columns, want 6 (seed, statement, rules, lifecycle, scenario, notes)", i+1, len(c))
			continue
		}
		for j := range c {
			c[j] = strings.TrimSpace(c[j])
		}
		rows = append(rows, seedRow{i + 1, c[0], c[1], c[2], c[3], c[4], c[5]})
	}
	return rows
}

var backticked = regexp.MustCompile("`([^`]+)`")

func names(cell string) []string {
	var out []string
	for _, m := range backticked.FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1])
	}
	return out
}

// seedTableProblems checks rows against the policy, lifecycle.Network and
// examples/scenarios, and returns one line per problem.
func seedTableProblems(p *rules.Policy, rows []seedRow) []string {
	var out []string
	bad := func(r seedRow, format string, a ...any) {
		out = append(out, fmt.Sprintf("docs/seeds.md:%d: ", r.line)+fmt.Sprintf(format, a...))
	}
	perSeed := map[string]int{}
	network := reflect.TypeOf(&lifecycle.Network{})
	for _, r := range rows {
		perSeed[r.seed]++
		if !seedID.MatchString(r.seed) {
			bad(r, "seed %q is not 000..004", r.seed)
		}
		if r.statement == "" {
			bad(r, "no statement")
		}
		ids, methods, scens := names(r.rules), names(r.life), names(r.scen)
		for _, id := range ids {
			if _, ok := p.Rule(id); !ok {
				bad(r, "rule %q is not in policies.yaml", id)
			}
		}
		for _, m := range methods {
			name, ok := strings.CutPrefix(m, "Network.")
			if _, found := network.MethodByName(name); !ok || !found {
				bad(r, "%q is not a method of lifecycle.Network", m)
			}
		}
		for _, s := range scens {
			if _, err := os.Stat("../../../examples/scenarios/" + s + ".yaml"); err != nil {
				bad(r, "scenario %q is not in examples/scenarios", s)
			}
		}
		if len(ids)+len(methods)+len(scens) == 0 && !strings.Contains(r.notes, "Not modelled") {
			bad(r, "names no rule, lifecycle method or scenario, and does not say why it is not modelled")
		}
	}
	for _, s := range []string{"000", "001", "002", "003", "004"} {
		if perSeed[s] == 0 {
			out = append(out, "docs/seeds.md: no row for seed "+s)
		}
	}
	return out
}

var seedID = regexp.MustCompile(`^00[0-4]$`)

func loadDefaultPolicy(t *testing.T) *rules.Policy {
	t.Helper()
	src, err := os.ReadFile("../../../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := rules.Load("policies.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSeedTable: every row of docs/seeds.md names rule ids of
// policies.yaml, methods of lifecycle.Network and example scenarios that
// exist, or says why the statement is not modelled.
func TestSeedTable(t *testing.T) {
	rows := readSeedTable(t)
	if len(rows) < 50 {
		t.Fatalf("docs/seeds.md has %d rows; the table was not read", len(rows))
	}
	for _, p := range seedTableProblems(loadDefaultPolicy(t), rows) {
		t.Error(p)
	}
}

// TestSeedTableCatchesMistakes: a misspelt rule id, method or scenario,
// an unknown seed and an empty row are each reported.
func TestSeedTableCatchesMistakes(t *testing.T) {
	rows := []seedRow{
		{line: 1, seed: "000", statement: "s", rules: "`weekly_limits`"},
		{line: 2, seed: "001", statement: "s", life: "`Network.Restrict`"},
		{line: 3, seed: "002", statement: "s", scen: "`no_such_scenario`"},
		{line: 4, seed: "007", statement: "s", rules: "`weekly_limit`"},
		{line: 5, seed: "003", statement: "s", notes: "ours"},
		{line: 6, seed: "004", statement: "s", notes: "Not modelled: why"},
	}
	got := strings.Join(seedTableProblems(loadDefaultPolicy(t), rows), "\n")
	want := `docs/seeds.md:1: rule "weekly_limits" is not in policies.yaml
docs/seeds.md:2: "Network.Restrict" is not a method of lifecycle.Network
docs/seeds.md:3: scenario "no_such_scenario" is not in examples/scenarios
docs/seeds.md:4: seed "007" is not 000..004
docs/seeds.md:5: names no rule, lifecycle method or scenario, and does not say why it is not modelled`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
