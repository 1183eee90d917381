package replay_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/replay"
)

// loadVariant loads the recorded policy with the free daily limit lowered.
func loadVariant(from, to string) *rules.Policy {
	src, _ := os.ReadFile("testdata/recorded.yaml")
	p, err := rules.Load("lower.yaml", []byte(strings.Replace(string(src), from, to, 1)))
	if err != nil {
		panic(err)
	}
	return p
}

// Replay re-decides each recorded decision on its recorded facts.
func ExampleReplay() {
	log, _ := os.ReadFile("../../examples/events/sample.jsonl.gz")
	lower := loadVariant("free:    {daily: 30,", "free:    {daily: 20,")
	r, err := replay.Replay(context.Background(), bytes.NewReader(log), replay.Options{Policy: lower})
	if err != nil {
		panic(err)
	}
	t := r.Transitions[0]
	fmt.Printf("%d of %d decisions flip; most often %s -> %s (%d)\n", r.Flips, r.Decisions, t.From, t.To, t.Count)
	// Output: 258 of 24313 decisions flip; most often allow/sent -> deny/daily_limit (258)
}

// Simulate re-runs the recorded actions, so knock-on effects show: fewer
// invitations sent means fewer answered, and other pairs stay pending.
func ExampleSimulate() {
	log, _ := os.ReadFile("../../examples/events/sample.jsonl.gz")
	lower := loadVariant("free:    {daily: 30,", "free:    {daily: 20,")
	r, err := replay.Simulate(context.Background(), bytes.NewReader(log), replay.Options{Policy: lower})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d of %d decisions flip; %d accepts had no invitation to accept\n",
		r.Flips, r.Decisions, r.Simulation.NotRerun["accept of an invitation never sent"])
	// Output: 338 of 23885 decisions flip; 146 accepts had no invitation to accept
}

// WriteText prints a report for people.
func ExampleReport_WriteText() {
	log := `{"v":1,"seq":1,"at":"2026-03-02T10:00:00-08:00","action":"invite","actor":"alice","subject":"bob",` +
		`"request":{"stage":"invite","now":"2026-03-02T10:00:00-08:00","note":"",` +
		`"sender":{"id":"alice","kind":"person","tier":"free","status":"active","connections":1,"sent":{"hour":0,"day":25,"week":25,"month":25},"acceptance_rate":0.5,"settings":{}},` +
		`"recipient":{"id":"bob","kind":"person","tier":"free","status":"active","connections":1,"acceptance_rate":0.5,"settings":{}},` +
		`"pair":{"degree":2,"mutual":1}},"decision":{"outcome":"allow","reason":"sent","rule":"","message":"Invitation sent."}}`
	lower := loadVariant("free:    {daily: 30,", "free:    {daily: 20,")
	r, _ := replay.Replay(context.Background(), strings.NewReader(log), replay.Options{Policy: lower, Label: "lower.yaml"})
	_ = r.WriteText(os.Stdout)
	// Output:
	// replay: lower.yaml against recorded decisions: each decision re-decided on its recorded facts (what-if on the same inputs)
	// events: 1 read, 1 decisions compared
	// flips: 1 of 1 decisions (100.00%)
	//   invite   1 of 1
	//
	// old outcome/reason -> new outcome/reason
	//        1  allow/sent -> deny/daily_limit
	//   allow/sent -> deny/daily_limit, e.g.
	//     line 1 (seq 1) 2026-03-02T10:00:00-08:00 invite alice -> bob: (default) -> daily_limit
	//
	// by deciding rule (+ now decides, - no longer decides)
	//   invite  (default)    +0  -1
	//   invite  daily_limit  +1  -0
	//
	// members most affected (flips: as sender, as recipient)
	//   alice  1  (1, 0)
	//   bob    1  (0, 1)
}
