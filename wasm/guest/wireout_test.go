package guest

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
)

// TestWireDecisionCarriesWhatJSONCarries: a decision sent in the wire
// format decodes to what its JSON decodes to, and one the wire format
// cannot carry exactly is refused, so the guest answers JSON.
func TestWireDecisionCarriesWhatJSONCarries(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 5, time.FixedZone("PST", -8*3600))
	tests := []struct {
		name string
		d    rules.Decision
		wire bool
	}{
		{"allow", rules.Decision{Outcome: "allow", Reason: "sent", Message: "Invitation sent."}, true},
		{"deny", rules.Decision{Outcome: "deny", Reason: "daily_limit", Rule: "daily_limit", Message: `You've sent <5> "today" & é`, RetryAfter: at}, true},
		{"private utc", rules.Decision{Outcome: "deny", Reason: "blocked", Private: true, RetryAfter: at.UTC()}, true},
		{"effects", rules.Decision{Outcome: "allow", Effects: []rules.Effect{{Kind: "restrict", Subject: "alice", Until: at}, {Kind: "count", Subject: "bob"}}}, true},
		{"local", rules.Decision{Outcome: "deny", RetryAfter: at.Local()}, true},
		{"empty", rules.Decision{}, true},
		{"not utf-8", rules.Decision{Outcome: "deny", Reason: "\xc3", Message: "bad \xff\xfe é \xe2\x82 \ufffd"}, true},
		{"not utf-8 effect", rules.Decision{Outcome: "allow", Effects: []rules.Effect{{Kind: "k\x80", Subject: "\xf0\x9f"}}}, true},
		{"year 10000", rules.Decision{Outcome: "deny", RetryAfter: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, false},
		{"offset seconds", rules.Decision{Outcome: "deny", RetryAfter: at.In(time.FixedZone("LMT", 61))}, false},
		{"trace", rules.Decision{Outcome: "allow", Trace: []rules.TraceEntry{{Rule: "r", Held: true}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, ok := appendWireDecision([]byte("x"), &tt.d)
			if ok != tt.wire {
				t.Fatalf("wire = %v, want %v", ok, tt.wire)
			}
			if !ok {
				if string(w) != "x" {
					t.Errorf("a refused decision left %q", w)
				}
				return
			}
			var fromWire, fromJSON rules.Decision
			if err := DecodeWireDecision(w[1:], &fromWire); err != nil {
				t.Fatal(err)
			}
			if err := rules.UnmarshalDecision(tt.d.AppendJSON(nil), &fromJSON); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromWire, fromJSON) || !bytes.Equal(fromWire.AppendJSON(nil), fromJSON.AppendJSON(nil)) {
				t.Errorf("wire gives %#v\nJSON gives %#v", fromWire, fromJSON)
			}
			if err := DecodeWireDecision(w[1:len(w)-1], &fromWire); err == nil {
				t.Error("a truncated wire decision decoded")
			}
		})
	}
}
