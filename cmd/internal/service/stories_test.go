package service

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The seed stories through the API, as a platform would drive them.

const generic = "Unable to connect. You can't send an invitation to this member right now."

func (s *server) putMember(id string, body m) {
	s.t.Helper()
	if body == nil {
		body = m{}
	}
	if _, ok := body["email"]; !ok {
		body["email"] = id + "@example.test"
	}
	if _, ok := body["acceptance_rate"]; !ok {
		body["acceptance_rate"] = 0.5
	}
	r := s.do("PUT", "/v1/members/"+id, testAppKey, body)
	if r.status != 201 && r.status != 200 {
		s.t.Fatalf("PUT member %s: %d %s", id, r.status, r.body)
	}
}

// invite invites by email (so the sender knows it) and returns the app's view.
func (s *server) invite(from, to, note string) m {
	s.t.Helper()
	r := s.do("POST", "/v1/members/"+from+"/invitations", testAppKey, m{"email": to + "@example.test", "note": note})
	if r.status != 200 {
		s.t.Fatalf("invite %s -> %s: %d %s", from, to, r.status, r.body)
	}
	var v m
	r.json(s.t, &v)
	return v
}

func outcome(v m) string { return v["decision"].(m)["outcome"].(string) }
func message(v m) string { return v["decision"].(m)["message"].(string) }

func (s *server) advance(d string) {
	s.t.Helper()
	if r := s.do("POST", "/v1/clock", testOperatorKey, m{"advance": d}); r.status != 200 {
		s.t.Fatalf("clock: %d %s", r.status, r.body)
	}
}

func (s *server) meter(id string) m {
	s.t.Helper()
	r := s.do("GET", "/v1/members/"+id+"/meter", testAppKey, nil)
	if r.status != 200 {
		s.t.Fatalf("meter: %d %s", r.status, r.body)
	}
	var v m
	r.json(s.t, &v)
	return v
}

func (s *server) list(member, which string) []any {
	s.t.Helper()
	r := s.do("GET", "/v1/members/"+member+"/invitations/"+which, testAppKey, nil)
	if r.status != 200 {
		s.t.Fatalf("list %s: %d %s", which, r.status, r.body)
	}
	var v m
	r.json(s.t, &v)
	return v["invitations"].([]any)
}

