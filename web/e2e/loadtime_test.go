package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// loadRunsEnv asks for the first-visit runner; loadDirsEnv names the
// builds of web/ it compares, as label=dir pairs separated by spaces.
const (
	loadRunsEnv = "CONNRULES_LOAD_RUNS"
	loadDirsEnv = "CONNRULES_LOAD_DIRS"
)

// visitMarks reads where a first visit's time went, in ms after the
// navigation started: the page's cr: marks (those the page under test
// has), the end of the module's download and DOMContentLoaded.
const visitMarks = `(() => {
	const out = {};
	for (const m of performance.getEntriesByType("mark")) out[m.name] = m.startTime;
	const res = performance.getEntriesByType("resource").find((r) => r.name.endsWith("/connrules.wasm"));
	if (res) { out["wasm download start"] = res.startTime; out["wasm download end"] = res.responseEnd; }
	const nav = performance.getEntriesByType("navigation")[0];
	if (nav) out["DOMContentLoaded"] = nav.domContentLoadedEventEnd;
	return out;
})()`

// TestFirstVisitTimes prints where a first visit's time goes, as medians
// over $CONNRULES_LOAD_RUNS visits, each in a new browser context (an
// empty HTTP and code cache, as a first visitor has). With
// CONNRULES_LOAD_DIRS="before=/tmp/web-old after=.." it serves each
// build of web/ and alternates between them, so both are measured in the
// same run under the same load. It only prints: speed is not asserted.
//
//	CONNRULES_LOAD_RUNS=9 go test -run TestFirstVisitTimes -v ./web/e2e
func TestFirstVisitTimes(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv(loadRunsEnv))
	if runs <= 0 || skipAll {
		t.Skipf("set %s=N to measure N first visits", loadRunsEnv)
	}
	builds := loadBuilds(t)
	got := map[string]map[string][]float64{}
	for i := 0; i < runs; i++ {
		order := slices.Clone(builds)
		if i%2 == 1 {
			slices.Reverse(order) // neither build always goes first
		}
		for _, b := range order {
			m := firstVisit(t, b.url)
			if got[b.label] == nil {
				got[b.label] = map[string][]float64{}
			}
			for k, v := range m {
				got[b.label][k] = append(got[b.label][k], v)
			}
		}
	}
	for _, b := range builds {
		t.Logf("%s, %d first visits, ms after navigation start:%s", b.label, runs, medians(got[b.label]))
	}
}

// build is a build of web/ under test, served at url.
type build struct{ label, url string }

// loadBuilds serves the builds $CONNRULES_LOAD_DIRS names, or web/.
func loadBuilds(t *testing.T) []build {
	builds := []build{{"web", baseURL}}
	if dirs := strings.Fields(os.Getenv(loadDirsEnv)); len(dirs) > 0 {
		builds = nil
		for _, d := range dirs {
			label, dir, ok := strings.Cut(d, "=")
			if !ok {
				label, dir = d, d
			}
			builds = append(builds, build{label, serve(t, dir)})
		}
	}
	return builds
}

// medians formats each figure's median, min and max, in order of median.
func medians(marks map[string][]float64) string {
	names := make([]string, 0, len(marks))
	for k := range marks {
		names = append(names, k)
	}
	med := func(k string) float64 {
		v := slices.Clone(marks[k])
		slices.Sort(v)
		return v[len(v)/2]
	}
	slices.SortFunc(names, func(x, y string) int { return int(med(x) - med(y)) })
	var sb strings.Builder
	for _, k := range names {
		v := slices.Clone(marks[k])
		slices.Sort(v)
		fmt.Fprintf(&sb, "\n  %-22s median %6.0f ms  (min %4.0f, max %4.0f)", k, med(k), v[0], v[len(v)-1])
	}
	return sb.String()
}

// firstVisit loads url in a new browser context and returns its marks.
func firstVisit(t *testing.T, url string) map[string]float64 {
	t.Helper()
	ctx, cancel := chromedp.NewContext(shared.ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	tctx, cancelT := context.WithTimeout(ctx, time.Minute)
	defer cancelT()
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"] #btn-connect`))); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	m, err := chromedp.Run(tctx, chromedp.Evaluate[map[string]float64](visitMarks))
	if err != nil {
		t.Fatal(err)
	}
	// The span the engine's start takes (policy load, seed), per visit:
	// its median is steadier than the difference of two medians.
	if s, ok := m["cr:session"]; ok {
		if r, ok := m["cr:wasm-ready"]; ok {
			m["(session - wasm-ready)"] = s - r
		}
	}
	return m
}

// serve runs connrules-serve on dir until the test ends and returns its URL.
func serve(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command(serverBin, "-addr", "127.0.0.1:0", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("connrules-serve %s printed no URL: %v", dir, err)
	}
	_, url, _ := strings.Cut(strings.TrimSpace(line), ": ")
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return url
}

// TestEngineLoadsOnceAndAlone: the page downloads its module once (the
// preload and the compile in <head> share one request: a mismatch would
// download 2.4 MB twice), and that module has no authoring code, which
// only the workers load (connrules-author.wasm).
func TestEngineLoadsOnceAndAlone(t *testing.T) {
	p := open(t)
	if n := eval[int](p, `performance.getEntriesByType("resource").filter((r) => r.name.endsWith("/connrules.wasm")).length`); n != 1 {
		t.Errorf("the page fetched connrules.wasm %d times", n)
	}
	if eval[bool](p, `performance.getEntriesByType("resource").some((r) => r.name.endsWith("/connrules-author.wasm"))`) {
		t.Error("the page itself fetched the authoring module")
	}
	if got := eval[string](p, `typeof globalThis.connrulesAuthor`); got != "undefined" {
		t.Errorf("the page's module has connrulesAuthor (%s)", got)
	}
	// The workers' side is TestWarningShowsAtItsPosition and
	// TestImpactOfLoweringTheDailyLimit: both answer through them.
}
