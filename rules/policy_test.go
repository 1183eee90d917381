package rules_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
)

var pst = time.FixedZone("PST", -8*3600)

// at is a time on Monday 2 March 2026 (Pacific), the first day of a week.
func at(day, hour, min int) time.Time { return time.Date(2026, 3, day, hour, min, 0, 0, pst) }

type ruleCase struct {
	name    string
	stage   string
	mutate  func(r *rules.Request)
	outcome string
	reason  string
	rule    string // "" means the stage default
	retry   time.Time
	// variant runs the case on policies.yaml with the rules that are off
	// by default switched on (monthly 300, withdraw cooldown 7 days).
	variant bool
}

// ruleCases makes every rule of policies.yaml fire, and sits on either side
// of each boundary.
var ruleCases = []ruleCase{
	{name: "allow", outcome: "allow", reason: "sent"},
	{name: "not_found", mutate: func(r *rules.Request) { r.Recipient = nil }, outcome: "deny", reason: "not_found", rule: "not_found"},
	{name: "self_invite", mutate: func(r *rules.Request) { r.Recipient.ID = r.Sender.ID }, outcome: "deny", reason: "self_invite", rule: "self_invite"},
	{name: "company page", mutate: func(r *rules.Request) { r.Sender.Kind = "company" }, outcome: "deny", reason: "sender_not_person", rule: "sender_not_person"},
	{name: "company page recipient", mutate: func(r *rules.Request) { r.Recipient.Kind = "company" }, outcome: "deny", reason: "recipient_not_person", rule: "recipient_not_person"},
	{name: "restricted, 250th attempt past the week", mutate: func(r *rules.Request) {
		r.Sender.Status, r.Sender.RestrictedUntil = "restricted", r.Now.Add(24*time.Hour)
		r.Sender.Sent, r.Sender.OverLimit = rules.Counts{Week: 300}, 249
	}, outcome: "deny", reason: "weekly_limit", rule: "weekly_limit_escalation", retry: at(2, 10, 0).Add(14 * 24 * time.Hour)},
	{name: "restricted, 249th attempt past the week", mutate: func(r *rules.Request) {
		r.Sender.Status, r.Sender.RestrictedUntil = "restricted", r.Now.Add(24*time.Hour)
		r.Sender.Sent, r.Sender.OverLimit = rules.Counts{Week: 300}, 248
	}, outcome: "deny", reason: "sender_restricted", rule: "sender_restricted", retry: time.Date(2026, 3, 9, 0, 1, 0, 0, time.FixedZone("PDT", -7*3600))},
	{name: "sender closed", mutate: func(r *rules.Request) { r.Sender.Status = "closed" }, outcome: "deny", reason: "sender_inactive", rule: "sender_inactive"},
	{name: "sender deactivated", mutate: func(r *rules.Request) { r.Sender.Status = "deactivated" }, outcome: "deny", reason: "sender_inactive", rule: "sender_inactive"},
	{name: "restricted one second more", mutate: func(r *rules.Request) {
		r.Sender.Status, r.Sender.RestrictedUntil = "restricted", r.Now.Add(time.Second)
	}, outcome: "deny", reason: "sender_restricted", rule: "sender_restricted", retry: at(2, 10, 0).Add(time.Second)},
	{name: "restriction ends exactly now", mutate: func(r *rules.Request) {
		r.Sender.Status, r.Sender.RestrictedUntil = "restricted", r.Now
	}, outcome: "allow", reason: "sent"},
	{name: "recipient deactivated", mutate: func(r *rules.Request) { r.Recipient.Status = "deactivated" }, outcome: "deny", reason: "recipient_unavailable", rule: "recipient_unavailable"},
	{name: "restricted recipient can still be invited", mutate: func(r *rules.Request) { r.Recipient.Status = "restricted" }, outcome: "allow", reason: "sent"},
	{name: "connected", mutate: func(r *rules.Request) { r.Pair.Connected, r.Pair.Degree = true, 1 }, outcome: "deny", reason: "already_connected", rule: "already_connected"},
	{name: "one pending", mutate: func(r *rules.Request) { r.Pair.Pending = 1 }, outcome: "deny", reason: "already_pending", rule: "already_pending"},
	{name: "rejected", mutate: func(r *rules.Request) { r.Pair.Rejected = true }, outcome: "deny", reason: "previously_rejected", rule: "previously_rejected"},
	{name: "ignored once, 89 days ago", mutate: func(r *rules.Request) {
		r.Pair.Ignored, r.Pair.LastIgnoredAt = 1, r.Now.Add(-89*24*time.Hour)
	}, outcome: "deny", reason: "resend_cooldown", rule: "resend_cooldown", retry: at(2, 10, 0).Add(24 * time.Hour)},
	{name: "ignored once, 90 days ago", mutate: func(r *rules.Request) {
		r.Pair.Ignored, r.Pair.LastIgnoredAt = 1, r.Now.Add(-90*24*time.Hour)
	}, outcome: "allow", reason: "sent"},
	{name: "ignored twice, 364 days ago", mutate: func(r *rules.Request) {
		r.Pair.Ignored, r.Pair.LastIgnoredAt = 2, r.Now.Add(-364*24*time.Hour)
	}, outcome: "deny", reason: "resend_cooldown", rule: "resend_cooldown", retry: at(3, 10, 0)},
	{name: "ignored twice, 365 days ago", mutate: func(r *rules.Request) {
		r.Pair.Ignored, r.Pair.LastIgnoredAt = 2, r.Now.Add(-365*24*time.Hour)
	}, outcome: "allow", reason: "sent"},
	{name: "ignored three times", mutate: func(r *rules.Request) {
		r.Pair.Ignored, r.Pair.LastIgnoredAt = 3, r.Now.Add(-10*365*24*time.Hour)
	}, outcome: "deny", reason: "resend_cooldown", rule: "resend_never"},
	{name: "blocked", mutate: func(r *rules.Request) { r.Pair.Blocked = true }, outcome: "deny", reason: "blocked", rule: "blocked"},
	{name: "email_or_contacts, stranger", mutate: func(r *rules.Request) { r.Recipient.Settings.Invitations = "email_or_contacts" }, outcome: "deny", reason: "recipient_settings", rule: "recipient_settings"},
	{name: "email_or_contacts, in contacts", mutate: func(r *rules.Request) {
		r.Recipient.Settings.Invitations, r.Pair.InContacts = "email_or_contacts", true
	}, outcome: "allow", reason: "sent"},
	{name: "contacts_only, email is not enough", mutate: func(r *rules.Request) {
		r.Recipient.Settings.Invitations, r.Pair.KnowsEmail = "contacts_only", true
	}, outcome: "deny", reason: "recipient_settings", rule: "recipient_settings"},
	{name: "mutual, none", mutate: func(r *rules.Request) { r.Recipient.Settings.Invitations, r.Pair.Mutual = "mutual", 0 }, outcome: "deny", reason: "recipient_settings", rule: "recipient_settings"},
	{name: "second_degree, third with email", mutate: func(r *rules.Request) {
		r.Recipient.Settings.Invitations, r.Pair.Degree, r.Pair.KnowsEmail = "second_degree", 3, true
	}, outcome: "deny", reason: "recipient_settings", rule: "recipient_settings"},
	{name: "third_degree, outside the network", mutate: func(r *rules.Request) {
		r.Recipient.Settings.Invitations, r.Pair.Degree, r.Pair.KnowsEmail = "third_degree", 0, true
	}, outcome: "deny", reason: "recipient_settings", rule: "recipient_settings"},
	{name: "school list admits", mutate: func(r *rules.Request) { r.Recipient.Settings.Schools = []string{"State U"} }, outcome: "allow", reason: "sent"},
	{name: "school list refuses", mutate: func(r *rules.Request) { r.Recipient.Settings.Schools = []string{"Tech"} }, outcome: "deny", reason: "recipient_settings", rule: "recipient_settings"},
	{name: "3rd degree stranger", mutate: func(r *rules.Request) { r.Pair.Degree = 3 }, outcome: "deny", reason: "not_close_enough", rule: "not_close_enough"},
	{name: "outside the network with email", mutate: func(r *rules.Request) { r.Pair.Degree, r.Pair.KnowsEmail = 0, true }, outcome: "allow", reason: "sent"},
	{name: "note of 300", mutate: func(r *rules.Request) { r.Note = strings.Repeat("é", 300) }, outcome: "allow", reason: "sent"},
	{name: "note of 301", mutate: func(r *rules.Request) { r.Note = strings.Repeat("é", 301) }, outcome: "deny", reason: "note_too_long", rule: "note_too_long"},
	{name: "sender at 499 connections", mutate: func(r *rules.Request) { r.Sender.Connections = 499 }, outcome: "allow", reason: "sent"},
	{name: "sender at 500 connections", mutate: func(r *rules.Request) { r.Sender.Connections = 500 }, outcome: "deny", reason: "sender_connection_limit", rule: "sender_connection_limit"},
	{name: "premium sender at 500 connections", mutate: func(r *rules.Request) { r.Sender.Tier, r.Sender.Connections = "premium", 500 }, outcome: "allow", reason: "sent"},
	{name: "recipient at 500 connections", mutate: func(r *rules.Request) { r.Recipient.Connections = 500 }, outcome: "deny", reason: "recipient_connection_limit", rule: "recipient_connection_limit"},
	{name: "30th today", mutate: func(r *rules.Request) { r.Sender.Sent = rules.Counts{Day: 29, Week: 29, Month: 29} }, outcome: "allow", reason: "sent"},
	{name: "31st today", mutate: func(r *rules.Request) { r.Sender.Sent = rules.Counts{Day: 30, Week: 30, Month: 30} }, outcome: "deny", reason: "daily_limit", rule: "daily_limit", retry: time.Date(2026, 3, 3, 0, 0, 0, 0, pst)},
	{name: "premium 100th today", mutate: func(r *rules.Request) { r.Sender.Tier, r.Sender.Sent = "premium", rules.Counts{Day: 99, Week: 99} }, outcome: "allow", reason: "sent"},
	{name: "premium 101st today", mutate: func(r *rules.Request) { r.Sender.Tier, r.Sender.Sent = "premium", rules.Counts{Day: 100, Week: 100} }, outcome: "deny", reason: "daily_limit", rule: "daily_limit"},
	{name: "300th this week", mutate: func(r *rules.Request) { r.Sender.Sent = rules.Counts{Week: 299} }, outcome: "allow", reason: "sent"},
	{name: "301st this week", mutate: func(r *rules.Request) { r.Sender.Sent = rules.Counts{Week: 300} }, outcome: "deny", reason: "weekly_limit", rule: "weekly_limit", retry: at(2, 10, 0).Add(7 * 24 * time.Hour)},
	{name: "recipient busy at 999", mutate: func(r *rules.Request) { r.Recipient.Received.Day = 999 }, outcome: "allow", reason: "sent"},
	{name: "recipient busy at 1000", mutate: func(r *rules.Request) { r.Recipient.Received.Day = 1000 }, outcome: "deny", reason: "recipient_busy", rule: "recipient_busy", retry: time.Date(2026, 3, 3, 0, 0, 0, 0, pst)},
	{name: "monthly off by default", mutate: func(r *rules.Request) { r.Sender.Sent = rules.Counts{Month: 5000} }, outcome: "allow", reason: "sent"},
	{name: "300th this month", variant: true, mutate: func(r *rules.Request) { r.Sender.Sent = rules.Counts{Month: 299} }, outcome: "allow", reason: "sent"},
	{name: "301st this month", variant: true, mutate: func(r *rules.Request) { r.Sender.Sent = rules.Counts{Month: 300} }, outcome: "deny", reason: "monthly_limit", rule: "monthly_limit", retry: time.Date(2026, 4, 1, 0, 0, 0, 0, time.FixedZone("PDT", -7*3600))},
	{name: "withdrawn 6 days ago", variant: true, mutate: func(r *rules.Request) { r.Pair.WithdrawnAt = r.Now.Add(-6 * 24 * time.Hour) }, outcome: "deny", reason: "withdraw_cooldown", rule: "withdraw_cooldown", retry: at(3, 10, 0)},
	{name: "withdrawn 7 days ago", variant: true, mutate: func(r *rules.Request) { r.Pair.WithdrawnAt = r.Now.Add(-7 * 24 * time.Hour) }, outcome: "allow", reason: "sent"},
	{name: "soft banned", mutate: func(r *rules.Request) { r.Sender.Status = "soft_banned" }, outcome: "shadow", reason: "soft_banned", rule: "soft_banned"},

	{name: "inbox", stage: "deliver", mutate: func(r *rules.Request) { r.Note = "Hello" }, outcome: "inbox", reason: "delivered"},
	{name: "nobody", stage: "deliver", mutate: func(r *rules.Request) { r.Recipient.Settings.Invitations = "nobody" }, outcome: "auto_ignore", reason: "recipient_ignores_all", rule: "ignores_all"},
	{name: "19 this hour", stage: "deliver", mutate: func(r *rules.Request) { r.Sender.Sent.Hour = 19 }, outcome: "inbox", reason: "delivered"},
	{name: "20 this hour", stage: "deliver", mutate: func(r *rules.Request) { r.Sender.Sent.Hour = 20 }, outcome: "spam", reason: "spam_burst", rule: "spam_burst"},
	{name: "keyword", stage: "deliver", mutate: func(r *rules.Request) { r.Note = "Click HERE now" }, outcome: "spam", reason: "spam_keywords", rule: "spam_keywords"},
	{name: "cold, low acceptance", stage: "deliver", mutate: func(r *rules.Request) { r.Pair.Mutual, r.Sender.AcceptanceRate = 0, 0.19 }, outcome: "spam", reason: "spam_cold", rule: "spam_cold"},
	{name: "cold, acceptance at the threshold", stage: "deliver", mutate: func(r *rules.Request) { r.Pair.Mutual, r.Sender.AcceptanceRate = 0, 0.2 }, outcome: "inbox", reason: "delivered"},
	{name: "cold with a note", stage: "deliver", mutate: func(r *rules.Request) { r.Pair.Mutual, r.Sender.AcceptanceRate, r.Note = 0, 0.1, "We met at GopherCon" }, outcome: "inbox", reason: "delivered"},
	{name: "auto accept by company", stage: "deliver", mutate: func(r *rules.Request) { r.Recipient.Settings.AutoAccept.Companies = []string{"Acme"} }, outcome: "auto_accept", reason: "auto_accept", rule: "auto_accept"},
	{name: "auto accept by school", stage: "deliver", mutate: func(r *rules.Request) { r.Recipient.Settings.AutoAccept.Schools = []string{"State U"} }, outcome: "auto_accept", reason: "auto_accept", rule: "auto_accept"},
	{name: "no company never auto accepts", stage: "deliver", mutate: func(r *rules.Request) {
		r.Sender.Company, r.Recipient.Settings.AutoAccept.Companies = "", []string{""}
	}, outcome: "inbox", reason: "delivered"},
	{name: "confirmation", stage: "deliver", mutate: func(r *rules.Request) { r.Recipient.Settings.RequireConfirmation = true }, outcome: "hold", reason: "awaiting_confirmation", rule: "hold_for_confirmation"},

	{name: "accept", stage: "accept", outcome: "allow", reason: "connected"},
	{name: "accept, recipient at 499", stage: "accept", mutate: func(r *rules.Request) { r.Recipient.Connections = 499 }, outcome: "allow", reason: "connected"},
	{name: "accept, recipient at 500", stage: "accept", mutate: func(r *rules.Request) { r.Recipient.Connections = 500 }, outcome: "deny", reason: "connection_limit", rule: "accept_recipient_cap"},
	{name: "accept by a company page", stage: "accept", mutate: func(r *rules.Request) { r.Recipient.Kind = "company" }, outcome: "deny", reason: "accept_not_person", rule: "accept_not_person"},
	{name: "accept, restricted one second more", stage: "accept", mutate: func(r *rules.Request) { r.Recipient.RestrictedUntil = r.Now.Add(time.Second) }, outcome: "deny", reason: "restricted", rule: "accept_restricted", retry: at(2, 10, 0).Add(time.Second)},
	{name: "accept, restriction ends exactly now", stage: "accept", mutate: func(r *rules.Request) { r.Recipient.RestrictedUntil = r.Now }, outcome: "allow", reason: "connected"},
	{name: "accept, sender at 500", stage: "accept", mutate: func(r *rules.Request) { r.Sender.Connections = 500 }, outcome: "deny", reason: "connection_limit", rule: "accept_sender_cap"},
}

