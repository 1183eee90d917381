//go:build phases

package guest

import (
	"os"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
)

// BenchmarkPhasesNative is host.BenchmarkPhases's native twin: the same
// phases of a wire decision, run natively (go test -tags phases).
func BenchmarkPhasesNative(b *testing.B) {
	src, err := os.ReadFile("../../policies.yaml")
	if err != nil {
		b.Fatal(err)
	}
	var e Engine
	if _, ok := e.Load("policies.yaml", src); !ok {
		b.Fatal("load failed")
	}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("PST", -8*3600))
	allow := &rules.Request{
		Stage: rules.StageInvite, Now: now, Note: "Hi Bob, we met at the Go meetup.",
		Sender: &rules.Member{ID: "alice", Kind: "person", Tier: "free", Status: "active", Connections: 120,
			Company: "Acme", School: "State U", Sent: rules.Counts{Hour: 1, Day: 4, Week: 20, Month: 60}, AcceptanceRate: 0.6},
		Recipient: &rules.Member{ID: "bob", Kind: "person", Tier: "free", Status: "active", Connections: 80,
			Company: "Globex", School: "Tech"},
		Pair: rules.Pair{Degree: 2, Mutual: 3},
	}
	early := *allow
	early.Recipient = nil
	for _, r := range []struct {
		name string
		req  *rules.Request
	}{{"early", &early}, {"allow", allow}} {
		w, err := AppendWire(nil, r.req)
		if err != nil {
			b.Fatal(err)
		}
		for phase, name := range []string{"decode", "decide", "encode"} {
			b.Run(r.name+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					e.Phase(w, FlagWire|FlagWireOut, phase+1)
				}
			})
		}
	}
}
