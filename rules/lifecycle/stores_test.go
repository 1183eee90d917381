package lifecycle_test

import (
	"context"
	"flag"
	"testing"

	"github.com/connrules/connrules/rules/lifecycle"
)

// storeFlag picks the store the lifecycle's own tests (the fixtures of the
// race, stress, privacy and atomicity tests) run on. The SQL stores are
// registered only with -tags sqlstores, so the default test build does not
// compile the database drivers:
//
//	go test -tags sqlstores ./rules/lifecycle -args -store=sqlite
//	go test -tags sqlstores ./rules/lifecycle -args -store=postgres   (CONNRULES_POSTGRES_URL)
var storeFlag = flag.String("store", "memory", "store for the lifecycle tests: memory, or with -tags sqlstores sqlite or postgres")

// sqlStores opens the SQL stores by name; filled in by stores_sql_test.go.
var sqlStores = map[string]func(testing.TB) lifecycle.Store{}

// storeUnderTest returns a new, empty store of the kind -store names.
func storeUnderTest(t testing.TB) lifecycle.Store {
	t.Helper()
	if *storeFlag == "memory" {
		return lifecycle.NewMemStore()
	}
	open, ok := sqlStores[*storeFlag]
	if !ok {
		t.Fatalf("-store=%s: want memory, or sqlite or postgres in a build with -tags sqlstores", *storeFlag)
	}
	return open(t)
}

// events reads the fixture's event log from whatever store it runs on.
func (f *fixture) events() []lifecycle.Event {
	f.t.Helper()
	switch s := f.store.(type) {
	case *lifecycle.MemStore:
		return s.Events()
	case lifecycle.EventReader:
		evs, err := s.ReadEvents(context.Background())
		if err != nil {
			f.t.Fatal(err)
		}
		return evs
	}
	f.t.Fatalf("%T cannot read its event log", f.store)
	return nil
}
