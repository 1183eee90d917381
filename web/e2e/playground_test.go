package e2e

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The playground's rough edges, one test each (issue 12).

// Every date on the page carries its year: a session crosses years, and
// "May 31, 10:00 AM" would be two different days.
func TestDatesShowTheYear(t *testing.T) {
	p := open(t)
	p.pick("alice", "bob")
	if got := p.connect(); got != "Invitation sent." {
		t.Fatalf("invitation: %q", got)
	}
	year := regexp.MustCompile(`\b20\d\d\b`)
	for _, sel := range []string{"#clock-now", "#decision-sub", "#sent li", "#log li", `#meters-sender .meter[data-window=day] .reset`} {
		if got := p.text(sel); !year.MatchString(got) {
			t.Errorf("%s shows a date without its year: %q", sel, got)
		}
	}
	// A year later the same day reads differently.
	before := p.text("#sent li")
	for i := 0; i < 53; i++ {
		p.command("#btn-w")
	}
	p.pick("alice", "grace")
	if got := p.connect(); got != "Invitation sent." {
		t.Fatalf("invitation a year later: %q", got)
	}
	after := eval[string](p, `document.querySelector("#log li").innerText`)
	if year.FindString(after) == year.FindString(before) {
		t.Errorf("a year later the log shows the same year: %q, then %q", before, after)
	}
}

// Switching policies never shows the previous policy's test count: the
// count clears at once and comes back for the policy now in force.
func TestTestCountFollowsThePolicy(t *testing.T) {
	p := open(t)
	first := p.waitText("#tests", "pass")
	files := eval[[]string](p, `[...document.querySelectorAll("#variants button")].map(b => b.dataset.file)`)
	if len(files) < 2 {
		t.Fatalf("policy variants: %v", files)
	}
	for _, f := range append(files[1:], files[0]) {
		// Click and read in one script: what the page shows right after.
		got := eval[[]string](p, fmt.Sprintf(`(() => {
			document.querySelector('#variants button[data-file=%q]').click();
			const e = document.querySelector("#tests");
			return [e.textContent, e.dataset.state || ""];
		})()`, f))
		if got[1] != "running" || strings.Contains(got[0], "pass") {
			t.Errorf("%s: right after switching, the count reads %q (state %q); the previous policy's was %q", f, got[0], got[1], first)
		}
		want := eval[string](p, `(() => { const t = connrulesSim.tests(); return t.passed + "/" + t.tests; })()`)
		p.do(chromedp.WaitVisible(chromedp.CSS(`#tests[data-state="done"]`)))
		if got := p.text("#tests"); got != "policy tests: "+want+" pass" {
			t.Errorf("%s: the count reads %q, want %s", f, got, want)
		}
	}
}

// A missing "{" in a flow mapping is reported where it goes wrong, with a
// hint about the brace, not the advice to quote an expression.
func TestMissingBraceHint(t *testing.T) {
	p := open(t)
	line := p.lineOf(`l.includes("free:    {daily: ")`)
	p.typeAt("free:    ", 1, kb.Delete) // select the "{" and delete it
	p.waitLint()
	item := eval[map[string]string](p, `(() => { const e = document.querySelector("#errors .error-item"); return e ? {line: e.dataset.line, column: e.dataset.column, text: e.innerText} : {}; })()`)
	if item["line"] != fmt.Sprint(line) {
		t.Errorf("error at line %s, want %d: %q", item["line"], line, item["text"])
	}
	if item["column"] == "1" || strings.Contains(item["text"], "must be quoted") || !strings.Contains(item["text"], "{") {
		t.Errorf("a missing { is reported at column %s as: %q", item["column"], item["text"])
	}
}

