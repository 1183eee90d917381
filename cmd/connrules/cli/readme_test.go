package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEPolicy loads the complete policy of README.md's quick start
// (the yaml block after the minimal-policy marker) and runs its tests, so
// the snippet a newcomer copies always loads.
func TestREADMEPolicy(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "<!-- minimal-policy:")
	if !ok {
		t.Fatal("README.md has no <!-- minimal-policy: ... --> marker")
	}
	_, block, ok := strings.Cut(after, "```yaml\n")
	if !ok {
		t.Fatal("no ```yaml block after the minimal-policy marker")
	}
	block, _, ok = strings.Cut(block, "```")
	if !ok {
		t.Fatal("the minimal policy's yaml block is not closed")
	}
	path := filepath.Join(t.TempDir(), "readme.yaml")
	if err := os.WriteFile(path, []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"lint", path}, {"test", "-v", path}} {
		var out, errb bytes.Buffer
		if code := Run(args, strings.NewReader(""), &out, &errb); code != exitOK {
			t.Errorf("connrules %s: exit %d\n%s%s", args[0], code, out.String(), errb.String())
		}
		if args[0] == "test" && !strings.Contains(out.String(), "2 tests") {
			t.Errorf("the README policy's tests did not all run:\n%s", out.String())
		}
	}
}
