// Package sqlite is the embedded [lifecycle.Store]: one SQLite file in WAL
// mode, through the pure-Go driver modernc.org/sqlite (so everything still
// builds with CGO off).
//
// Every atomic step of the Store contract ([lifecycle.Store.Reserve],
// [lifecycle.Store.AcceptInvitation], [lifecycle.Store.CountOverLimit],
// [lifecycle.Store.UpdateInvitation], [lifecycle.Store.UpdatePair]) is one
// transaction that begins IMMEDIATE, holding SQLite's write lock from its
// first statement, and writes conditionally on the versions it read. Reads
// run on a pool of connections, each transaction on one WAL snapshot.
// Several processes may share the file; a writer waits for the lock up to
// the busy timeout.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/connrules/connrules/rules/lifecycle/internal/sqlstore"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// BusyTimeout is how long a writer waits for another process's write lock
// before it fails.
const BusyTimeout = 10 * time.Second

// Store is the SQLite store. Its methods implement [lifecycle.Store] and
// [lifecycle.EventReader].
type Store struct {
	*sqlstore.Store
}

// Open opens (creating it if needed) the SQLite database at path and
// applies the schema migrations it lacks. A path may carry SQLite URI
// parameters after "?", such as mode=ro for a read-only store. A database
// written by a newer connrules fails with an error wrapping
// [ErrSchemaTooNew] and is left as it was.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlite: empty path")
	}
	file, params, _ := strings.Cut(path, "?")
	vals, err := url.ParseQuery(params)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %q: %w", path, err)
	}
	readOnly := vals.Get("mode") == "ro"
	dsn := func() string {
		v := url.Values{}
		for k, l := range vals {
			v[k] = l
		}
		v.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
		if !readOnly {
			v.Add("_pragma", "journal_mode(WAL)")
		}
		// NORMAL in WAL mode: a commit survives a crash of the process;
		// only a power loss can take the last commits before a checkpoint.
		v.Add("_pragma", "synchronous(NORMAL)")
		return "file:" + file + "?" + v.Encode()
	}
	b, err := newBackend(ctx, dsn(), max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: cannot open %s: %w", file, err)
	}
	ms, err := sqlstore.Migrations(migrations, "migrations")
	if err != nil {
		b.Close()
		return nil, err
	}
	if err := sqlstore.Migrate(ctx, b, ms, ""); err != nil {
		b.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", file, err)
	}
	return &Store{sqlstore.New(b)}, nil
}

// ErrSchemaTooNew is returned (wrapped) by Open for a database written by
// a newer connrules.
var ErrSchemaTooNew = sqlstore.ErrSchemaTooNew

// newBackend opens the writer and n reader connections.
func newBackend(ctx context.Context, dsn string, n int) (*backend, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	b := &backend{readers: make(chan *conn, n), dbs: []*sql.DB{db}}
	hold := func() (*conn, error) {
		c, err := db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		return &conn{c: c, stmts: map[string]*sql.Stmt{}}, nil
	}
	if b.w, err = hold(); err != nil {
		db.Close()
		return nil, err
	}
	// The first connection set WAL mode; the readers just open.
	for range n {
		c, err := hold()
		if err != nil {
			b.w.c.Close()
			for range len(b.readers) {
				(<-b.readers).c.Close()
			}
			db.Close()
			return nil, err
		}
		b.readers <- c
	}
	return b, nil
}
