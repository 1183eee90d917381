// Package sim is the browser demo's model: a seeded network run by the
// lifecycle on a manual clock, under a policy that can be replaced at any
// moment. wasm/js exposes it to the page as the connrulesSim global; it
// is plain Go, so its behaviour is tested natively.
//
// Every change of state is a [Command], and the commands applied so far
// are the journal. The journal is the state: replaying it over the seed
// rebuilds the same network, the same invitation ids and the same event
// log, because decisions depend only on the policy and the facts, and the
// clock is part of the journal. The page keeps the journal in
// localStorage and replays it on reload.
package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// Seed is the network a session starts from.
type Seed struct {
	// Start is the clock's first reading.
	Start time.Time `json:"start"`
	// Members, in display order.
	Members []lifecycle.Member `json:"members"`
	// Connections are pairs of member ids.
	Connections [][2]string `json:"connections"`
	// Blocks are [blocker, blocked] pairs.
	Blocks [][2]string `json:"blocks"`
	// Contacts maps a member id to the emails it imported.
	Contacts map[string][]string `json:"contacts"`
}

// Command is one change of state. Op names it; the other fields are its
// arguments.
type Command struct {
	// Op is one of policy, invite, accept, ignore, reject, withdraw, block,
	// unblock, remove, advance, set_time, member, import_contacts, expire.
	Op string `json:"op"`
	// From and To are member ids: the sender and recipient of an invite,
	// the blocker and blocked, the remover and removed.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	Note string `json:"note,omitempty"`
	// ID is an invitation id (accept, ignore, reject, withdraw).
	ID string `json:"id,omitempty"`
	// Duration is a clock step, such as 1h, 1d or 1w (advance).
	Duration string `json:"duration,omitempty"`
	// Time is the clock's new reading (set_time).
	Time time.Time `json:"time,omitzero"`
	// Member is the member to store (member).
	Member *lifecycle.Member `json:"member,omitempty"`
	// Emails are imported contacts (import_contacts).
	Emails []string `json:"emails,omitempty"`
	// Name and Policy are a policy's file name and source (policy).
	Name   string `json:"name,omitempty"`
	Policy string `json:"policy,omitempty"`
}

// Sim is one demo session. It is not safe for concurrent use: the page
// calls it from one thread.
type Sim struct {
	seed  Seed
	store *lifecycle.MemStore
	clock *lifecycle.ManualClock
	net   *lifecycle.Network

	// ld loads every version of the policy: an edit recompiles only the
	// expressions it changed.
	ld      *rules.Loader
	pol     *rules.Policy
	polName string
	polSrc  string
	// journaled is the policy source in force for the journal's last
	// command; a command under another policy is preceded by a policy
	// command.
	journaled string
	journal   []Command
	// blocks mirrors the store's blocks with their direction, for display.
	blocks map[[2]string]bool
	// traces holds the explained decisions of the last command, in order.
	traces []rules.Decision
	// invitations lists the ids of every invitation stored, oldest first.
	invitations []string
}

// New starts a session from a seed (JSON) under a policy (YAML).
func New(seedJSON []byte, policyName string, policySrc []byte) (*Sim, error) {
	var seed Seed
	if err := json.Unmarshal(seedJSON, &seed); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	ld := new(rules.Loader)
	p, err := ld.Load(policyName, policySrc)
	if err != nil {
		return nil, err
	}
	s := &Sim{seed: seed, ld: ld, pol: p, polName: policyName, polSrc: string(policySrc)}
	if err := s.reset(); err != nil {
		return nil, err
	}
	return s, nil
}

// reset rebuilds the seed network under the current policy and empties
// the journal.
func (s *Sim) reset() error {
	s.store = lifecycle.NewMemStore()
	s.clock = lifecycle.NewManualClock(s.seed.Start)
	s.blocks = map[[2]string]bool{}
	s.journal = nil
	s.journaled = s.polSrc
	s.traces = nil
	s.invitations = nil
	if err := s.rebuild(); err != nil {
		return err
	}
	ctx := context.Background()
	for _, m := range s.seed.Members {
		if err := s.net.AddMember(ctx, m); err != nil {
			return fmt.Errorf("seed member %s: %w", m.ID, err)
		}
	}
	for _, c := range s.seed.Connections {
		if err := s.net.Connect(ctx, c[0], c[1]); err != nil {
			return fmt.Errorf("seed connection %s-%s: %w", c[0], c[1], err)
		}
	}
	for owner, emails := range sortedContacts(s.seed.Contacts) {
		if _, err := s.net.ImportContacts(ctx, owner, emails); err != nil {
			return fmt.Errorf("seed contacts of %s: %w", owner, err)
		}
	}
	for _, b := range s.seed.Blocks {
		if _, err := s.net.Block(ctx, b[0], b[1]); err != nil {
			return fmt.Errorf("seed block %s-%s: %w", b[0], b[1], err)
		}
		s.blocks[b] = true
	}
	return nil
}

