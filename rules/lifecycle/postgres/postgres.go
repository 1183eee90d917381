// Package postgres is the [lifecycle.Store] for many replicas: several
// processes on several machines share one PostgreSQL database through
// github.com/jackc/pgx/v5 connection pools, and the quotas and the caps
// hold across all of them.
//
// Every atomic step of the Store contract is one transaction that locks
// the rows it will change (SELECT ... FOR UPDATE, in id order so two
// cannot deadlock) and writes conditionally on the versions it read;
// serialization failures and deadlocks are retried.
package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/connrules/connrules/rules/lifecycle/internal/sqlstore"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock keeps two processes opening one database from migrating
// it at once: a transaction-scoped advisory lock.
const migrationLock = `SELECT pg_advisory_xact_lock(7263540146)`

// Store is the PostgreSQL store. Its methods implement [lifecycle.Store]
// and [lifecycle.EventReader].
type Store struct {
	*sqlstore.Store
}

// ErrSchemaTooNew is returned (wrapped) by Open for a database written by
// a newer connrules.
var ErrSchemaTooNew = sqlstore.ErrSchemaTooNew

// Open connects to the database at url (postgres://user@host:port/db?...,
// any pgx connection string) and applies the schema migrations it lacks.
// A database written by a newer connrules fails with an error wrapping
// [ErrSchemaTooNew] and is left as it was.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: cannot connect to %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	b := &backend{pool: pool}
	ms, err := sqlstore.Migrations(migrations, "migrations")
	if err != nil {
		pool.Close()
		return nil, err
	}
	if err := sqlstore.Migrate(ctx, b, ms, migrationLock); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &Store{sqlstore.New(b)}, nil
}
