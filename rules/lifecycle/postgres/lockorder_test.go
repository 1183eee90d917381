package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/connrules/connrules/internal/pgtest"
	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/postgres"
	"github.com/jackc/pgx/v5"
)

// TestSetBlockLocksInIDOrder: SetBlock takes its two members' rows in id
// order, like Reserve and AcceptInvitation, so that it cannot deadlock
// with them. While another transaction holds amy's row, a block between
// zed and amy must wait for amy without holding zed, although zed is
// stored first.
func TestSetBlockLocksInIDOrder(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"zed", "amy"} {
		if err := s.PutMember(ctx, lifecycle.Member{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	conn := func() *pgx.Conn {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(ctx) })
		return c
	}
	holder, probe := conn(), conn()
	hold, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx)
	if _, err := hold.Exec(ctx, `SELECT 1 FROM members WHERE id = 'amy' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	var holderPID int
	if err := hold.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&holderPID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.SetBlock(ctx, "zed", "amy", true) }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var waiting int
		if err := probe.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, holderPID).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("SetBlock never waited for amy's row")
		}
	}
	tx, err := probe.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, lockErr := tx.Exec(ctx, `SELECT 1 FROM members WHERE id = 'zed' FOR UPDATE NOWAIT`)
	_ = tx.Rollback(ctx)
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if lockErr != nil {
		t.Fatalf("SetBlock held zed while it waited for amy: %v", lockErr)
	}
	if b, err := s.Blocked(ctx, "amy", "zed"); err != nil || !b {
		t.Fatalf("Blocked = %v, %v", b, err)
	}
}
