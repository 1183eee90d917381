package sim_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/wasm/internal/sim"
)

func newSim(t *testing.T) (*sim.Sim, []byte) {
	t.Helper()
	seed, err := os.ReadFile("../../../web/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	pol, err := os.ReadFile("../../../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(seed, "policies.yaml", pol)
	if err != nil {
		t.Fatal(err)
	}
	return s, pol
}

func do(t *testing.T, s *sim.Sim, c sim.Command) sim.Result {
	t.Helper()
	r, err := s.Do(c)
	if err != nil {
		t.Fatalf("%+v: %v", c, err)
	}
	return r
}

func invite(t *testing.T, s *sim.Sim, from, to string) lifecycle.InviteResult {
	t.Helper()
	return do(t, s, sim.Command{Op: "invite", From: from, To: to}).Result.(lifecycle.InviteResult)
}

func TestDailyLimitEditedInPolicy(t *testing.T) {
	s, pol := newSim(t)
	edited := strings.Replace(string(pol), "free:    {daily: 30,", "free:    {daily: 2,", 1)
	if res := s.Load("policies.yaml", []byte(edited)); !res.OK {
		t.Fatalf("edited policy does not load: %v", res.Errors)
	} else if tr := s.Tests(); tr.Passed == tr.Tests {
		t.Errorf("a daily limit of 2 should fail some of the policy's own tests, got %d/%d", tr.Passed, tr.Tests)
	}
	for _, to := range []string{"bob", "grace"} {
		if r := invite(t, s, "alice", to); r.Invite.Outcome != "allow" {
			t.Fatalf("alice -> %s: %s %s", to, r.Invite.Outcome, r.Invite.Reason)
		}
	}
	r := invite(t, s, "alice", "ken")
	if r.Invite.Rule != "daily_limit" || !strings.Contains(r.Public.Message, "today's limit of 2 invitations") {
		t.Fatalf("third invitation: %+v", r.Invite)
	}
	v, err := s.View("alice", "ken")
	if err != nil {
		t.Fatal(err)
	}
	if m := v.Members[0].Meter; m.Day.Used != 2 || m.Day.Remaining != 0 || m.Day.Limit != 2 {
		t.Errorf("alice's day meter: %+v", m.Day)
	}
	// Past the reset, sending works again.
	do(t, s, sim.Command{Op: "set_time", Time: v.NextReset})
	if r := invite(t, s, "alice", "ken"); r.Invite.Outcome != "allow" {
		t.Fatalf("after the reset: %+v", r.Invite)
	}
}

func TestBadPolicyKeepsLastGood(t *testing.T) {
	s, pol := newSim(t)
	bad := strings.Replace(string(pol), "  max_pending_per_pair: 1", "  max_pending_per_pair: 1: 2", 1)
	res := s.Load("policies.yaml", []byte(bad))
	if res.OK || len(res.Errors) == 0 {
		t.Fatalf("broken YAML loaded: %+v", res)
	}
	want := 1 + strings.Count(string(pol)[:strings.Index(string(pol), "  max_pending_per_pair")], "\n")
	if got := res.Errors[0].Pos.Line; got != want {
		t.Errorf("error at line %d, want %d: %v", got, want, res.Errors)
	}
	if res.Name != "linkedin-default" {
		t.Errorf("policy in force: %q", res.Name)
	}
	if r := invite(t, s, "alice", "bob"); r.Invite.Outcome != "allow" {
		t.Fatalf("decisions after a bad edit: %+v", r.Invite)
	}
}

func TestBlockShowsGenericMessage(t *testing.T) {
	s, _ := newSim(t)
	do(t, s, sim.Command{Op: "block", From: "bob", To: "alice"})
	r := invite(t, s, "alice", "bob")
	pub, _ := json.Marshal(r.Public)
	if string(pub) != `{"outcome":"deny","message":"Unable to connect. You can't send an invitation to this member right now."}` {
		t.Fatalf("public view: %s", pub)
	}
	if r.Invite.Rule != "blocked" {
		t.Errorf("operator view: %+v", r.Invite)
	}
}

func TestAcceptConnects(t *testing.T) {
	s, _ := newSim(t)
	r := invite(t, s, "alice", "bob")
	if r.Invitation.Delivery != "inbox" {
		t.Fatalf("delivery: %+v", r.Invitation)
	}
	res := do(t, s, sim.Command{Op: "accept", ID: r.Invitation.ID})
	if res.Result.(lifecycle.AnswerResult).Decision.Outcome != "allow" {
		t.Fatalf("accept: %+v", res)
	}
	v, _ := s.View("alice", "bob")
	if !v.Pair.Connected || v.Pair.Degree != 1 {
		t.Errorf("pair after accept: %+v", v.Pair)
	}
	if v.Members[0].Meter.Connections != 3 || v.Members[0].Meter.Day.Used != 1 {
		t.Errorf("alice's meter: %+v", v.Members[0].Meter)
	}
}

func TestPreviewChangesNothing(t *testing.T) {
	s, _ := newSim(t)
	before := s.Events()
	for _, to := range []string{"bob", "dave", "frank", "heidi", "nina", "oscar", "leo"} {
		p, err := s.Preview("alice", to, "")
		if err != nil {
			t.Fatalf("preview alice -> %s: %v", to, err)
		}
		if len(p.Decisions) == 0 || len(p.Decisions[0].Trace) == 0 {
			t.Errorf("preview alice -> %s has no explained decision: %+v", to, p)
		}
	}
	p, _ := s.Preview("alice", "dave", "")
	if len(p.Decisions) < 2 || p.Decisions[1].Outcome != "auto_accept" {
		t.Errorf("preview of an auto-accept: %+v", p.Decisions)
	}
	if s.Events() != before {
		t.Error("preview changed the event log")
	}
	v, _ := s.View("alice", "dave")
	if v.Pair.Connected || v.Members[0].Meter.Day.Used != 0 {
		t.Errorf("preview changed the state: %+v %+v", v.Pair, v.Members[0].Meter.Day)
	}
}

func TestReplayRebuildsTheSameState(t *testing.T) {
	s, pol := newSim(t)
	s.Load("policies.yaml", []byte(strings.Replace(string(pol), "free:    {daily: 30,", "free:    {daily: 1,", 1)))
	r := invite(t, s, "alice", "bob")
	invite(t, s, "alice", "grace")
	do(t, s, sim.Command{Op: "advance", Duration: "1d"})
	do(t, s, sim.Command{Op: "accept", ID: r.Invitation.ID})
	do(t, s, sim.Command{Op: "block", From: "ken", To: "alice"})
	j := s.Journal()
	events := s.Events()

	s2, _ := newSim(t)
	if n, err := s2.Replay(j); err != nil || n != len(j) {
		t.Fatalf("replay: %d of %d: %v", n, len(j), err)
	}
	if s2.Events() != events {
		t.Errorf("replayed log differs:\n%s\n---\n%s", s2.Events(), events)
	}
	if s2.Now() != s.Now() {
		t.Errorf("clock %v, want %v", s2.Now(), s.Now())
	}
}

// The page offers every policy in examples/policies as a one-click
// variant: each must load, run the seed network, and pass its own tests.
func TestVariantPolicies(t *testing.T) {
	files, err := filepath.Glob("../../../examples/policies/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no variants: %v", err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := newSim(t)
		res := s.Load(filepath.Base(f), src)
		if !res.OK {
			t.Errorf("%s: %v", f, res.Errors)
			continue
		}
		if tr := s.Tests(); tr.Passed != tr.Tests || tr.Tests == 0 {
			t.Errorf("%s: %d of %d tests pass; failing: %v", f, tr.Passed, tr.Tests, tr.Failed)
		}
		if _, err := s.Do(sim.Command{Op: "invite", From: "alice", To: "bob"}); err != nil {
			t.Errorf("%s: invite: %v", f, err)
		}
	}
}

// Moving the clock past pending_expiry (180 days) expires pending
// invitations, and the view shows them expired.
func TestClockExpiresPendingInvitations(t *testing.T) {
	s, _ := newSim(t)
	r := invite(t, s, "alice", "bob")
	do(t, s, sim.Command{Op: "advance", Duration: "179d"})
	if v, _ := s.View("alice", "bob"); v.Pair.Pending != r.Invitation.ID {
		t.Fatalf("pending after 179 days: %+v", v.Pair)
	}
	res := do(t, s, sim.Command{Op: "advance", Duration: "1d"})
	if c := res.Result.(sim.Clock); len(c.Expired) != 1 || c.Expired[0].ID != r.Invitation.ID {
		t.Fatalf("expired after 180 days: %+v", c)
	}
	v, _ := s.View("alice", "bob")
	if v.Pair.Pending != "" || v.Invitations[0].Status != "expired" {
		t.Errorf("after expiry: pair %+v, invitation %+v", v.Pair, v.Invitations[0])
	}
}

// TestSentListIsTheSendersView: the page's sent list shows alice her
// invitations as she may see them: one bob's block closed and one heidi's
// nobody setting ignored both read pending.
func TestSentListIsTheSendersView(t *testing.T) {
	s, _ := newSim(t)
	toBob := invite(t, s, "alice", "bob")
	toHeidi := invite(t, s, "alice", "heidi")
	if toHeidi.Invitation.Status != lifecycle.StatusIgnored {
		t.Fatalf("heidi ignores every invitation; got %+v", toHeidi.Invitation)
	}
	do(t, s, sim.Command{Op: "block", From: "bob", To: "alice"})
	v, err := s.View("alice", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Sent) != 2 {
		t.Fatalf("sent list: %+v", v.Sent)
	}
	for _, inv := range v.Sent {
		if inv.Status != lifecycle.StatusPending || (inv.ID != toBob.Invitation.ID && inv.ID != toHeidi.Invitation.ID) {
			t.Errorf("alice sees %+v", inv)
		}
	}
}
