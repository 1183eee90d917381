// Package e2e drives the browser demo in web/ in headless Chromium, the
// way a visitor would: it types into the policy editor, picks members,
// clicks buttons and reads what the page shows. It lives in its own
// module so the browser driver stays out of the library's import graph.
//
// Run it with `make e2e` (which builds web/ first). TestMain serves web/
// once with cmd/connrules-serve, built from the main module, on a free
// loopback port, and starts one headless Chromium with one tab; each test
// clears the page's storage and loads the page afresh in that tab.
//
// It needs Debian's chromium at /usr/bin/chromium, or $CHROMIUM (make
// setup installs it). Without a browser every test FAILS: skipping them
// is only done when asked for by name, with CONNRULES_SKIP_E2E=1.
//
// Screenshots go to a temporary folder, or to $CONNRULES_SCREENSHOTS when
// set: `make screenshots` refreshes the README's pictures that way.
package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const webDir = "../"

// generic is policies.yaml's messages.generic, the only thing a blocked
// sender may see.
const generic = "Unable to connect. You can't send an invitation to this member right now."

// skipEnv names the one way to skip these tests.
const skipEnv = "CONNRULES_SKIP_E2E"

// browserPath finds Chromium: $CHROMIUM, then Debian's, then the PATH.
func browserPath() (string, error) {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium: install Debian's (make setup, or apt-get install chromium) or set $CHROMIUM; " +
		"to skip the browser tests on purpose, set " + skipEnv + "=1")
}

// The run's shared state, set up by TestMain.
var (
	skipAll   bool   // CONNRULES_SKIP_E2E=1
	serverBin string // the built cmd/connrules-serve
	baseURL   string // the served web/
	shotDir   string // where screenshots go
	shared    *tab   // the one browser tab
	setupOnce sync.Once
	setupErr  error
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv(skipEnv) == "1" {
		fmt.Fprintf(os.Stderr, "e2e: SKIPPING every browser test because %s=1\n", skipEnv)
		skipAll = true
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "connrules-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	shotDir = os.Getenv("CONNRULES_SCREENSHOTS")
	if shotDir == "" {
		shotDir = filepath.Join(dir, "screenshots")
	}
	stop, err := start(dir)
	defer stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return m.Run()
}

// start builds and runs the server and the browser. stop undoes what
// started, also after an error.
func start(dir string) (stop func(), err error) {
	var undo []func()
	stop = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	browser, err := browserPath()
	if err != nil {
		return stop, err
	}
	for _, f := range []string{"index.html", "connrules.wasm", "connrules-author.wasm", "wasm_exec.js", "policies/index.json"} {
		if _, err := os.Stat(filepath.Join(webDir, f)); err != nil {
			return stop, fmt.Errorf("web/%s is missing (%v): run `make e2e`, which builds web/ first", f, err)
		}
	}
	server := filepath.Join(dir, "connrules-serve")
	build := exec.Command("go", "build", "-o", server, "./cmd/connrules-serve")
	build.Dir = "../.."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return stop, fmt.Errorf("building cmd/connrules-serve: %v", err)
	}
	serverBin = server
	cmd := exec.Command(server, "-addr", "127.0.0.1:0", webDir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return stop, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return stop, err
	}
	undo = append(undo, func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return stop, fmt.Errorf("connrules-serve printed no URL: %v", err)
	}
	_, url, ok := strings.Cut(strings.TrimSpace(line), ": ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		return stop, fmt.Errorf("connrules-serve printed %q", line)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	baseURL = url

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1280, 800),
	}
	// A diagnosis of the timing runners: V8 flags for the whole browser,
	// e.g. --liftoff-only to see how much of a first visit is compiling.
	if f := os.Getenv("CONNRULES_JS_FLAGS"); f != "" {
		opts = append(opts, chromedp.Flag("js-flags", f))
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	undo = append(undo, cancelA)
	ctx, cancelC := chromedp.NewContext(actx)
	undo = append(undo, cancelC)
	shared = &tab{ctx: ctx}
	// Uncaught exceptions and console errors fail the test they happen in.
	msgs := chromedp.Console(ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return stop, fmt.Errorf("starting %s: %v", browser, err)
	}
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				shared.mu.Lock()
				shared.problems = append(shared.problems, m.String())
				shared.mu.Unlock()
			}
		}
	}()
	return stop, nil
}

// tab is the browser tab every test drives in turn.
type tab struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

// page is one test's view of the shared tab.
type page struct {
	t   *testing.T
	ctx context.Context
	url string
}

// open gives the test the shared tab with the demo freshly loaded: the
// origin's storage is cleared first (the session lives in localStorage)
// and the viewport is the default 1280x800.
func open(t *testing.T) *page {
	t.Helper()
	if skipAll {
		t.Skipf("%s=1", skipEnv)
	}
	p := &page{t: t, ctx: shared.ctx, url: baseURL}
	shared.mu.Lock()
	seen := len(shared.problems)
	shared.mu.Unlock()
	t.Cleanup(func() {
		shared.mu.Lock()
		defer shared.mu.Unlock()
		for _, m := range shared.problems[seen:] {
			t.Errorf("page console: %s", m)
		}
	})
	// The page saves its session when it is left, so the storage is
	// cleared by a listener that runs after the page's own.
	eval[bool](p, `(() => {
		try {
			addEventListener("pagehide", () => localStorage.clear());
			localStorage.clear();
		} catch { /* about:blank has no storage */ }
		return true;
	})()`)
	p.do(chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(baseURL), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"] #btn-connect`)))
	if n := eval[int](p, `(connrulesSim.journal() || []).length`); n != 0 {
		t.Fatalf("the page did not start from the seed: %d commands in its journal", n)
	}
	return p
}

// reload reloads the page and waits until it is ready again.
func (p *page) reload() {
	p.t.Helper()
	p.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"] #btn-connect`)))
}
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatal(err)
	}
}

