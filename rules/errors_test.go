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
