package scenario_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/scenario"
)

// promiseRules are the quota and restriction rules. A retry_after from one
// of them promises that at that time none of them refuses the same
// request.
var promiseRules = map[string]bool{
	"daily_limit": true, "weekly_limit": true, "weekly_limit_escalation": true, "monthly_limit": true,
	"recipient_busy": true, "sender_restricted": true, "accept_restricted": true,
}

// cooldownRules carry a retry_after too, but wait on the pair's history,
// not on a quota or a restriction: they are outside the promise.
var cooldownRules = map[string]bool{"resend_cooldown": true, "withdraw_cooldown": true}

// repoPolicies are every policy file in the repository.
func repoPolicies(t *testing.T) map[string]*rules.Policy {
	t.Helper()
	files, err := filepath.Glob("../../../examples/policies/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../../policies.yaml")
	out := map[string]*rules.Policy{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := rules.Load(f, src)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimPrefix(f, "../../../")] = p
	}
	return out
}

// denial is one decided request and its decision, with the policy that
// decided it and where it came from.
type denial struct {
	src string
	pol *rules.Policy
	req *rules.Request
	d   rules.Decision
}

// cloneRequest copies a request deeply enough to change its counts,
// times and statuses.
func cloneRequest(r *rules.Request) *rules.Request {
	c := *r
	if r.Sender != nil {
		m := *r.Sender
		c.Sender = &m
	}
	if r.Recipient != nil {
		m := *r.Recipient
		c.Recipient = &m
	}
	return &c
}

func intParam(p *rules.Policy, path string) int {
	v, _ := p.Param(path)
	switch x := v.(type) {
	case int:
		return x
	case float64:
		return int(x)
	}
	return 0
}

// rollTo is the request as it stands at t after the denial d: the
// denial's effects applied and its attempt counted past the weekly limit
// (as the lifecycle does), the windows that rolled over reset, and the
// restrictions and soft bans that ended lifted.
func rollTo(p *rules.Policy, req *rules.Request, d rules.Decision, t time.Time) *rules.Request {
	r := cloneRequest(req)
	for _, e := range d.Effects {
		m := r.Sender
		if e.Subject == "recipient" {
			m = r.Recipient
		}
		if e.Kind == "restrict" && m != nil && e.Until.After(m.RestrictedUntil) {
			m.RestrictedUntil = e.Until
		}
	}
	if w := intParam(p, "tiers."+r.Sender.Tier+".weekly"); r.Stage == rules.StageInvite && w > 0 && r.Sender.Sent.Week >= w {
		r.Sender.OverLimit++
	}
	cal := p.Calendar()
	now := r.Now
	for _, m := range []*rules.Member{r.Sender, r.Recipient} {
		if m == nil {
			continue
		}
		for _, c := range []*rules.Counts{&m.Sent, &m.Received} {
			if t.Sub(now) >= time.Hour {
				c.Hour = 0
			}
			if !cal.DayStart(t).Equal(cal.DayStart(now)) {
				c.Day = 0
			}
			if !cal.WeekStart(t).Equal(cal.WeekStart(now)) {
				c.Week = 0
			}
			if !cal.MonthStart(t).Equal(cal.MonthStart(now)) {
				c.Month = 0
			}
		}
		if !cal.WeekStart(t).Equal(cal.WeekStart(now)) {
			m.OverLimit = 0
		}
		if !m.RestrictedUntil.After(t) {
			m.RestrictedUntil = time.Time{}
			if m.Status == "restricted" {
				m.Status = "active"
			}
		}
		if m.Status == "soft_banned" && !m.SoftBannedUntil.IsZero() && !m.SoftBannedUntil.After(t) {
			m.Status = "active"
		}
	}
	r.Now = t
	return r
}

