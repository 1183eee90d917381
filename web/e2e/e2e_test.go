package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

func TestLoadFigures(t *testing.T) {
	p := open(t)
	perf := eval[map[string]float64](p, `globalThis.__connrulesPerf`)
	if perf["wasm_decoded_bytes"] == 0 || perf["first_decision_ms"] == 0 {
		t.Fatalf("the page reported no load figures: %v", perf)
	}
	b, _ := json.Marshal(perf)
	t.Logf("load figures: %s", b)
	t.Logf("wasm over the wire: %.0f bytes (%.2f MB, gzip) of %.2f MB; engine ready at %.0f ms; first decision at %.0f ms after navigation start, %.0f ms after DOMContentLoaded",
		perf["wasm_encoded_bytes"], perf["wasm_encoded_bytes"]/1048576, perf["wasm_decoded_bytes"]/1048576,
		perf["engine_ready_ms"], perf["first_decision_ms"], perf["first_decision_after_dcl_ms"])
	t.Logf("marks: %s", eval[string](p, `performance.getEntriesByType("mark").map(m => m.name + " " + m.startTime.toFixed(0)).join(", ")`))
	if perf["wasm_encoded_bytes"] >= perf["wasm_decoded_bytes"] {
		t.Errorf("the module was not served compressed: %v", perf)
	}
	// The page is usable as loaded: a preview decision is on screen.
	if got := p.text("#public-message"); got != "Invitation sent." {
		t.Errorf("first preview for alice -> bob: %q", got)
	}
	p.screenshot("loaded")

	// Keystroke to decision, over a few edits of a comment once the page
	// has settled (the browser optimizes the module in the background for
	// a while after it loads).
	time.Sleep(2 * time.Second)
	var ks, compile []float64
	for i := 0; i < 7; i++ {
		p.typeAt("# connrules default policy", 0, "x")
		p.waitLint()
		perf := eval[map[string]float64](p, `globalThis.__connrulesPerf`)
		ks = append(ks, perf["keystroke_ms"])
		compile = append(compile, perf["compile_ms"])
		time.Sleep(200 * time.Millisecond)
	}
	slices.Sort(ks)
	slices.Sort(compile)
	t.Logf("keystroke to decision over %d edits: min %.0f ms, median %.0f ms, max %.0f ms (compile: min %.0f, median %.0f ms)",
		len(ks), ks[0], ks[len(ks)/2], ks[len(ks)-1], compile[0], compile[len(compile)/2])
	// A second visit revalidates the files (304) and starts again.
	p.reload()
	warm := eval[map[string]float64](p, `globalThis.__connrulesPerf`)
	t.Logf("reload: engine ready at %.0f ms; first decision at %.0f ms after navigation start, %.0f ms after DOMContentLoaded",
		warm["engine_ready_ms"], warm["first_decision_ms"], warm["first_decision_after_dcl_ms"])
}

// Change the free daily limit from 30 to 2 in the editor, send three
// invitations, and see the third refused with the daily-limit message.
// Then advance the clock past the reset and see sending work again.
func TestDailyLimitFromTheEditor(t *testing.T) {
	p := open(t)
	p.typeAt("free:    {daily: ", 2, "2")
	p.waitLint()
	if got := p.text("#policy-state"); !strings.Contains(got, "in force") || strings.Contains(got, "error") {
		t.Fatalf("after the edit: %q", got)
	}
	perf := eval[map[string]float64](p, `globalThis.__connrulesPerf`)
	t.Logf("%s; compile %.1f ms, render %.1f ms (keystroke_ms %.1f)", p.text("#timing"), perf["compile_ms"], perf["render_ms"], perf["keystroke_ms"])

	p.pick("alice", "bob")
	if got := p.connect(); got != "Invitation sent." {
		t.Fatalf("1st invitation: %q", got)
	}
	p.pick("alice", "grace")
	if got := p.connect(); got != "Invitation sent." {
		t.Fatalf("2nd invitation: %q", got)
	}
	if used, rem := p.meter("day"); used != 2 || rem != 0 {
		t.Errorf("day meter after two: used %d, remaining %d", used, rem)
	}
	p.pick("alice", "ken")
	got := p.connect()
	if !strings.HasPrefix(got, "You've reached today's limit of 2 invitations.") {
		t.Fatalf("3rd invitation: %q", got)
	}
	if rule := p.text(`#operator-view [data-field=rule]`); rule != "daily_limit" {
		t.Errorf("operator view rule: %q", rule)
	}
	p.screenshot("daily-limit")

	// Past the reset, sending works again.
	before := p.text("#clock-now")
	p.command("#btn-next-reset")
	if after := p.text("#clock-now"); after == before {
		t.Fatalf("the clock did not move: %q", after)
	}
	if used, rem := p.meter("day"); used != 0 || rem != 2 {
		t.Errorf("day meter after the reset: used %d, remaining %d", used, rem)
	}
	if got := p.connect(); got != "Invitation sent." {
		t.Fatalf("after the reset: %q", got)
	}
	p.screenshot("after-reset")
}