// The members table wraps between words, never inside one.
func TestMembersTableKeepsWordsWhole(t *testing.T) {
	p := open(t)
	for _, w := range [][2]int64{{1280, 800}, {1024, 768}, {800, 900}, {390, 844}} {
		p.do(chromedp.EmulateViewport(w[0], w[1]))
		broken := eval[[]string](p, `(() => {
			const broken = [];
			for (const td of document.querySelectorAll("#members td")) {
				const walk = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
				for (let n; (n = walk.nextNode()); ) {
					for (const m of n.data.matchAll(/\S+/g)) {
						const r = document.createRange();
						r.setStart(n, m.index);
						r.setEnd(n, m.index + m[0].length);
						const tops = new Set([...r.getClientRects()].map((x) => Math.round(x.top)));
						if (tops.size > 1) broken.push(m[0]);
					}
				}
			}
			return broken;
		})()`)
		if len(broken) > 0 {
			t.Errorf("at %dx%d the members table breaks inside %q", w[0], w[1], broken)
		}
	}
}

// A note is written to one recipient: picking another clears it.
func TestNoteClearedWhenTheRecipientChanges(t *testing.T) {
	p := open(t)
	p.pick("alice", "bob")
	p.do(chromedp.Focus(chromedp.CSS("#note")), chromedp.KeyEvent("Hi Bob, great talk!"))
	if got := eval[string](p, `document.querySelector("#note").value`); got != "Hi Bob, great talk!" {
		t.Fatalf("the note reads %q", got)
	}
	p.pick("alice", "grace")
	if got := eval[string](p, `document.querySelector("#note").value`); got != "" {
		t.Errorf("after picking grace the note still reads %q", got)
	}
	p.do(chromedp.Focus(chromedp.CSS("#note")), chromedp.KeyEvent("Hello Grace"))
	p.click("#btn-swap")
	if got := eval[string](p, `document.querySelector("#note").value`); got != "" {
		t.Errorf("after a swap the note still reads %q", got)
	}
}

// The Block button says who blocks whom, and does what it says.
func TestBlockButtonSaysWhoBlocksWhom(t *testing.T) {
	p := open(t)
	p.pick("alice", "bob")
	if got := p.text("#btn-block"); got != "bob blocks alice" {
		t.Errorf("Block reads %q, want %q", got, "bob blocks alice")
	}
	if got := p.text("#btn-unblock"); got != "bob unblocks alice" {
		t.Errorf("Unblock reads %q", got)
	}
	p.click("#btn-swap")
	if got := p.text("#btn-block"); got != "alice blocks bob" {
		t.Fatalf("after a swap Block reads %q, want %q", got, "alice blocks bob")
	}
	p.command("#btn-block")
	if got := eval[string](p, `document.querySelector("#decision-title").textContent`); got != "alice blocked bob" {
		t.Errorf("after the click: %q", got)
	}
	blocks := eval[[]string](p, `connrulesSim.view("bob", "alice").blocks.filter((b) => b.includes("alice")).map(([by, blocked]) => by + ">" + blocked)`)
	if len(blocks) != 1 || blocks[0] != "alice>bob" {
		t.Errorf("blocks after the click: %v", blocks)
	}
}

// Accepting or ignoring an invitation leaves the inbox where it was on
// screen, although the decision panel above it changes height.
func TestAcceptAndIgnoreKeepThePageInPlace(t *testing.T) {
	p := open(t)
	for _, c := range []struct{ sender, recipient, button string }{
		{"alice", "bob", "button.accept"},
		{"alice", "grace", "button.ignore"},
	} {
		p.pick(c.sender, c.recipient)
		if got := p.connect(); got != "Invitation sent." {
			t.Fatalf("%s -> %s: %q", c.sender, c.recipient, got)
		}
		// Scroll the way a reader does, to the inbox.
		top := eval[float64](p, `(() => { const h = document.querySelector("#h-inbox"); window.scrollBy(0, h.getBoundingClientRect().top - 250); return h.getBoundingClientRect().top; })()`)
		if eval[float64](p, `window.scrollY`) == 0 {
			t.Fatalf("the page does not scroll at 1280x800; the test needs it to")
		}
		p.command(fmt.Sprintf(`#inbox li[data-from=%q] %s`, c.sender, c.button))
		after := eval[float64](p, `document.querySelector("#h-inbox").getBoundingClientRect().top`)
		if math.Abs(after-top) > 2 {
			t.Errorf("%s: the inbox moved from %.0f px to %.0f px on screen", c.button, top, after)
		}
		eval[bool](p, `(window.scrollTo(0, 0), true)`)
	}
}
