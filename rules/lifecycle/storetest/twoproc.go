package storetest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/connrules/connrules/rules/lifecycle"
)

// TwoProcesses checks the daily limit across processes: two child
// processes sharing the store at url each invite from one free sender
// with 32 goroutines at once; together they admit exactly the limit of 30.
// The test calling TwoProcesses must call it first thing: in a child it
// runs the invitations and never returns.
func TwoProcesses(t *testing.T, url string, open OpenURL) {
	const perChild = 32
	if os.Getenv(envChild) == "limit" {
		limitChild(open, perChild)
	}
	ctx := context.Background()
	st, err := open(ctx, url)
	must(t, err)
	defer closeStore(st)
	f := newFixture(t, st, Policy(t), "")
	f.hub("free", 2*perChild)

	var cmds []*exec_
	for i := range 2 {
		c := child(t, "limit", url)
		c.Env = append(c.Env, "CONNRULES_STORETEST_FIRST="+strconv.Itoa(1+i*perChild))
		in, err := c.StdinPipe()
		must(t, err)
		out, err := c.StdoutPipe()
		must(t, err)
		must(t, c.Start())
		cmds = append(cmds, &exec_{c, in, bufio.NewScanner(out)})
	}
	// Both ready before either starts.
	for _, c := range cmds {
		if !c.expect("READY") {
			t.Fatal("a child did not get ready")
		}
	}
	for _, c := range cmds {
		fmt.Fprintln(c.in, "GO")
	}
	total := 0
	for _, c := range cmds {
		line, ok := c.line("ALLOWED ")
		if !ok {
			t.Fatal("a child did not report")
		}
		n, _ := strconv.Atoi(line)
		total += n
		_ = c.cmd.Wait()
	}
	if total != 30 {
		t.Fatalf("two processes admitted %d invitations, want exactly the daily limit of 30", total)
	}
	if m := f.meter("alice"); m.Day.Used != 30 {
		t.Fatalf("meter day used = %d, want 30", m.Day.Used)
	}
}

func limitChild(open OpenURL, n int) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "limit child:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	st, err := open(ctx, os.Getenv(envURL))
	if err != nil {
		fail(err)
	}
	p, err := loadPolicy()
	if err != nil {
		fail(err)
	}
	nw, err := lifecycle.New(lifecycle.Config{Policy: p, Store: st, Clock: lifecycle.NewManualClock(Monday)})
	if err != nil {
		fail(err)
	}
	first, _ := strconv.Atoi(os.Getenv("CONNRULES_STORETEST_FIRST"))
	fmt.Println("READY")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fail(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := nw.Invite(ctx, lifecycle.InviteInput{From: "alice", To: fmt.Sprintf("r%d", first+i), Note: "hi"})
			if err != nil {
				fail(err)
			}
			if res.Invite.Outcome == "allow" {
				mu.Lock()
				allowed++
				mu.Unlock()
			} else if res.Invite.Reason != "daily_limit" {
				fail(fmt.Errorf("unexpected decision %+v", res.Invite))
			}
		}()
	}
	wg.Wait()
	fmt.Printf("ALLOWED %d\n", allowed)
	os.Exit(0)
}

// exec_ is a child process with its stdin and stdout.
type exec_ struct {
	cmd interface{ Wait() error }
	in  interface {
		Write([]byte) (int, error)
	}
	out *bufio.Scanner
}

func (c *exec_) line(prefix string) (string, bool) {
	for c.out.Scan() {
		if s, ok := strings.CutPrefix(c.out.Text(), prefix); ok {
			return s, true
		}
	}
	return "", false
}

func (c *exec_) expect(s string) bool {
	_, ok := c.line(s)
	return ok
}
