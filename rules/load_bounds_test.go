package rules_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/connrules/connrules/internal/hostile"
	"github.com/connrules/connrules/rules"
)

// Bounds every hostile policy must load or fail within, natively. They
// are guards, generous on a busy machine, not speed measurements: before
// the load limits these cases ran for minutes, took gigabytes or killed
// the process with a stack overflow.
const (
	hostileTimeout = 20 * time.Second
	hostileAlloc   = 256 << 20 // bytes allocated in all, an upper bound of the peak
)

// TestHostilePolicies loads each hostile policy of issue 10 and checks it
// loads (and decides) or fails with the expected positioned error, within
// hostileTimeout and hostileAlloc.
func TestHostilePolicies(t *testing.T) {
	for _, c := range hostile.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			type result struct {
				p   *rules.Policy
				err error
			}
			done := make(chan result, 1)
			start := time.Now()
			go func() {
				p, err := rules.Load(c.Name+".yaml", c.Src)
				done <- result{p, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(hostileTimeout):
				t.Fatalf("still loading after %v", hostileTimeout)
			}
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%v, %d MiB allocated", elapsed.Round(time.Millisecond), alloc>>20)
			if alloc > hostileAlloc {
				t.Errorf("allocated %d MiB, want at most %d", alloc>>20, hostileAlloc>>20)
			}
			if c.Error == "" {
				if r.err != nil {
					t.Fatalf("want it to load, got %.500v", r.err)
				}
				d := r.p.Decide(&rules.Request{Stage: rules.StageInvite, Now: at(2, 10, 0), Sender: &rules.Member{ID: "a", Kind: "person", Status: "active", Tier: "free"}, Recipient: &rules.Member{ID: "b", Kind: "person", Status: "active", Tier: "free"}})
				if d.Outcome == "" || d.Reason == rules.ReasonEvaluationError {
					t.Errorf("decision %+v", d)
				}
				return
			}
			var list rules.ErrorList
			if !errors.As(r.err, &list) || len(list) == 0 {
				t.Fatalf("want positioned errors, got %.500v", r.err)
			}
			if !strings.Contains(list[0].Msg, c.Error) {
				t.Errorf("first error %q, want it to contain %q", list[0].Msg, c.Error)
			}
			for _, e := range list {
				if e.Pos.Line < 1 || e.Pos.Column < 1 {
					t.Errorf("error without a position: %v", e.Msg)
				}
				if len(e.Snippet) > 1000 {
					t.Errorf("snippet of %d bytes", len(e.Snippet))
				}
			}
		})
	}
}

// FuzzLoadShapes builds large structured policies from a few numbers and
// a fragment (alias bombs, deep YAML, let chains, many rules, repeated
// operators) and checks each loads and decides, or fails with positioned
// errors, within the bounds of TestHostilePolicies. Byte-level fuzzing
// (FuzzLoad) rarely reaches these sizes.
//
//	go test -run '^$' -fuzz FuzzLoadShapes -fuzztime 10m ./rules
func FuzzLoadShapes(f *testing.F) {
	f.Add(uint8(0), uint16(9), uint16(9), "x")
	f.Add(uint8(1), uint16(5000), uint16(0), "[")
	f.Add(uint8(2), uint16(40), uint16(0), "X || X")
	f.Add(uint8(2), uint16(66), uint16(0), "X && sender.connections > 1")
	f.Add(uint8(3), uint16(300), uint16(0), "sender.connections == 1")
	f.Add(uint8(4), uint16(60000), uint16(0), "!|")
	f.Add(uint8(4), uint16(60000), uint16(0), "(|)")
	f.Add(uint8(5), uint16(2000), uint16(1), "pair.mutual > 1")
	f.Add(uint8(0x85), uint16(1000), uint16(0), "pair.rejected")
	f.Add(uint8(0x82), uint16(17), uint16(0), "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!X")
	f.Fuzz(func(t *testing.T, kind uint8, a, b uint16, frag string) {
		if len(frag) > 64 {
			return
		}
		src := shapedPolicy(kind, int(a), int(b), frag)
		done := make(chan struct{})
		var p *rules.Policy
		var err error
		go func() {
			defer close(done)
			p, err = rules.Load("shape.yaml", src)
		}()
		select {
		case <-done:
		case <-time.After(hostileTimeout):
			t.Fatalf("still loading after %v: kind %d, a %d, b %d, %q", hostileTimeout, kind, a, b, frag)
		}
		if err != nil {
			var list rules.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T without positions: %v", err, err)
			}
			for _, e := range list {
				if e.Pos.Line < 1 || e.Pos.Column < 1 || len(e.Snippet) > 1000 {
					t.Fatalf("bad error position or snippet: %.300v", e)
				}
				if strings.HasPrefix(e.Msg, "internal") {
					t.Fatalf("internal error: %.300v", e)
				}
			}
			return
		}
		for _, s := range rules.Stages {
			req := &rules.Request{Stage: s, Now: at(2, 10, 0), Sender: &rules.Member{ID: "a", Kind: "person", Status: "active", Tier: "free"}, Recipient: &rules.Member{ID: "b", Kind: "person", Status: "active", Tier: "free"}}
			if d := p.Decide(req); d.Outcome == "" {
				t.Fatalf("empty decision")
			}
		}
	})
}

