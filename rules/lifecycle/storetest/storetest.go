// Package storetest is the conformance suite every [lifecycle.Store]
// runs: each method and its errors, the event log's order, and the
// concurrency promises (exact quotas and caps under 32 concurrent
// callers). A store's test calls [Run] with a constructor of empty stores.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// Open returns a new, empty store for one test. It registers its own
// cleanup with t.Cleanup.
type Open func(t testing.TB) lifecycle.Store

// Run runs the whole suite on stores from open.
func Run(t *testing.T, open Open) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Open)
	}{
		{"Members", testMembers},
		{"Graph", testGraph},
		{"ContactsBlocksPairs", testContactsBlocksPairs},
		{"Invitations", testInvitations},
		{"Reserve", testReserve},
		{"Accept", testAccept},
		{"CountOverLimit", testCountOverLimit},
		{"Snapshot", testSnapshot},
		{"CloseInvitation", testCloseInvitation},
		{"SenderWithdrew", testSenderWithdrew},
		{"Hidden", testHidden},
		{"SentBy", testSentBy},
		{"MemberVersions", testMemberVersions},
		{"StaleWindows", testStaleWindows},
		{"AcceptBumpsSeq", testAcceptBumpsSeq},
		{"Events", testEvents},
		{"LifecycleEventLog", testLifecycleEventLog},
		{"ConcurrentInvitesAdmitExactlyTheLimit", testConcurrentLimit},
		{"ConcurrentInvitesToABusyRecipient", testBusyRecipient},
		{"ConcurrentAcceptsAtTheRecipientCap", testRecipientCap},
		{"ConcurrentAcceptsAtTheSenderCap", testSenderCap},
		{"ConcurrentAcceptsOfOneInvitation", testAcceptOnce},
		{"ConcurrentReadsAndWrites", testReadsAndWrites},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open) })
	}
}

// LA is the policies' time zone.
var LA = mustLoc("America/Los_Angeles")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// Monday is Monday 2 March 2026, 10:00 Pacific.
var Monday = time.Date(2026, 3, 2, 10, 0, 0, 0, LA)

// Root is the module's root directory, found from the working directory.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := root()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("storetest: no go.mod above the working directory")
		}
		dir = up
	}
}

// loadPolicy loads the shipped policies.yaml as it is.
func loadPolicy() (*rules.Policy, error) {
	dir, err := root()
	if err != nil {
		return nil, err
	}
	src, err := os.ReadFile(filepath.Join(dir, "policies.yaml"))
	if err != nil {
		return nil, err
	}
	return rules.Load("policies.yaml", src)
}

// Policy loads the shipped policies.yaml with textual replacements, each
// old=>new, applied once.
func Policy(t testing.TB, replace ...string) *rules.Policy {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(Root(t), "policies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(s, replace[i]) {
			t.Fatalf("policies.yaml no longer contains %q", replace[i])
		}
		s = strings.Replace(s, replace[i], replace[i+1], 1)
	}
	p, err := rules.Load("policies.yaml", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantNotFound(t testing.TB, what string, err error) {
	t.Helper()
	if !errors.Is(err, lifecycle.ErrNotFound) {
		t.Fatalf("%s: err = %v, want ErrNotFound", what, err)
	}
}

func windows(t time.Time) lifecycle.Windows {
	return lifecycle.WindowsAt(rules.DefaultCalendar(), t)
}

// put stores members with an email each.
func put(t testing.TB, ctx context.Context, s lifecycle.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		must(t, s.PutMember(ctx, lifecycle.Member{ID: id, Kind: "person", Tier: "free", Status: "active",
			Email: strings.ToUpper(id[:1]) + id[1:] + "@Example.com", AcceptanceRate: 0.5}))
	}
}

// reserve stores a pending invitation from a to b in the windows of at.
func reserve(t testing.TB, ctx context.Context, s lifecycle.Store, from, to string, at time.Time) lifecycle.Invitation {
	t.Helper()
	u, err := s.Usage(ctx, from, windows(at))
	must(t, err)
	ru, err := s.Usage(ctx, to, windows(at))
	must(t, err)
	inv, ok, err := s.Reserve(ctx, lifecycle.Reservation{Seq: u.Seq, Windows: windows(at), Received: true, RecipientSeq: ru.RecvSeq,
		Invitation: lifecycle.Invitation{From: from, To: to, Note: "hi", SentAt: at, Status: lifecycle.StatusPending}})
	must(t, err)
	if !ok {
		t.Fatalf("reserve %s -> %s did not apply", from, to)
	}
	return inv
}

// answer records an answer to a new invitation from id, the way the
// lifecycle does: an acceptance through AcceptInvitation, anything else
// through CloseInvitation. The invitation goes to a new member, in a week
// before Monday's, so Monday's counters stay as they were.
func answer(t testing.TB, ctx context.Context, s lifecycle.Store, id string, accepted bool) {
	t.Helper()
	to := fmt.Sprintf("answerer%d", answerers.Add(1))
	put(t, ctx, s, to)
	inv := reserve(t, ctx, s, id, to, Monday.AddDate(0, 0, -8))
	if !accepted {
		_, ok, err := s.CloseInvitation(ctx, lifecycle.Closing{ID: inv.ID, From: lifecycle.StatusPending,
			Status: lifecycle.StatusRejected, At: inv.SentAt, Reject: true, Answered: true})
		must(t, err)
		if !ok {
			t.Fatalf("closing %s did not apply", inv.ID)
		}
		return
	}
	sc, err := s.ConnectionCount(ctx, id)
	must(t, err)
	rc, err := s.ConnectionCount(ctx, to)
	must(t, err)
	inv.Status, inv.ClosedAt = lifecycle.StatusAccepted, inv.SentAt
	ok, err := s.AcceptInvitation(ctx, lifecycle.Acceptance{Invitation: inv, SenderConnections: sc, RecipientConnections: rc})
	must(t, err)
	if !ok {
		t.Fatalf("accepting %s did not apply", inv.ID)
	}
}

// answerers numbers answer's recipients.
var answerers atomic.Int64

func fmtInv(inv lifecycle.Invitation) string {
	return fmt.Sprintf("%s %s->%s %s/%s sent %s closed %s", inv.ID, inv.From, inv.To, inv.Status, inv.Delivery,
		inv.SentAt.UTC().Format(time.RFC3339Nano), inv.ClosedAt.UTC().Format(time.RFC3339Nano))
}
