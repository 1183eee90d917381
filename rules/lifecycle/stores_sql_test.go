//go:build sqlstores

package lifecycle_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/connrules/connrules/internal/pgtest"
	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/postgres"
	"github.com/connrules/connrules/rules/lifecycle/sqlite"
)

func init() {
	sqlStores["sqlite"] = func(t testing.TB) lifecycle.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	sqlStores["postgres"] = func(t testing.TB) lifecycle.Store {
		s, err := postgres.Open(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}
