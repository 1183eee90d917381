package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// Engine builds the decider a scenario runs on, from the policy file's
// name and source (with any parameter overrides applied) and the natively
// loaded policy. close, if not nil, is called when the run ends.
type Engine func(ctx context.Context, filename string, src []byte, p *rules.Policy) (d lifecycle.Decider, close func(), err error)

// Options configure [Run].
type Options struct {
	// ReadFile reads the policy file; nil means os.ReadFile.
	ReadFile func(name string) ([]byte, error)
	// Engine builds the decider; nil means the native engine.
	Engine Engine
	// OnStart, if set, is called once the policy is loaded and the network
	// set up, before the first step; the report has its name, policy and
	// location.
	OnStart func(*Report)
	// OnStep, if set, is called with every step result as it is produced.
	OnStep func(StepResult)
	// Store holds the run's state; nil means a new MemStore. It must be
	// empty, and it must read its log back ([lifecycle.EventReader]) for
	// the report's Events.
	Store lifecycle.Store
}

// StepResult is what one step (one repetition of a repeated step) did and
// whether its expectations held. It is also the --json line format.
type StepResult struct {
	// Step is the step's number, from 1; Iteration and Of count
	// repetitions of a repeated step (and invitations of an
	// import_contacts step with invite: true).
	Step      int    `json:"step"`
	Iteration int    `json:"iteration,omitempty"`
	Of        int    `json:"of,omitempty"`
	Line      int    `json:"line"`
	Name      string `json:"name,omitempty"`
	Action    string `json:"action"`
	// Label is the action with its arguments, e.g. "invite alice → bob".
	Label   string    `json:"label"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor,omitempty"`
	Subject string    `json:"subject,omitempty"`
	// Decision is the step's engine decision: invite or accept stage.
	Decision   *rules.Decision       `json:"decision,omitempty"`
	Deliver    *rules.Decision       `json:"deliver,omitempty"`
	Public     *rules.PublicDecision `json:"public,omitempty"`
	Pair       *rules.Pair           `json:"pair,omitempty"`
	Invitation *lifecycle.Invitation `json:"invitation,omitempty"`
	// Status is the invitation's status after the step, "refused" when the
	// invite stage stored none.
	Status          string           `json:"status,omitempty"`
	RestrictedUntil time.Time        `json:"restricted_until,omitzero"`
	Matched         []string         `json:"matched,omitempty"`
	Expired         []string         `json:"expired,omitempty"`
	Withdrawn       []string         `json:"withdrawn,omitempty"`
	Meter           *lifecycle.Meter `json:"meter,omitempty"`
	Error           string           `json:"error,omitempty"`
	OK              bool             `json:"ok"`
	Failures        []string         `json:"failures,omitempty"`

	expect     *Expect
	importStep bool
	last       bool
}

// Report is a whole run.
type Report struct {
	Name   string `json:"scenario"`
	File   string `json:"file"`
	Policy string `json:"policy"`
	// Steps are every step result, in order.
	Steps  []StepResult      `json:"-"`
	Passed int               `json:"passed"`
	Failed int               `json:"failed"`
	Events []lifecycle.Event `json:"-"`
	// Location is the policy's time zone, for printing times.
	Location *time.Location `json:"-"`
}

// OK reports whether every expectation held.
func (r *Report) OK() bool { return r.Failed == 0 }

type runner struct {
	sc    *Scenario
	n     *lifecycle.Network
	store lifecycle.Store
	clock *lifecycle.ManualClock
	pol   *rules.Policy
	rep   *Report
	opt   Options
}

// LoadPolicy reads the scenario's policy, applies its parameter overrides
// and loads it. It returns the file name and source the engine should
// load as well.
func LoadPolicy(sc *Scenario, readFile func(string) ([]byte, error)) (string, []byte, *rules.Policy, error) {
	if readFile == nil {
		readFile = os.ReadFile
	}
	path := sc.Policy.File
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(sc.File), path)
	}
	src, err := readFile(path)
	if err != nil {
		n := sc.Policy.Node
		return "", nil, nil, sc.at(n.Line, n.Column, "policy: %v", err)
	}
	name := path
	if len(sc.Policy.Params) > 0 {
		if src, err = sc.override(path, src); err != nil {
			return "", nil, nil, err
		}
		name = fmt.Sprintf("%s (params overridden by %s)", path, sc.File)
	}
	p, err := rules.Load(name, src)
	if err != nil {
		return "", nil, nil, fmt.Errorf("%s: policy %s does not load:\n%w", sc.File, path, err)
	}
	return name, src, p, nil
}

