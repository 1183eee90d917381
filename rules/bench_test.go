package rules_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
)

func loadDefault(tb testing.TB) *rules.Policy {
	tb.Helper()
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	p, err := rules.Load("policies.yaml", src)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// benchRequest is an invitation that passes every invite rule: the
// slowest path through the stage.
func benchRequest() *rules.Request {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("PST", -8*3600))
	return &rules.Request{
		Stage: rules.StageInvite, Now: now, Note: "Hi Bob, we met at the Go meetup.",
		Sender: &rules.Member{ID: "alice", Kind: "person", Tier: "free", Status: "active", Connections: 120,
			Company: "Acme", School: "State U", Sent: rules.Counts{Hour: 1, Day: 4, Week: 20, Month: 60}, AcceptanceRate: 0.6},
		Recipient: &rules.Member{ID: "bob", Kind: "person", Tier: "free", Status: "active", Connections: 80,
			Company: "Globex", School: "Tech"},
		Pair: rules.Pair{Degree: 2, Mutual: 3},
	}
}

func BenchmarkDecideAllowWalksEveryRule(b *testing.B) {
	p := loadDefault(b)
	req := benchRequest()
	if d := p.Decide(req); d.Outcome != "allow" {
		b.Fatalf("want allow, got %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(req)
	}
}

func BenchmarkDecideEarlyDeny(b *testing.B) {
	p := loadDefault(b)
	req := benchRequest()
	req.Recipient = nil
	if d := p.Decide(req); d.Reason != "not_found" {
		b.Fatalf("want not_found, got %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(req)
	}
}

func BenchmarkDecideDailyLimit(b *testing.B) {
	p := loadDefault(b)
	req := benchRequest()
	req.Sender.Sent.Day = 30
	if d := p.Decide(req); d.Reason != "daily_limit" {
		b.Fatalf("want daily_limit, got %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(req)
	}
}

func BenchmarkExplain(b *testing.B) {
	p := loadDefault(b)
	req := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		p.Explain(req)
	}
}

func BenchmarkLoadDefaultPolicy(b *testing.B) {
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rules.Load("policies.yaml", src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoaderKeystroke reloads the default policy through a Loader
// after an edit of one condition, as the playground does on a keystroke.
func BenchmarkLoaderKeystroke(b *testing.B) {
	benchReload(b, "when: recipient.id == sender.id", "when: sender.id == recipient.id")
}

// BenchmarkLoaderParamEdit is BenchmarkLoaderKeystroke for an edit of
// the free tier's daily limit: every expression that reads params is
// compiled again, since params are folded into the programs.
func BenchmarkLoaderParamEdit(b *testing.B) {
	benchReload(b, "free:    {daily: 30", "free:    {daily: 34")
}

// benchReload alternates a Loader between the default policy and the
// policy with from replaced by to.
func benchReload(b *testing.B, from, to string) {
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		b.Fatal(err)
	}
	edited := bytes.Replace(src, []byte(from), []byte(to), 1)
	if bytes.Equal(src, edited) {
		b.Fatal("the edit changed nothing")
	}
	var ld rules.Loader
	if _, err := ld.Load("policies.yaml", src); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		text := src
		if i%2 == 1 {
			text = edited
		}
		if _, err := ld.Load("policies.yaml", text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecideDeliver(b *testing.B) {
	p := loadDefault(b)
	req := benchRequest()
	req.Stage = rules.StageDeliver
	if d := p.Decide(req); d.Outcome != "inbox" {
		b.Fatalf("want inbox, got %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(req)
	}
}