// sortedContacts iterates contacts in owner order, so the seed's event
// log is the same on every run.
func sortedContacts(c map[string][]string) func(func(string, []string) bool) {
	return func(yield func(string, []string) bool) {
		owners := make([]string, 0, len(c))
		for o := range c {
			owners = append(owners, o)
		}
		sort.Strings(owners)
		for _, o := range owners {
			if !yield(o, c[o]) {
				return
			}
		}
	}
}

// rebuild makes a Network over the current store and clock with the
// current policy. Its decider explains every decision and keeps the trace
// aside, so the log holds decisions without traces and the page can show
// them.
func (s *Sim) rebuild() error {
	p := s.pol
	dec := lifecycle.DeciderFunc(func(_ context.Context, req *rules.Request) (rules.Decision, error) {
		d := p.Explain(req)
		s.traces = append(s.traces, d)
		d.Trace = nil
		return d, nil
	})
	n, err := lifecycle.New(lifecycle.Config{Policy: p, Store: s.store, Clock: s.clock, Decider: dec})
	if err != nil {
		return err
	}
	s.net = n
	return nil
}

// Reset restores the seed network and empties the journal. The policy in
// force stays.
func (s *Sim) Reset() error { return s.reset() }

// LoadResult is the answer to a policy edit.
type LoadResult struct {
	OK bool `json:"ok"`
	// Errors lists every problem, each with its position; empty when OK.
	Errors rules.ErrorList `json:"errors,omitempty"`
	// Name, File, Rules and Tests describe the policy in force after the
	// call: the new one when OK, the last good one otherwise.
	Name  string `json:"name"`
	File  string `json:"file"`
	Rules int    `json:"rules"`
	Tests int    `json:"tests"`
	// CompileMicros is how long compiling took.
	CompileMicros int64 `json:"compile_us"`
}

// TestResult counts the policy's own tests and those that pass.
type TestResult struct {
	Policy string   `json:"policy"`
	Tests  int      `json:"tests"`
	Passed int      `json:"passed"`
	Failed []string `json:"failed,omitempty"`
	Micros int64    `json:"us"`
}

// Tests runs the tests written in the policy in force.
func (s *Sim) Tests() TestResult {
	t0 := time.Now()
	r := TestResult{Policy: s.pol.Name(), Tests: s.pol.Tests()}
	for _, tr := range s.pol.RunTests() {
		if tr.Pass {
			r.Passed++
		} else {
			r.Failed = append(r.Failed, tr.Name)
		}
	}
	r.Micros = time.Since(t0).Microseconds()
	return r
}

// Load compiles a policy and, only if it compiles, puts it in force.
// A policy with errors leaves the last good one in force; the result says
// which is in force. Loading is not journaled by itself: the policy is
// written to the journal before the next command that runs under it.
func (s *Sim) Load(name string, src []byte) LoadResult {
	t0 := time.Now()
	p, err := s.ld.Load(name, src)
	res := LoadResult{CompileMicros: time.Since(t0).Microseconds()}
	if err != nil {
		var list rules.ErrorList
		if !errors.As(err, &list) {
			list = rules.ErrorList{{Pos: rules.Position{Filename: name, Line: 1, Column: 1}, Msg: err.Error()}}
		}
		res.Errors = list
		s.describe(&res, s.pol)
		return res
	}
	// The network needs the params the lifecycle reads; a policy without
	// them is an error too, and the last good policy stays.
	old, oldName, oldSrc := s.pol, s.polName, s.polSrc
	s.pol, s.polName, s.polSrc = p, name, string(src)
	if err := s.rebuild(); err != nil {
		s.pol, s.polName, s.polSrc = old, oldName, oldSrc
		_ = s.rebuild()
		res.Errors = rules.ErrorList{{Pos: rules.Position{Filename: name, Line: 1, Column: 1}, Msg: err.Error()}}
		s.describe(&res, s.pol)
		return res
	}
	res.OK = true
	s.describe(&res, p)
	return res
}

func (s *Sim) describe(res *LoadResult, p *rules.Policy) {
	res.Name, res.File, res.Tests = p.Name(), s.polName, p.Tests()
	for _, st := range rules.Stages {
		res.Rules += len(p.Rules(st))
	}
}

// Info describes the policy in force.
func (s *Sim) Info() LoadResult {
	res := LoadResult{OK: true}
	s.describe(&res, s.pol)
	return res
}

// PolicySource is the source of the policy in force and its file name.
func (s *Sim) PolicySource() (name, src string) { return s.polName, s.polSrc }

// Journal returns the commands applied since the seed.
func (s *Sim) Journal() []Command { return slices.Clone(s.journal) }

// Replay resets to the seed and applies a journal. It stops at the first
// command that fails and returns how many were applied.
func (s *Sim) Replay(journal []Command) (int, error) {
	if err := s.reset(); err != nil {
		return 0, err
	}
	for i, c := range journal {
		if _, err := s.Do(c); err != nil {
			return i, fmt.Errorf("journal command %d (%s): %w", i+1, c.Op, err)
		}
	}
	return len(journal), nil
}

// Result is what a command did: the lifecycle's result for the action,
// the explained decisions it involved (invite, deliver, accept), and, for
// an invite, what the sender is shown.
type Result struct {
	Op     string                `json:"op"`
	Result any                   `json:"result,omitempty"`
	Trace  []rules.Decision      `json:"decisions,omitempty"`
	Public *rules.PublicDecision `json:"public,omitempty"`
	Now    time.Time             `json:"now"`
}