// override replaces params by dotted path in the policy's YAML tree.
func (sc *Scenario) override(path string, src []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil || len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: policy %s is not YAML: %v", sc.File, path, err)
	}
	params := valueNode(root.Content[0], "params")
	for _, o := range sc.Policy.Params {
		cur := params
		segs := strings.Split(o.Path, ".")
		for i, seg := range segs {
			next := valueNode(cur, seg)
			if next == nil {
				where := "params"
				if i > 0 {
					where = "params." + strings.Join(segs[:i], ".")
				}
				return nil, sc.at(o.Key.Line, o.Key.Column, "policy %s has no param %s (%s has: %s)", path, o.Path, where, strings.Join(keysOf(cur), ", "))
			}
			cur = next
		}
		if cur.Kind != o.Value.Kind {
			return nil, sc.at(o.Value.Line, o.Value.Column, "param %s is %s in the policy; the override is %s", o.Path, describe(cur), describe(o.Value))
		}
		*cur = *o.Value
	}
	return yaml.Marshal(&root)
}

func keysOf(m *yaml.Node) []string {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var ks []string
	for i := 0; i+1 < len(m.Content); i += 2 {
		ks = append(ks, m.Content[i].Value)
	}
	return ks
}

// Run runs a scenario. The error is for a scenario that cannot run (its
// policy does not load, a connection names an unknown member); failed
// expectations are in the report.
func Run(ctx context.Context, sc *Scenario, opt Options) (*Report, error) {
	file, src, p, err := LoadPolicy(sc, opt.ReadFile)
	if err != nil {
		return nil, err
	}
	var dec lifecycle.Decider
	if opt.Engine != nil {
		d, closeFn, err := opt.Engine(ctx, file, src, p)
		if err != nil {
			return nil, fmt.Errorf("%s: engine: %w", sc.File, err)
		}
		if closeFn != nil {
			defer closeFn()
		}
		dec = d
	}
	store := opt.Store
	if store == nil {
		store = lifecycle.NewMemStore()
	}
	r := &runner{sc: sc, pol: p, opt: opt, store: store, clock: lifecycle.NewManualClock(sc.Start.Time),
		rep: &Report{Name: sc.Name, File: sc.File, Policy: p.Name(), Location: p.Calendar().Loc}}
	if r.n, err = lifecycle.New(lifecycle.Config{Policy: p, Decider: dec, Store: r.store, Clock: r.clock}); err != nil {
		return nil, err
	}
	if err := r.setup(ctx); err != nil {
		return nil, err
	}
	if opt.OnStart != nil {
		opt.OnStart(r.rep)
	}
	for i := range sc.Steps {
		if err := ctx.Err(); err != nil {
			return r.rep, err
		}
		r.step(ctx, i+1, &sc.Steps[i])
	}
	if er, ok := r.store.(lifecycle.EventReader); ok {
		if r.rep.Events, err = er.ReadEvents(ctx); err != nil {
			return r.rep, fmt.Errorf("%s: reading the event log: %w", sc.File, err)
		}
	}
	return r.rep, nil
}

func subst(s string, i int) string {
	if !strings.Contains(s, "{i}") {
		return s
	}
	return strings.ReplaceAll(s, "{i}", strconv.Itoa(i))
}

func expand(count, first int) (from, to int) {
	if count == 0 {
		return 0, 0
	}
	if first == 0 {
		first = 1
	}
	return first, first + count - 1
}

