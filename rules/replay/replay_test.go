package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

var update = flag.Bool("update", false, "rewrite the golden files and the sample log")

const samplePath = "../../examples/events/sample.jsonl.gz"

// recorded is the policy the sample log was recorded under, frozen here
// so the goldens do not move when policies.yaml does.
func recorded(t testing.TB) []byte {
	t.Helper()
	src, err := os.ReadFile("testdata/recorded.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// readVariantSource is the recorded policy with one textual edit.
func readVariantSource(t testing.TB, old, new string) string {
	t.Helper()
	src := string(recorded(t))
	if old != "" {
		if !strings.Contains(src, old) {
			t.Fatalf("%q not in the policy", old)
		}
		src = strings.Replace(src, old, new, 1)
	}
	return src
}

// variant loads the recorded policy with one textual edit.
func variant(t testing.TB, name, old, new string) *rules.Policy {
	t.Helper()
	src := readVariantSource(t, old, new)
	p, err := rules.Load(name+".yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	dailyFrom = "free:    {daily: 30,"
	dailyTo   = "free:    {daily: 20,"
	spamFrom  = `keywords: ["crypto",`
	spamTo    = `keywords: ["hiring", "crypto",`
)

func sample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", name, got)
	}
}

func textOf(t *testing.T, r *Report) []byte {
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jsonOf(t *testing.T, r *Report) []byte {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestGolden replays and simulates the sample log under edited policies.
func TestGolden(t *testing.T) {
	ctx := context.Background()
	log := sample(t)
	base := variant(t, "recorded", "", "")
	lower := variant(t, "lower-daily", dailyFrom, dailyTo)
	spam := variant(t, "spam-hiring", spamFrom, spamTo)
	cases := []struct {
		name     string
		simulate bool
		opts     Options
		json     bool
	}{
		{name: "lower_daily.txt", opts: Options{Policy: lower, Label: "lower-daily.yaml"}},
		{name: "lower_daily_simulate.txt", simulate: true, opts: Options{Policy: lower, Label: "lower-daily.yaml"}},
		{name: "spam_hiring.txt", opts: Options{Policy: spam, Label: "spam-hiring.yaml"}},
		{name: "lower_daily_baseline.json", opts: Options{Policy: lower, Baseline: base, Label: "lower-daily.yaml", BaselineLabel: "recorded.yaml"}, json: true},
		{name: "spam_hiring_simulate_baseline.json", simulate: true, opts: Options{Policy: spam, Baseline: base, Label: "spam-hiring.yaml", BaselineLabel: "recorded.yaml"}, json: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := Replay
			if c.simulate {
				run = Simulate
			}
			r, err := run(ctx, bytes.NewReader(log), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Flips == 0 {
				t.Fatal("the edit flips nothing; the sample should show it")
			}
			if c.json {
				golden(t, c.name, jsonOf(t, r))
			} else {
				golden(t, c.name, textOf(t, r))
			}
		})
	}
}

// The recorded policy, replayed or re-run on its own log, changes nothing:
// replay and simulate reproduce the recording.
func TestSamePolicyFlipsNothing(t *testing.T) {
	ctx := context.Background()
	log := sample(t)
	p := variant(t, "recorded", "", "")
	for _, run := range []func(context.Context, io.Reader, Options) (*Report, error){Replay, Simulate} {
		r, err := run(ctx, bytes.NewReader(log), Options{Policy: p})
		if err != nil {
			t.Fatal(err)
		}
		if r.Flips != 0 || r.Reworded != 0 || r.Decisions < 20000 {
			t.Errorf("%s: %d flips, %d reworded of %d decisions; want 0 of 20000+", r.Mode, r.Flips, r.Reworded, r.Decisions)
		}
		if s := r.Simulation; s != nil && len(s.NotRerun)+len(s.NewOnly) != 0 {
			t.Errorf("simulate: actions not re-run: %v %v", s.NotRerun, s.NewOnly)
		}
	}
}

// A baseline decided on the same facts agrees with the recorded decisions,
// so replaying against it gives the same flips.
func TestBaselineMatchesRecorded(t *testing.T) {
	ctx := context.Background()
	log := sample(t)
	lower := variant(t, "lower", dailyFrom, dailyTo)
	a, err := Replay(ctx, bytes.NewReader(log), Options{Policy: lower})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Replay(ctx, bytes.NewReader(log), Options{Policy: lower, Baseline: variant(t, "recorded", "", "")})
	if err != nil {
		t.Fatal(err)
	}
	a.Baseline, b.Baseline = "", ""
	if ja, jb := jsonOf(t, a), jsonOf(t, b); !bytes.Equal(ja, jb) {
		t.Errorf("against recorded:\n%s\nagainst the baseline:\n%s", ja, jb)
	}
}

// samplePrefix is the first n lines of the sample, uncompressed: enough
// for the tests that only compare two ways of reading it.
func samplePrefix(t *testing.T, n int) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(sample(t)))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	end := 0
	for range n {
		i := bytes.IndexByte(plain[end:], '\n')
		if i < 0 {
			break
		}
		end += i + 1
	}
	return plain[:end]
}

// One worker or many, the report is the same: aggregation is in log order.
func TestWorkersDoNotChangeTheReport(t *testing.T) {
	ctx := context.Background()
	log := samplePrefix(t, 6000)
	lower := variant(t, "lower", dailyFrom, dailyTo)
	var prev []byte
	for _, w := range []int{1, 3, 8} {
		r, err := Replay(ctx, bytes.NewReader(log), Options{Policy: lower, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		got := jsonOf(t, r)
		if prev != nil && !bytes.Equal(prev, got) {
			t.Fatalf("%d workers give another report", w)
		}
		prev = got
	}
}

// Plain and gzip-compressed logs read the same.
func TestPlainAndGzip(t *testing.T) {
	plain := samplePrefix(t, 6000)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(plain)
	_ = zw.Close()
	p := variant(t, "lower", dailyFrom, dailyTo)
	a, err := Replay(context.Background(), bytes.NewReader(plain), Options{Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Replay(context.Background(), &z, Options{Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	if a.Flips == 0 || !bytes.Equal(jsonOf(t, a), jsonOf(t, b)) {
		t.Error("the plain and the gzip log give different reports")
	}
}

// Bad logs fail with the line at fault, never a panic.
func TestBadLogs(t *testing.T) {
	p := variant(t, "recorded", "", "")
	ok := `{"v":1,"seq":1,"at":"2026-03-02T09:00:00-08:00","action":"connect","actor":"a","subject":"b"}`
	cases := []struct{ name, log, want string }{
		{"not json", ok + "\n{oops\n", "line 2:"},
		{"newer format", `{"v":99,"seq":1}` + "\n", "line 1: event format v99"},
		{"bad request", `{"v":1,"seq":1,"request":{"stage":7},"decision":{"outcome":"allow"}}` + "\n", "line 1: request:"},
		{"line too long", ok + "\n" + `{"v":1,"pad":"` + strings.Repeat("x", MaxLineBytes) + `"}` + "\n", "line 2 is longer than"},
		{"bad gzip", "\x1f\x8bnot gzip", "gzip"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, run := range []func(context.Context, io.Reader, Options) (*Report, error){Replay, Simulate} {
				_, err := run(context.Background(), strings.NewReader(c.log), Options{Policy: p})
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("got %v, want an error containing %q", err, c.want)
				}
			}
		})
	}
}

// A decider that fails stops the replay with its error.
func TestDeciderError(t *testing.T) {
	p := variant(t, "recorded", "", "")
	boom := lifecycle.DeciderFunc(func(context.Context, *rules.Request) (rules.Decision, error) {
		return rules.Decision{}, errBoom
	})
	_, err := Replay(context.Background(), bytes.NewReader(sample(t)), Options{Policy: p, Decider: boom})
	if err != errBoom {
		t.Fatalf("got %v, want errBoom", err)
	}
}

var errBoom = errors.New("boom")

// The WebAssembly engine on wazero, deciding batches, gives the same report
// as the native engine.
func TestWazeroAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the WebAssembly module")
	}
	ctx := context.Background()
	e, err := host.New(ctx, host.WithPoolSize(2))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	if err := e.Load(ctx, "lower.yaml", []byte(readVariantSource(t, dailyFrom, dailyTo))); err != nil {
		t.Fatal(err)
	}
	log := samplePrefix(t, 8000)
	lower := variant(t, "lower", dailyFrom, dailyTo)
	native, err := Replay(ctx, bytes.NewReader(log), Options{Policy: lower})
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := Replay(ctx, bytes.NewReader(log), Options{Policy: lower, Decider: e})
	if err != nil {
		t.Fatal(err)
	}
	if native.Flips == 0 || !bytes.Equal(jsonOf(t, native), jsonOf(t, wasm)) {
		t.Errorf("native and wazero reports differ:\n%s\n%s", jsonOf(t, native), jsonOf(t, wasm))
	}
}

// A cancelled context stops a replay and a simulation with its error.
func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := variant(t, "recorded", "", "")
	for _, run := range []func(context.Context, io.Reader, Options) (*Report, error){Replay, Simulate} {
		if _, err := run(ctx, bytes.NewReader(sample(t)), Options{Policy: p}); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	}
}

// cancelAfter cancels its context once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

// Cancelling in the middle of a log stops the replay too.
func TestCancelledMidway(t *testing.T) {
	p := variant(t, "recorded", "", "")
	log := samplePrefix(t, 20000)
	for range 5 {
		for _, run := range []func(context.Context, io.Reader, Options) (*Report, error){Replay, Simulate} {
			ctx, cancel := context.WithCancel(context.Background())
			_, err := run(ctx, &cancelAfter{bytes.NewReader(log), len(log) / 3, cancel}, Options{Policy: p})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want context.Canceled", err)
			}
		}
	}
}
