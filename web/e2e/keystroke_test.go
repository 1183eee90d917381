package e2e

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// keystrokeRunsEnv asks for the keystroke runner: how many edits of each
// kind it times in each build.
const keystrokeRunsEnv = "CONNRULES_KEYSTROKE_RUNS"

// keystrokeEdits are the edits timed: where the caret goes (after the
// anchor, replacing del characters) and the two texts typed in turn.
var keystrokeEdits = []struct {
	kind, anchor string
	del          int
	texts        [2]string
}{
	{"comment", "# connrules default policy", 0, [2]string{"x", "y"}},
	{"message", `"You can't invite yourself`, 1, [2]string{"!", "."}},
	{"condition", "when: tier.connections > ", 1, [2]string{"1", "0"}},
	{"let", "day_full: tier.daily > ", 1, [2]string{"1", "0"}},
	{"params", "free:    {daily: ", 1, [2]string{"4", "3"}},
}

// TestKeystrokeTimes prints how long an edit in the editor takes to give
// new decisions (the page's keystroke_ms: from the key event to the
// decisions re-rendered, the policy reloaded in between) and how much of
// it is the load (compile_ms; load call: the call into the module around
// it), the render (render_ms) and the wait for the lint to start, as medians over $CONNRULES_KEYSTROKE_RUNS
// edits of each kind: a comment, a rule's message, a rule's condition, a
// let and a param. Builds are compared as in TestFirstVisitTimes
// ($CONNRULES_LOAD_DIRS), each in a new browser context, alternating. It
// only prints: speed is not asserted.
//
//	CONNRULES_KEYSTROKE_RUNS=9 go test -run TestKeystrokeTimes -v ./web/e2e
func TestKeystrokeTimes(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv(keystrokeRunsEnv))
	if runs <= 0 || skipAll {
		t.Skipf("set %s=N to time N edits of each kind", keystrokeRunsEnv)
	}
	builds := loadBuilds(t)
	got := map[string]map[string][]float64{}
	// Each build in turn, on a page of its own (a page in the background
	// did not answer), in rounds whose order alternates.
	const rounds = 2
	for round := 0; round < rounds; round++ {
		order := slices.Clone(builds)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, b := range order {
			if got[b.label] == nil {
				got[b.label] = map[string][]float64{}
			}
			keystrokes(t, b.url, (runs+rounds-1-round)/rounds, got[b.label])
		}
	}
	for _, b := range builds {
		t.Logf("%s, %d edits of each kind, keystroke to new decisions, and the load and render within it:%s", b.label, runs, medians(got[b.label]))
	}
}

// keystrokes opens url in a new browser context and times n edits of each
// kind into got.
func keystrokes(t *testing.T, url string, n int, got map[string][]float64) {
	ctx, cancel := chromedp.NewContext(shared.ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	// The tab opens with the first run on ctx itself: opened under one
	// of p.do's timeouts it would close with it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`true`)); err != nil {
		t.Fatal(err)
	}
	p := &page{t: t, ctx: ctx, url: url}
	p.do(chromedp.EmulateViewport(1280, 800), chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"] #btn-connect`)))
	// The browser optimizes a module in the background for a while after
	// it loads: time the edits once the page has settled.
	time.Sleep(2 * time.Second)
	for i := 0; i < n; i++ {
		for _, e := range keystrokeEdits {
			p.typeAt(e.anchor, e.del, e.texts[i%2])
			p.waitLint()
			perf := eval[map[string]float64](p, `globalThis.__connrulesPerf`)
			got[e.kind+" keystroke"] = append(got[e.kind+" keystroke"], perf["keystroke_ms"])
			got[e.kind+" load"] = append(got[e.kind+" load"], perf["compile_ms"])
			got[e.kind+" render"] = append(got[e.kind+" render"], perf["render_ms"])
			got[e.kind+" wait"] = append(got[e.kind+" wait"], perf["lint_wait_ms"])
			got[e.kind+" load call"] = append(got[e.kind+" load call"], perf["load_call_ms"])
			// The edit's impact replay and warnings run in workers once
			// typing pauses: let them finish, not to time the next edit
			// against them on a shared machine.
			p.do(chromedp.Poll[chromedp.Void](`["done", "none"].includes(document.querySelector("#impact").dataset.state)`))
			time.Sleep(200 * time.Millisecond)
		}
	}
	if !eval[bool](p, `document.querySelector("#lint-status").classList.contains("ok")`) {
		t.Errorf("%s: the last edit did not load", url)
	}
}
