package guest_test

import (
	"bytes"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/wasm/guest"
)

// TestWireCarriesWhatJSONCarries: a request through the wire format
// decodes to exactly what it decodes to through JSON.
func TestWireCarriesWhatJSONCarries(t *testing.T) {
	src, err := os.ReadFile("../../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := rules.Load("policies.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	_, raws := p.TestRequests()
	var reqs []*rules.Request
	for _, raw := range raws {
		r, err := rules.DecodeRequest(raw)
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	la, _ := time.LoadLocation("America/Los_Angeles")
	odd := *reqs[0]
	sender := *odd.Sender
	odd.Sender = &sender
	odd.Now = time.Date(2026, 11, 1, 1, 30, 0, 123456789, la)
	sender.RestrictedUntil = time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("IST", 5*3600+1800))
	sender.AcceptanceRate = 1.0 / 3
	sender.Settings.Companies = []string{}
	sender.Settings.AutoAccept.Schools = []string{"é", ""}
	sender.Settings.Titles, sender.Settings.AutoAccept.Titles = []string{}, []string{"CTO"}
	sender.SoftBannedUntil, sender.Title = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), "Engineer"
	odd.Note = "multi\nline ✓ <b>"
	odd.Pair.LastIgnoredAt = time.Date(2020, 2, 29, 0, 0, 0, 0, time.UTC)
	odd.Pair.Degree = -7
	reqs = append(reqs, &odd, &rules.Request{})
	for i, r := range reqs {
		w, err := guest.AppendWire(nil, r)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		var got, want rules.Request
		if err := guest.DecodeWire(w, &got); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		j, err := r.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := rules.UnmarshalRequest(j, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%d:\nwire %+v\njson %+v", i, got, want)
		}
	}
	// What the wire cannot carry as JSON would, it refuses, and the host
	// sends JSON instead.
	bad := *reqs[0]
	bad.Note = "caf\xe9"
	if _, err := guest.AppendWire(nil, &bad); err == nil {
		t.Error("invalid UTF-8: want an error")
	}
	bad = *reqs[0]
	bad.Now = time.Date(1850, 1, 1, 0, 0, 0, 0, la) // local mean time, -7:52:58
	if _, err := guest.AppendWire(nil, &bad); err == nil {
		t.Error("an offset with seconds: want an error")
	}
	// Truncated input is an error, never a panic.
	w, _ := guest.AppendWire(nil, reqs[1])
	for n := range len(w) {
		var r rules.Request
		if guest.DecodeWire(w[:n], &r) == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
	if !bytes.Equal(w, mustWire(t, reqs[1])) {
		t.Error("AppendWire is not deterministic")
	}
}

func mustWire(t *testing.T, r *rules.Request) []byte {
	w, err := guest.AppendWire(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	return w
}
