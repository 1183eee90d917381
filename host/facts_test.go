package host_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
)

// TestInvalidFactsSameAsNative: facts JSON cannot carry (a NaN rate, a
// time past year 9999) and facts out of range are invalid_request through
// the host, as natively, not an error and a service_unavailable answer;
// no answer is ever empty.
func TestInvalidFactsSameAsNative(t *testing.T) {
	ctx := context.Background()
	e := defaultEngine(t)
	p, err := rules.Load("policies.yaml", readFile(t, "../policies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(r *rules.Request){
		"NaN rate":          func(r *rules.Request) { r.Sender.AcceptanceRate = math.NaN() },
		"infinite rate":     func(r *rules.Request) { r.Recipient.AcceptanceRate = math.Inf(-1) },
		"now in 9999":       func(r *rules.Request) { r.Now = time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC) },
		"now in 10000":      func(r *rules.Request) { r.Now = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"restricted 10001":  func(r *rules.Request) { r.Sender.RestrictedUntil = time.Date(10001, 1, 1, 0, 0, 0, 0, time.UTC) },
		"negative day":      func(r *rules.Request) { r.Sender.Sent.Day = -1 },
		"deliver, negative": func(r *rules.Request) { r.Stage = "deliver"; r.Pair.Pending = -1 },
	}
	for name, mutate := range cases {
		req := blockedRequest(t)
		req.Pair.Blocked = false
		mutate(req)
		want := p.Decide(req)
		if want.Reason != rules.ReasonInvalidRequest {
			t.Fatalf("%s: native %+v", name, want)
		}
		got, err := e.Decide(ctx, req)
		if err != nil || string(got.JSON()) != string(want.JSON()) {
			t.Errorf("%s:\ngot  %s (%v)\nwant %s", name, got.JSON(), err, want.JSON())
		}
	}
	// JSON in: a now past 9999 does not parse, so it is invalid too.
	in := `{"stage":"invite","now":"9999-12-31T23:59:59Z","sender":{"id":"a","kind":"person","tier":"free","status":"restricted","restricted_until":"9999-12-31T23:59:59Z"},"recipient":{"id":"b","kind":"person","tier":"free","status":"active"}}`
	out, err := e.DecideJSON(ctx, []byte(in), false)
	var d rules.Decision
	if err != nil || len(out) == 0 || json.Unmarshal(out, &d) != nil || d.Reason != rules.ReasonInvalidRequest || !strings.Contains(string(out), "now: 9999") {
		t.Errorf("DecideJSON: %s (%v)", out, err)
	}
}
