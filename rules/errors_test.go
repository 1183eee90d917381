package rules_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connrules/connrules/rules"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestLoadErrors loads every broken policy in testdata/errors and compares
// the whole error text, positions and carets included, with its golden file.
func TestLoadErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("want at least 20 broken policies, have %d", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := rules.Load(filepath.ToSlash(f), src)
			if err == nil {
				t.Fatalf("loaded without error; policy %q", p.Name())
			}
			var list rules.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want rules.ErrorList", err)
			}
			for _, e := range list {
				if e.Pos.Line < 1 || e.Pos.Column < 1 || e.Pos.Filename == "" {
					t.Errorf("error without a position: %v", e)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./rules -run TestLoadErrors -update)", err)
			}
			if got != string(want) {
				t.Errorf("error text differs from %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// FuzzLoad: any policy text either loads or gives positioned errors; it
// never panics. Seeded from the broken-policy corpus and the default policy.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/errors/*.yaml")
	files = append(files, "../policies.yaml")
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := rules.Load("fuzz.yaml", src)
		if err != nil {
			var list rules.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T without positions: %v", err, err)
			}
			return
		}
		// A policy that loads can decide.
		for _, s := range rules.Stages {
			req := &rules.Request{Stage: s, Now: at(2, 10, 0), Sender: &rules.Member{Kind: "person", Status: "active", Tier: "free"}}
			if d := p.Decide(req); d.Outcome == "" {
				t.Fatalf("empty decision")
			}
		}
	})
}
