package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// gutterErrorLine is the editor line beside the lint gutter's first error
// marker, found by where the marker is drawn; 0 when there is none.
func (p *page) gutterErrorLine() int {
	p.t.Helper()
	return eval[int](p, `(() => {
		const m = document.querySelector(".cm-lint-marker-error");
		if (!m) return 0;
		const v = connrulesEditor.view;
		const r = m.getBoundingClientRect();
		const pos = v.posAtCoords({x: v.contentDOM.getBoundingClientRect().left + 4, y: r.top + r.height / 2});
		return pos == null ? -1 : v.state.doc.lineAt(pos).number;
	})()`)
}

// A typo in a fact name is underlined from the column the engine names,
// and the gutter marks its line.
func TestTypoShowsASquiggleAtItsColumn(t *testing.T) {
	p := open(t)
	line := p.lineOf(`l.includes("sender.sent.day >=")`)
	want := eval[int](p, `connrulesEditor.getValue().split("\n")[`+fmt.Sprint(line-1)+`].indexOf("sender.sent.day") + 1`) + len("sender.sent.")
	p.typeAt("sender.sent.", 3, "dya")
	p.waitLint()
	diags := eval[[]map[string]any](p, `connrulesEditor.diagnostics()`)
	if len(diags) != 1 || diags[0]["severity"] != "error" {
		t.Fatalf("diagnostics after the typo: %v", diags)
	}
	if l, c := int(diags[0]["line"].(float64)), int(diags[0]["column"].(float64)); l != line || c != want {
		t.Errorf("the squiggle is at %d:%d, want %d:%d (%v)", l, c, line, want, diags[0]["message"])
	}
	// The squiggle is drawn over the word itself.
	if got := p.text(".cm-lintRange-error"); got != "dya" {
		t.Errorf("the squiggle covers %q, want %q", got, "dya")
	}
	if got := p.gutterErrorLine(); got != line {
		t.Errorf("the lint gutter marks line %d, want %d", got, line)
	}
	p.screenshot("editor-typo")
	// Fixing it clears the squiggle.
	p.typeAt("sender.sent.", 3, "day")
	p.waitLint()
	p.do(chromedp.WaitNotPresent(chromedp.CSS(`.cm-lintRange-error`)))
}

