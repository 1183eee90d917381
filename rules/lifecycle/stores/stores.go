// Package stores opens a [lifecycle.Store] by URL, for the CLI and
// servers: "memory:" for an in-memory store, "sqlite:PATH" for the
// embedded SQLite store, "postgres://..." (or "postgresql://...") for the
// shared PostgreSQL store.
package stores

import (
	"context"
	"fmt"
	"strings"

	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/postgres"
	"github.com/connrules/connrules/rules/lifecycle/sqlite"
)

// Store is an opened store; Close releases its database.
type Store interface {
	lifecycle.Store
	lifecycle.EventReader
	Close() error
}

// Open opens the store the url names:
//
//	memory:                   a new, empty MemStore (nothing survives the process)
//	sqlite:PATH               the SQLite file at PATH, created if missing (sqlite:PATH?mode=ro: read-only)
//	postgres://user@host/db   a PostgreSQL database (any pgx connection string)
//
// The SQL stores apply their schema migrations on open.
func Open(ctx context.Context, url string) (Store, error) {
	switch {
	case url == "memory:":
		return memStore{lifecycle.NewMemStore()}, nil
	case strings.HasPrefix(url, "sqlite:"):
		s, err := sqlite.Open(ctx, strings.TrimPrefix(url, "sqlite:"))
		if err != nil {
			return nil, err
		}
		return s, nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		s, err := postgres.Open(ctx, url)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("store %q: want memory:, sqlite:PATH or postgres://...", redact(url))
}

// redact hides a password in a URL shown in an error.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok {
		return url
	}
	user, _, hasPass := strings.Cut(userinfo, ":")
	if !hasPass {
		return url
	}
	return scheme + "://" + user + ":***@" + host
}

// memStore is a MemStore with nothing to close.
type memStore struct{ *lifecycle.MemStore }

func (memStore) Close() error { return nil }
