package lifecycle_test

import (
	"context"
	"errors"
	"testing"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// failingStore is a MemStore whose Reserve, or whose Snapshot, fails.
type failingStore struct {
	*lifecycle.MemStore
	reserve, snapshot error
}

func (s *failingStore) Reserve(ctx context.Context, r lifecycle.Reservation) (lifecycle.Invitation, bool, error) {
	if s.reserve != nil {
		return lifecycle.Invitation{}, false, s.reserve
	}
	return s.MemStore.Reserve(ctx, r)
}

func (s *failingStore) Snapshot(ctx context.Context, q lifecycle.SnapshotQuery) (lifecycle.Snapshot, error) {
	if s.snapshot != nil {
		return lifecycle.Snapshot{}, s.snapshot
	}
	return s.MemStore.Snapshot(ctx, q)
}

// abcNetwork is a Network over st where a invites b, a friend of a
// friend (through c).
func abcNetwork(t *testing.T, st lifecycle.Store) (*lifecycle.Network, context.Context) {
	t.Helper()
	n, err := lifecycle.New(lifecycle.Config{Policy: policy(t), Store: st, Clock: lifecycle.NewManualClock(monday)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		if err := n.AddMember(ctx, lifecycle.Member{ID: id, Email: id + "@example.com", AcceptanceRate: 0.5}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range [][2]string{{"a", "c"}, {"c", "b"}} {
		if err := n.Connect(ctx, p[0], p[1]); err != nil {
			t.Fatal(err)
		}
	}
	return n, ctx
}

// TestStoreErrorFailsClosed: when the store fails before the invitation
// is stored, Invite's result holds a closed decision, not the engine's
// allow, and shows the sender nothing sent.
func TestStoreErrorFailsClosed(t *testing.T) {
	boom := errors.New("disk I/O error")
	for _, c := range []struct {
		name string
		st   *failingStore
	}{
		{"none", &failingStore{MemStore: lifecycle.NewMemStore()}},
		{"reserve", &failingStore{MemStore: lifecycle.NewMemStore(), reserve: boom}},
		{"snapshot", &failingStore{MemStore: lifecycle.NewMemStore(), snapshot: boom}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, ctx := abcNetwork(t, c.st)
			in := lifecycle.InviteInput{From: "a", To: "b", Note: "Hello from the tests"}
			if c.st.reserve == nil && c.st.snapshot == nil {
				res, err := n.Invite(ctx, in)
				if err != nil || res.Invite.Outcome != "allow" || res.Invitation.ID == "" {
					t.Fatalf("without a failure: %+v, %v", res.Invite, err)
				}
				return
			}
			res, err := n.Invite(ctx, in)
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want %v", err, boom)
			}
			if res.Invite.Outcome != "deny" || res.Invite.Reason != rules.ReasonServiceUnavailable ||
				res.Public.Outcome == "allow" || res.Invitation.ID != "" || res.Sent.ID != "" || res.Deliver != nil {
				t.Fatalf("res = %+v", res)
			}
			if got, _ := c.st.MemStore.SentBy(ctx, "a"); len(got) != 0 {
				t.Fatalf("stored %v", got)
			}
		})
	}
}

// lateFailingStore is a MemStore whose Append or UpdateInvitation fails
// once armed: after Reserve stored an invitation, when the invite is
// logged or delivered.
type lateFailingStore struct {
	*lifecycle.MemStore
	armed          bool
	append, update error
}

func (s *lateFailingStore) Append(ctx context.Context, e *lifecycle.Event) error {
	if s.armed && s.append != nil {
		return s.append
	}
	return s.MemStore.Append(ctx, e)
}

func (s *lateFailingStore) UpdateInvitation(ctx context.Context, inv lifecycle.Invitation, from string) (bool, error) {
	if s.armed && s.update != nil {
		return false, s.update
	}
	return s.MemStore.UpdateInvitation(ctx, inv, from)
}

// TestLateFailureKeepsTheSendersView: when logging or delivery fails
// after Reserve stored the invitation, Invite returns the error, but the
// invitation exists, so the result shows the sender its view of it.
func TestLateFailureKeepsTheSendersView(t *testing.T) {
	boom := errors.New("disk I/O error")
	for _, c := range []struct {
		name string
		st   *lateFailingStore
	}{
		{"log", &lateFailingStore{MemStore: lifecycle.NewMemStore(), append: boom}},
		{"deliver", &lateFailingStore{MemStore: lifecycle.NewMemStore(), update: boom}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, ctx := abcNetwork(t, c.st)
			c.st.armed = true
			res, err := n.Invite(ctx, lifecycle.InviteInput{From: "a", To: "b", Note: "Hello from the tests"})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want %v", err, boom)
			}
			stored, _ := c.st.MemStore.SentBy(ctx, "a")
			if len(stored) != 1 || res.Invitation.ID != stored[0].ID {
				t.Fatalf("stored %v, result's invitation %q", stored, res.Invitation.ID)
			}
			if res.Invite.Outcome != "allow" || res.Sent.ID != stored[0].ID || res.Sent.Status != lifecycle.StatusPending {
				t.Fatalf("sender's view %+v of stored %+v (invite %s/%s)", res.Sent, stored[0], res.Invite.Outcome, res.Invite.Reason)
			}
		})
	}
}
