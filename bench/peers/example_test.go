package peers_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/connrules/connrules/bench/peers"
	"github.com/connrules/connrules/rules"
)

// config loads the default policy and reads the invite stage's
// parameters from it.
func config() peers.Config {
	src, err := os.ReadFile("../../policies.yaml")
	if err != nil {
		panic(err)
	}
	p, err := rules.Load("policies.yaml", src)
	if err != nil {
		panic(err)
	}
	cfg, err := peers.ConfigOf(p)
	if err != nil {
		panic(err)
	}
	return cfg
}

// fullDay is an invitation from a sender who has sent 30 today.
func fullDay() *rules.Request {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("PST", -8*3600))
	return &rules.Request{
		Stage: rules.StageInvite, Now: now,
		Sender: &rules.Member{ID: "alice", Kind: "person", Tier: "free", Status: "active", Connections: 120,
			Sent: rules.Counts{Day: 30, Week: 30, Month: 30}},
		Recipient: &rules.Member{ID: "bob", Kind: "person", Tier: "free", Status: "active", Connections: 80},
		Pair:      rules.Pair{Degree: 2, Mutual: 3},
	}
}

func ExampleHand_Decide() {
	h := &peers.Hand{C: config()}
	r := h.Decide(fullDay())
	fmt.Println(r.Outcome, r.Rule)
	fmt.Println(r.Message)
	// Output:
	// deny daily_limit
	// You've reached today's limit of 30 invitations. You can send more from Mar 3, 2026 12:00 AM PST.
}

func ExampleNewRego() {
	ctx := context.Background()
	r, err := peers.NewRego(ctx, config())
	if err != nil {
		panic(err)
	}
	res, err := r.Decide(ctx, fullDay())
	fmt.Println(res.Outcome, res.Rule, res.RetryAfter.UTC(), err)
	// Output: deny daily_limit 2026-03-03 08:00:00 +0000 UTC <nil>
}

func ExampleNewCEL() {
	c, err := peers.NewCEL(config())
	if err != nil {
		panic(err)
	}
	req := fullDay()
	req.Recipient = nil
	res, err := c.Decide(req)
	fmt.Println(res.Outcome, res.Rule, err)
	// Output: deny not_found <nil>
}

func ExampleResult_Same() {
	a := peers.Result{Outcome: "deny", Rule: "daily_limit", RetryAfter: time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)}
	b := a
	b.RetryAfter = a.RetryAfter.In(time.FixedZone("PST", -8*3600)) // the same instant
	fmt.Println(a.Same(b))
	// Output: true
}
