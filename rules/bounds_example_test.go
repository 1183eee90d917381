package rules_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/connrules/connrules/rules"
)

// A caller that reads a policy from a file or a request checks its size
// first, so an oversized one is refused before it is read or copied.
func ExampleCheckSize() {
	fmt.Println(rules.CheckSize("big.yaml", 10<<20))
	fmt.Println(rules.CheckSize("policies.yaml", 23_000))
	// Output:
	// big.yaml:1:1: policy is 10485760 bytes; the limit is 1048576
	// <nil>
}

// A policy need only write the stages it uses: a missing stage, or a
// stage without a default, decides the built-in default.
func ExampleLoad_oneStage() {
	p, err := rules.Load("one.yaml", []byte(`
version: 1
stages:
  invite:
    rules:
      - id: blocked
        when: pair.blocked
        outcome: deny
        private: true
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	alice := &rules.Member{ID: "alice", Kind: "person", Status: "active", Tier: "free"}
	bob := &rules.Member{ID: "bob", Kind: "person", Status: "active", Tier: "free"}
	for _, stage := range rules.Stages {
		d := p.Decide(&rules.Request{Stage: stage, Now: now, Sender: alice, Recipient: bob})
		fmt.Println(stage, d.Outcome, d.Reason, d.Message)
	}
	d := p.Decide(&rules.Request{Stage: rules.StageInvite, Now: now, Sender: alice, Recipient: bob, Pair: rules.Pair{Blocked: true}})
	fmt.Println("blocked:", d.Outcome, d.Rule)
	// Output:
	// invite allow sent Invitation sent.
	// deliver inbox delivered You have a new invitation.
	// accept allow connected You're now connected.
	// blocked: deny blocked
}

// The CLI and other readers of policy files use ReadFile, which refuses an
// oversized file from its size alone.
func ExampleReadFile() {
	dir, _ := os.MkdirTemp("", "policy")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "big.yaml")
	f, _ := os.Create(path)
	f.Truncate(10 << 20) // 10 MiB, never read
	f.Close()
	_, err := rules.ReadFile(path)
	fmt.Println(strings.TrimPrefix(err.Error(), dir+string(filepath.Separator)))
	// Output:
	// big.yaml:1:1: policy is 10485760 bytes; the limit is 1048576
}
