package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/connrules/connrules/rules/lifecycle"
)

// FailureLosesNothing checks a store's behaviour when its database fails
// in the middle of an invitation's atomic step: fail(true) arms the
// failure and fail(false) disarms it. The failed invitation must return an
// error containing want, be neither stored nor acknowledged, and move no
// counter; the next invitation must work. It checks an allowed invitation,
// which counts for both members, and a shadowed one, which counts for the
// sender only.
func FailureLosesNothing(t *testing.T, st lifecycle.Store, fail func(on bool), want string) {
	f := newFixture(t, st, Policy(t), "")
	f.hub("free", 3)
	f.member(lifecycle.Member{ID: "sam", Status: "soft_banned"})
	f.connect("sam", "carol")
	f.invite("alice", "r1")
	for _, c := range []struct{ from, to, outcome, after string }{
		{"alice", "r2", "allow", "alice sent {Hour:2 Day:2 Week:2 Month:2}"},
		{"sam", "r3", "shadow", "sam sent {Hour:1 Day:1 Week:1 Month:1}"},
	} {
		before := usages(t, f, c.from, c.to)
		fail(true)
		res, err := f.n.Invite(f.ctx, lifecycle.InviteInput{From: c.from, To: c.to, Note: "hi"})
		fail(false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s invitation during the failure: err = %v, want one containing %q", c.outcome, err, want)
		}
		if res.Invitation.ID != "" || res.Public.Outcome == "allow" {
			t.Fatalf("a failed %s invitation was acknowledged: %+v", c.outcome, res)
		}
		if pend, err := st.Pending(f.ctx, c.from, c.to); err != nil || len(pend) != 0 {
			t.Fatalf("pending after the failure: %v, %v", pend, err)
		}
		if after := usages(t, f, c.from, c.to); after != before {
			t.Fatalf("counters moved without their invitation:\n%s\nwas\n%s", after, before)
		}
		if res := f.invite(c.from, c.to); res.Invitation.ID == "" || res.Invite.Outcome != c.outcome {
			t.Fatalf("the next invitation: %+v", res)
		}
		if u := usages(t, f, c.from, c.to); !strings.Contains(u, c.after) {
			t.Fatalf("after the next invitation: %s", u)
		}
	}
}

func usages(t *testing.T, f *fixture, ids ...string) string {
	var b strings.Builder
	for _, id := range ids {
		u, err := f.store.Usage(f.ctx, id, windows(f.clock.Now()))
		must(t, err)
		fmt.Fprintf(&b, "%s sent %+v received %+v seq %d/%d\n", id, u.Sent, u.Received, u.Seq, u.RecvSeq)
	}
	return b.String()
}

// SchemaFromTheFuture checks that opening a database whose schema version
// is newer than the build's fails with a clear error and changes nothing.
// bump moves the stored version past the build's; dump describes the
// database (tables and schema rows) for the before/after comparison.
func SchemaFromTheFuture(t *testing.T, url string, open OpenURL, bump func(), dump func() string) {
	ctx := context.Background()
	st, err := open(ctx, url)
	must(t, err)
	put(t, ctx, st, "alice")
	closeStore(st)
	bump()
	before := dump()
	st, err = open(ctx, url)
	if err == nil {
		closeStore(st)
		t.Fatal("a database from a newer version opened")
	}
	if !strings.Contains(err.Error(), "newer than this connrules") || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("error %q does not say the schema is newer", err)
	}
	if after := dump(); after != before {
		t.Fatalf("opening changed the database:\n%s\nwas\n%s", after, before)
	}
}
