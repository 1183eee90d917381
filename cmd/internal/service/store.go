package service

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/connrules/connrules/rules/lifecycle"
)

// Store is a lifecycle store the service can close.
//
// This file is the one place the service opens stores; it has the
// signature of stores.Open (SQLite, PostgreSQL), which replaces it when
// that package is in. Until then only "memory:" is known.
type Store interface {
	lifecycle.Store
	io.Closer
}

// DefaultStore is the --store used when none is given.
const DefaultStore = "memory:"

type memStore struct{ *lifecycle.MemStore }

func (memStore) Close() error { return nil }

// OpenStore opens the store a URL names: "memory:" for now.
func OpenStore(_ context.Context, url string) (Store, error) {
	switch {
	case url == "memory:" || url == "memory":
		return memStore{lifecycle.NewMemStore()}, nil
	case strings.HasPrefix(url, "sqlite:"), strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return nil, fmt.Errorf("store %q: this build has only the memory: store", url)
	}
	return nil, fmt.Errorf("store %q: want memory:, sqlite:PATH or postgres://...", url)
}
