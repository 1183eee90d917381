package guest_test

import (
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/wasm/guest"
)

// TestEngineWireInOneBuffer: the engine's strings alias the input buffer
// for the call, so every request of the policy's tests goes through one
// reused buffer, overwritten with the next request and then with junk
// after each decision; each decision must still be exactly the native
// one. And a wire decision allocates nothing in the guest (allow and
// early denial alike): with no garbage per call the guest's collector
// has nothing to do between loads.
func TestEngineWireInOneBuffer(t *testing.T) {
	src, err := os.ReadFile("../../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := rules.Load("policies.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	var e guest.Engine
	if _, ok := e.Load("policies.yaml", src); !ok {
		t.Fatal("load failed")
	}
	_, raws := p.TestRequests()
	buf := make([]byte, 0, 64<<10)
	const flags = guest.FlagWire | guest.FlagWireOut
	for i, raw := range raws {
		req, err := rules.DecodeRequest(raw)
		if err != nil {
			t.Fatal(err)
		}
		buf, err = guest.AppendWire(buf[:0], req)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		out, ok := e.DecideFlags(buf, flags)
		if !ok {
			t.Fatalf("%d: %s", i, out)
		}
		for j := range buf {
			buf[j] = 0xa5 // what the host's next write does to the aliases
		}
		var got rules.Decision
		if guest.IsWireDecision(out) {
			err = guest.DecodeWireDecision(out, &got)
		} else {
			err = rules.UnmarshalDecision(out, &got)
		}
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		var want rules.Decision
		if err := rules.UnmarshalDecision(p.Decide(req).AppendJSON(nil), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%d: through one buffer\n got %+v\nwant %+v", i, got, want)
		}
	}

	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("PST", -8*3600))
	allow := &rules.Request{
		Stage: rules.StageInvite, Now: now, Note: "Hi",
		Sender: &rules.Member{ID: "alice", Kind: "person", Tier: "free", Status: "active", Connections: 120,
			Company: "Acme", School: "State U", Sent: rules.Counts{Hour: 1, Day: 4, Week: 20, Month: 60}, AcceptanceRate: 0.6},
		Recipient: &rules.Member{ID: "bob", Kind: "person", Tier: "free", Status: "active", Connections: 80},
		Pair:      rules.Pair{Degree: 2, Mutual: 3},
	}
	early := *allow
	early.Recipient = nil
	for name, r := range map[string]*rules.Request{"allow": allow, "early denial": &early} {
		w, err := guest.AppendWire(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		e.DecideFlags(w, flags) // warm the reused buffers
		if n := testing.AllocsPerRun(100, func() { e.DecideFlags(w, flags) }); n != 0 {
			t.Errorf("%s: %.1f allocations a decision, want 0", name, n)
		}
	}
}