// Completion offers the facts from docs/reference.json, the dotted paths
// after "sender.".
func TestCompletionOffersFacts(t *testing.T) {
	p := open(t)
	p.typeAt("day_full: tier.daily > 0 && ", 0, "sender.se")
	p.do(chromedp.WaitVisible(chromedp.CSS(`.cm-tooltip-autocomplete`)))
	labels := eval[[]string](p, `[...document.querySelectorAll(".cm-tooltip-autocomplete li")].map(li => li.querySelector(".cm-completionLabel").textContent)`)
	found := false
	for _, l := range labels {
		found = found || l == "sender.sent.day"
		if !strings.HasPrefix(l, "sender.") {
			t.Errorf("after %q, completion offers %q", "sender.se", l)
		}
	}
	if !found {
		t.Fatalf("completion after %q offers %v, not sender.sent.day", "sender.se", labels)
	}
	// Params complete too, from the policy's own params block.
	p.do(chromedp.KeyEvent("\x1b")) // Escape closes the list
	p.typeAt("day_full: ", 0, "params.tie")
	p.do(chromedp.WaitVisible(chromedp.CSS(`.cm-tooltip-autocomplete`)))
	labels = eval[[]string](p, `[...document.querySelectorAll(".cm-tooltip-autocomplete .cm-completionLabel")].map(e => e.textContent)`)
	if !contains(labels, "params.tiers.free.daily") {
		t.Errorf("completion after params.tie offers %v", labels)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Lowering the free daily limit flips, in the sample log, as many
// decisions as `connrules replay` finds on the same log.
func TestImpactOfLoweringTheDailyLimit(t *testing.T) {
	want := replayFlips(t, "free:    {daily: 30,", "free:    {daily: 2,")
	p := open(t)
	p.do(chromedp.WaitVisible(chromedp.CSS(`#impact[data-state="done"]`)))
	if got := eval[string](p, `document.querySelector("#impact").dataset.flips`); got != "0" {
		t.Errorf("before any edit the panel counts %s flips", got)
	}
	p.typeAt("free:    {daily: ", 2, "2")
	p.waitLint()
	p.do(chromedp.WaitVisible(chromedp.CSS(`#impact[data-state="done"][data-sample-flips]:not([data-sample-flips="0"])`)))
	got := eval[string](p, `document.querySelector("#impact").dataset.sampleFlips`)
	if got != fmt.Sprint(want) {
		t.Errorf("the impact panel counts %s flips in the sample, connrules replay %d: %s", got, want, p.text("#impact-summary"))
	}
	if s := p.text("#impact-summary"); !strings.Contains(s, fmt.Sprintf("%d of", want)) {
		t.Errorf("summary: %q", s)
	}
	t.Logf("keystroke → impact: %s", p.text("#impact-timing"))
	// More edits of the limit (2 → 3 → ... → 7): each keystroke's impact.
	var times []float64
	for d := 3; d <= 7; d++ {
		prev := eval[string](p, `document.querySelector("#impact").dataset.ms`)
		p.typeAt("free:    {daily: ", 1, fmt.Sprint(d))
		p.do(chromedp.Poll[chromedp.Void](fmt.Sprintf(`(() => { const e = document.querySelector("#impact"); return e.dataset.state === "done" && e.dataset.ms !== %q && connrulesEditor.getValue().includes("{daily: %d,"); })()`, prev, d)))
		times = append(times, eval[float64](p, `Number(document.querySelector("#impact").dataset.ms)`))
	}
	slices.Sort(times)
	t.Logf("keystroke → impact over %d edits: min %.0f ms, median %.0f ms, max %.0f ms (150 ms of it waits for typing to pause)", len(times), times[0], times[len(times)/2], times[len(times)-1])
	p.typeAt("free:    {daily: ", 1, "2")
	p.do(chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector("#impact").dataset.sampleFlips === "%d"`, want)))
	// A flip explains itself: both traces, the new one decided by daily_limit.
	p.click(`#impact-flips button[data-source="sample"]`)
	p.do(chromedp.WaitVisible(chromedp.CSS(`#explain .flip-explain[data-side="new"]`)))
	if rule := eval[string](p, `document.querySelector('#explain .flip-explain[data-side="new"] li.decided')?.dataset.rule || ""`); rule != "daily_limit" {
		t.Errorf("the flip's new decision is by rule %q, want daily_limit", rule)
	}
	p.screenshot("impact")
}

// replayFlips runs `connrules replay` on the page's sample log with
// policies.yaml as the baseline and from replaced by to as the policy.
func replayFlips(t *testing.T, from, to string) int {
	t.Helper()
	root, _ := filepath.Abs("../..")
	src, err := os.ReadFile(filepath.Join(root, "policies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), from) {
		t.Fatalf("policies.yaml has no %q", from)
	}
	edited := filepath.Join(t.TempDir(), "edited.yaml")
	if err := os.WriteFile(edited, []byte(strings.Replace(string(src), from, to, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "./cmd/connrules", "replay", "--format", "json",
		"--policy", edited, "--baseline", "policies.yaml", "web/sample.jsonl.gz")
	cmd.Dir = root
	t0 := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("connrules replay: %v", err)
	}
	var rep struct{ Flips int }
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("connrules replay: %d flips (%v)", rep.Flips, time.Since(t0).Round(time.Millisecond))
	return rep.Flips
}

// A lint warning (here a param nothing reads) is underlined where the
// engine puts it, once typing pauses, as a warning and not an error.
func TestWarningShowsAtItsPosition(t *testing.T) {
	p := open(t)
	if !eval[bool](p, `connrulesEditor.replace("params:\n", "params:\n  unused_knob: 3\n")`) {
		t.Fatal("the editor has no params block")
	}
	line := p.lineOf(`l.startsWith("  unused_knob:")`)
	p.waitLint()
	p.do(chromedp.Poll[chromedp.Void](`connrulesEditor.diagnostics().some(d => d.severity === "warning" && d.message.includes("unused_knob"))`))
	for _, d := range eval[[]map[string]any](p, `connrulesEditor.diagnostics()`) {
		if d["severity"] == "error" {
			t.Errorf("an error after adding a param: %v", d)
		}
		if strings.Contains(d["message"].(string), "unused_knob") {
			if l, c := int(d["line"].(float64)), int(d["column"].(float64)); l != line || c != 3 {
				t.Errorf("the warning is at %d:%d, want %d:3: %v", l, c, line, d["message"])
			}
		}
	}
	if got := eval[[]string](p, `[...document.querySelectorAll(".cm-lintRange-warning")].map(e => e.textContent)`); !contains(got, "unused_knob") {
		t.Errorf("the warnings underline %q, not unused_knob", got)
	}
}
