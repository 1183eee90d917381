package host_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
)

// Load the default policy into the embedded module and decide an
// invitation through wazero.
func Example() {
	ctx := context.Background()
	eng, err := host.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close(ctx)

	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		log.Fatal(err)
	}
	if err := eng.Load(ctx, "policies.yaml", src); err != nil {
		log.Fatal(err) // a rules.ErrorList: file:line:col, rule, caret
	}

	req, err := rules.DecodeRequest([]byte(`{
		"stage": "invite",
		"now": "2026-03-02T10:00:00-08:00",
		"sender": {"id": "alice", "kind": "person", "tier": "free", "status": "active",
		           "sent": {"day": 30}},
		"recipient": {"id": "bob", "kind": "person", "tier": "free", "status": "active"},
		"pair": {"degree": 2, "mutual": 3}
	}`))
	if err != nil {
		log.Fatal(err)
	}
	d, err := eng.Decide(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Outcome, d.Reason)
	fmt.Println(d.Message)
	fmt.Println(d.RetryAfter.Format(time.RFC3339))
	// Output:
	// deny daily_limit
	// You've reached today's limit of 30 invitations. You can send more from Mar 3, 2026 12:00 AM PST.
	// 2026-03-03T00:00:00-08:00
}

// A policy with errors is refused with positions, and the last good
// policy keeps serving.
func ExampleEngine_Load() {
	ctx := context.Background()
	eng, err := host.New(ctx, host.WithPoolSize(1))
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close(ctx)
	err = eng.Load(ctx, "edit.yaml", []byte(`version: 1
stages:
  invite:
    default: {outcome: allow}
    rules:
      - id: typo
        when: sender.sent.dya > 3
        outcome: deny
  deliver: {default: {outcome: inbox}}
  accept: {default: {outcome: allow}}
`))
	fmt.Println(err)
	// Output:
	// edit.yaml:7:27: rule "typo": when: counts has no field dya (did you mean day?)
	//     7 |         when: sender.sent.dya > 3
	//       |                           ^
}
