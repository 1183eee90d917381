package scenario_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connrules/connrules/rules/lifecycle/scenario"
)

// TestExamples runs every scenario in examples/scenarios natively.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../../../examples/scenarios/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 18 {
		t.Fatalf("found %d example scenarios, want one per seed story (at least 18)", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			runFile(t, f, scenario.Options{})
		})
	}
}

func runFile(t *testing.T, f string, opt scenario.Options) *scenario.Report {
	t.Helper()
	src, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse(f, src)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := scenario.Run(context.Background(), sc, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		var b strings.Builder
		p := &scenario.TextPrinter{W: &b, Loc: rep.Location}
		for _, r := range rep.Steps {
			p.Step(r)
		}
		p.Footer(rep)
		t.Fatalf("%s failed:\n%s", f, b.String())
	}
	if rep.Passed == 0 {
		t.Fatalf("%s ran no steps", f)
	}
	return rep
}
