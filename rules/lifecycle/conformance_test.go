package lifecycle_test

import (
	"testing"

	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/storetest"
)

// TestMemStoreConformance runs the store conformance suite on MemStore.
func TestMemStoreConformance(t *testing.T) {
	storetest.Run(t, func(testing.TB) lifecycle.Store { return lifecycle.NewMemStore() })
}
