package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// replayFixture writes a small generated log and a policy that lowers the
// free daily limit, and returns their paths.
func replayFixture(t *testing.T) (events, lower string) {
	t.Helper()
	dir := t.TempDir()
	events = filepath.Join(dir, "events.jsonl.gz")
	code, out, errb := runCLI("traffic", "--policy", "../../../policies.yaml", "--network", "../../../web/seed.json",
		"--members", "30", "--weeks", "1", "--seed", "3", "--out", events)
	if code != exitOK {
		t.Fatalf("traffic: exit %d\n%s%s", code, out, errb)
	}
	if !strings.Contains(errb, `"invite":`) {
		t.Errorf("traffic prints no summary: %s", errb)
	}
	src, err := os.ReadFile("../../../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lowered := strings.Replace(string(src), "free:    {daily: 30,", "free:    {daily: 5,", 1)
	if lowered == string(src) {
		t.Fatal("policies.yaml no longer has the free daily limit this test edits")
	}
	lower = filepath.Join(dir, "lower.yaml")
	if err := os.WriteFile(lower, []byte(lowered), 0o644); err != nil {
		t.Fatal(err)
	}
	return events, lower
}

func TestReplayCLI(t *testing.T) {
	events, lower := replayFixture(t)
	code, out, errb := runCLI("replay", "--policy", "../../../policies.yaml", events)
	if code != exitOK || !strings.Contains(out, "flips: 0 of") || !strings.Contains(out, "no decision changes.") {
		t.Fatalf("same policy: exit %d\n%s%s", code, out, errb)
	}
	code, out, errb = runCLI("replay", "--policy", lower, "--fail-on-flip", events)
	if code != exitFail || !strings.Contains(out, "allow/sent -> deny/daily_limit") || !strings.Contains(errb, "decisions flip; at most 0 allowed") {
		t.Fatalf("--fail-on-flip: exit %d\n%s%s", code, out, errb)
	}
	code, out, errb = runCLI("replay", "--policy", lower, "--max-flips", "100000", "--format", "json", events)
	if code != exitOK {
		t.Fatalf("--max-flips: exit %d\n%s%s", code, out, errb)
	}
	var rep struct {
		Mode  string `json:"mode"`
		Flips int    `json:"flips"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Mode != "replay" || rep.Flips == 0 {
		t.Fatalf("json: %v %+v\n%s", err, rep, out)
	}
	code, out, errb = runCLI("replay", "--simulate", "--baseline", "../../../policies.yaml", "--policy", lower, events)
	if code != exitOK || !strings.Contains(out, "simulate: "+lower+" against ../../../policies.yaml") {
		t.Fatalf("--simulate --baseline: exit %d\n%s%s", code, out, errb)
	}
}

func TestReplayCLIErrors(t *testing.T) {
	for _, args := range [][]string{
		{"replay"},
		{"replay", "--fail-on-flip", "--max-flips", "3", "x.jsonl"},
		{"replay", "--format", "xml", "x.jsonl"},
	} {
		if code, _, _ := runCLI(args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{\"v\":1}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errb := runCLI("replay", "--policy", "../../../policies.yaml", bad)
	if code != exitFail || !strings.Contains(errb, "bad.jsonl: line 2:") {
		t.Errorf("bad log: exit %d: %s", code, errb)
	}
}

func TestReplayStdin(t *testing.T) {
	events, lower := replayFixture(t)
	f, err := os.Open(events)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out, errb strings.Builder
	code := Run([]string{"replay", "--timing", "--policy", lower, "-"}, f, &out, &errb)
	if code != exitOK || !strings.Contains(out.String(), "allow/sent -> deny/daily_limit") || !strings.Contains(errb.String(), "events/s") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
}