// A YAML error is reported at its line, and decisions still use the last
// good policy.
func TestYAMLErrorKeepsLastGoodPolicy(t *testing.T) {
	p := open(t)
	// First a good edit (daily 30 -> 1), then a broken one on another line.
	p.typeAt("free:    {daily: ", 2, "1")
	p.waitLint()
	line := p.lineOf(`l.startsWith("  max_pending_per_pair:")`)
	p.typeAt("  max_pending_per_pair: 1", 0, ": 2")
	p.waitLint()
	state := p.text("#policy-state")
	if !strings.Contains(state, "1 error") || !strings.Contains(state, "last good policy") {
		t.Fatalf("status after a YAML error: %q", state)
	}
	errLine := eval[string](p, `document.querySelector("#errors .error-item").dataset.line`)
	if errLine != fmt.Sprint(line) {
		t.Errorf("error reported at line %s, want %d: %s", errLine, line, p.text("#errors"))
	}
	if !strings.Contains(p.text("#errors"), "mapping values are not allowed") {
		t.Errorf("error message: %q", p.text("#errors"))
	}
	if got := p.gutterErrorLine(); got != line {
		t.Errorf("the lint gutter marks line %d, want %d", got, line)
	}
	// The last good policy (daily 1) still decides: the second invitation
	// today is refused.
	p.pick("alice", "bob")
	if got := p.connect(); got != "Invitation sent." {
		t.Fatalf("1st invitation: %q", got)
	}
	p.pick("alice", "grace")
	if got := p.connect(); !strings.HasPrefix(got, "You've reached today's limit of 1 invitations.") {
		t.Fatalf("2nd invitation under the last good policy: %q", got)
	}
	p.screenshot("yaml-error")
}

// After a block, the sender's view shows exactly the generic message.
func TestBlockedSenderSeesGenericMessage(t *testing.T) {
	p := open(t)
	p.pick("alice", "bob")
	p.command("#btn-block") // the recipient, bob, blocks the sender, alice
	if p.text("#pair-blocked") != "Blocked" {
		t.Fatalf("pair facts after the block: %q", p.text("#pair-info"))
	}
	got := p.connect()
	if got != generic {
		t.Fatalf("the sender sees %q, want exactly %q", got, generic)
	}
	html := eval[string](p, `document.querySelector("#sender-view").innerText.trim()`)
	if html != generic {
		t.Errorf("the sender's view holds more than the generic message: %q", html)
	}
	if rule := p.text(`#operator-view [data-field=rule]`); rule != "blocked" {
		t.Errorf("operator view rule: %q", rule)
	}
	p.screenshot("blocked")
}