// Do applies a command and appends it to the journal. A command that
// fails changes nothing that the journal cannot replay, and is not
// journaled.
func (s *Sim) Do(c Command) (Result, error) {
	ctx := context.Background()
	s.traces = nil
	if c.Op == "policy" {
		res := s.Load(c.Name, []byte(c.Policy))
		if !res.OK {
			return Result{Op: c.Op, Now: s.clock.Now()}, fmt.Errorf("policy %s does not load: %v", c.Name, res.Errors)
		}
		s.journal = append(s.journal, c)
		s.journaled = s.polSrc
		return Result{Op: c.Op, Result: res, Now: s.clock.Now()}, nil
	}
	var out any
	var pub *rules.PublicDecision
	var err error
	switch c.Op {
	case "invite":
		var r lifecycle.InviteResult
		r, err = s.net.Invite(ctx, lifecycle.InviteInput{From: c.From, To: c.To, Note: c.Note})
		pub = &r.Public
		out = r
		if r.Invitation.ID != "" {
			s.invitations = append(s.invitations, r.Invitation.ID)
		}
	case "accept":
		out, err = s.net.Accept(ctx, c.ID)
	case "ignore":
		out, err = s.net.Ignore(ctx, c.ID)
	case "reject":
		out, err = s.net.Reject(ctx, c.ID)
	case "withdraw":
		out, err = s.net.Withdraw(ctx, c.ID)
	case "block":
		out, err = s.net.Block(ctx, c.From, c.To)
		if err == nil {
			s.blocks[[2]string{c.From, c.To}] = true
		}
	case "unblock":
		err = s.net.Unblock(ctx, c.From, c.To)
		if err == nil {
			delete(s.blocks, [2]string{c.From, c.To})
		}
	case "remove":
		out, err = s.net.Remove(ctx, c.From, c.To)
	case "import_contacts":
		out, err = s.net.ImportContacts(ctx, c.From, c.Emails)
	case "expire":
		out, err = s.net.Expire(ctx)
	case "advance":
		var d time.Duration
		if d, err = rules.ParseDuration(c.Duration); err == nil {
			if d <= 0 {
				err = fmt.Errorf("advance by %s: the clock only moves forward", c.Duration)
			} else {
				s.clock.Advance(d)
				out, err = s.tick(ctx)
			}
		}
	case "set_time":
		if !c.Time.After(s.clock.Now()) {
			err = fmt.Errorf("set_time %s: the clock only moves forward", c.Time.Format(time.RFC3339))
		} else {
			s.clock.Set(c.Time)
			out, err = s.tick(ctx)
		}
	case "member":
		if c.Member == nil {
			err = errors.New("member: no member given")
			break
		}
		m := *c.Member
		// Edits keep the lifecycle's bookkeeping (restriction, answers).
		if old, gerr := s.store.Member(ctx, m.ID); gerr == nil {
			m.RestrictedUntil, m.Answered, m.Accepted = old.RestrictedUntil, old.Answered, old.Accepted
		}
		err = s.net.AddMember(ctx, m)
	default:
		err = fmt.Errorf("unknown command %q", c.Op)
	}
	res := Result{Op: c.Op, Result: out, Trace: s.traces, Public: pub, Now: s.clock.Now()}
	s.traces = nil
	// An invite whose decider answered is a decision, even a refusal:
	// journal it. Other failures (no such member or invitation) are not.
	if err != nil {
		return res, err
	}
	if s.polSrc != s.journaled {
		s.journal = append(s.journal, Command{Op: "policy", Name: s.polName, Policy: s.polSrc})
		s.journaled = s.polSrc
	}
	s.journal = append(s.journal, c)
	return res, nil
}

// Clock is what a clock move did: the new time and the invitations that
// expired on the way.
type Clock struct {
	Now     time.Time              `json:"now"`
	Expired []lifecycle.Invitation `json:"expired,omitempty"`
}

// tick runs what a moved clock makes due: the expiry sweep, so that the
// page shows expired invitations as expired.
func (s *Sim) tick(ctx context.Context) (Clock, error) {
	exp, err := s.net.Expire(ctx)
	return Clock{Now: s.clock.Now(), Expired: exp}, err
}

// Now is the clock's reading.
func (s *Sim) Now() time.Time { return s.clock.Now() }

// Policy is the policy in force.
func (s *Sim) Policy() *rules.Policy { return s.pol }

// Events returns the event log as JSON lines.
func (s *Sim) Events() string {
	var b strings.Builder
	_ = lifecycle.WriteEvents(&b, s.store.Events())
	return b.String()
}

// EventsTail returns the last n events, oldest first.
func (s *Sim) EventsTail(n int) []lifecycle.Event {
	ev := s.store.Events()
	if n >= 0 && len(ev) > n {
		ev = ev[len(ev)-n:]
	}
	return ev
}

// EventCount is the number of events in the log.
func (s *Sim) EventCount() int { return len(s.store.Events()) }
