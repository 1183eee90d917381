package service

import (
	"context"
	"io"

	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/stores"
)

// Store is a lifecycle store the service can close.
type Store interface {
	lifecycle.Store
	io.Closer
}

// DefaultStore is the --store used when none is given.
const DefaultStore = "sqlite:connrules.db"

// OpenStore opens the store a URL names: memory:, sqlite:PATH or
// postgres://... (see stores.Open).
func OpenStore(ctx context.Context, url string) (Store, error) { return stores.Open(ctx, url) }
