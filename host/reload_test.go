package host_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
)

// reloadPolicy is a small policy; version a or b differ in the daily
// limit and in every message, so a decision shows which policy made it.
func reloadPolicy(v string, limit int) []byte {
	return fmt.Appendf(nil, `version: 1
name: reload-%[1]s
params:
  tiers:
    free: {daily: %[2]d}
    premium: {daily: 100}
let:
  tier: params.tiers[sender.tier]
stages:
  invite:
    default: {outcome: allow, reason: sent, message: "sent by %[1]s"}
    rules:
      - id: daily_limit
        when: sender.sent.day >= tier.daily
        outcome: deny
        message: "%[1]s: limit ${tier.daily}"
        retry_after: next_day(now)
  deliver:
    default: {outcome: inbox}
  accept:
    default: {outcome: allow}
`, v, limit)
}

// invalidPolicy fails to compile late, in the last rule's expression.
var invalidPolicy = []byte(`version: 1
name: reload-broken
stages:
  invite:
    default: {outcome: allow}
    rules:
      - id: broken
        when: sender.sent.dya >= 3
        outcome: deny
  deliver:
    default: {outcome: inbox}
  accept:
    default: {outcome: allow}
`)

func reloadRequest(t testing.TB) *rules.Request {
	req := blockedRequest(t)
	req.Pair.Blocked = false
	req.Sender.Sent.Day = 50 // over a's limit of 30, under b's 60
	return req
}

// TestHotReloadUnderLoad reloads 1,000 times, alternating valid and
// invalid policies, while goroutines decide: every decision is complete
// and comes wholly from one of the two valid policies, and an invalid
// edit never stops the last good policy from serving.
func TestHotReloadUnderLoad(t *testing.T) {
	ctx := context.Background()
	e, err := host.New(ctx, host.WithPoolSize(3))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	a, b := reloadPolicy("a", 30), reloadPolicy("b", 60)
	if err := e.Load(ctx, "a.yaml", a); err != nil {
		t.Fatal(err)
	}
	req := reloadRequest(t)
	wantA := `{"outcome":"deny","reason":"daily_limit","rule":"daily_limit","message":"a: limit 30","retry_after":"2026-03-03T00:00:00-08:00"}`
	wantB := `{"outcome":"allow","reason":"sent","rule":"","message":"sent by b"}`

	var failed, decided, sawA, sawB atomic.Int64
	var firstBad atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
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
				decided.Add(1)
				switch got := string(d.JSON()); {
				case err == nil && got == wantA:
					sawA.Add(1)
				case err == nil && got == wantB:
					sawB.Add(1)
				default:
					failed.Add(1)
					firstBad.CompareAndSwap(nil, fmt.Sprintf("%s (%v)", got, err))
				}
			}
		}()
	}

	last := wantA
	for i := range 1000 {
		var err error
		switch i % 4 {
		case 0:
			err, last = e.Load(ctx, "b.yaml", b), wantB
		case 2:
			err, last = e.Load(ctx, "a.yaml", a), wantA
		default:
			err = e.Load(ctx, "broken.yaml", invalidPolicy)
			var list rules.ErrorList
			if !errors.As(err, &list) || list[0].Pos.Line != 8 {
				t.Fatalf("reload %d: want the positioned error at line 8, got %v", i, err)
			}
			err = nil
		}
		if err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		// Right after Load returns, every new call uses the last good policy.
		if d, err := e.Decide(ctx, req); err != nil || string(d.JSON()) != last {
			t.Fatalf("after reload %d: got %s (%v), want %s", i, d.JSON(), err, last)
		}
	}
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d decisions failed or were malformed; first: %v", n, decided.Load(), firstBad.Load())
	}
	t.Logf("1000 reloads, %d concurrent decisions (%d by a, %d by b), 0 failed", decided.Load(), sawA.Load(), sawB.Load())
	if sawA.Load() == 0 || sawB.Load() == 0 {
		t.Errorf("the deciders never saw one of the policies: a %d, b %d", sawA.Load(), sawB.Load())
	}
}

// write replaces a file at once, by rename, as editors and deploy tools
// do: the watcher never sees it half-written.
func write(t *testing.T, path string, b []byte) {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestWatchFile edits a policy file: a valid edit is picked up, an invalid
// one is reported and the last good policy keeps serving.
func TestWatchFile(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := host.New(ctx, host.WithPoolSize(2), host.WithWatchInterval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, reloadPolicy("a", 30), 0o644); err != nil {
		t.Fatal(err)
	}
	reports := make(chan error, 16)
	if err := e.WatchFile(ctx, path, func(err error) { reports <- err }); err != nil {
		t.Fatal(err)
	}
	req := reloadRequest(t)
	check := func(wantMsg string) {
		t.Helper()
		d, err := e.Decide(ctx, req)
		if err != nil || d.Message != wantMsg {
			t.Fatalf("got %q (%v), want %q", d.Message, err, wantMsg)
		}
	}
	check("a: limit 30")
	next := func() error {
		t.Helper()
		select {
		case err := <-reports:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("no reload reported")
			return nil
		}
	}
	write(t, path, invalidPolicy)
	var list rules.ErrorList
	if err := next(); !errors.As(err, &list) || list[0].Pos.Filename != path {
		t.Fatalf("invalid edit: got %v, want positioned errors in %s", err, path)
	}
	check("a: limit 30")
	write(t, path, reloadPolicy("b", 60))
	if err := next(); err != nil {
		t.Fatal(err)
	}
	check("sent by b")
}
