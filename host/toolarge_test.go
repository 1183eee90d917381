package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/wasm/guest"
)

// TestTooLargeRequestsNeverReachTheInstance: a request over
// rules.MaxRequestBytes (and a batch over host.MaxBatchBytes) is refused
// before it is copied into an instance, fails closed, and leaves the
// instance serving. A 30 MB body used to run the instance out of memory.
// The request's answer is the module's own (invalid_request, byte for
// byte what the guest engine answers natively); it was service_unavailable.
func TestTooLargeRequestsNeverReachTheInstance(t *testing.T) {
	ctx := context.Background()
	e := defaultEngine(t)
	small, err := json.Marshal(blockedRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	big := append([]byte(`{"stage":"deliver","note":"`), bytes.Repeat([]byte("x"), rules.MaxRequestBytes)...)
	big = append(big, `"}`...)

	var native guest.Engine
	if _, ok := native.Load("policies.yaml", readFile(t, "../policies.yaml")); !ok {
		t.Fatal("native load failed")
	}
	want, _ := native.Decide(big, false)
	out, err := e.DecideJSON(ctx, big, false)
	if err != nil {
		t.Fatalf("DecideJSON of %d bytes: %v, want an invalid_request decision", len(big), err)
	}
	if !bytes.Equal(out, want) {
		t.Fatalf("too large:\n got %s\nwant %s (natively)", out, want)
	}
	var d rules.Decision
	if jerr := json.Unmarshal(out, &d); jerr != nil || d.Reason != rules.ReasonInvalidRequest || d.Outcome != "deny" ||
		len(d.Diagnostics) != 1 || !strings.Contains(d.Diagnostics[0].Message, "over the limit") {
		t.Fatalf("too large: answer %s (%v), want invalid_request naming the limit", out, jerr)
	}

	n := host.MaxBatchBytes/len(small) + 1
	batch := append([]byte{'['}, bytes.Repeat(append(small, ','), n)...)
	batch[len(batch)-1] = ']'
	got, err := e.DecideBatchJSON(ctx, batch, false)
	if !errors.Is(err, host.ErrTooLarge) {
		t.Fatalf("DecideBatchJSON of %d bytes: err %v, want ErrTooLarge", len(batch), err)
	}
	var ds []rules.Decision
	if jerr := json.Unmarshal(got, &ds); jerr != nil || len(ds) != n {
		t.Fatalf("too large batch: %d decisions (%v), want %d fail-closed ones", len(ds), jerr, n)
	}
	for _, d := range ds {
		if d.Reason != rules.ReasonServiceUnavailable || d.Outcome != "deny" {
			t.Fatalf("too large batch: %+v, want a fail-closed service_unavailable", d)
		}
	}

	// The instance still decides, exactly as natively.
	got, err = e.DecideJSON(ctx, small, false)
	if err != nil {
		t.Fatal(err)
	}
	p, err := rules.Load("policies.yaml", readFile(t, "../policies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := rules.DecodeRequest(small)
	if err != nil {
		t.Fatal(err)
	}
	if want := p.Decide(req).JSON(); !bytes.Equal(got, want) {
		t.Errorf("after the refusals:\n got %s\nwant %s", got, want)
	}
}
