package stores_test

import (
	"context"
	"strings"
	"testing"

	"github.com/connrules/connrules/rules/lifecycle/stores"
)

func TestOpenErrors(t *testing.T) {
	for _, c := range []struct{ url, want string }{
		{"redis://localhost", `store "redis://localhost": want memory:, sqlite:PATH or postgres://...`},
		{"state.db", `store "state.db": want`},
		{"sqlite:", "sqlite: empty path"},
		{"sqlite:/nonexistent/dir/state.db", "sqlite: cannot open /nonexistent/dir/state.db"},
		{"postgres://u:secret@127.0.0.1:1/db?connect_timeout=2", "postgres: cannot connect to 127.0.0.1:1/db"},
		{"mysql://u:secret@host/db", `store "mysql://u:***@host/db"`},
	} {
		st, err := stores.Open(context.Background(), c.url)
		if err == nil {
			st.Close()
			t.Errorf("Open(%q) succeeded", c.url)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q) = %v; want it to contain %q and no password", c.url, err, c.want)
		}
	}
}

func TestOpenMemory(t *testing.T) {
	st, err := stores.Open(context.Background(), "memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if evs, err := st.ReadEvents(context.Background()); err != nil || len(evs) != 0 {
		t.Fatalf("a new memory store has events: %v, %v", evs, err)
	}
}
