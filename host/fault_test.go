package host_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
)

func defaultEngine(t testing.TB, opts ...host.Option) *host.Engine {
	t.Helper()
	ctx := context.Background()
	e, err := host.New(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(ctx) })
	if err := e.Load(ctx, "policies.yaml", readFile(t, "../policies.yaml")); err != nil {
		t.Fatal(err)
	}
	return e
}

func blockedRequest(t testing.TB) *rules.Request {
	req, err := rules.DecodeRequest(readFile(t, "../examples/requests/blocked.json"))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestFaultsReplaceTheInstance makes instances panic, trap and run out of
// memory while other goroutines decide: each fault costs its own caller an
// error and a fail-closed decision, and nobody else anything.
func TestFaultsReplaceTheInstance(t *testing.T) {
	ctx := context.Background()
	// The default cap, 64 MiB, set explicitly: every engine of this test
	// binary then shares one compiled module (the module is compiled once
	// per memory limit), which saves a compile of several seconds.
	e := defaultEngine(t, host.WithPoolSize(3), host.WithMemoryLimitPages(host.DefaultMemoryLimitPages))
	req := blockedRequest(t)
	want, err := e.Decide(ctx, req)
	if err != nil || want.Reason != "blocked" {
		t.Fatalf("got %+v, %v", want, err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	decided := 0
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				d, err := e.Decide(ctx, req)
				mu.Lock()
				decided++
				if err != nil || string(d.JSON()) != string(want.JSON()) {
					bad = append(bad, string(d.JSON())+" "+errString(err))
				}
				mu.Unlock()
			}
		}()
	}

	for _, f := range []struct {
		kind uint32
		want string
	}{
		{0, "deliberate panic"},
		{1, "out of bounds memory access"},
		{2, "out of memory"},
		{1, "out of bounds memory access"},
	} {
		err := e.Fault(ctx, f.kind)
		if err == nil || !strings.Contains(err.Error(), f.want) {
			t.Errorf("fault %d: got %v, want an error mentioning %q", f.kind, err, f.want)
		}
		var ge *host.GuestError
		var ie *host.InstanceError
		if f.kind == 0 && !errors.As(err, &ge) {
			t.Errorf("a recovered panic should come back as a GuestError, got %T", err)
		}
		// The wasip1 module keeps its line tables (wasmbuild.WASI does not
		// strip them), so a panic's stack names file:line.
		if f.kind == 0 && !goPosition.MatchString(errString(err)) {
			t.Errorf("a recovered panic's stack should name file:line, got %v", err)
		}
		if f.kind != 0 && !errors.As(err, &ie) {
			t.Errorf("fault %d should be an InstanceError, got %T", f.kind, err)
		}
	}

	// A request too big for the memory cap never reaches an instance: it
	// is refused as invalid_request, as natively.
	huge := make([]byte, 72<<20)
	for i := range huge {
		huge[i] = ' '
	}
	copy(huge, `{"stage":"deliver"}`)
	if out, err := e.DecideJSON(ctx, huge, false); err != nil || !bytes.Contains(out, []byte(`"invalid_request"`)) {
		t.Errorf("a 72 MiB request under a 64 MiB cap: %.200s %v, want invalid_request", out, err)
	}

	close(stop)
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("%d of %d concurrent decisions were hurt by another call's fault; first: %s", len(bad), decided, bad[0])
	}
	// The pool recovers: decisions work and no more instances live than
	// the pool holds.
	for range 10 {
		if d, err := e.Decide(ctx, req); err != nil || d.Reason != "blocked" {
			t.Fatalf("after the faults: %+v, %v", d, err)
		}
	}
	if n := e.Instances(); n > 3 {
		t.Errorf("%d live instances, pool of 3", n)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestFailClosed: no policy, a closed engine and a nil request all give an
// error and a well-formed service_unavailable decision.
func TestFailClosed(t *testing.T) {
	ctx := context.Background()
	e, err := host.New(ctx, host.WithPoolSize(1))
	if err != nil {
		t.Fatal(err)
	}
	req := blockedRequest(t)
	req.Stage = rules.StageDeliver
	d, err := e.Decide(ctx, req)
	if !errors.Is(err, host.ErrNoPolicy) {
		t.Errorf("no policy: got %v", err)
	}
	if d.Outcome != "hold" || d.Reason != rules.ReasonServiceUnavailable || !d.RetryAfter.Equal(req.Now.Add(rules.UnavailableRetry)) || d.Message == "" {
		t.Errorf("no policy: got %s", d.JSON())
	}
	ds, err := e.DecideBatch(ctx, []*rules.Request{req, req})
	if !errors.Is(err, host.ErrNoPolicy) || len(ds) != 2 || ds[1].Reason != rules.ReasonServiceUnavailable {
		t.Errorf("batch, no policy: %v %+v", err, ds)
	}
	if d, err := e.Decide(ctx, nil); err == nil || d.Reason != rules.ReasonServiceUnavailable || d.RetryAfter.IsZero() {
		t.Errorf("nil request: %s %v", d.JSON(), err)
	}
	raw, _ := req.AppendJSON(nil)
	want := `{"outcome":"hold","reason":"service_unavailable","rule":"","message":"The service is unavailable. Please try again shortly.","retry_after":"2026-03-02T10:00:30-08:00"}`
	if out, err := e.DecideJSON(ctx, raw, false); !errors.Is(err, host.ErrNoPolicy) || string(out) != want {
		t.Errorf("DecideJSON, no policy: %s %v", out, err)
	}
	if out, err := e.DecideBatchJSON(ctx, append(append(append(append([]byte("["), raw...), ','), raw...), ']'), false); !errors.Is(err, host.ErrNoPolicy) || string(out) != "["+want+","+want+"]" {
		t.Errorf("DecideBatchJSON, no policy: %s %v", out, err)
	}
	if err := e.Load(ctx, "policies.yaml", readFile(t, "../policies.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Decide(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	d, err = e.Decide(ctx, req)
	if !errors.Is(err, host.ErrClosed) || d.Reason != rules.ReasonServiceUnavailable {
		t.Errorf("closed: %s %v", d.JSON(), err)
	}
	// A malformed batch is the module refusing the call, not a trap.
	e2 := defaultEngine(t, host.WithPoolSize(1))
	if _, err := e2.DecideBatchJSON(ctx, []byte(`{"not":"an array"}`), false); err == nil || !strings.Contains(err.Error(), "array") {
		t.Errorf("bad batch: %v", err)
	}
	var ge *host.GuestError
	if _, err := e2.DecideBatchJSON(ctx, []byte(`[{}, `), false); !errors.As(err, &ge) || ge.Code != "bad_batch" {
		t.Errorf("truncated batch: %v", err)
	}
}

// TestTypedFallsBackToJSON: a request the wire format cannot carry as
// JSON would (a note that is not UTF-8) goes as JSON, alone or in a
// batch, and decides as the native engine does on the JSON round trip.
func TestTypedFallsBackToJSON(t *testing.T) {
	ctx := context.Background()
	e := defaultEngine(t, host.WithPoolSize(1))
	p, err := rules.Load("policies.yaml", readFile(t, "../policies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	good := blockedRequest(t)
	good.Pair.Blocked = false
	good.Stage = rules.StageDeliver
	bad := *good
	bad.Note = "crypto caf\xe9" // spam_keywords, in bytes that are not UTF-8
	native := func(r *rules.Request) string {
		raw, _ := r.AppendJSON(nil)
		rr, err := rules.DecodeRequest(raw)
		if err != nil {
			t.Fatal(err)
		}
		return string(p.Decide(rr).JSON())
	}
	d, err := e.Decide(ctx, &bad)
	if err != nil || string(d.JSON()) != native(&bad) {
		t.Errorf("single: %s %v, want %s", d.JSON(), err, native(&bad))
	}
	ds, err := e.DecideBatch(ctx, []*rules.Request{good, &bad, good})
	if err != nil || len(ds) != 3 {
		t.Fatalf("batch: %v %v", ds, err)
	}
	for i, r := range []*rules.Request{good, &bad, good} {
		if got := string(ds[i].JSON()); got != native(r) {
			t.Errorf("batch %d: %s, want %s", i, got, native(r))
		}
	}
}

// TestMemoryStaysBounded decides for a long while, one at a time and in
// batches: the instance's memory must stay bounded. Before every export
// yielded to the scheduler, a GC cycle could stall inside the module and
// the heap grew by about 120 KiB a batch until the instance ran out of
// memory.
func TestMemoryStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("decides 164,000 times")
	}
	ctx := context.Background()
	e := defaultEngine(t, host.WithPoolSize(1))
	req := blockedRequest(t)
	req.Pair.Blocked = false
	for range 100000 {
		if _, err := e.Decide(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	batch := make([]*rules.Request, 64)
	for i := range batch {
		batch[i] = req
	}
	for range 1000 {
		if _, err := e.DecideBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	mem := e.InstanceMemory()
	if len(mem) != 1 || mem[0] > 24<<20 {
		t.Fatalf("instance memory %v bytes after 164,000 decisions; want at most 24 MiB", mem)
	}
	t.Logf("instance memory after 164,000 decisions: %.1f MiB", float64(mem[0])/(1<<20))
}

// goPosition is a Go source position in a stack trace, as file.go:line.
var goPosition = regexp.MustCompile(`\.go:[0-9]+`)
