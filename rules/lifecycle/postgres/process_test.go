package postgres_test

import (
	"context"
	"testing"

	"github.com/connrules/connrules/internal/pgtest"
	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/postgres"
	"github.com/connrules/connrules/rules/lifecycle/storetest"
)

func openURL(ctx context.Context, url string) (lifecycle.Store, error) {
	return postgres.Open(ctx, url)
}

// TestCrash: 20 times, a child process invites in a loop against the
// database and is killed with SIGKILL; every acknowledged invitation must
// be stored, and the counters must equal the invitations stored.
func TestCrash(t *testing.T) {
	if storetest.IsChild() {
		storetest.Crash(t, 0, nil, openURL)
	}
	storetest.Crash(t, 20, func(t *testing.T) string { return pgtest.URL(t) }, openURL)
}

// TestTwoProcessesAdmitExactlyTheLimit: two OS processes sharing the
// database invite from one sender at once; together they admit exactly
// the daily limit.
func TestTwoProcessesAdmitExactlyTheLimit(t *testing.T) {
	if storetest.IsChild() {
		storetest.TwoProcesses(t, "", openURL)
	}
	storetest.TwoProcesses(t, pgtest.URL(t), openURL)
}
