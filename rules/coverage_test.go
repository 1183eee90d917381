package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCoverage(t *testing.T) {
	src, err := os.ReadFile("testdata/coverage/partial.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ComputeCoverage("partial.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	c.WriteText(&b)
	// blocked decides one test; settings is reached by the two others and
	// decides one, through its first branch only; daily is reached by one
	// and decides none. The blocked test does not reach settings, so its
	// nobody branch is not counted for it.
	want := `coverage: partial.yaml: 2 of 3 rules decided by a test (66.7%), 1 of 3 branches held (33.3%)
partial.yaml:15:14: rule "settings": branch 2 of 3 holds in no test: recipient.settings.invitations == "mutual" && pair.mutual == 0
partial.yaml:16:14: rule "settings": branch 3 of 3 holds in no test: (pair.degree == 3 || pair.degree == 0) && !pair.knows_email
partial.yaml:18:9: rule "daily": no test decides it (1 reach it)
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if c.Full() {
		t.Error("Full() on partial coverage")
	}
	got := map[string][2]int{}
	for _, r := range c.Rules {
		got[r.ID] = [2]int{r.Reached, r.Decided}
	}
	if got["blocked"] != [2]int{3, 1} || got["settings"] != [2]int{2, 1} || got["daily"] != [2]int{1, 0} {
		t.Errorf("reached/decided: %v", got)
	}
}

func TestSplitOr(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"a || b", []string{"a ", " b"}},
		{"a or b or c", []string{"a ", " b ", " c"}},
		{"(a || b) && c", nil},
		{`x == "||" || y`, []string{`x == "||" `, " y"}},
		{"a ? b || c : d", nil},
		{"color || orange", []string{"color ", " orange"}},
		{"a", nil},
	}
	for _, c := range cases {
		var got []string
		for _, p := range splitOr(c.in) {
			got = append(got, p.text)
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("splitOr(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCoverageOfEveryExamplePolicy(t *testing.T) {
	for _, f := range append([]string{"../policies.yaml"}, globT(t, "../examples/policies/*.yaml")...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ComputeCoverage(f, src)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if c.RulesTotal == 0 || c.RulesDecided == 0 {
			t.Errorf("%s: %d of %d rules decided", f, c.RulesDecided, c.RulesTotal)
		}
	}
}

func globT(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s", pattern)
	}
	return files
}
