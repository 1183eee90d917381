package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/sqlite"
	"github.com/connrules/connrules/rules/lifecycle/storetest"
)

// TestCrash: 20 times, a child process invites in a loop and is killed
// with SIGKILL; every acknowledged invitation must be in the file, and the
// counters must equal the invitations stored.
func TestCrash(t *testing.T) {
	dir := t.TempDir()
	n := 0
	storetest.Crash(t, 20, func(*testing.T) string {
		n++
		return filepath.Join(dir, fmt.Sprintf("crash%d.db", n))
	}, func(ctx context.Context, path string) (lifecycle.Store, error) {
		return sqlite.Open(ctx, path)
	})
}