func (r *runner) setup(ctx context.Context) error {
	sc := r.sc
	for _, ms := range sc.Members {
		lo, hi := expand(ms.Count, ms.First)
		for i := lo; i <= hi; i++ {
			m := lifecycle.Member{
				ID: subst(ms.ID, i), Kind: ms.Kind, Tier: ms.Tier, Status: ms.Status,
				Company: subst(ms.Company, i), School: subst(ms.School, i), Title: subst(ms.Title, i), Email: subst(ms.Email, i),
				AcceptanceRate: 0.5,
				Settings: rules.Settings{
					Invitations: ms.Settings.Invitations, Companies: ms.Settings.Companies, Schools: ms.Settings.Schools,
					Titles: ms.Settings.Titles, RequireConfirmation: ms.Settings.RequireConfirmation,
					AutoAccept: rules.AutoAccept{Companies: ms.Settings.AutoAccept.Companies, Schools: ms.Settings.AutoAccept.Schools,
						Titles: ms.Settings.AutoAccept.Titles},
				},
			}
			if m.Email == "" {
				m.Email = m.ID + "@example.com"
			}
			if ms.AcceptanceRate != nil {
				m.AcceptanceRate = *ms.AcceptanceRate
			}
			if ms.RestrictedUntil != nil {
				m.RestrictedUntil = ms.RestrictedUntil.Time
			}
			if ms.SoftBannedUntil != nil {
				m.SoftBannedUntil = ms.SoftBannedUntil.Time
			}
			tier := m.Tier
			if tier == "" {
				tier = "free"
			}
			if _, ok := r.pol.Param("tiers." + tier); !ok {
				n := valueNode(ms.Node, "tier")
				if n == nil {
					n = ms.Node
				}
				return sc.at(n.Line, n.Column, "member %s: tier %q is not in the policy's params.tiers", m.ID, tier)
			}
			if err := r.n.AddMember(ctx, m); err != nil {
				return sc.at(ms.Node.Line, ms.Node.Column, "member %s: %v", m.ID, err)
			}
		}
	}
	for _, c := range sc.Connections {
		lo, hi := expand(c.Count, c.First)
		for i := lo; i <= hi; i++ {
			if err := r.n.Connect(ctx, subst(c.A, i), subst(c.B, i)); err != nil {
				return sc.at(c.Node.Line, c.Node.Column, "connection: %v", err)
			}
		}
	}
	for _, owner := range sortedKeys(sc.Contacts) {
		if _, err := r.n.ImportContacts(ctx, owner, sc.Contacts[owner]); err != nil {
			return sc.at(1, 1, "contacts of %s: %v", owner, err)
		}
	}
	for _, b := range sc.Blocks {
		if _, err := r.n.Block(ctx, b.By, b.Member); err != nil {
			return sc.at(1, 1, "block: %v", err)
		}
	}
	return nil
}

