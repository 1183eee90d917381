// Package sqlstore is the SQL implementation of [lifecycle.Store] shared
// by the SQLite and PostgreSQL stores. A backend supplies transactions and
// the dialect's few differences; every Store method is one small function
// here, its SQL written once with ? placeholders.
//
// Layout: each member is one row holding the member as a JSON document
// (so added member fields need no schema change) beside the columns the
// store queries or updates in place: the lower-case email, the counters'
// versions Seq and RecvSeq, the answer counts, the restriction end, the
// window counters (a small JSON document, rewritten under the row's lock)
// and the over-limit counter. Invitations likewise keep their immutable
// part as JSON and their status, delivery and closing time as columns.
package sqlstore

import (
	"context"
	"errors"
)

// ErrNoRows is what a backend's Row.Scan returns when there is no row.
var ErrNoRows = errors.New("sqlstore: no rows")

// errConflict aborts a write transaction whose conditional write did not
// apply; the method then returns false.
var errConflict = errors.New("sqlstore: conditional write did not apply")

// Q runs statements, inside a transaction or alone.
type Q interface {
	// Exec runs a statement and returns the number of rows it changed.
	Exec(ctx context.Context, sql string, args ...any) (int64, error)
	// Query runs a query.
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
	// QueryRow runs a query of at most one row; Scan returns ErrNoRows
	// when there is none.
	QueryRow(ctx context.Context, sql string, args ...any) Row
}

// Rows is a query's result.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is a single-row result.
type Row interface {
	Scan(dest ...any) error
}

// Backend is a database with transactions.
type Backend interface {
	// Q runs single statements, each its own transaction.
	Q
	// Read runs fn in a read-only transaction that sees one consistent
	// state.
	Read(ctx context.Context, fn func(Q) error) error
	// Write runs fn in a read-write transaction and commits it if fn
	// returns nil. Rows read with [Backend.ForUpdate] stay locked until
	// the end. A backend retries transient conflicts (serialization
	// failures, deadlocks) by running fn again.
	Write(ctx context.Context, fn func(Q) error) error
	// ForUpdate is the suffix that locks the rows a SELECT reads inside
	// Write: " FOR UPDATE", or "" where a write transaction is exclusive.
	ForUpdate() string
	// Close releases the database.
	Close() error
}

// Pipeliner is a backend that can send several reads at once, in one
// round trip, inside one consistent read transaction (PostgreSQL's
// pipeline). Snapshot uses it when it knows both members' ids.
type Pipeliner interface {
	Pipeline(ctx context.Context, qs []Pipelined) error
}

// Pipelined is one query of a pipeline and the function that reads its
// rows; the rows are closed after it.
type Pipelined struct {
	SQL  string
	Args []any
	Scan func(Rows) error
}
