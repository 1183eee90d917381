package traffic

import (
	"container/heap"
	"context"
	"errors"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
)

// action is one scheduled step of the run.
type action struct {
	at   time.Time
	seq  int // ties keep scheduling order
	kind string
	from string
	to   string
	// email invites by address instead of member id.
	email string
	note  string
	// id is the invitation an answer or withdrawal concerns.
	id string
}

type actionQueue []*action

func (q actionQueue) Len() int { return len(q) }
func (q actionQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q actionQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *actionQueue) Push(x any)   { *q = append(*q, x.(*action)) }
func (q *actionQueue) Pop() any {
	old := *q
	a := old[len(old)-1]
	*q = old[:len(old)-1]
	return a
}

func (g *gen) schedule(a *action) {
	g.seq++
	a.seq = g.seq
	heap.Push(&g.queue, a)
}

// run plans each day's actions at its start and executes everything due,
// answers scheduled by earlier invitations included, in time order.
func (g *gen) run(ctx context.Context) error {
	cal := g.cfg.Policy.Calendar()
	day := cal.DayStart(g.cfg.Network.Start)
	end := day.AddDate(0, 0, 7*g.cfg.Weeks)
	for ; day.Before(end); day = cal.NextDay(day) {
		g.planDay(day)
		next := cal.NextDay(day)
		for g.queue.Len() > 0 && g.queue[0].at.Before(next) {
			a := heap.Pop(&g.queue).(*action)
			if a.at.After(g.clock.Now()) {
				g.clock.Set(a.at)
			}
			if err := g.do(ctx, a); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// at is a random instant of the day between 08:00 and 22:00.
func (g *gen) at(day time.Time) time.Time {
	return day.Add(8*time.Hour + time.Duration(g.rnd.Int64N(14*3600))*time.Second)
}

func (g *gen) planDay(day time.Time) {
	weekend := day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
	for _, id := range g.members {
		n := g.rnd.IntN(3) // most members send 0 to 2 a day
		if weekend {
			n = g.rnd.IntN(2)
		}
		if g.rnd.IntN(25) == 0 {
			n += 10 + g.rnd.IntN(30) // a busy day: meets the daily limit
		}
		for range n {
			g.schedule(g.invite(id, g.at(day)))
		}
	}
	// The recruiter sends about a hundred a day on weekdays: the week's
	// limit runs out on the fifth day, and the restriction follows.
	if !weekend {
		for range 90 + g.rnd.IntN(25) {
			g.schedule(&action{at: g.at(day), kind: "invite", from: g.recruiter, to: g.pick(), note: "Hiring! Open roles at my company."})
		}
	}
	// A spammer bursts twice a week: dozens in an hour with spammy notes.
	if s := g.spammers[g.rnd.IntN(len(g.spammers))]; g.rnd.IntN(7) < 2 {
		start := g.at(day)
		for i := range 25 + g.rnd.IntN(10) {
			g.schedule(&action{at: start.Add(time.Duration(i) * time.Minute), kind: "invite", from: s, to: g.pick(),
				note: spamNotes[g.rnd.IntN(len(spamNotes))]})
		}
	}
	if g.rnd.IntN(2) == 0 {
		g.schedule(&action{at: g.at(day), kind: "import", from: g.pick()})
	}
	if g.rnd.IntN(4) == 0 {
		a, b := g.pick(), g.pick()
		if friends := sortedKeys(g.adj[a]); len(friends) > 0 {
			b = friends[g.rnd.IntN(len(friends))]
		}
		g.schedule(&action{at: g.at(day), kind: "remove", from: a, to: b})
	}
}

// invite plans one invitation from id: mostly to a friend of a friend,
// sometimes by email, to a stranger, to a friend, or again to someone who
// ignored an earlier one.
func (g *gen) invite(id string, at time.Time) *action {
	a := &action{at: at, kind: "invite", from: id, note: notes[g.rnd.IntN(len(notes))]}
	switch r := g.rnd.IntN(100); {
	case r < 70:
		a.to = g.secondDegree(id)
	case r < 80:
		if m := g.byID[g.pick()]; m.Email != "" {
			a.email = m.Email
		} else {
			a.to = m.ID
		}
	case r < 90:
		a.to = g.pick()
	case r < 94:
		if friends := sortedKeys(g.adj[id]); len(friends) > 0 {
			a.to = friends[g.rnd.IntN(len(friends))]
		} else {
			a.to = g.pick()
		}
	default:
		if ig := g.ignoredBy[id]; len(ig) > 0 {
			a.to = ig[g.rnd.IntN(len(ig))]
		} else {
			a.to = g.secondDegree(id)
		}
	}
	return a
}

func (g *gen) do(ctx context.Context, a *action) error {
	g.stats.Actions[a.kind]++
	switch a.kind {
	case "invite":
		return g.doInvite(ctx, a)
	case "accept":
		res, err := g.net.Accept(ctx, a.id)
		if err == nil && res.Decision.Outcome == "allow" {
			g.link(res.Invitation.From, res.Invitation.To)
		}
		return tolerate(err)
	case "ignore":
		res, err := g.net.Ignore(ctx, a.id)
		if err == nil {
			g.ignoredBy[res.Invitation.From] = append(g.ignoredBy[res.Invitation.From], res.Invitation.To)
		}
		return tolerate(err)
	case "reject":
		_, err := g.net.Reject(ctx, a.id)
		return tolerate(err)
	case "withdraw":
		_, err := g.net.Withdraw(ctx, a.id)
		return tolerate(err)
	case "block":
		_, err := g.net.Block(ctx, a.from, a.to)
		g.unlink(a.from, a.to)
		return err
	case "remove":
		_, err := g.net.Remove(ctx, a.from, a.to)
		g.unlink(a.from, a.to)
		return err
	case "import":
		var emails []string
		for range 3 + g.rnd.IntN(8) {
			if m := g.byID[g.pick()]; m.Email != "" {
				emails = append(emails, m.Email)
			}
		}
		emails = append(emails, "someone@elsewhere.example")
		_, err := g.net.ImportContacts(ctx, a.from, emails)
		return err
	}
	return nil
}

// tolerate drops the errors of answering an invitation that is no longer
// pending (withdrawn, blocked away, answered): people click stale links.
func tolerate(err error) error {
	if errors.Is(err, lifecycle.ErrNotPending) || errors.Is(err, lifecycle.ErrNotFound) {
		return nil
	}
	return err
}

// doInvite sends and schedules what the recipient does about it.
func (g *gen) doInvite(ctx context.Context, a *action) error {
	res, err := g.net.Invite(ctx, lifecycle.InviteInput{From: a.from, To: a.to, Email: a.email, Note: a.note})
	if errors.Is(err, lifecycle.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	inv := res.Invitation
	if inv.ID == "" || inv.Status != lifecycle.StatusPending {
		if inv.Status == lifecycle.StatusAccepted {
			g.link(inv.From, inv.To)
		}
		return nil
	}
	later := a.at.Add(time.Duration(1+g.rnd.IntN(72)) * time.Hour)
	r := g.rnd.IntN(100)
	spammer := g.byID[inv.From].AcceptanceRate < 0.1
	switch {
	case inv.Delivery == lifecycle.DeliveryShadow || r >= 95:
		if g.rnd.IntN(3) == 0 { // the sender gives up on it
			g.schedule(&action{at: a.at.Add(8 * 24 * time.Hour), kind: "withdraw", id: inv.ID})
		}
	case spammer && r < 15 || inv.Delivery == lifecycle.DeliverySpam && r < 10:
		g.schedule(&action{at: later, kind: "block", from: inv.To, to: inv.From})
	case spammer || inv.Delivery == lifecycle.DeliverySpam:
		g.schedule(&action{at: later, kind: "ignore", id: inv.ID})
	case r < 58:
		g.schedule(&action{at: later, kind: "accept", id: inv.ID})
	case r < 90:
		g.schedule(&action{at: later, kind: "ignore", id: inv.ID})
	default:
		g.schedule(&action{at: later, kind: "reject", id: inv.ID})
	}
	return nil
}
