package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

const partialPolicy = "../../../rules/testdata/coverage/partial.yaml"

func TestCoverageFlag(t *testing.T) {
	code, out, errb := runCLI("test", "--coverage", partialPolicy)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errb)
	}
	for _, want := range []string{
		"ok  \t" + partialPolicy + "\t3 tests",
		"coverage: " + partialPolicy + ": 2 of 3 rules decided by a test (66.7%), 1 of 3 branches held (33.3%)",
		partialPolicy + `:18:9: rule "daily": no test decides it (1 reach it)`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := runCLI("test", partialPolicy); code != exitOK || strings.Contains(out, "coverage:") {
		t.Errorf("without --coverage: exit %d\n%s", code, out)
	}
}

func TestLintRequireCoverage(t *testing.T) {
	code, out, errb := runCLI("lint", "--require-coverage", partialPolicy)
	if code != exitFail || !strings.Contains(errb, `rule "daily": no test decides it`) || !strings.Contains(out, "ok (3 rules, 3 tests)") {
		t.Fatalf("exit %d\n%s%s", code, out, errb)
	}
	code, out, errb = runCLI("lint", "--require-coverage", "--format", "json", partialPolicy)
	var rep []struct {
		File     string `json:"file"`
		OK       bool   `json:"ok"`
		Coverage struct {
			RulesDecided int `json:"rules_decided"`
		} `json:"coverage"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitFail || len(rep) != 1 || !rep[0].OK || rep[0].Coverage.RulesDecided != 2 {
		t.Fatalf("json: exit %d, %v, %+v\n%s%s", code, err, rep, out, errb)
	}
	if code, _, errb := runCLI("lint", partialPolicy); code != exitOK {
		t.Errorf("plain lint fails: %s", errb)
	}
}

const kindsPolicy = "../../../rules/testdata/warnings/kinds.yaml"

func TestLintWarnings(t *testing.T) {
	code, out, errb := runCLI("lint", kindsPolicy)
	if code != exitOK || !strings.Contains(out, "ok (5 rules, 0 tests)") ||
		!strings.Contains(errb, kindsPolicy+`:17:9: warning: rule "daily_again": no request found that reaches this rule`) ||
		!strings.Contains(errb, kindsPolicy+": 6 warnings") {
		t.Fatalf("exit %d\n%s%s", code, out, errb)
	}
	if code, _, errb := runCLI("lint", "--fail-on-warnings", kindsPolicy); code != exitFail {
		t.Errorf("--fail-on-warnings: exit %d\n%s", code, errb)
	}
	if code, _, errb := runCLI("lint", "--warnings=false", kindsPolicy); code != exitOK || strings.Contains(errb, "warning") {
		t.Errorf("--warnings=false: exit %d\n%s", code, errb)
	}
	code, out, _ = runCLI("lint", "--format", "json", kindsPolicy)
	var rep []struct {
		Warnings []struct {
			Kind string `json:"kind"`
		} `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK || len(rep) != 1 || len(rep[0].Warnings) != 6 {
		t.Fatalf("json: exit %d %v\n%s", code, err, out)
	}
	// A policy with errors gets them, and no warnings.
	code, _, errb = runCLI("lint", "testdata/broken.yaml")
	if code != exitFail || strings.Contains(errb, "warning:") {
		t.Errorf("broken: exit %d\n%s", code, errb)
	}
}

func TestTestGenerate(t *testing.T) {
	code, out, errb := runCLI("test", "--generate", "-", partialPolicy)
	if code != exitOK || !strings.Contains(out, "- name: 'witness: settings'") || !strings.Contains(out, "rule: blocked") {
		t.Fatalf("exit %d\n%s%s", code, out, errb)
	}
	if code, _, _ := runCLI("test", "--generate", "-", partialPolicy, kindsPolicy); code != exitUsage {
		t.Errorf("two files: exit %d", code)
	}
}
