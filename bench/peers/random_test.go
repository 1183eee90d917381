package peers

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
)

// randomRequest is an invite request near the policy's boundaries: most
// facts are ordinary and each can be, with a small chance, the value at
// or next to a limit, so that every rule, and the allow, is reached.
func randomRequest(r *rand.Rand) *rules.Request {
	la, _ := time.LoadLocation("America/Los_Angeles")
	nows := []time.Time{
		time.Date(2026, 3, 2, 10, 0, 0, 0, la),   // a Monday morning
		time.Date(2026, 3, 6, 12, 0, 0, 0, la),   // a Friday
		time.Date(2026, 3, 8, 1, 30, 0, 0, la),   // the night clocks go forward
		time.Date(2026, 3, 9, 0, 0, 30, 0, la),   // 30 s before the week starts
		time.Date(2026, 1, 31, 23, 59, 0, 0, la), // the month's last minute
		time.Date(2026, 11, 1, 1, 30, 0, 0, la),  // the night clocks go back
	}
	now := nows[r.IntN(len(nows))]
	chance := func(p float64) bool { return r.Float64() < p }
	oneOf := func(vs ...int) int { return vs[r.IntN(len(vs))] }
	str := func(vs ...string) string { return vs[r.IntN(len(vs))] }
	near := func(p float64, offsets ...time.Duration) time.Time {
		if !chance(p) {
			return time.Time{}
		}
		return now.Add(offsets[r.IntN(len(offsets))])
	}
	list := func(p float64, vs ...string) []string {
		if !chance(p) {
			return nil
		}
		return []string{str(vs...)}
	}
	member := func(id string) *rules.Member {
		m := &rules.Member{ID: id, Kind: "person", Tier: "free", Status: "active", Connections: 100,
			Company: str("Acme", "Globex"), School: str("State U", "Tech"), Title: str("", "Engineer", "Recruiter")}
		if chance(0.05) {
			m.Kind = "company"
		}
		if chance(0.3) {
			m.Tier = "premium"
		} else if chance(0.02) {
			m.Tier = "gold"
		}
		if chance(0.25) {
			m.Status = str("restricted", "soft_banned", "deactivated", "closed")
		}
		m.RestrictedUntil = near(0.15, -time.Second, 0, time.Second, time.Hour, 3*24*time.Hour, 7*24*time.Hour, 8*24*time.Hour)
		m.SoftBannedUntil = near(0.1, -time.Second, time.Second)
		if chance(0.1) {
			m.Connections = oneOf(499, 500, 29999, 30000)
		}
		if chance(0.3) {
			d := oneOf(0, 29, 30, 99, 100)
			m.Sent = rules.Counts{Day: d, Week: d + oneOf(0, 0, 269, 270, 299, 470), Month: d + oneOf(0, 270, 299, 300)}
			m.Sent.Month = max(m.Sent.Month, m.Sent.Week)
		}
		if chance(0.1) {
			m.OverLimit = oneOf(1, 248, 249, 250)
		}
		if chance(0.1) {
			m.Received.Day = oneOf(999, 1000)
		}
		if chance(0.2) {
			m.Settings.Invitations = str("everyone", "email_or_contacts", "contacts_only", "mutual", "second_degree", "third_degree", "nobody")
		}
		m.Settings.Companies = list(0.1, "Acme", "Initech")
		m.Settings.Schools = list(0.1, "Tech", "State U")
		m.Settings.Titles = list(0.1, "Engineer", "")
		return m
	}
	req := &rules.Request{Stage: rules.StageInvite, Now: now, Sender: member("alice")}
	if s := req.Sender; chance(0.04) {
		// Restricted for going over the week, and about to reach the
		// 250th attempt past it: weekly_limit_escalation's ground.
		s.Status, s.Sent.Week, s.Sent.Month = "restricted", 500, 500
		s.OverLimit = oneOf(248, 249, 250)
		s.RestrictedUntil = now.Add(time.Duration(oneOf(1, 72, 168, 169)) * time.Hour)
	}
	if !chance(0.03) {
		req.Recipient = member(str("bob", "bob", "bob", "bob", "bob", "bob", "bob", "bob", "bob", "alice"))
	}
	switch {
	case chance(0.05):
		req.Note = strings.Repeat("x", oneOf(300, 301))
	case chance(0.05):
		req.Note = strings.Repeat("é", oneOf(300, 301)) // two bytes a character
	case chance(0.5):
		req.Note = "Hi, we met at the meetup."
	}
	p := &req.Pair
	p.Degree = 2
	if chance(0.3) {
		p.Degree = oneOf(0, 1, 2, 3)
	}
	p.Mutual = oneOf(0, 3, 4)
	p.Connected = chance(0.03)
	p.KnowsEmail = chance(0.2)
	p.InContacts = chance(0.2)
	p.Blocked = chance(0.03)
	if chance(0.05) {
		p.Pending = oneOf(1, 2)
	}
	p.Rejected = chance(0.03)
	if chance(0.15) {
		p.Ignored = oneOf(1, 2, 3)
		p.LastIgnoredAt = near(0.9, -30*24*time.Hour, -100*24*time.Hour, -364*24*time.Hour, -400*24*time.Hour)
	}
	p.WithdrawnAt = near(0.1, -time.Hour, -7*24*time.Hour, -8*24*time.Hour)
	return req
}

// TestEquivalenceRandom: beyond the corpus, every engine gives connrules'
// native decision on requests generated near the policy's boundaries
// (a fixed seed, so a failure repeats).
func TestEquivalenceRandom(t *testing.T) {
	n := 1500
	if testing.Short() {
		n = 200
	}
	hit := map[string]int{}
	for _, policy := range []string{"policies.yaml", "policies-switched-on.yaml"} {
		engs := engines(t, policy)
		r := rand.New(rand.NewPCG(16, 4))
		rulesHit := map[string]int{}
		for i := range n {
			req := randomRequest(r)
			if err := req.Validate(); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			want := engs[0].decide(req)
			rulesHit[want.Rule+"/"+want.Reason]++
			for _, e := range engs[1:] {
				if got := e.decide(req); !got.Same(want) {
					js, _ := req.AppendJSON(nil)
					t.Fatalf("%s, request %d, %s:\ngot  %+v\n%s: %+v\nrequest %s", policy, i, e.name, got, engs[0].name, want, js)
				}
			}
		}
		t.Logf("%s: %d requests, decided by %v", policy, n, rulesHit)
		for k, v := range rulesHit {
			hit[strings.Split(k, "/")[0]] += v
		}
	}
	for _, id := range defaultRules(t) {
		if hit[id] == 0 && !testing.Short() {
			t.Errorf("no generated request is decided by %s", id)
		}
	}
}
