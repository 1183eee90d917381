package peers

import (
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
)

// Benchmarks: every engine on the same three invite requests, with the
// hand-written function as the floor in the same run.
//
//	cd bench/peers && go test -run '^$' -bench . -benchmem
//
// Each engine's figure is read as a ratio to BenchmarkX/hand. Beside
// ns/op (wall clock) each reports cpu-ns/op, the process's CPU time per
// decision, which a loaded machine disturbs less.

// benchRequest passes every invite rule (as in rules/bench_test.go): the
// slowest path through the stage.
func benchRequest() *rules.Request {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("PST", -8*3600))
	return &rules.Request{
		Stage: rules.StageInvite, Now: now, Note: "Hi Bob, we met at the Go meetup.",
		Sender: &rules.Member{ID: "alice", Kind: "person", Tier: "free", Status: "active", Connections: 120,
			Company: "Acme", School: "State U", Sent: rules.Counts{Hour: 1, Day: 4, Week: 20, Month: 60}, AcceptanceRate: 0.6},
		Recipient: &rules.Member{ID: "bob", Kind: "person", Tier: "free", Status: "active", Connections: 80,
			Company: "Globex", School: "Tech"},
		Pair: rules.Pair{Degree: 2, Mutual: 3},
	}
}

// benchEngines runs each engine on req, after checking that every engine
// answers it as want.
func benchEngines(b *testing.B, req *rules.Request, want string) {
	engs := engines(b, "policies.yaml")
	var first Result
	for i, e := range engs {
		got := e.decide(req)
		if got.Rule != want && !(want == "" && got.Outcome == "allow") {
			b.Fatalf("%s: got %+v, want rule %q", e.name, got, want)
		}
		if i == 0 {
			first = got
		} else if !got.Same(first) {
			b.Fatalf("%s: got %+v, %s got %+v", e.name, got, engs[0].name, first)
		}
	}
	for _, e := range engs {
		b.Run(e.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				e.decide(req)
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkAllow: an invitation that every invite rule lets through.
func BenchmarkAllow(b *testing.B) { benchEngines(b, benchRequest(), "") }

// BenchmarkEarlyDeny: no recipient, denied by the first rule.
func BenchmarkEarlyDeny(b *testing.B) {
	req := benchRequest()
	req.Recipient = nil
	benchEngines(b, req, "not_found")
}

// BenchmarkDailyLimit: the day is full; the denial carries a message with
// a number and a formatted time, and a retry_after.
func BenchmarkDailyLimit(b *testing.B) {
	req := benchRequest()
	req.Sender.Sent.Day = 30
	benchEngines(b, req, "daily_limit")
}