// Accepting an invitation connects the two and updates the meters.
func TestAcceptConnectsAndUpdatesMeters(t *testing.T) {
	p := open(t)
	p.pick("alice", "bob")
	if got := p.text("#pair-degree"); !strings.Contains(got, "2nd degree") {
		t.Errorf("degree before: %q", got)
	}
	if got := p.text("#pair-mutual"); !strings.Contains(got, "1 (carol)") {
		t.Errorf("mutual before: %q", got)
	}
	conns := eval[string](p, `document.querySelector("#meter-hour").textContent`)
	if !strings.Contains(conns, "connections: 2 / 500") {
		t.Errorf("alice's connections before: %q", conns)
	}
	if got := p.connect(); got != "Invitation sent." {
		t.Fatalf("invitation: %q", got)
	}
	if used, _ := p.meter("day"); used != 1 {
		t.Errorf("day meter after sending: %d", used)
	}
	p.command(`#inbox li[data-from="alice"] button.accept`)
	if got := p.text("#public-message"); got != "You're now connected." {
		t.Errorf("after accepting: %q", got)
	}
	if got := p.text("#pair-connected"); got != "Connected" {
		t.Errorf("pair after accepting: %q", p.text("#pair-info"))
	}
	if got := p.text("#pair-degree"); !strings.Contains(got, "1st degree") {
		t.Errorf("degree after: %q", got)
	}
	conns = eval[string](p, `document.querySelector("#meter-hour").textContent`)
	if !strings.Contains(conns, "connections: 3 / 500") {
		t.Errorf("alice's connections after: %q", conns)
	}
	if used, rem := p.meter("day"); used != 1 || rem != 29 {
		t.Errorf("day meter after accepting: used %d, remaining %d", used, rem)
	}
	// The event log is JSON lines, one versioned event per line.
	lines := strings.Split(strings.TrimSpace(eval[string](p, `connrulesSim.events()`)), "\n")
	var sawAccept bool
	for _, l := range lines {
		var ev struct {
			V      int    `json:"v"`
			Action string `json:"action"`
			Result string `json:"result"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.V != 1 {
			t.Fatalf("event log line %q: %v", l, err)
		}
		sawAccept = sawAccept || ev.Action == "accept" && ev.Result == "connected"
	}
	if !sawAccept {
		t.Errorf("the event log has no accept: %d lines", len(lines))
	}
	// The state survives a reload.
	p.reload()
	if got := p.text("#pair-connected"); got != "Connected" {
		t.Errorf("after a reload: %q", p.text("#pair-info"))
	}
	p.screenshot("accepted")
	// Reset restores the seed network, and that too survives a reload.
	eval[bool](p, `(window.confirm = () => true, true)`)
	p.click("#btn-reset")
	if got := p.waitText("#pair-degree", "2nd degree"); !strings.Contains(got, "2nd degree") {
		t.Errorf("after Reset: %q", p.text("#pair-info"))
	}
	p.reload()
	if got := p.text("#pair-degree"); !strings.Contains(got, "2nd degree") {
		t.Errorf("after Reset and a reload: %q", p.text("#pair-info"))
	}
	if used, _ := p.meter("day"); used != 0 {
		t.Errorf("day meter after Reset: %d", used)
	}
}

// The scenario buttons play to the end without an error.
func TestScenarios(t *testing.T) {
	p := open(t)
	ids := eval[[]string](p, `[...document.querySelectorAll("#scenarios button")].map(b => b.dataset.scenario)`)
	if len(ids) < 5 {
		t.Fatalf("scenario buttons: %v", ids)
	}
	want := map[string]string{
		"daily":   "daily_limit",
		"weekly":  "weekly_limit",
		"blocked": "blocked",
		"auto":    "auto_accept",
		"ignored": "resend_never",
	}
	countdowns := 0
	progressed := map[string][]string{}
	for _, id := range ids {
		p.click(fmt.Sprintf(`#scenarios button[data-scenario=%q]`, id))
		for i := 0; i < 50; i++ {
			if eval[bool](p, `document.querySelector("#btn-step").disabled`) {
				break
			}
			progress := p.step()
			if len(progress) > 0 {
				progressed[id] = append(progressed[id], progress...)
			}
			last := eval[string](p, `[...document.querySelectorAll("#player-steps li.done")].pop()?.textContent || ""`)
			if id == "weekly" && strings.HasPrefix(last, "Try again: restricted") {
				if !strings.Contains(last, "sender_restricted") {
					t.Errorf("weekly scenario: %q", last)
				}
				// Restricted for a week from now: the meter panel counts down.
				if left := p.text("#restriction-left"); left != "7d 0h 0m left" {
					t.Errorf("restriction countdown right after the restriction: %q", left)
				}
				countdowns++
			}
		}
		steps := p.text("#player-steps")
		if strings.Contains(steps, "error:") || strings.Contains(steps, "failed") {
			t.Errorf("scenario %s: %s", id, steps)
		}
		if w := want[id]; w != "" && !strings.Contains(steps, w) {
			t.Errorf("scenario %s never shows %s:\n%s", id, w, steps)
		}
		if w := eval[int](p, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
			t.Errorf("scenario %s: the page scrolls sideways by %d px at 1280x800", id, w)
		}
		if id == "weekly" {
			p.screenshot("scenario-weekly")
		}
	}
	if countdowns == 0 {
		t.Error("the weekly scenario never showed the restriction countdown")
	}
	// The weekly quota is hundreds of commands: the page answers while
	// they run and shows how far it is.
	midway := regexp.MustCompile(`: ([1-9]\d*) of (\d+)$`)
	var seen bool
	for _, s := range progressed["weekly"] {
		if m := midway.FindStringSubmatch(s); m != nil && m[1] != m[2] {
			seen = true
		}
	}
	if !seen {
		t.Errorf("the weekly scenario showed no progress while it ran: %q", progressed["weekly"])
	} else {
		t.Logf("weekly scenario progress seen: %q", progressed["weekly"])
	}
}

// On a phone-sized screen the page is one column with no sideways
// scrolling, and it can be driven from the keyboard alone.
func TestNarrowScreenAndKeyboard(t *testing.T) {
	p := open(t)
	p.do(chromedp.EmulateViewport(390, 844))
	if w := eval[int](p, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
		t.Errorf("the page scrolls sideways by %d px at 390 px wide", w)
	}
	cols := eval[string](p, `getComputedStyle(document.querySelector("#app")).gridTemplateColumns`)
	if strings.Count(cols, "px") != 1 {
		t.Errorf("grid columns at 390 px: %q, want one", cols)
	}
	// Every control is labelled for screen readers.
	unlabelled := eval[[]string](p, `[...document.querySelectorAll("button, select, textarea, input")].filter(e => {
		if (e.closest("dialog")) return false;
		const name = e.getAttribute("aria-label") || e.labels?.[0]?.textContent || e.textContent || e.title;
		return !name || !name.trim();
	}).map(e => e.outerHTML.slice(0, 80))`)
	if len(unlabelled) > 0 {
		t.Errorf("controls without an accessible name: %v", unlabelled)
	}
	// Keyboard only: pick the recipient with the arrow keys, then Tab to
	// Connect and press Enter.
	p.do(chromedp.Focus(chromedp.CSS("#recipient")))
	before := eval[string](p, `document.querySelector("#recipient").value`)
	p.do(chromedp.KeyEvent(kb.ArrowDown))
	after := eval[string](p, `document.querySelector("#recipient").value`)
	if after == before {
		t.Fatalf("ArrowDown did not change the recipient (%s)", before)
	}
	p.do(chromedp.Focus(chromedp.CSS("#note")), chromedp.KeyEvent("\t"))
	if id := eval[string](p, `document.activeElement.id`); id != "btn-connect" {
		t.Fatalf("Tab from the note lands on %q, want btn-connect", id)
	}
	p.do(chromedp.KeyEvent("\r"))
	if got := eval[string](p, `document.querySelector("#decision-title").textContent`); got != "alice invited "+after {
		t.Errorf("after Enter on Connect: %q", got)
	}
	p.screenshot("narrow")
}

// Members and their settings can be edited in the page, and decisions
// follow at once.
func TestEditMemberSettings(t *testing.T) {
	p := open(t)
	p.pick("alice", "bob")
	p.click("#btn-edit-recipient")
	p.do(chromedp.WaitVisible(chromedp.CSS("#member-dialog[open]")))
	eval[bool](p, `(() => { const f = document.querySelector("#member-form"); f.invitations.value = "email_or_contacts"; return true; })()`)
	p.click("#btn-member-save")
	if got := p.waitText("#recipient-card", "email_or_contacts"); !strings.Contains(got, "email_or_contacts") {
		t.Errorf("bob's card after the edit: %q", got)
	}
	// The preview already shows the private refusal; sending confirms it.
	if got := p.connect(); got != generic {
		t.Errorf("alice -> bob with bob on email_or_contacts: %q", got)
	}
	if rule := p.text(`#operator-view [data-field=rule]`); rule != "recipient_settings" {
		t.Errorf("operator view rule: %q", rule)
	}
}
