package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// Simulate re-runs the actions recorded in the log r through the
// lifecycle, on a fresh in-memory store and a clock set to each event's
// time, under opts.Policy, and compares each action's decisions with the
// recorded ones (or with a second run under opts.Baseline). Unlike
// [Replay], the facts are recomputed: an invitation the new policy
// refuses is not counted, not pending and never answered, so later
// counters, resend rules and caps see the difference.
//
// The log must start from an empty network (members and connections are
// events too), as the lifecycle and the traffic generator write it.
// Consequences the lifecycle applies by itself (deliveries, automatic
// answers, restrictions, expiries, withdrawals by a block) are not
// re-run: the lifecycle redoes them. A recorded answer to an invitation
// the new run never sent, or closed already, is counted in
// [SimulationCounts.NotRerun].
func Simulate(ctx context.Context, r io.Reader, opts Options) (*Report, error) {
	if opts.Policy == nil {
		return nil, errors.New("replay: Options.Policy is required")
	}
	lr, err := newLineReader(r)
	if err != nil {
		return nil, err
	}
	nw, err := newSimNet(opts.Policy, opts.Decider)
	if err != nil {
		return nil, err
	}
	var base *simNet
	if opts.Baseline != nil {
		if base, err = newSimNet(opts.Baseline, opts.BaselineDecider); err != nil {
			return nil, err
		}
	}
	s := &simulation{a: newAgg("simulate", opts.Examples, opts.Members), nw: nw, base: base,
		auto: map[string]bool{}, emails: map[string]string{}}
	s.a.r.Policy, s.a.r.Baseline = opts.labels()
	s.a.r.Simulation = &SimulationCounts{NotRerun: map[string]int{}, NewOnly: map[string]int{}}
	for {
		b, line, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		s.a.r.Events++
		b = bytes.Clone(b) // the event's raw fields outlive the reader's buffer
		var ev event
		var req rules.Request
		has, err := decodeEvent(b, line, &ev, &req)
		if err != nil {
			return nil, err
		}
		if err := s.event(ctx, line, &ev, has, &req); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if err := s.flush(ctx); err != nil {
		return nil, err
	}
	return s.a.report(), nil
}

// simNet is one lifecycle the recorded actions are re-run on.
type simNet struct {
	net   *lifecycle.Network
	clock *lifecycle.ManualClock
	// ids maps recorded invitation ids to this run's.
	ids map[string]string
}

func newSimNet(p *rules.Policy, d lifecycle.Decider) (*simNet, error) {
	store := lifecycle.NewMemStore()
	store.DiscardEvents()
	clock := lifecycle.NewManualClock(time.Time{})
	n, err := lifecycle.New(lifecycle.Config{Policy: p, Decider: d, Store: store, Clock: clock})
	if err != nil {
		return nil, err
	}
	return &simNet{net: n, clock: clock, ids: map[string]string{}}, nil
}

// stageDecision is one decision an action produced.
type stageDecision struct {
	stage string
	d     rules.Decision
	req   *rules.Request
}

// outcome is what one action did on one side: its decisions, or why it
// could not be re-run.
type outcome struct {
	decisions []stageDecision
	notRerun  string
}

func (o *outcome) find(stage string) *stageDecision {
	for i := range o.decisions {
		if o.decisions[i].stage == stage {
			return &o.decisions[i]
		}
	}
	return nil
}

// simulation groups the log's events into actions: a root event and the
// consequences the lifecycle logged right after it.
type simulation struct {
	a        *agg
	nw, base *simNet
	// auto holds recorded invitations answered automatically on delivery:
	// their accept or ignore event is a consequence, not an action.
	auto map[string]bool
	// emails maps member ids to their emails, to redo contact imports.
	emails map[string]string
	root   *event
	line   int
	rec    outcome
}

type eventDetail struct {
	Member  *lifecycle.Member `json:"member"`
	Email   string            `json:"email"`
	Matched []string          `json:"matched"`
	Cause   string            `json:"cause"`
}

func (s *simulation) event(ctx context.Context, line int, ev *event, has bool, req *rules.Request) error {
	var det eventDetail
	if len(ev.Detail) > 0 {
		if err := json.Unmarshal(ev.Detail, &det); err != nil {
			return fmt.Errorf("line %d: detail: %v", line, err)
		}
	}
	consequence := false
	switch ev.Action {
	case lifecycle.ActionDeliver:
		consequence = true
		if ev.Result == lifecycle.DeliveryAutoAccept || ev.Result == lifecycle.DeliveryAutoIgnore {
			s.auto[ev.Invitation] = true
		}
	case lifecycle.ActionAccept, lifecycle.ActionIgnore:
		consequence = s.auto[ev.Invitation]
		delete(s.auto, ev.Invitation)
	case lifecycle.ActionRestrict, lifecycle.ActionExpire:
		consequence = true
	case lifecycle.ActionWithdraw:
		consequence = det.Cause == "block"
	case lifecycle.ActionMember:
		if det.Member != nil {
			s.emails[det.Member.ID] = det.Member.Email
		}
	}
	if consequence {
		if has && ev.Decision != nil && s.root != nil {
			s.rec.decisions = append(s.rec.decisions, stageDecision{req.Stage, *ev.Decision, req})
		}
		return nil
	}
	if err := s.flush(ctx); err != nil {
		return err
	}
	s.root, s.line, s.rec = ev, line, outcome{}
	if has && ev.Decision != nil {
		s.rec.decisions = append(s.rec.decisions, stageDecision{req.Stage, *ev.Decision, req})
	}
	return nil
}

// flush re-runs the pending root action and compares its decisions.
func (s *simulation) flush(ctx context.Context) error {
	if s.root == nil {
		return nil
	}
	ev := s.root
	s.root = nil
	newOut, err := s.rerun(ctx, s.nw, ev)
	if err != nil {
		return fmt.Errorf("line %d: %s: %v", s.line, ev.Action, err)
	}
	old := s.rec
	if s.base != nil {
		if old, err = s.rerun(ctx, s.base, ev); err != nil {
			return fmt.Errorf("line %d: %s (baseline): %v", s.line, ev.Action, err)
		}
	}
	sc := s.a.r.Simulation
	sc.Actions++
	switch {
	case newOut.notRerun != "" && old.notRerun == "":
		sc.NotRerun[newOut.notRerun]++
	case old.notRerun != "" && newOut.notRerun == "":
		sc.NewOnly[old.notRerun]++
	}
	for i := range old.decisions {
		od := &old.decisions[i]
		nd := newOut.find(od.stage)
		if nd == nil {
			continue // a later stage the other side never reached: counted at the first
		}
		ex := exampleOf(s.line, ev, nd.req)
		s.a.add(ex, &od.d, &nd.d)
	}
	return nil
}

// rerun performs one recorded action on a network.
func (s *simulation) rerun(ctx context.Context, sn *simNet, ev *event) (outcome, error) {
	var out outcome
	if ev.At.After(sn.clock.Now()) {
		sn.clock.Set(ev.At)
	}
	var det eventDetail
	if len(ev.Detail) > 0 {
		_ = json.Unmarshal(ev.Detail, &det) // checked when the event was read
	}
	n := sn.net
	var err error
	switch ev.Action {
	case lifecycle.ActionMember:
		if det.Member == nil {
			return out, errors.New("member event without detail.member")
		}
		err = n.AddMember(ctx, *det.Member)
	case lifecycle.ActionConnect:
		err = n.Connect(ctx, ev.Actor, ev.Subject)
	case lifecycle.ActionInvite:
		in := lifecycle.InviteInput{From: ev.Actor, To: ev.Subject, Email: det.Email}
		var req rules.Request
		if len(ev.Request) > 0 && rules.UnmarshalRequest(ev.Request, &req) == nil {
			in.Note = req.Note
		}
		if in.Email != "" {
			in.To = ""
		}
		res, ierr := n.Invite(ctx, in)
		if errors.Is(ierr, lifecycle.ErrNotFound) {
			out.notRerun = "invite from a member not found"
			return out, nil
		}
		if ierr != nil {
			return out, ierr
		}
		if ev.Invitation != "" && res.Invitation.ID != "" {
			sn.ids[ev.Invitation] = res.Invitation.ID
		}
		out.decisions = append(out.decisions, stageDecision{rules.StageInvite, res.Invite, res.Request})
		if res.Deliver != nil {
			dreq := *res.Request
			dreq.Stage = rules.StageDeliver
			out.decisions = append(out.decisions, stageDecision{rules.StageDeliver, *res.Deliver, &dreq})
		}
		if res.Accept != nil {
			areq := *res.Request
			areq.Stage = rules.StageAccept
			out.decisions = append(out.decisions, stageDecision{rules.StageAccept, *res.Accept, &areq})
		}
	case lifecycle.ActionAccept, lifecycle.ActionIgnore, lifecycle.ActionReject, lifecycle.ActionWithdraw:
		id, ok := sn.ids[ev.Invitation]
		if !ok {
			out.notRerun = ev.Action + " of an invitation never sent"
			return out, nil
		}
		var aerr error
		switch ev.Action {
		case lifecycle.ActionAccept:
			var res lifecycle.AnswerResult
			res, aerr = n.Accept(ctx, id)
			if aerr == nil {
				out.decisions = append(out.decisions, stageDecision{rules.StageAccept, res.Decision, res.Request})
			}
		case lifecycle.ActionIgnore:
			_, aerr = n.Ignore(ctx, id)
		case lifecycle.ActionReject:
			_, aerr = n.Reject(ctx, id)
		default:
			_, aerr = n.Withdraw(ctx, id)
		}
		if errors.Is(aerr, lifecycle.ErrNotPending) {
			out.notRerun = ev.Action + " of an invitation no longer pending"
			return out, nil
		}
		err = aerr
	case lifecycle.ActionRemove:
		_, err = n.Remove(ctx, ev.Actor, ev.Subject)
	case lifecycle.ActionBlock:
		_, err = n.Block(ctx, ev.Actor, ev.Subject)
	case lifecycle.ActionUnblock:
		err = n.Unblock(ctx, ev.Actor, ev.Subject)
	case lifecycle.ActionImport:
		// The log keeps the members an import matched, not its emails;
		// their emails are the ones that can change a decision.
		var emails []string
		for _, id := range det.Matched {
			if e := s.emails[id]; e != "" {
				emails = append(emails, e)
			}
		}
		_, err = n.ImportContacts(ctx, ev.Actor, emails)
	}
	return out, err
}
