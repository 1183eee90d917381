package host_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
)

// DecidePublic gives the operator's decision and what the sender may see
// of it, from the same policy: a block is private, so the sender sees
// only the generic denial.
func ExampleEngine_DecidePublic() {
	ctx := context.Background()
	eng, err := host.New(ctx, host.WithPoolSize(1))
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close(ctx)
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		log.Fatal(err)
	}
	if err := eng.Load(ctx, "policies.yaml", src); err != nil {
		log.Fatal(err)
	}
	req, err := rules.DecodeRequest([]byte(`{
		"stage": "invite", "now": "2026-03-02T10:00:00-08:00",
		"sender": {"id": "alice", "kind": "person", "tier": "free", "status": "active"},
		"recipient": {"id": "bob", "kind": "person", "tier": "free", "status": "active"},
		"pair": {"degree": 2, "blocked": true}
	}`))
	if err != nil {
		log.Fatal(err)
	}
	d, pub, err := eng.DecidePublic(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("operator:", d.Reason, d.Private)
	fmt.Println("sender:  ", string(pub.JSON()))
	fmt.Println("same:    ", string(eng.Public(d).JSON()) == string(pub.JSON()))
	// Output:
	// operator: blocked true
	// sender:   {"outcome":"deny","message":"Unable to connect. You can't send an invitation to this member right now."}
	// same:     true
}
