package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/internal/sqlstore"
	"github.com/connrules/connrules/rules/lifecycle/sqlite"
	"github.com/connrules/connrules/rules/lifecycle/storetest"
	_ "modernc.org/sqlite"
)

func openURL(ctx context.Context, path string) (lifecycle.Store, error) {
	return sqlite.Open(ctx, path)
}

func TestOpenErrors(t *testing.T) {
	for _, path := range []string{"", "/nonexistent/dir/state.db", "state.db?mode=%zz"} {
		if _, err := sqlite.Open(context.Background(), path); err == nil {
			t.Errorf("Open(%q) succeeded", path)
		} else if !strings.Contains(err.Error(), "sqlite") {
			t.Errorf("Open(%q): %v does not say which store", path, err)
		}
	}
}

// TestFailMidTransaction: an I/O error inside the reserve's transaction
// rolls it back; nothing is acknowledged and no counter moves.
func TestFailMidTransaction(t *testing.T) {
	s := open(t)
	storetest.FailureLosesNothing(t, s, func(on bool) {
		s.FailBeforeCommit = nil
		if on {
			s.FailBeforeCommit = func(context.Context, sqlstore.Q) error { return errors.New("disk I/O error (injected)") }
		}
	}, "disk I/O error")
}

// setup stores a hub (alice, carol, r1..rn) through a read-write store.
func setup(t *testing.T, path string, n int) {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"alice", "carol"} {
		if err := s.PutMember(ctx, lifecycle.Member{ID: id, Tier: "premium", Email: id + "@example.com", AcceptanceRate: 0.5}); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Connect(ctx, "alice", "carol")
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("r%d", i)
		_ = s.PutMember(ctx, lifecycle.Member{ID: id, Email: id + "@example.com", AcceptanceRate: 0.5})
		_ = s.Connect(ctx, "carol", id)
	}
}

func network(t *testing.T, s lifecycle.Store) *lifecycle.Network {
	n, err := lifecycle.New(lifecycle.Config{Policy: storetest.Policy(t), Store: s, Clock: lifecycle.NewManualClock(storetest.Monday)})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReadOnly: on a read-only database an invitation fails with a clear
// error and is not acknowledged.
func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	setup(t, path, 1)
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := network(t, s).Invite(ctx, lifecycle.InviteInput{From: "alice", To: "r1"})
	if err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Fatalf("invite on a read-only store: %v", err)
	}
	if res.Invitation.ID != "" || res.Public.Outcome == "allow" {
		t.Fatalf("acknowledged: %+v", res)
	}
	if u, _ := s.Usage(ctx, "alice", lifecycle.WindowsAt(rules.DefaultCalendar(), storetest.Monday)); u.Sent.Day != 0 {
		t.Fatalf("counters moved: %+v", u.Sent)
	}
}

// TestDiskFull: once the database cannot grow, invitations fail with a
// clear error, and the counters still equal the invitations stored.
func TestDiskFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	setup(t, path, 400)
	ctx := context.Background()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := db.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := sqlite.Open(ctx, fmt.Sprintf("%s?_pragma=max_page_count(%d)", path, pages+2))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := network(t, s)
	acked := 0
	var last error
	for i := 1; i <= 400 && last == nil; i++ {
		res, err := n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: fmt.Sprintf("r%d", i)})
		if err != nil {
			last = err
			break
		}
		if res.Invitation.ID != "" {
			acked++
		}
	}
	if last == nil || !strings.Contains(last.Error(), "full") {
		t.Fatalf("after %d invitations: err = %v, want the database full", acked, last)
	}
	stored, err := s.SentBy(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := s.Usage(ctx, "alice", lifecycle.WindowsAt(rules.DefaultCalendar(), storetest.Monday))
	if u.Sent.Day != len(stored) || len(stored) < acked {
		t.Fatalf("%d acknowledged, %d stored, counters %+v", acked, len(stored), u.Sent)
	}
}

// TestSchemaFromTheFuture: a database written by a newer connrules does
// not open, and opening it changes nothing.
func TestSchemaFromTheFuture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	query := func(q string) string {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var a, c string
			if err := rows.Scan(&a, &c); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, a, c)
		}
		return b.String()
	}
	storetest.SchemaFromTheFuture(t, path, openURL,
		func() {
			query("INSERT INTO connrules_schema (version, name) VALUES (99, 'future') RETURNING version, name")
		},
		func() string {
			return query("SELECT type, name FROM sqlite_master ORDER BY name") +
				query("SELECT version, name FROM connrules_schema ORDER BY version") +
				query("SELECT id, doc FROM members ORDER BY id")
		})
}