// promiseBreaks decides each denial again at its retry_after and returns
// a line for every quota or restriction rule that refuses then (one
// example per pair of rules, then a count), and for every rule with a
// retry_after that is not classified above.
func promiseBreaks(ds []denial) (checked int, problems []string) {
	broken := map[string]int{}
	for _, x := range ds {
		if x.d.Outcome != "deny" || x.d.RetryAfter.IsZero() || cooldownRules[x.d.Rule] {
			continue
		}
		if !promiseRules[x.d.Rule] {
			problems = append(problems, fmt.Sprintf("%s: rule %s denies with a retry_after but is neither a quota or restriction rule nor a cooldown; classify it in retryafter_test.go", x.src, x.d.Rule))
			continue
		}
		checked++
		again := x.pol.Decide(rollTo(x.pol, x.req, x.d, x.d.RetryAfter))
		if again.Outcome != "deny" || !promiseRules[again.Rule] {
			continue
		}
		key := fmt.Sprintf("policy %s: rule %s promised a retry_after at which rule %s refuses", x.pol.Name(), x.d.Rule, again.Rule)
		if broken[key]++; broken[key] == 1 {
			js, _ := json.Marshal(x.req)
			problems = append(problems, fmt.Sprintf("%s: %s (retry_after %s: %q)\n  request: %s",
				x.src, key, x.d.RetryAfter.Format(time.RFC3339), again.Message, js))
		}
	}
	keys := make([]string, 0, len(broken))
	for k, n := range broken {
		keys = append(keys, fmt.Sprintf("%s: %d requests", k, n))
	}
	sort.Strings(keys)
	return checked, append(problems, keys...)
}

// checkPromise reports every broken promise of ds as a test error.
func checkPromise(t *testing.T, ds []denial) (checked int) {
	t.Helper()
	checked, problems := promiseBreaks(ds)
	for _, p := range problems {
		t.Error(p)
	}
	return checked
}

// TestRetryAfterFromPolicyTests: every quota or restriction denial in the
// policies' own tests keeps its retry_after.
func TestRetryAfterFromPolicyTests(t *testing.T) {
	for name, p := range repoPolicies(t) {
		var ds []denial
		p.RunTestsWith(func(r *rules.Request) rules.Decision {
			d := p.Decide(r)
			ds = append(ds, denial{src: name + " tests", pol: p, req: cloneRequest(r), d: d})
			return d
		})
		checkPromise(t, ds)
	}
}

// TestRetryAfterFromScenarios: every quota or restriction denial met by
// the example scenarios keeps its retry_after, under the scenario's
// policy (with its parameter overrides).
func TestRetryAfterFromScenarios(t *testing.T) {
	files, err := filepath.Glob("../../../examples/scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal("no scenarios", err)
	}
	total := 0
	for _, f := range files {
		var mu sync.Mutex
		var ds []denial
		engine := func(_ context.Context, _ string, _ []byte, p *rules.Policy) (lifecycle.Decider, func(), error) {
			return lifecycle.DeciderFunc(func(_ context.Context, r *rules.Request) (rules.Decision, error) {
				d := p.Decide(r)
				mu.Lock()
				ds = append(ds, denial{src: filepath.Base(f), pol: p, req: cloneRequest(r), d: d})
				mu.Unlock()
				return d, nil
			}), func() {}, nil
		}
		runFile(t, f, scenario.Options{Engine: engine})
		total += checkPromise(t, ds)
	}
	if total == 0 {
		t.Fatal("the scenarios met no quota or restriction denial")
	}
}

// boundaryNows are instants at the edges of the calendar windows,
// around both DST changes and in the week that DST makes 169 hours long.
func boundaryNows(cal rules.Calendar) []time.Time {
	loc := cal.Loc
	var out []time.Time
	for _, s := range []string{
		"2026-03-02T10:00:00", "2026-03-06T23:59:59", "2026-03-08T01:30:00", "2026-03-08T03:30:00",
		"2026-03-31T23:59:59", "2026-02-28T23:59:59", "2026-10-31T23:59:59", "2026-11-01T01:30:00",
		"2026-12-31T23:59:59",
	} {
		at, err := time.ParseInLocation("2006-01-02T15:04:05", s, loc)
		if err != nil {
			panic(err)
		}
		out = append(out, at)
	}
	for _, s := range []string{"2026-03-09T12:00:00", "2026-10-27T12:00:00", "2026-04-01T12:00:00"} {
		at, _ := time.ParseInLocation("2006-01-02T15:04:05", s, loc)
		ws := cal.WeekStart(at)
		out = append(out, ws, ws.Add(-time.Second), ws.Add(30*time.Minute), cal.NextDay(at).Add(-time.Second))
	}
	return out
}