func baseRequest(stage string) *rules.Request {
	if stage == "" {
		stage = rules.StageInvite
	}
	r := benchRequest()
	r.Stage = stage
	r.Note = ""
	r.Sender.Sent = rules.Counts{}
	return r
}

// loadVariant is policies.yaml with the rules that are off by default on.
func loadVariant(t testing.TB) *rules.Policy {
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(src), "withdraw_cooldown: 0d", "withdraw_cooldown: 7d", 1)
	s = strings.Replace(s, "weekly: 300, monthly: 0,", "weekly: 300, monthly: 300,", 1)
	if s == string(src) {
		t.Fatal("variant edits did not apply")
	}
	p, err := rules.Load("variant.yaml", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEveryRuleFires(t *testing.T) {
	def, variant := loadDefault(t), loadVariant(t)
	fired := map[string]bool{}
	for _, c := range ruleCases {
		t.Run(c.name, func(t *testing.T) {
			p := def
			if c.variant {
				p = variant
			}
			req := baseRequest(c.stage)
			if c.mutate != nil {
				c.mutate(req)
			}
			d := p.Decide(req)
			if d.Outcome != c.outcome || d.Reason != c.reason || d.Rule != c.rule {
				t.Fatalf("got %s/%s (rule %q), want %s/%s (rule %q); diagnostics %v", d.Outcome, d.Reason, d.Rule, c.outcome, c.reason, c.rule, d.Diagnostics)
			}
			if !c.retry.IsZero() && !d.RetryAfter.Equal(c.retry) {
				t.Errorf("retry_after %v, want %v", d.RetryAfter, c.retry)
			}
			if d.Message == "" && d.Outcome != "spam" && d.Outcome != "auto_ignore" {
				t.Errorf("no message")
			}
			// Explain decides the same and traces every rule of the stage.
			e := p.Explain(req)
			if e.Outcome != d.Outcome || e.Rule != d.Rule || len(e.Trace) != len(p.Rules(req.Stage)) {
				t.Errorf("explain: %s/%s with %d trace entries", e.Outcome, e.Rule, len(e.Trace))
			}
			fired[d.Rule] = true
		})
	}
	for _, s := range rules.Stages {
		for _, id := range def.Rules(s) {
			if !fired[id] {
				t.Errorf("rule %s never fires in ruleCases", id)
			}
		}
	}
}

func TestWeeklyLimitRestricts(t *testing.T) {
	p := loadDefault(t)
	for _, c := range []struct {
		over int
		days int
	}{{0, 7}, {248, 7}, {249, 14}, {600, 14}} { // over_limit counts the attempts before this one
		req := baseRequest("")
		req.Now = at(4, 9, 0) // Wednesday 4 March; DST begins on 8 March
		req.Sender.Sent.Week, req.Sender.OverLimit = 300, c.over
		d := p.Decide(req)
		want := req.Now.Add(time.Duration(c.days) * 24 * time.Hour)
		if len(d.Effects) != 1 || d.Effects[0].Kind != "restrict" || d.Effects[0].Subject != "sender" || !d.Effects[0].Until.Equal(want) {
			t.Errorf("over_limit %d: effects %+v, want restrict until %v", c.over, d.Effects, want)
		}
		if !d.RetryAfter.Equal(want) {
			t.Errorf("over_limit %d: retry_after %v, want %v", c.over, d.RetryAfter, want)
		}
	}
}

// TestPrivateDenialsLookGeneric checks, byte for byte, that the sender's
// view of every private rule is the generic denial, and that a shadow
// outcome reads exactly like an allow.
func TestPrivateDenialsLookGeneric(t *testing.T) {
	p := loadVariant(t)
	generic := p.GenericDenial().JSON()
	allow := p.Public(p.Decide(baseRequest(""))).JSON()
	private := map[string]bool{}
	for _, c := range ruleCases {
		req := baseRequest(c.stage)
		if c.mutate != nil {
			c.mutate(req)
		}
		d := p.Decide(req)
		if !d.Private {
			continue
		}
		private[d.Rule] = true
		got := p.Public(d).JSON()
		want := generic
		if d.Outcome == "shadow" {
			want = allow
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: public view %s, want %s", c.name, got, want)
		}
		// The operator's view still says what happened.
		if d.Reason == "" || d.Rule == "" {
			t.Errorf("%s: operator view lost the reason: %+v", c.name, d)
		}
	}
	for _, s := range rules.Stages {
		for _, id := range p.Rules(s) {
			if info, _ := p.Rule(id); info.Private && !private[id] {
				t.Errorf("private rule %s not exercised", id)
			}
		}
	}
	if len(private) < 4 {
		t.Errorf("only %d private rules exercised", len(private))
	}
}

const failingPolicy = `
version: 1
messages: {generic: "Unable to connect."}
params: {weights: [1, 2]}
stages:
  invite:
    default: {outcome: allow}
    rules:
      - id: fine
        when: pair.blocked
        outcome: deny
      - id: out_of_range
        when: params.weights[pair.mutual] > 1
        outcome: deny
      - id: later
        when: "true"
        outcome: deny
        message: "${params.weights[pair.degree + 5]}"
  deliver:
    default: {outcome: inbox}
    rules:
      - id: crash
        when: recipient.settings.companies[pair.mutual] == "x"
        outcome: spam
  accept:
    default: {outcome: allow}
`

func TestFailClosed(t *testing.T) {
	p, err := rules.Load("failing.yaml", []byte(failingPolicy))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		mutate  func(r *rules.Request)
		outcome string
		reason  string
		rule    string
	}{
		{"a rule before the failing one decides", func(r *rules.Request) { r.Pair.Blocked, r.Pair.Mutual = true, 9 }, "deny", "fine", "fine"},
		{"the failing rule is reached", func(r *rules.Request) { r.Pair.Mutual = 9 }, "deny", rules.ReasonEvaluationError, "out_of_range"},
		{"a failing message", func(r *rules.Request) { r.Pair.Mutual = 0 }, "deny", rules.ReasonEvaluationError, "later"},
		{"deliver fails to hold", func(r *rules.Request) { r.Stage = "deliver"; r.Pair.Mutual = 3 }, "hold", rules.ReasonEvaluationError, "crash"},
		{"malformed facts", func(r *rules.Request) { r.Sender.Status = "banned" }, "deny", rules.ReasonInvalidRequest, ""},
		{"no time", func(r *rules.Request) { r.Now = time.Time{} }, "deny", rules.ReasonInvalidRequest, ""},
		{"no sender", func(r *rules.Request) { r.Sender = nil }, "deny", rules.ReasonInvalidRequest, ""},
		{"unknown stage", func(r *rules.Request) { r.Stage = "review" }, "deny", rules.ReasonInvalidRequest, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := baseRequest("")
			c.mutate(req)
			for _, d := range []rules.Decision{p.Decide(req), p.Explain(req)} {
				if d.Outcome != c.outcome || d.Reason != c.reason || d.Rule != c.rule {
					t.Fatalf("got %s/%s rule %q, want %s/%s rule %q (%v)", d.Outcome, d.Reason, d.Rule, c.outcome, c.reason, c.rule, d.Diagnostics)
				}
				if c.reason == rules.ReasonEvaluationError || c.reason == rules.ReasonInvalidRequest {
					if len(d.Diagnostics) != 1 || d.Diagnostics[0].Message == "" {
						t.Errorf("want one diagnostic, got %v", d.Diagnostics)
					}
					if !bytes.Equal(p.Public(d).JSON(), p.GenericDenial().JSON()) {
						t.Errorf("public view of a failure leaks: %s", p.Public(d).JSON())
					}
				}
			}
		})
	}
	if d := p.Decide(nil); d.Reason != rules.ReasonInvalidRequest {
		t.Errorf("nil request: %+v", d)
	}
}

