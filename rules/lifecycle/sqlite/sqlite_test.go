package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/sqlite"
	"github.com/connrules/connrules/rules/lifecycle/storetest"
)

// open returns a store on a new file in the test's temporary directory.
func open(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB) lifecycle.Store { return open(t) })
}
