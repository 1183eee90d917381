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
)

// TestTooLargeRequestsNeverReachTheInstance: a request over
// rules.MaxRequestBytes (and a batch over host.MaxBatchBytes) is refused
// before it is copied into an instance, fails closed, and leaves the
// instance serving. A 30 MB body used to run the instance out of memory.
func TestTooLargeRequestsNeverReachTheInstance(t *testing.T) {
	ctx := context.Background()
	e := defaultEngine(t)
	small, err := json.Marshal(blockedRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	big := append([]byte(`{"note":"`), bytes.Repeat([]byte("x"), rules.MaxRequestBytes)...)
	big = append(big, `"}`...)

	out, err := e.DecideJSON(ctx, big, false)
	if !errors.Is(err, host.ErrTooLarge) {
		t.Fatalf("DecideJSON of %d bytes: err %v, want ErrTooLarge", len(big), err)
	}
	var d rules.Decision
	if jerr := json.Unmarshal(out, &d); jerr != nil || d.Outcome == "" || d.Outcome == "allow" {
		t.Fatalf("too large: answer %s (%v), want a fail-closed decision", out, jerr)
	}
	if !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("error does not say the limit: %v", err)
	}

	batch := append([]byte{'['}, bytes.Repeat(append(small, ','), host.MaxBatchBytes/len(small)+1)...)
	batch[len(batch)-1] = ']'
	if _, err := e.DecideBatchJSON(ctx, batch, false); !errors.Is(err, host.ErrTooLarge) {
		t.Fatalf("DecideBatchJSON of %d bytes: err %v, want ErrTooLarge", len(batch), err)
	}

	// The instance still decides, exactly as natively.
	got, err := e.DecideJSON(ctx, small, false)
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
