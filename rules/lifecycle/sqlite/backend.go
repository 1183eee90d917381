package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"

	"github.com/connrules/connrules/rules/lifecycle/internal/sqlstore"
)

// backend is SQLite through database/sql, on connections it holds for
// good: one writer, whose transactions begin IMMEDIATE (so a write
// transaction holds the file's write lock from its first statement and no
// two can interleave, in this process or another), and a few readers,
// each transaction of which sees one WAL snapshot. Each connection keeps
// its prepared statements.
type backend struct {
	w       *conn
	wmu     sync.Mutex // held for the writer's whole transaction
	readers chan *conn
	dbs     []*sql.DB
}

// conn is one connection and its prepared statements. Only its holder
// uses it.
type conn struct {
	c     *sql.Conn
	stmts map[string]*sql.Stmt
}

func (c *conn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// Exec, Query and QueryRow run on a held connection.
func (c *conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c *conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rs, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return &rows{Rows: rs}, nil
}

func (c *conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return row{st.QueryRowContext(ctx, args...)}
}

type rows struct {
	*sql.Rows
	done func() // returns the connection, for a query outside a transaction
}

func (r *rows) Close() {
	r.Rows.Close()
	if r.done != nil {
		r.done()
		r.done = nil
	}
}

type row struct{ *sql.Row }

func (r row) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// reader takes a reader connection; put it back with b.readers <- c.
func (b *backend) reader(ctx context.Context) (*conn, error) {
	select {
	case c := <-b.readers:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func isRead(query string) bool { return strings.HasPrefix(query, "SELECT") }

// Exec runs a write alone, on the writer.
func (b *backend) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	return b.w.Exec(ctx, query, args...)
}

// Query runs a read alone, on a reader; the reader is returned when the
// rows are closed.
func (b *backend) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	c, err := b.reader(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := c.Query(ctx, query, args...)
	if err != nil {
		b.readers <- c
		return nil, err
	}
	rs.(*rows).done = func() { b.readers <- c }
	return rs, nil
}

// QueryRow runs a SELECT on a reader, anything else (INSERT ... RETURNING)
// on the writer. database/sql runs the statement and holds the connection
// until Scan, so the connection is given back only after it.
func (b *backend) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	if !isRead(query) {
		b.wmu.Lock()
		return &heldRow{r: b.w.QueryRow(ctx, query, args...), release: b.wmu.Unlock}
	}
	c, err := b.reader(ctx)
	if err != nil {
		return errRow{err}
	}
	return &heldRow{r: c.QueryRow(ctx, query, args...), release: func() { b.readers <- c }}
}

// heldRow releases its connection once scanned. Every caller scans.
type heldRow struct {
	r       sqlstore.Row
	release func()
}

func (h *heldRow) Scan(dest ...any) error {
	err := h.r.Scan(dest...)
	h.release()
	return err
}

func (b *backend) Read(ctx context.Context, fn func(sqlstore.Q) error) error {
	c, err := b.reader(ctx)
	if err != nil {
		return err
	}
	defer func() { b.readers <- c }()
	return tx(ctx, c, "BEGIN", fn)
}

func (b *backend) Write(ctx context.Context, fn func(sqlstore.Q) error) error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	return tx(ctx, b.w, "BEGIN IMMEDIATE", fn)
}

func tx(ctx context.Context, c *conn, begin string, fn func(sqlstore.Q) error) error {
	if _, err := c.Exec(ctx, begin); err != nil {
		return err
	}
	if err := fn(c); err != nil {
		// A rollback must run even when ctx is done.
		_, _ = c.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	if _, err := c.Exec(ctx, "COMMIT"); err != nil {
		_, _ = c.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	return nil
}

// ForUpdate is empty: a write transaction holds SQLite's one write lock.
func (b *backend) ForUpdate() string { return "" }

func (b *backend) Close() error {
	var errs []error
	closeConn := func(c *conn) {
		for _, st := range c.stmts {
			st.Close()
		}
		errs = append(errs, c.c.Close())
	}
	closeConn(b.w)
	for range cap(b.readers) {
		closeConn(<-b.readers)
	}
	for _, db := range b.dbs {
		errs = append(errs, db.Close())
	}
	return errors.Join(errs...)
}
