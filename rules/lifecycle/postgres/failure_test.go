package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/connrules/connrules/internal/pgtest"
	"github.com/connrules/connrules/rules/lifecycle/internal/sqlstore"
	"github.com/connrules/connrules/rules/lifecycle/postgres"
	"github.com/connrules/connrules/rules/lifecycle/storetest"
	"github.com/jackc/pgx/v5"
)

func TestOpenErrors(t *testing.T) {
	for _, url := range []string{"postgres://127.0.0.1:1/nothing?connect_timeout=2", "postgres://%zz"} {
		if _, err := postgres.Open(context.Background(), url); err == nil {
			t.Errorf("Open(%q) succeeded", url)
		} else if !strings.HasPrefix(err.Error(), "postgres: ") {
			t.Errorf("Open(%q): %v does not say which store", url, err)
		}
	}
}

// TestConnectionDroppedMidTransaction: the server ends the connection in
// the middle of the reserve's transaction; nothing is acknowledged, no
// counter moves, and the next invitation works on a new connection.
func TestConnectionDroppedMidTransaction(t *testing.T) {
	s := open(t)
	storetest.FailureLosesNothing(t, s, func(on bool) {
		s.FailBeforeCommit = nil
		if on {
			s.FailBeforeCommit = func(ctx context.Context, q sqlstore.Q) error {
				_, err := q.Exec(ctx, `SELECT pg_terminate_backend(pg_backend_pid())`)
				return err
			}
		}
	}, "terminating connection")
}

// TestSchemaFromTheFuture: a database written by a newer connrules does
// not open, and opening it changes nothing.
func TestSchemaFromTheFuture(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	query := func(q string) string {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		rows, err := c.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		return b.String()
	}
	storetest.SchemaFromTheFuture(t, url, openURL,
		func() { query("INSERT INTO connrules_schema (version, name) VALUES (99, 'future')") },
		func() string {
			return query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1") +
				query("SELECT version, name FROM connrules_schema ORDER BY version") +
				query("SELECT id, doc FROM members ORDER BY id")
		})
}