func sortedKeys(m map[string][]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (r *runner) emit(res StepResult) {
	res.OK = len(res.Failures) == 0
	if res.OK {
		r.rep.Passed++
	} else {
		r.rep.Failed++
	}
	r.rep.Steps = append(r.rep.Steps, res)
	if r.opt.OnStep != nil {
		r.opt.OnStep(res)
	}
}

func (r *runner) step(ctx context.Context, num int, s *Step) {
	times := max(s.Repeat, 1)
	first := s.First
	if first == 0 {
		first = 1
	}
	for k := 0; k < times; k++ {
		if k > 0 && s.Every > 0 {
			r.advance(ctx, s.Every)
		}
		i := first + k
		results := r.do(ctx, s, i)
		for j := range results {
			res := &results[j]
			res.Step, res.Line, res.Name = num, s.Line, s.Name
			if s.Repeat > 1 {
				res.Iteration, res.Of = k+1, times
			}
			res.last = k == times-1 && j == len(results)-1
			if s.Expect != nil {
				r.check(ctx, res, s.Expect)
			} else if res.Error != "" {
				res.Failures = append(res.Failures, "unexpected error: "+res.Error)
			}
			r.emit(*res)
		}
	}
}

// advance moves the clock and runs the expiry sweep a server would run.
func (r *runner) advance(ctx context.Context, d time.Duration) []lifecycle.Invitation {
	r.clock.Advance(d)
	exp, _ := r.n.Expire(ctx)
	return exp
}

func (r *runner) do(ctx context.Context, s *Step, i int) []StepResult {
	a := s.Args
	from, to, by, member := subst(a.From, i), subst(a.To, i), subst(a.By, i), subst(a.Member, i)
	res := StepResult{Action: s.Action, At: r.clock.Now()}
	switch s.Action {
	case "invite":
		email := subst(a.Email, i)
		target := to
		if email != "" {
			target = email
		}
		res.Label = fmt.Sprintf("invite %s → %s", from, target)
		r.invite(ctx, &res, lifecycle.InviteInput{From: from, To: to, Email: email, Note: subst(a.Note, i)})
	case "accept", "ignore", "reject":
		res.Actor, res.Subject = by, from
		res.Label = fmt.Sprintf("%s %s's invitation to %s", s.Action, from, by)
		inv, err := r.find(ctx, from, by, subst(a.Invitation, i))
		if err != nil {
			res.Error = err.Error()
			return []StepResult{res}
		}
		if inv.To != by {
			res.Error = fmt.Sprintf("invitation %s is to %s, not %s", inv.ID, inv.To, by)
			return []StepResult{res}
		}
		res.Subject = inv.From
		var ar lifecycle.AnswerResult
		switch s.Action {
		case "accept":
			ar, err = r.n.Accept(ctx, inv.ID)
			if ar.Request != nil {
				res.Decision, res.Pair = &ar.Decision, &ar.Request.Pair
			}
		case "ignore":
			ar, err = r.n.Ignore(ctx, inv.ID)
		case "reject":
			ar, err = r.n.Reject(ctx, inv.ID)
		}
		if err != nil {
			res.Error = err.Error()
		}
		if ar.Invitation.ID != "" {
			res.Invitation, res.Status = &ar.Invitation, ar.Invitation.Status
		}
	case "withdraw":
		res.Actor, res.Subject = from, to
		res.Label = fmt.Sprintf("withdraw %s's invitation to %s", from, to)
		id, err := r.findSent(ctx, from, to, subst(a.Invitation, i))
		if err == nil {
			_, err = r.n.Withdraw(ctx, id)
		}
		if err != nil {
			res.Error = err.Error()
		}
		if inv, ierr := r.store.Invitation(ctx, id); id != "" && ierr == nil {
			res.Invitation, res.Status = &inv, inv.Status
		}
	case "block":
		res.Actor, res.Subject, res.Label = by, member, fmt.Sprintf("%s blocks %s", by, member)
		br, err := r.n.Block(ctx, by, member)
		if err != nil {
			res.Error = err.Error()
		}
		for _, inv := range br.Withdrawn {
			res.Withdrawn = append(res.Withdrawn, inv.ID)
		}
	case "unblock":
		res.Actor, res.Subject, res.Label = by, member, fmt.Sprintf("%s unblocks %s", by, member)
		if err := r.n.Unblock(ctx, by, member); err != nil {
			res.Error = err.Error()
		}
	case "remove":
		res.Actor, res.Subject, res.Label = by, member, fmt.Sprintf("%s removes %s", by, member)
		if _, err := r.n.Remove(ctx, by, member); err != nil {
			res.Error = err.Error()
		}
	case "import_contacts":
		res.Actor, res.Label = by, fmt.Sprintf("%s imports %d contacts", by, len(a.Emails))
		res.importStep = true
		emails := make([]string, len(a.Emails))
		for k, e := range a.Emails {
			emails[k] = subst(e, i)
		}
		matched, err := r.n.ImportContacts(ctx, by, emails)
		res.Matched = matched
		if err != nil {
			res.Error = err.Error()
		}
		out := []StepResult{res}
		if a.Invite && err == nil {
			for k, id := range matched {
				m, _ := r.store.Member(ctx, id)
				inv := StepResult{Action: "invite", At: r.clock.Now(), Label: fmt.Sprintf("invite %s → %s (imported contact %d/%d)", by, m.Email, k+1, len(matched))}
				r.invite(ctx, &inv, lifecycle.InviteInput{From: by, Email: m.Email, Note: subst(a.Note, i)})
				out = append(out, inv)
			}
		}
		return out
	case "advance", "advance_to":
		d := a.Advance
		if s.Action == "advance_to" {
			if d = a.At.Sub(r.clock.Now()); d < 0 {
				res.Label = "advance_to " + a.At.Format(time.RFC3339)
				res.Error = "advance_to goes back in time; the clock only moves forward"
				return []StepResult{res}
			}
		}
		exp := r.advance(ctx, d)
		res.At = r.clock.Now()
		res.Label = "advance " + humanDuration(d)
		if s.Action == "advance_to" {
			res.Label = fmt.Sprintf("advance to %s (%s)", fmtTime(a.At, r.rep.Location), humanDuration(d))
		}
		for _, inv := range exp {
			res.Expired = append(res.Expired, inv.ID)
		}
	case "expire":
		res.Label = "expire pending invitations"
		exp, err := r.n.Expire(ctx)
		if err != nil {
			res.Error = err.Error()
		}
		for _, inv := range exp {
			res.Expired = append(res.Expired, inv.ID)
		}
	case "check":
		res.Actor, res.Label = member, "check "+member
		if member != "" {
			m, err := r.n.Meter(ctx, member)
			if err != nil {
				res.Error = err.Error()
			} else {
				res.Meter = &m
			}
		}
	}
	return []StepResult{res}
}

func (r *runner) invite(ctx context.Context, res *StepResult, in lifecycle.InviteInput) {
	res.Actor, res.Subject = in.From, in.To
	ir, err := r.n.Invite(ctx, in)
	if err != nil {
		res.Error = err.Error()
	}
	if ir.Request == nil {
		return
	}
	if ir.Request.Recipient != nil {
		res.Subject = ir.Request.Recipient.ID
	}
	res.Decision, res.Deliver, res.Public, res.Pair = &ir.Invite, ir.Deliver, &ir.Public, &ir.Request.Pair
	res.RestrictedUntil = ir.RestrictedUntil
	res.Status = "refused"
	if ir.Invitation.ID != "" {
		res.Invitation, res.Status = &ir.Invitation, ir.Invitation.Status
	}
}

// find locates an invitation by id, or the oldest pending one from one
// member to another.
func (r *runner) find(ctx context.Context, from, to, id string) (lifecycle.Invitation, error) {
	if id != "" {
		return r.store.Invitation(ctx, id)
	}
	return r.n.PendingFrom(ctx, from, to)
}

// findSent names an invitation by id, or the oldest one from one member
// to another that the sender sees pending: what the sender could
// withdraw, ignored or privately closed ones included.
func (r *runner) findSent(ctx context.Context, from, to, id string) (string, error) {
	if id != "" {
		return id, nil
	}
	sent, err := r.n.Sent(ctx, from)
	if err != nil {
		return "", err
	}
	for _, inv := range sent {
		if inv.To == to && inv.Status == lifecycle.StatusPending {
			return inv.ID, nil
		}
	}
	return "", fmt.Errorf("no pending invitation from %s to %s: %w", from, to, lifecycle.ErrNotFound)
}

func humanDuration(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d == 0:
		return "0"
	case d%(7*day) == 0:
		return fmt.Sprintf("%dw", d/(7*day))
	case d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// check compares a result with the step's expectations and records the
// failures. Decision expectations hold for every repetition; meter,
// restricted_until and connected are checked after the last.
func (r *runner) check(ctx context.Context, res *StepResult, e *Expect) {
	fail := func(format string, args ...any) {
		res.Failures = append(res.Failures, fmt.Sprintf(format, args...))
	}
	str := func(what string, want *string, got string) {
		if want != nil && *want != got {
			fail("%s: got %q, want %q", what, got, *want)
		}
	}
	if res.Error != "" {
		if e.Error == nil {
			fail("unexpected error: %s", res.Error)
		} else if !strings.Contains(res.Error, *e.Error) {
			fail("error: got %q, want it to contain %q", res.Error, *e.Error)
		}
	} else if e.Error != nil {
		fail("error: got none, want one containing %q", *e.Error)
	}
	if res.importStep {
		if e.Matched != nil && len(res.Matched) != *e.Matched {
			fail("matched: got %d (%s), want %d", len(res.Matched), strings.Join(res.Matched, ", "), *e.Matched)
		}
		if res.last {
			r.checkAfter(ctx, res, e, fail)
		}
		return
	}
	if e.Matched != nil && !res.importStep && res.Action != "invite" {
		fail("matched applies to import_contacts steps")
	}
	decisionWanted := e.Outcome != nil || e.Reason != nil || e.Rule != nil || e.Message != nil || e.RetryAfter != nil
	if decisionWanted && res.Decision == nil {
		if res.Error == "" {
			fail("this step has no engine decision to check")
		}
	} else if res.Decision != nil {
		d := res.Decision
		str("outcome", e.Outcome, d.Outcome)
		str("reason", e.Reason, d.Reason)
		str("rule", e.Rule, d.Rule)
		str("message", e.Message, d.Message)
		if e.RetryAfter != nil && !e.RetryAfter.Equal(d.RetryAfter) {
			fail("retry_after: got %s, want %s", fmtTime(d.RetryAfter, r.rep.Location), fmtTime(e.RetryAfter.Time, r.rep.Location))
		}
	}
	if e.Public != nil {
		if res.Public == nil {
			fail("public: this step has no public view")
		} else {
			str("public.outcome", e.Public.Outcome, res.Public.Outcome)
			str("public.message", e.Public.Message, res.Public.Message)
		}
	}
	if e.Deliver != nil {
		got := "(not delivered)"
		if res.Deliver != nil {
			got = res.Deliver.Outcome
		}
		str("deliver", e.Deliver, got)
	}
	str("status", e.Status, res.Status)
	if res.Pair != nil {
		if e.Degree != nil && res.Pair.Degree != *e.Degree {
			fail("degree: got %d, want %d", res.Pair.Degree, *e.Degree)
		}
		if e.Mutual != nil && res.Pair.Mutual != *e.Mutual {
			fail("mutual: got %d, want %d", res.Pair.Mutual, *e.Mutual)
		}
	} else if e.Degree != nil || e.Mutual != nil {
		fail("degree/mutual: this step computed no pair facts")
	}
	if e.Expired != nil && len(res.Expired) != *e.Expired {
		fail("expired: got %d (%s), want %d", len(res.Expired), strings.Join(res.Expired, ", "), *e.Expired)
	}
	if res.last {
		r.checkAfter(ctx, res, e, fail)
	}
}

func (r *runner) checkAfter(ctx context.Context, res *StepResult, e *Expect, fail func(string, ...any)) {
	if e.Connected != nil {
		d, _, err := r.n.Relation(ctx, res.Actor, res.Subject)
		if err != nil || res.Actor == "" || res.Subject == "" {
			fail("connected: this step has no pair of members")
		} else if (d == 1) != *e.Connected {
			fail("connected: got %v, want %v (%s, %s)", d == 1, *e.Connected, res.Actor, res.Subject)
		}
	}
	if e.RestrictedUntil != nil {
		m, err := r.store.Member(ctx, res.Actor)
		if err != nil {
			fail("restricted_until: %v", err)
		} else if !m.RestrictedUntil.Equal(e.RestrictedUntil.Time) {
			fail("restricted_until of %s: got %s, want %s", res.Actor, fmtTime(m.RestrictedUntil, r.rep.Location), fmtTime(e.RestrictedUntil.Time, r.rep.Location))
		}
	}
	if e.Meter != nil {
		who := e.Meter.Member
		if who == "" {
			who = res.Actor
		}
		m, err := r.n.Meter(ctx, who)
		if err != nil {
			fail("meter: %v", err)
			return
		}
		res.Meter = &m
		b, _ := json.Marshal(m)
		var got map[string]any
		_ = json.Unmarshal(b, &got)
		for _, v := range e.Meter.Values {
			checkMeterValue(got, v, who, r.rep.Location, fail)
		}
	}
}

func checkMeterValue(got map[string]any, v MeterValue, who string, loc *time.Location, fail func(string, ...any)) {
	var cur any = got
	for _, seg := range strings.Split(v.Path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			cur = nil
			break
		}
		cur = m[seg]
	}
	want := v.Want
	switch want.ShortTag() {
	case "!!int", "!!float":
		w, _ := strconv.ParseFloat(want.Value, 64)
		g, ok := cur.(float64)
		if !ok || math.Abs(g-w) > 1e-9 {
			fail("meter %s of %s: got %v, want %s", v.Path, who, orNone(cur), want.Value)
		}
		return
	case "!!null":
		if cur != nil {
			fail("meter %s of %s: got %v, want none", v.Path, who, cur)
		}
		return
	}
	if wt, err := time.Parse(time.RFC3339, want.Value); err == nil {
		s, _ := cur.(string)
		gt, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !gt.Equal(wt) {
			fail("meter %s of %s: got %s, want %s", v.Path, who, orNone(cur), fmtTime(wt, loc))
		}
		return
	}
	if want.Value == "none" {
		if cur != nil {
			fail("meter %s of %s: got %v, want none", v.Path, who, cur)
		}
		return
	}
	if s, _ := cur.(string); s != want.Value {
		fail("meter %s of %s: got %v, want %s", v.Path, who, orNone(cur), want.Value)
	}
}

func orNone(v any) any {
	if v == nil {
		return "none"
	}
	return v
}

func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "none"
	}
	if loc != nil {
		t = t.In(loc)
	}
	return t.Format("Mon 2006-01-02 15:04 MST")
}
