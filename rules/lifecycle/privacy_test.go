package lifecycle_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// senderWorld runs a script of alice's actions toward bob and records
// everything alice can observe through the lifecycle's API: the public
// decision and her view of each invitation, her sent list, her withdrawals'
// results and errors, and her meter.
type senderWorld struct {
	*fixture
	obs []string
}

func (w *senderWorld) see(format string, args ...any) {
	w.obs = append(w.obs, fmt.Sprintf(format, args...))
}

func (w *senderWorld) act(step string, event func(*fixture)) {
	w.t.Helper()
	switch step {
	case "invite":
		res, err := w.n.Invite(w.ctx, lifecycle.InviteInput{From: "alice", To: "bob", Note: "Hello"})
		w.see("invite: %+v sent %+v err %v", res.Public, res.Sent, err)
	case "list":
		sent, err := w.n.Sent(w.ctx, "alice")
		w.see("sent list: %+v err %v", sent, err)
	case "meter":
		m, err := w.n.Meter(w.ctx, "alice")
		b, _ := json.Marshal(m)
		w.see("meter: %s err %v", b, err)
	case "withdraw":
		sent, _ := w.n.Sent(w.ctx, "alice")
		for _, inv := range sent {
			if inv.To == "bob" && inv.Status == lifecycle.StatusPending {
				v, err := w.n.Withdraw(w.ctx, inv.ID)
				w.see("withdraw: %+v err %v", v, err)
				v, err = w.n.Withdraw(w.ctx, inv.ID)
				w.see("withdraw again: %+v err %v", v, err)
				return
			}
		}
		w.see("withdraw: nothing pending")
	case "later":
		w.clock.Advance(36 * time.Hour)
	case "expiry":
		w.clock.Advance(w.n.PendingExpiry() + time.Hour)
	case "event":
		event(w.fixture)
	default:
		w.t.Fatalf("unknown step %q", step)
	}
}

// TestSenderSeesNothingPrivate: for each private outcome, everything alice
// can observe over a sequence of actions is identical to what she observes
// in a world where the same refusal has another cause, or none: a block,
// the recipient's nobody setting, an ignore and a soft ban each leave no
// trace alice can see.
func TestSenderSeesNothingPrivate(t *testing.T) {
	setup := func(f *fixture) {
		f.member(lifecycle.Member{ID: "alice", Company: "Acme"})
		f.member(lifecycle.Member{ID: "bob"})
		f.member(lifecycle.Member{ID: "carol", Tier: "premium"})
		f.connect("alice", "carol")
		f.connect("carol", "bob")
	}
	settings := func(s rules.Settings) func(*fixture) {
		return func(f *fixture) {
			if _, err := f.n.UpdateMember(f.ctx, "bob", func(m *lifecycle.Member) { m.Settings = s }); err != nil {
				f.t.Fatal(err)
			}
		}
	}
	notAcme := settings(rules.Settings{Invitations: "everyone", Companies: []string{"Initech"}})
	block := func(f *fixture) {
		if _, err := f.n.Block(f.ctx, "bob", "alice"); err != nil {
			f.t.Fatal(err)
		}
	}
	ignore := func(f *fixture) {
		inv, err := f.n.PendingFrom(f.ctx, "alice", "bob")
		if err == nil {
			_, err = f.n.Ignore(f.ctx, inv.ID)
		}
		if err != nil {
			f.t.Fatal(err)
		}
	}
	softBan := func(f *fixture) {
		if _, err := f.n.UpdateMember(f.ctx, "alice", func(m *lifecycle.Member) { m.Status = "soft_banned" }); err != nil {
			f.t.Fatal(err)
		}
	}
	nothing := func(*fixture) {}
	atCap := func(f *fixture) { // bob reaches the cap of 2 (policy below)
		f.member(lifecycle.Member{ID: "dave", Tier: "premium"})
		f.connect("bob", "dave")
	}
	full := "invite event list meter invite later list withdraw list meter invite list meter"
	for _, c := range []struct {
		name               string
		private, reference func(*fixture)
		script             string
		replace            []string
	}{
		// A block closes alice's pending invitation; bob's new settings
		// (another private refusal) leave it pending.
		{"block after the invitation", block, notAcme, full, nil},
		{"block before the invitation", block, notAcme, "event " + full, nil},
		{"block, then the invitation expires", block, notAcme, "invite event list expiry list meter invite withdraw list", nil},
		// The recipient at the connection cap, and bob's new settings.
		{"recipient at the connection cap", atCap, notAcme, full,
			[]string{"free:    {daily: 30,  weekly: 300, monthly: 0, connections: 500}",
				"free:    {daily: 30,  weekly: 300, monthly: 0, connections: 2}"}},
		// An auto-ignore and an invitation nobody answers.
		{"nobody setting", settings(rules.Settings{Invitations: "nobody"}), nothing, "event " + full, nil},
		// A manual ignore and an invitation nobody answers, up to alice's
		// withdrawal: after it, the resend rules (004, public) apply.
		{"ignore", ignore, nothing, "invite event list meter invite later list withdraw list meter", nil},
		// A shadowed invitation and one nobody answers.
		{"soft ban", softBan, nothing, "event " + full, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := func(event func(*fixture)) []string {
				w := &senderWorld{fixture: newFixture(t, policy(t, c.replace...), monday)}
				setup(w.fixture)
				for _, step := range strings.Fields(c.script) {
					w.act(step, event)
				}
				return w.obs
			}
			priv, ref := run(c.private), run(c.reference)
			for i := range max(len(priv), len(ref)) {
				var p, r string
				if i < len(priv) {
					p = priv[i]
				}
				if i < len(ref) {
					r = ref[i]
				}
				if p != r {
					t.Fatalf("alice can tell, at observation %d:\n private:   %s\n reference: %s", i+1, p, r)
				}
			}
		})
	}
}