// shapedPolicy is a policy of one of six large shapes; a and b size it,
// and kind's high bit raises limits.max_nodes to its ceiling.
func shapedPolicy(kind uint8, a, b int, frag string) []byte {
	var s strings.Builder
	s.WriteString("version: 1\nname: shape\n")
	if kind&0x80 != 0 {
		s.WriteString("limits: {max_nodes: 10000}\n") // the ceiling
	}
	when := "pair.rejected"
	switch kind % 6 {
	case 0: // anchors: levels of anchors, each listing the previous width times
		key := "params"
		if b&1 == 1 {
			key = "test_defaults"
		}
		levels, width := a%12+1, b%16+1
		fmt.Fprintf(&s, "%s:\n  a0: &a0 [%q]\n", key, frag)
		for i := 1; i < levels; i++ {
			s.WriteString(fmt.Sprintf("  a%d: &a%d [", i, i) + strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), width), ", ") + "]\n")
		}
	case 1: // nesting: flow brackets, block mappings or block sequences
		depth := a % 20000
		switch b % 3 {
		case 0:
			s.WriteString("params:\n  deep: " + strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth) + "\n")
		case 1:
			s.WriteString("params:\n")
			for i := range min(depth, 1400) {
				fmt.Fprintf(&s, "%sk%d:\n", strings.Repeat(" ", 2+i), i)
			}
			fmt.Fprintf(&s, "%sv: 1\n", strings.Repeat(" ", 2+min(depth, 1400)))
		default:
			s.WriteString("params:\n  deep:\n" + strings.Repeat("  - ", min(depth, 100000)) + "1\n")
		}
	case 2: // let chains: each let is frag with X for the one before
		n := a % 3000
		s.WriteString("let:\n  l0: pair.rejected\n")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&s, "  l%d: %q\n", i, strings.ReplaceAll(frag, "X", fmt.Sprintf("l%d", i-1)))
		}
		when = fmt.Sprintf("l%d", n)
	case 3: // many rules with frag as the condition
		s.WriteString("stages:\n  invite:\n    rules:\n")
		for i := range a % 3000 {
			fmt.Fprintf(&s, "      - {id: r%d, when: %q, outcome: deny}\n", i, frag)
		}
		return []byte(s.String())
	case 4: // repetition: frag is prefix|suffix, wrapped a times around a condition
		pre, suf, _ := strings.Cut(frag, "|")
		when = strings.Repeat(pre, a) + when + strings.Repeat(suf, a)
	case 5: // a long chain of frag joined by an operator
		ops := []string{" || ", " && ", " + ", " ?? ", " ** "}
		when = strings.Repeat("("+frag+")"+ops[b%len(ops)], a) + "true"
	}
	fmt.Fprintf(&s, "stages:\n  invite:\n    rules:\n      - id: r\n        when: %q\n        outcome: deny\n", when)
	return []byte(s.String())
}

// TestLongStageFirstMatch: a stage of many rules, whose first-match
// program nests in halves, decides the first rule that holds, as walking
// the rules one by one does.
func TestLongStageFirstMatch(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nstages:\n  invite:\n    rules:\n")
	const n = 300
	for i := range n {
		// Rule i holds from i connections on, so the first that holds is
		// the one numbered by the connections, and every later one holds too.
		fmt.Fprintf(&b, "      - {id: r%d, when: 'sender.connections >= %d && sender.connections < %d', outcome: deny}\n", i, n-i-1, n+5)
	}
	p, err := rules.Load("long.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []int{0, 1, 7, 8, 9, 150, 298, 299, n + 5} {
		req := &rules.Request{Stage: rules.StageInvite, Now: at(2, 10, 0), Sender: &rules.Member{ID: "a", Kind: "person", Status: "active", Tier: "free", Connections: c}, Recipient: &rules.Member{ID: "b", Kind: "person", Status: "active", Tier: "free"}}
		want := fmt.Sprintf("r%d", n-1-min(c, n-1))
		if c >= n+5 {
			want = ""
		}
		if d := p.Decide(req); d.Rule != want {
			t.Errorf("%d connections: rule %q, want %q", c, d.Rule, want)
		}
		if d := p.Explain(req); d.Rule != want {
			t.Errorf("%d connections, explained: rule %q, want %q", c, d.Rule, want)
		}
	}
}

// TestReadFile reads a policy within the limit whole, and refuses one
// just over it, which a reader without the check would have loaded.
func TestReadFile(t *testing.T) {
	want, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rules.ReadFile("../policies.yaml"); err != nil || !bytes.Equal(got, want) {
		t.Errorf("ReadFile(policies.yaml) = %d bytes, %v", len(got), err)
	}
	path := filepath.Join(t.TempDir(), "over.yaml")
	if err := os.WriteFile(path, append(bytes.Repeat([]byte("#"), rules.MaxPolicyBytes), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	var list rules.ErrorList
	if _, err := rules.ReadFile(path); !errors.As(err, &list) || !strings.Contains(list[0].Msg, "the limit is 1048576") {
		t.Errorf("ReadFile(1 MiB + 1) = %v, want the size error", err)
	}
}