func eval[T any](p *page, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// text waits for the element to be shown and returns its text. It reads
// the live DOM with JavaScript, so re-rendered nodes are never stale.
func (p *page) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	js := fmt.Sprintf(`new Promise((resolve, reject) => {
		const t0 = Date.now();
		const poll = () => {
			const e = document.querySelector(%q);
			if (e && e.getClientRects().length) return resolve(e.innerText);
			if (Date.now() - t0 > 20000) return reject(new Error("no visible element " + %q));
			setTimeout(poll, 20);
		};
		poll();
	})`, sel, sel)
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// waitText waits until the element's text contains want and returns it.
func (p *page) waitText(sel, want string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	js := fmt.Sprintf(`new Promise((resolve) => {
		const t0 = Date.now();
		const poll = () => {
			const e = document.querySelector(%q);
			const s = e ? e.innerText : "";
			if (s.includes(%q) || Date.now() - t0 > 10000) return resolve(s);
			setTimeout(poll, 20);
		};
		poll();
	})`, sel, want)
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (p *page) click(sel string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// pick selects a sender and a recipient in the pickers, as a keyboard or
// mouse user would, and waits for the page to show the pair.
func (p *page) pick(sender, recipient string) {
	p.t.Helper()
	eval[bool](p, fmt.Sprintf(`(() => {
		for (const [sel, v] of [["#sender", %q], ["#recipient", %q]]) {
			const s = document.querySelector(sel);
			s.value = v;
			s.dispatchEvent(new Event("change", {bubbles: true}));
		}
		return true;
	})()`, sender, recipient))
	p.do(chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#members tr.sel-s[data-id=%q]`, sender))))
}

// command clicks a control that applies a command and waits until the
// page has applied it and drawn the result.
func (p *page) command(sel string) {
	p.t.Helper()
	n := eval[int](p, `Number(document.body.dataset.commands || 0)`)
	p.click(sel)
	p.do(chromedp.WaitReady(chromedp.CSS(fmt.Sprintf(`body[data-commands="%d"]`, n+1))))
}

// connect clicks Connect and returns what the sender sees.
func (p *page) connect() string {
	p.t.Helper()
	p.command("#btn-connect")
	return p.text("#public-message")
}

// typeAt puts the caret after the first occurrence of anchor in the
// editor (CodeMirror, through the page's window.connrulesEditor hook),
// selecting del characters after it, and types s with real key events.
func (p *page) typeAt(anchor string, del int, s string) {
	p.t.Helper()
	ok := eval[bool](p, fmt.Sprintf(`(() => {
		const v = connrulesEditor.view;
		const i = v.state.doc.toString().indexOf(%q);
		if (i < 0) return false;
		v.focus();
		v.dispatch({selection: {anchor: i + %d, head: i + %d + %d}, scrollIntoView: true});
		return true;
	})()`, anchor, len(anchor), len(anchor), del))
	if !ok {
		p.t.Fatalf("the editor has no %q", anchor)
	}
	p.do(chromedp.KeyEvent(s))
}

// lineOf is the 1-based line of the editor's text where match(line) first holds.
func (p *page) lineOf(match string) int {
	p.t.Helper()
	return eval[int](p, `connrulesEditor.getValue().split("\n").findIndex(l => `+match+`) + 1`)
}

// waitLint waits until the editor's status has settled.
func (p *page) waitLint() {
	p.t.Helper()
	p.do(chromedp.WaitVisible(chromedp.CSS(`#lint-status.ok, #lint-status.bad`)))
}

func (p *page) screenshot(name string) {
	p.t.Helper()
	// The sticky header belongs at the top of a full-page capture, and the
	// timings, which differ on every run, are hidden so that an unchanged
	// page gives the same picture.
	p.waitText("#tests", "pass") // the policy's own tests run when the page is idle
	eval[bool](p, `(window.scrollY && window.scrollTo(0, 0), document.body.classList.add("capture"), true)`)
	defer eval[bool](p, `(document.body.classList.remove("capture"), true)`)
	var buf []byte
	var err error
	for try := 0; try < 3; try++ {
		ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
		buf, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 is PNG
		cancel()
		if err == nil {
			break
		}
		p.t.Logf("screenshot %s, try %d: %v", name, try+1, err)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.MkdirAll(shotDir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shotDir, name+".png"), buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// meter reads a window of the sender's quota meter.
func (p *page) meter(window string) (used, remaining int) {
	p.t.Helper()
	v := eval[[]int](p, fmt.Sprintf(`(() => { const m = document.querySelector('#meters-sender .meter[data-window=%q]'); return [Number(m.dataset.used), Number(m.dataset.remaining)]; })()`, window))
	return v[0], v[1]
}

// step clicks the scenario player's Next step and waits until the step
// has finished (a long step runs in slices). It returns the progress
// texts the page showed while the step ran, sampled as it went.
func (p *page) step() []string {
	p.t.Helper()
	n := eval[int](p, `Number(document.querySelector("#player").dataset.step)`)
	p.click("#btn-step")
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Minute)
	defer cancel()
	js := fmt.Sprintf(`new Promise((resolve) => {
		const seen = [];
		const poll = () => {
			const box = document.querySelector("#player-progress");
			if (box && !box.hidden) {
				const s = box.innerText.trim();
				if (seen[seen.length - 1] !== s) seen.push(s);
			}
			if (document.querySelector("#player").dataset.step === "%d") return resolve(seen);
			setTimeout(poll, 10);
		};
		poll();
	})`, n+1)
	seen, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("scenario step %d did not finish: %v", n+1, err)
	}
	return seen
}