func TestE2EDailyLimit(t *testing.T) {
	s := start(t)
	s.putMember("alice", nil)
	for i := 1; i <= 7; i++ {
		s.putMember(fmt.Sprintf("r%d", i), nil)
	}
	for i := 1; i <= 5; i++ {
		if v := s.invite("alice", fmt.Sprintf("r%d", i), "Hello from alice, write to alice@example.test"); outcome(v) != "allow" {
			t.Fatalf("invitation %d: %v", i, v)
		}
	}
	v := s.invite("alice", "r6", "")
	if outcome(v) != "deny" || !strings.Contains(message(v), "today's limit of 5") || v["decision"].(m)["retry_after"] != "2026-03-03T00:00:00-08:00" {
		t.Fatalf("6th: %v", v)
	}
	mt := s.meter("alice")
	if day := mt["day"].(m); day["used"] != 5.0 || day["remaining"] != 0.0 || mt["available"] != 0.0 {
		t.Fatalf("meter: %v", mt)
	}
	if got := len(s.list("alice", "sent")); got != 5 {
		t.Fatalf("alice sent %d, want 5", got)
	}
	if got := len(s.list("r1", "received")); got != 1 {
		t.Fatalf("r1 received %d, want 1", got)
	}
	s.advance("24h")
	if v := s.invite("alice", "r6", ""); outcome(v) != "allow" {
		t.Fatalf("next day: %v", v)
	}

	// The decision log: one line per decision, with the policy hash, and
	// the note and the email masked.
	s.stop()
	b, err := os.ReadFile(filepath.Join(s.dir, "decisions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 7 {
		t.Fatalf("decision log has %d lines, want 7:\n%s", len(lines), b)
	}
	if strings.Contains(string(b), "alice@example.test") || strings.Contains(string(b), "Hello from") {
		t.Fatalf("decision log leaks a note or an email:\n%s", lines[0])
	}
	if !strings.Contains(lines[0], `"policy_hash":"sha256:`) || !strings.Contains(lines[0], `[masked 45 chars]`) || !strings.Contains(lines[0], `"email":"r***@example.test"`) {
		t.Fatalf("decision log line: %s", lines[0])
	}
}

func TestE2EWeeklyRestriction(t *testing.T) {
	s := start(t)
	s.putMember("alice", nil)
	for i := 1; i <= 10; i++ {
		s.putMember(fmt.Sprintf("r%d", i), nil)
	}
	for i := 1; i <= 8; i++ {
		if i == 6 {
			s.advance("24h") // Tuesday: the day resets, the week does not
		}
		if v := s.invite("alice", fmt.Sprintf("r%d", i), ""); outcome(v) != "allow" {
			t.Fatalf("invitation %d: %v", i, v)
		}
	}
	v := s.invite("alice", "r9", "")
	if outcome(v) != "deny" || !strings.Contains(message(v), "this week's limit of 8") || v["decision"].(m)["retry_after"] != "2026-03-10T11:00:00-07:00" {
		t.Fatalf("9th: %v", v)
	}
	mt := s.meter("alice")
	if mt["restricted_until"] != "2026-03-10T11:00:00-07:00" || mt["available"] != 0.0 {
		t.Fatalf("meter after the weekly limit: %v", mt)
	}
	s.advance("24h")
	if v := s.invite("alice", "r9", ""); outcome(v) != "deny" || !strings.Contains(message(v), "can't send invitations until") {
		t.Fatalf("while restricted: %v", v)
	}
	s.advance("168h")
	if v := s.invite("alice", "r9", ""); outcome(v) != "allow" {
		t.Fatalf("after the restriction: %v", v)
	}
}

func TestE2EBlockPrivacy(t *testing.T) {
	s := start(t)
	s.putMember("alice", nil)
	s.putMember("bob", nil)
	first := s.invite("alice", "bob", "")
	if outcome(first) != "allow" {
		t.Fatal(first)
	}
	id := first["invitation"].(m)["id"].(string)
	if r := s.do("PUT", "/v1/members/bob/blocks/alice", testAppKey, nil); r.status != 200 {
		t.Fatalf("block: %d %s", r.status, r.body)
	}
	// The block closed alice's invitation; she still sees it pending.
	sent := s.list("alice", "sent")
	if len(sent) != 1 || sent[0].(m)["status"] != "pending" {
		t.Fatalf("alice's sent list after the block: %v", sent)
	}
	// Bob no longer sees it.
	if got := s.list("bob", "received"); len(got) != 0 {
		t.Fatalf("bob's received list: %v", got)
	}
	// Alice withdraws what she sees as pending, an hour later: it works,
	// as for any.
	s.advance("1h")
	r := s.do("POST", "/v1/members/alice/invitations/"+id+"/withdraw", testAppKey, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"status":"withdrawn"`) {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	// Withdrawn when she withdrew it, not when the block closed it.
	if sent := s.list("alice", "sent"); sent[0].(m)["status"] != "withdrawn" || sent[0].(m)["closed_at"] != "2026-03-02T11:00:00-08:00" {
		t.Fatalf("after withdrawing: %v", sent)
	}
	// Inviting again: the generic denial, nothing more.
	r = s.do("POST", "/v1/members/alice/invitations", testAppKey, m{"email": "bob@example.test"})
	want := `{"decision":{"outcome":"deny","message":"` + generic + `"}}` + "\n"
	if r.status != 200 || string(r.body) != want {
		t.Fatalf("alice invites bob after the block: %d %s, want %s", r.status, r.body, want)
	}
	// The operator sees why.
	r = s.do("POST", "/v1/members/alice/invitations", testOperatorKey, m{"email": "bob@example.test"})
	if !strings.Contains(string(r.body), `"reason":"blocked"`) {
		t.Fatalf("operator view: %s", r.body)
	}
}

func TestE2EResendLadder(t *testing.T) {
	s := start(t)
	s.putMember("alice", nil)
	s.putMember("bob", nil)
	// Each allowed invitation is ignored, then withdrawn by alice (who
	// still sees it pending) before the next step.
	steps := []struct {
		advance string
		want    string // outcome, or a message fragment after "deny:"
	}{
		{"", "allow"},
		{"", "deny:You can invite this member again after"},
		{"2160h", "allow"}, // 90 days
		{"", "deny:You can invite this member again after"},
		{"8760h", "allow"}, // 365 days
		{"", "deny:You can't send this member another invitation."},
	}
	for i, st := range steps {
		if st.advance != "" {
			s.advance(st.advance)
		}
		v := s.invite("alice", "bob", "")
		if want, frag, _ := strings.Cut(st.want, ":"); outcome(v) != want || !strings.Contains(message(v), frag) {
			t.Fatalf("step %d: %v, want %s", i, v, st.want)
		}
		if outcome(v) != "allow" {
			continue
		}
		id := v["invitation"].(m)["id"].(string)
		if r := s.do("POST", "/v1/members/bob/invitations/"+id+"/ignore", testAppKey, nil); r.status != 200 {
			t.Fatalf("ignore: %d %s", r.status, r.body)
		}
		// Alice is never told: her invitation still reads as pending, and
		// she withdraws it before trying again.
		sent := s.list("alice", "sent")
		if last := sent[len(sent)-1].(m); last["id"] != id || last["status"] != "pending" {
			t.Fatalf("alice's view of an ignored invitation: %v", last)
		}
		if v := s.invite("alice", "bob", ""); outcome(v) != "deny" {
			t.Fatalf("inviting again at once: %v", v)
		}
		if r := s.do("POST", "/v1/members/alice/invitations/"+id+"/withdraw", testAppKey, nil); r.status != 200 || !strings.Contains(string(r.body), `"status":"withdrawn"`) {
			t.Fatalf("withdraw: %d %s", r.status, r.body)
		}
	}
}

func TestE2EAcceptCaps(t *testing.T) {
	s := start(t)
	s.putMember("bob", nil)
	var ids []string
	for i := 1; i <= 4; i++ {
		a := fmt.Sprintf("a%d", i)
		s.putMember(a, nil)
		v := s.invite(a, "bob", "Hi Bob")
		if outcome(v) != "allow" {
			t.Fatalf("%s: %v", a, v)
		}
		ids = append(ids, v["invitation"].(m)["id"].(string))
	}
	if got := len(s.list("bob", "received")); got != 4 {
		t.Fatalf("bob sees %d invitations, want 4", got)
	}
	// Only the recipient may answer: a1 cannot accept its own invitation.
	if r := s.do("POST", "/v1/members/a1/invitations/"+ids[0]+"/accept", testAppKey, nil); r.status != 404 {
		t.Fatalf("a1 accepts its own invitation: %d %s", r.status, r.body)
	}
	// Nor withdraw someone else's.
	if r := s.do("POST", "/v1/members/a2/invitations/"+ids[0]+"/withdraw", testAppKey, nil); r.status != 404 {
		t.Fatalf("a2 withdraws a1's invitation: %d %s", r.status, r.body)
	}
	for i, id := range ids {
		r := s.do("POST", "/v1/members/bob/invitations/"+id+"/accept", testAppKey, nil)
		var v m
		r.json(t, &v)
		d := v["decision"].(m)
		if i < 3 && (r.status != 200 || d["outcome"] != "allow" || v["status"] != "accepted") {
			t.Fatalf("accept %d: %d %s", i, r.status, r.body)
		}
		if i == 3 && (d["outcome"] != "deny" || !strings.Contains(d["message"].(string), "limit of 3 connections") || v["status"] != "pending") {
			t.Fatalf("4th accept: %d %s", r.status, r.body)
		}
	}
	if mt := s.meter("bob"); mt["connections"] != 3.0 {
		t.Fatalf("bob's meter: %v", mt)
	}
	// Removing a connection makes room.
	if r := s.do("DELETE", "/v1/members/bob/connections/a1", testAppKey, nil); string(r.body) != "{\"removed\":true}\n" {
		t.Fatalf("remove: %s", r.body)
	}
	r := s.do("POST", "/v1/members/bob/invitations/"+ids[3]+"/accept", testAppKey, nil)
	if !strings.Contains(string(r.body), `"status":"accepted"`) {
		t.Fatalf("accept after removing: %s", r.body)
	}
	// Answering twice is a conflict.
	if r := s.do("POST", "/v1/members/bob/invitations/"+ids[3]+"/reject", testAppKey, nil); r.status != 409 {
		t.Fatalf("reject after accept: %d %s", r.status, r.body)
	}
	// The event log, from a sequence number on.
	r = s.do("GET", "/v1/events?after=3&limit=2", testOperatorKey, nil)
	var ev m
	r.json(t, &ev)
	if evs := ev["events"].([]any); len(evs) != 2 || evs[0].(m)["seq"] != 4.0 || ev["next"] != 5.0 {
		t.Fatalf("events: %s", r.body)
	}
}
