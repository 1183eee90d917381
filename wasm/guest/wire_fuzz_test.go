package guest_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/wasm/guest"
)

// FuzzDecodeWire: any bytes, as a wire request, decode or fail with an
// error, never a panic, with copies (DecodeWire) and through the engine's
// aliasing decoder (DecideFlags, whose guard would turn a panic into a
// "panic" answer, which the fuzz fails on); and a request that decodes
// encodes back to bytes that decode to the same bytes again.
func FuzzDecodeWire(f *testing.F) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 7, time.FixedZone("PST", -8*3600))
	for _, r := range []*rules.Request{
		{},
		{Stage: "invite", Now: now, Note: "hi", Sender: &rules.Member{ID: "a", Tier: "free", Settings: rules.Settings{Companies: []string{"x", ""}, Titles: []string{"CTO"}}}},
		{Stage: "accept", Now: now.UTC(), Recipient: &rules.Member{ID: "b", RestrictedUntil: now}, Pair: rules.Pair{Degree: -3, LastIgnoredAt: now}},
	} {
		w, err := guest.AppendWire(nil, r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(w)
	}
	src, err := os.ReadFile("../../policies.yaml")
	if err != nil {
		f.Fatal(err)
	}
	var e guest.Engine
	if _, ok := e.Load("policies.yaml", src); !ok {
		f.Fatal("load failed")
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r rules.Request
		err := guest.DecodeWire(b, &r)
		if out, ok := e.DecideFlags(b, guest.FlagWire|guest.FlagWireOut); !ok && err == nil {
			t.Fatalf("decodes, but the engine failed: %s", out)
		} else if ok == (err != nil) {
			t.Fatalf("DecodeWire: %v, engine ok %v: %s", err, ok, out)
		}
		if err != nil {
			return
		}
		w, err := guest.AppendWire(nil, &r)
		if err != nil {
			return // text the wire refuses to send (not UTF-8): fine to receive
		}
		var again rules.Request
		if err := guest.DecodeWire(w, &again); err != nil {
			t.Fatalf("re-encoded: %v", err)
		}
		// Compared as bytes: a NaN acceptance rate is not DeepEqual to itself.
		if w2, err := guest.AppendWire(nil, &again); err != nil || !bytes.Equal(w2, w) {
			t.Fatalf("re-encoded differently: %v\n%+v\n%+v", err, again, r)
		}
	})
}
