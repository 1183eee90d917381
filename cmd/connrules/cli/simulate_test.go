package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestSimulatePasses(t *testing.T) {
	code, out, errb := runCLI("simulate", "../../../examples/scenarios/daily_limit.yaml")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errb)
	}
	for _, want := range []string{
		"scenario: the 31st invitation of a free member's day is refused; the next day works",
		"engine native",
		"30× allow (sent) → inbox, pending",
		"deny (daily_limit) · retry after Tue 2026-03-03 00:00 PST",
		"PASS: 35 step results ok, 0 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestSimulateJSON(t *testing.T) {
	code, out, errb := runCLI("simulate", "--json", "../../../examples/scenarios/already_pending.yaml")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errb)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var first struct {
		Step     int    `json:"step"`
		Action   string `json:"action"`
		OK       bool   `json:"ok"`
		Decision struct {
			Outcome string `json:"outcome"`
		} `json:"decision"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.Step != 1 || first.Action != "invite" || !first.OK || first.Decision.Outcome != "allow" {
		t.Fatalf("first line: %s", lines[0])
	}
	var last simulateSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || !last.Summary || !last.OK || last.Passed != 6 {
		t.Fatalf("summary line: %s (%v)", lines[len(lines)-1], err)
	}
}

func TestSimulateFailsOnAFailedExpectation(t *testing.T) {
	code, out, _ := runCLI("simulate", "testdata/simulate_fail.yaml")
	if code != exitFail {
		t.Fatalf("exit %d, want %d", code, exitFail)
	}
	if !strings.Contains(out, `✗ line 8: outcome: got "allow", want "deny"`) || !strings.Contains(out, "FAIL: 0 step results ok, 1 failed") {
		t.Fatalf("output:\n%s", out)
	}
}

func TestSimulateMalformed(t *testing.T) {
	code, _, errb := runCLI("simulate", "testdata/simulate_malformed.yaml")
	want := "testdata/simulate_malformed.yaml:6:14: unknown key \"outcom\""
	if code != exitFail || !strings.HasPrefix(errb, want) || !strings.Contains(errb, "    6 |     expect: {outcom: allow}\n      |              ^") {
		t.Fatalf("exit %d, stderr:\n%s\nwant it to start with %s", code, errb, want)
	}
}

func TestSimulateUsage(t *testing.T) {
	if code, _, _ := runCLI("simulate"); code != exitUsage {
		t.Fatalf("no file: exit %d", code)
	}
	if code, _, errb := runCLI("simulate", "--engine", "nope", "x.yaml"); code != exitUsage || !strings.Contains(errb, "unknown engine") {
		t.Fatalf("bad engine: exit %d %s", code, errb)
	}
}
