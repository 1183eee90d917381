package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/connrules/connrules/rules/lifecycle/internal/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxRetries bounds the reruns of a transaction that failed on a
// serialization failure or a deadlock.
const maxRetries = 20

// backend is PostgreSQL through a pgx pool. Write transactions run at READ
// COMMITTED and lock the rows they will change with SELECT ... FOR UPDATE
// (always in id order), then write conditionally; reads that must be
// consistent run in a REPEATABLE READ, READ ONLY transaction.
type backend struct {
	pool *pgxpool.Pool
	sqls sync.Map // query with ? -> query with $n
}

// rewrite turns the shared SQL's ? placeholders into $1, $2...
func (b *backend) rewrite(q string) string {
	if s, ok := b.sqls.Load(q); ok {
		return s.(string)
	}
	var sb strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(n))
			continue
		}
		sb.WriteRune(r)
	}
	s := sb.String()
	b.sqls.Store(q, s)
	return s
}

// querier is what a pool and a transaction share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type q struct {
	b *backend
	x querier
}

func (x q) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := x.x.Exec(ctx, x.b.rewrite(sql), args...)
	return tag.RowsAffected(), err
}

func (x q) Query(ctx context.Context, sql string, args ...any) (sqlstore.Rows, error) {
	r, err := x.x.Query(ctx, x.b.rewrite(sql), args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (x q) QueryRow(ctx context.Context, sql string, args ...any) sqlstore.Row {
	return row{x.x.QueryRow(ctx, x.b.rewrite(sql), args...)}
}

type row struct{ pgx.Row }

func (r row) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return err
}

func (b *backend) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return q{b, b.pool}.Exec(ctx, sql, args...)
}

func (b *backend) Query(ctx context.Context, sql string, args ...any) (sqlstore.Rows, error) {
	return q{b, b.pool}.Query(ctx, sql, args...)
}

func (b *backend) QueryRow(ctx context.Context, sql string, args ...any) sqlstore.Row {
	return q{b, b.pool}.QueryRow(ctx, sql, args...)
}

func (b *backend) Read(ctx context.Context, fn func(sqlstore.Q) error) error {
	return b.tx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

func (b *backend) Write(ctx context.Context, fn func(sqlstore.Q) error) error {
	return b.tx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
}

func (b *backend) tx(ctx context.Context, opts pgx.TxOptions, fn func(sqlstore.Q) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginTxFunc(ctx, b.pool, opts, func(tx pgx.Tx) error { return fn(q{b, tx}) })
		if err == nil || !retryable(err) || attempt == maxRetries || ctx.Err() != nil {
			return err
		}
	}
}

// retryable reports a serialization failure or a deadlock: the
// transaction rolled back and may simply run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

func (b *backend) ForUpdate() string { return " FOR UPDATE" }

func (b *backend) Close() error {
	b.pool.Close()
	return nil
}

// Pipeline implements [sqlstore.Pipeliner]: BEGIN, the queries and COMMIT
// go out as one pgx batch, one round trip.
func (b *backend) Pipeline(ctx context.Context, qs []sqlstore.Pipelined) error {
	batch := &pgx.Batch{}
	batch.Queue("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
	for _, q := range qs {
		batch.Queue(b.rewrite(q.SQL), q.Args...)
	}
	batch.Queue("COMMIT")
	br := b.pool.SendBatch(ctx, batch)
	// A failed batch leaves its connection inside a transaction; the pool
	// destroys such a connection when it is released.
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return err
	}
	for _, q := range qs {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		err = q.Scan(rows)
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			return err
		}
	}
	_, err := br.Exec()
	if err != nil {
		return err
	}
	return br.Close()
}