// TestMemoryBudget shows a hostile expression is stopped by the budget,
// not allowed to exhaust the host, and fails closed.
func TestMemoryBudget(t *testing.T) {
	src := strings.Replace(failingPolicy, "      - id: fine\n        when: pair.blocked",
		"      - id: fine\n        when: 'len(map(1..(100000000 + pair.mutual), # * 2)) > 0'", 1)
	src = strings.Replace(src, "version: 1", "version: 1\nlimits: {memory_budget: 10000}", 1)
	p, err := rules.Load("hostile.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d := p.Decide(baseRequest(""))
	if d.Reason != rules.ReasonEvaluationError || d.Rule != "fine" || !strings.Contains(d.Diagnostics[0].Message, "memory budget") {
		t.Fatalf("got %+v", d)
	}
}

// TestPolicyTestsCoverEveryRule: policies.yaml ships a test for each rule,
// one the rule decides or, for rules off by default, one named after it.
func TestPolicyTestsCoverEveryRule(t *testing.T) {
	p := loadDefault(t)
	results := p.RunTests()
	covered := map[string]bool{}
	for _, r := range results {
		if !r.Pass {
			t.Errorf("policy test %q fails: %v", r.Name, r.Failures)
		}
		covered[r.Got.Rule] = true
		covered[strings.Fields(r.Name)[0]] = true
	}
	for _, s := range rules.Stages {
		for _, id := range p.Rules(s) {
			if !covered[id] {
				t.Errorf("no test in policies.yaml for rule %s", id)
			}
		}
	}
}

// TestConcurrentDecisionsAgree decides every table case from many
// goroutines at once and checks each answer equals the one decided alone:
// the pooled VMs and their reused facts never leak between decisions.
func TestConcurrentDecisionsAgree(t *testing.T) {
	p := loadDefault(t)
	reqs := make([]*rules.Request, len(ruleCases))
	want := make([]string, len(ruleCases))
	wantExplain := make([]string, len(ruleCases))
	for i, c := range ruleCases {
		reqs[i] = baseRequest(c.stage)
		if c.mutate != nil {
			c.mutate(reqs[i])
		}
		want[i] = string(p.Decide(reqs[i]).JSON())
		wantExplain[i] = string(p.Explain(reqs[i]).JSON())
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for n := 0; n < 200; n++ {
				i := (g*7 + n*13) % len(reqs)
				got, w := string(p.Decide(reqs[i]).JSON()), want[i]
				if n%5 == 0 {
					got, w = string(p.Explain(reqs[i]).JSON()), wantExplain[i]
				}
				if got != w {
					errs <- fmt.Sprintf("case %q: %s, want %s", ruleCases[i].name, got, w)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
