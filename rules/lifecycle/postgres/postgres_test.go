package postgres_test

import (
	"context"
	"testing"

	"github.com/connrules/connrules/internal/pgtest"
	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/postgres"
	"github.com/connrules/connrules/rules/lifecycle/storetest"
)

// open returns a store on a new schema of the test database.
func open(t testing.TB) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB) lifecycle.Store { return open(t) })
}