// boundaryRequests are invite and accept requests whose counts sit at and
// around every limit of the policy, with restrictions ending at and
// around the interesting distances.
func boundaryRequests(p *rules.Policy) []*rules.Request {
	var tiers []string
	for _, t := range []string{"free", "premium"} {
		if _, ok := p.Param("tiers." + t); ok {
			tiers = append(tiers, t)
		}
	}
	longAfter := intParam(p, "restrict.long_after")
	if longAfter == 0 {
		longAfter = 250
	}
	recvMax := intParam(p, "recipient_daily_max")
	// Below a limit nothing is refused, so empty and full are enough; a
	// limit that is off (0) is tried with a large count.
	around := func(n int) []int {
		if n <= 0 {
			return []int{1000}
		}
		return []int{0, n}
	}
	restricted := []time.Duration{0, time.Second, 25 * time.Hour, 7*24*time.Hour + time.Second, 14 * 24 * time.Hour}
	var out []*rules.Request
	for _, now := range boundaryNows(p.Calendar()) {
		for _, tier := range tiers {
			pre := "tiers." + tier + "."
			for _, day := range around(intParam(p, pre+"daily")) {
				for _, week := range around(intParam(p, pre+"weekly")) {
					for _, month := range around(intParam(p, pre+"monthly")) {
						for _, over := range []int{0, longAfter - 1} {
							for _, ru := range restricted {
								for _, recv := range around(recvMax) {
									r := baseRequest(now, tier)
									r.Sender.Sent = rules.Counts{Day: day, Week: week, Month: month}
									r.Sender.OverLimit = over
									if ru > 0 {
										r.Sender.Status, r.Sender.RestrictedUntil = "restricted", now.Add(ru)
									}
									r.Recipient.Received.Day = recv
									out = append(out, r)
								}
							}
						}
					}
				}
			}
		}
		for _, ru := range restricted {
			r := baseRequest(now, "free")
			r.Stage = rules.StageAccept
			if ru > 0 {
				r.Recipient.Status, r.Recipient.RestrictedUntil = "restricted", now.Add(ru)
			}
			out = append(out, r)
		}
	}
	return out
}

func baseRequest(now time.Time, tier string) *rules.Request {
	return &rules.Request{
		Stage: rules.StageInvite, Now: now,
		Sender: &rules.Member{ID: "alice", Kind: "person", Tier: tier, Status: "active", Connections: 120,
			Company: "Acme", School: "State U", AcceptanceRate: 0.6},
		Recipient: &rules.Member{ID: "bob", Kind: "person", Tier: "free", Status: "active", Connections: 80,
			Company: "Globex", School: "Tech"},
		Pair: rules.Pair{Degree: 2, Mutual: 10},
	}
}

// TestRetryAfterAtBoundaries: generated requests at every limit and
// window edge of every policy keep their retry_after.
func TestRetryAfterAtBoundaries(t *testing.T) {
	for name, p := range repoPolicies(t) {
		var ds []denial
		for _, r := range boundaryRequests(p) {
			ds = append(ds, denial{src: name + " boundaries", pol: p, req: r, d: p.Decide(r)})
		}
		if n := checkPromise(t, ds); n == 0 {
			t.Errorf("%s: no quota or restriction denial among %d boundary requests", name, len(ds))
		}
	}
}

// TestRetryAfterNamesABrokenPromise: the property names the rule and the
// request when a policy's retry_after is not kept, here the daily limit
// of a policy that checks the day before the week.
func TestRetryAfterNamesABrokenPromise(t *testing.T) {
	src := `version: 1
name: day-first
timezone: UTC
params:
  tiers:
    free: {daily: 10, weekly: 20}
    premium: {daily: 100, weekly: 500}
let:
  tier: params.tiers[sender.tier]
stages:
  invite:
    default: {outcome: allow, reason: sent}
    rules:
      - id: daily_limit
        when: sender.sent.day >= tier.daily
        outcome: deny
        retry_after: next_day(now)
      - id: weekly_limit
        when: sender.sent.week >= tier.weekly
        outcome: deny
        retry_after: next_week(now)
  deliver: {default: {outcome: inbox, reason: delivered}, rules: []}
  accept: {default: {outcome: allow, reason: connected}, rules: []}
`
	p, err := rules.Load("day-first.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r := baseRequest(time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC), "free")
	r.Sender.Sent = rules.Counts{Day: 10, Week: 20, Month: 20}
	_, problems := promiseBreaks([]denial{{src: "inline", pol: p, req: r, d: p.Decide(r)}})
	if len(problems) == 0 {
		t.Fatal("the broken promise was not found")
	}
	want := `inline: policy day-first: rule daily_limit promised a retry_after at which rule weekly_limit refuses (retry_after 2026-03-05T00:00:00Z: "")
  request: {"stage":"invite","now":"2026-03-04T12:00:00Z"`
	if !strings.HasPrefix(problems[0], want) {
		t.Errorf("got\n%s\nwant it to start with\n%s", problems[0], want)
	}
}
