package rules

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateWarnings = flag.Bool("update-warnings", false, "rewrite the warning goldens")

// TestWarningGoldens lints the warning-kinds policy and every example
// policy and compares the warnings with testdata/warnings/*.golden.
func TestWarningGoldens(t *testing.T) {
	files := append([]string{"testdata/warnings/kinds.yaml"}, globT(t, "../examples/policies/*.yaml")...)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := "examples/policies/" + filepath.Base(f)
			if strings.HasPrefix(f, "testdata") {
				name = filepath.Base(f)
			}
			ws, err := Warnings(name, src)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, w := range ws {
				b.WriteString(w.String() + "\n")
			}
			golden := filepath.Join("testdata/warnings", strings.TrimSuffix(filepath.Base(f), ".yaml")+".golden")
			if *updateWarnings {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./rules -run WarningGoldens -update-warnings)", err)
			}
			if b.String() != string(want) {
				t.Errorf("warnings differ from %s:\n%s", golden, b.String())
			}
		})
	}
}

// Every kind of warning shows on the policy made to have one of each.
func TestWarningKinds(t *testing.T) {
	src, err := os.ReadFile("testdata/warnings/kinds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := Warnings("kinds.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, w := range ws {
		got[w.Kind] += w.Rule + w.Msg + ";"
	}
	for kind, want := range map[string]string{
		WarnUnreachable: "daily_again",
		WarnAlwaysFalse: "fourth_degree",
		WarnAlwaysTrue:  "everyone",
		WarnRetryInPast: "ignored",
		WarnUnusedParam: "param forgotten",
		WarnUnusedLet:   "let never_read",
	} {
		if !strings.Contains(got[kind], want) {
			t.Errorf("%s: got %q, want it to mention %s", kind, got[kind], want)
		}
	}
	if strings.Contains(got[WarnUnusedParam], "daily") || strings.Contains(got[WarnUnusedLet], "wait_until") {
		t.Errorf("a used param or let is reported: %v", got)
	}
}

// The default policy's two rules that its params turn off are reported,
// and nothing else.
func TestWarningsOfDefaultPolicy(t *testing.T) {
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := Warnings("policies.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, w := range ws {
		rules = append(rules, w.Kind+":"+w.Rule)
	}
	if strings.Join(rules, " ") != "always_false:withdraw_cooldown always_false:monthly_limit" {
		t.Errorf("got %v", rules)
	}
}

// Every witness the search reports is decided by its rule, and the
// changes, laid over the base request, give the witness request.
func TestWitnessesDecide(t *testing.T) {
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load("policies.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := Witnesses("policies.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) < 25 {
		t.Fatalf("only %d witnesses", len(ws))
	}
	for _, w := range ws {
		if d := p.Decide(w.Request); d.Rule != w.Rule {
			t.Errorf("witness of %s is decided by %q", w.Rule, d.Rule)
		}
	}
}

// A policy with thousands of constants is searched with a bounded number
// of values per fact (capValues), and still yields its witnesses.
func TestWarningsManyConstants(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nname: many\nparams:\n  limits: [")
	for i := range 5000 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", i*7)
	}
	b.WriteString("]\nstages:\n  invite:\n    default: {outcome: allow}\n    rules:\n")
	b.WriteString("      - {id: over, when: \"sender.sent.day >= params.limits[100]\", outcome: deny}\n")
	b.WriteString("  deliver: {default: {outcome: inbox}}\n  accept: {default: {outcome: allow}}\n")
	ws, err := Witnesses("many.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Rule != "over" {
		t.Fatalf("witnesses: %v", ws)
	}
	if got := capValues([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 4); fmt.Sprint(got) != "[1 4 7 10]" {
		t.Errorf("capValues: %v", got)
	}
}
