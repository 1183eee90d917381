package storetest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// OpenURL opens a store by URL, in a child process as in the parent.
type OpenURL func(ctx context.Context, url string) (lifecycle.Store, error)

// Child environment: which role a re-executed test binary plays and on
// which store.
const (
	envChild = "CONNRULES_STORETEST_CHILD"
	envURL   = "CONNRULES_STORETEST_URL"
)

// IsChild reports whether this test binary was started by Crash or
// TwoProcesses to play a child: the calling test must then only call them.
func IsChild() bool { return os.Getenv(envChild) != "" }

// child re-executes the test binary to run only the named test, as a
// child with the given role.
func child(t *testing.T, role, url string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+strings.Split(t.Name(), "/")[0]+"$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), envChild+"="+role, envURL+"="+url)
	cmd.Stderr = os.Stderr
	return cmd
}

func closeStore(s lifecycle.Store) {
	if c, ok := s.(interface{ Close() error }); ok {
		c.Close()
	}
}

// crashSenders and crashRecipients are the members of the crash test.
const crashSenders, crashRecipients = 8, 64

// allowAll decides allow and inbox without evaluating anything: the crash
// test is about the store, not the policy.
var allowAll = lifecycle.DeciderFunc(func(_ context.Context, req *rules.Request) (rules.Decision, error) {
	if req.Stage == rules.StageDeliver {
		return rules.Decision{Outcome: "inbox", Reason: "delivered"}, nil
	}
	return rules.Decision{Outcome: "allow", Reason: "sent"}, nil
})

// Crash checks that nothing acknowledged is lost: reps times, on a new
// store from newURL, a child process invites in a loop and prints each
// acknowledged invitation; it is killed with SIGKILL at a random moment,
// and the store, reopened, must hold every acknowledged invitation, and
// each member's counters must equal the invitations stored in their
// windows. The test calling Crash must call it first thing: in the child
// it runs the loop and never returns.
func Crash(t *testing.T, reps int, newURL func(t *testing.T) string, open OpenURL) {
	if os.Getenv(envChild) == "crash" {
		crashChild(open)
	}
	for rep := range reps {
		url := newURL(t)
		ctx := context.Background()
		st, err := open(ctx, url)
		must(t, err)
		for i := range crashSenders {
			put(t, ctx, st, fmt.Sprintf("s%d", i))
		}
		for i := range crashRecipients {
			put(t, ctx, st, fmt.Sprintf("r%d", i))
		}
		closeStore(st)

		cmd := child(t, "crash", url)
		out, err := cmd.StdoutPipe()
		must(t, err)
		must(t, cmd.Start())
		acked := map[string]string{}
		first := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			sc := bufio.NewScanner(out)
			once := sync.Once{}
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) == 3 && f[0] == "ACK" {
					acked[f[1]] = f[2]
					once.Do(func() { close(first) })
				}
			}
		}()
		select {
		case <-first:
		case <-done:
			t.Fatalf("rep %d: the child acknowledged nothing", rep)
		case <-time.After(60 * time.Second):
			t.Fatalf("rep %d: no acknowledgement within a minute", rep)
		}
		time.Sleep(time.Duration(rand.IntN(150)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		_ = cmd.Wait()

		st, err = open(ctx, url)
		must(t, err)
		checkCrash(t, ctx, st, rep, acked)
		closeStore(st)
	}
}

// crashStart is the child's clock at its first invitation; each one moves
// it a millisecond, so all of them stay in one hour.
var crashStart = Monday

func crashChild(open OpenURL) {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
	st, err := open(ctx, os.Getenv(envURL))
	if err != nil {
		fail(err)
	}
	clock := lifecycle.NewManualClock(crashStart)
	p, err := loadPolicy()
	if err != nil {
		fail(err)
	}
	n, err := lifecycle.New(lifecycle.Config{Policy: p, Store: st, Clock: clock, Decider: allowAll})
	if err != nil {
		fail(err)
	}
	for i := 0; ; i++ {
		clock.Advance(time.Millisecond)
		res, err := n.Invite(ctx, lifecycle.InviteInput{From: fmt.Sprintf("s%d", i%crashSenders), To: fmt.Sprintf("r%d", (i/crashSenders)%crashRecipients), Note: "hi"})
		if err != nil {
			fail(err)
		}
		// Unbuffered: the line is out before the next invitation starts.
		if _, err := io.WriteString(os.Stdout, "ACK "+res.Invitation.ID+" "+res.Invitation.From+"\n"); err != nil {
			fail(err)
		}
	}
}

func checkCrash(t *testing.T, ctx context.Context, st lifecycle.Store, rep int, acked map[string]string) {
	t.Helper()
	for id, from := range acked {
		inv, err := st.Invitation(ctx, id)
		if err != nil || inv.From != from {
			t.Fatalf("rep %d: acknowledged invitation %s from %s: %+v, %v", rep, id, from, inv, err)
		}
	}
	// A database server may still commit the killed child's last
	// transaction, whose COMMIT it had received, while the reads below
	// run: they are separate statements, so one may see it and the next
	// not. That passes in a moment; a counter without its invitation stays.
	var stored int
	var problem string
	for reads, deadline := 1, time.Now().Add(5*time.Second); ; reads++ {
		stored, problem = crashCounts(t, ctx, st)
		if problem != "" && reads == 1 {
			t.Logf("rep %d: %s; reading again", rep, problem)
		}
		if problem == "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if problem != "" {
		t.Fatalf("rep %d: %s", rep, problem)
	}
	if stored < len(acked) {
		t.Fatalf("rep %d: %d invitations stored, %d acknowledged", rep, stored, len(acked))
	}
	t.Logf("rep %d: %d acknowledged, %d stored", rep, len(acked), stored)
}

// crashCounts counts the invitations stored and compares every member's
// counters with them; problem is "" when they agree.
func crashCounts(t *testing.T, ctx context.Context, st lifecycle.Store) (stored int, problem string) {
	w := windows(crashStart.Add(59 * time.Minute))
	received := map[string]int{}
	for i := range crashSenders {
		id := fmt.Sprintf("s%d", i)
		invs, err := st.SentBy(ctx, id)
		must(t, err)
		stored += len(invs)
		for _, inv := range invs {
			received[inv.To]++
		}
		u, err := st.Usage(ctx, id, w)
		must(t, err)
		if n := len(invs); u.Sent != (rules.Counts{Hour: n, Day: n, Week: n, Month: n}) {
			return stored, fmt.Sprintf("%s has %d invitations stored but counters %+v", id, n, u.Sent)
		}
	}
	for i := range crashRecipients {
		id := fmt.Sprintf("r%d", i)
		u, err := st.Usage(ctx, id, w)
		must(t, err)
		if n := received[id]; u.Received != (rules.Counts{Hour: n, Day: n, Week: n, Month: n}) {
			return stored, fmt.Sprintf("%s received %d invitations stored but counters %+v", id, n, u.Received)
		}
	}
	return stored, ""
}
