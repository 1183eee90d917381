package host_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/wasm/wasmbuild"
)

// TestEmbeddedModuleIsFresh rebuilds the wasip1 module from the current
// sources, with make wasm's flags, and fails if it differs from the
// committed host/connrules.wasm. Run make wasm and commit the result.
func TestEmbeddedModuleIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("rebuilds the module")
	}
	ctx := context.Background()
	e, err := host.New(ctx, host.WithPoolSize(1))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	v, err := e.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		ABI int    `json:"abi"`
		Go  string `json:"go"`
		OS  string `json:"os"`
	}
	if err := json.Unmarshal(v, &info); err != nil {
		t.Fatal(err)
	}
	if info.OS != "wasip1" || info.ABI < 1 {
		t.Fatalf("embedded module says %s", v)
	}
	if info.Go != runtime.Version() {
		// The bytes depend on the toolchain; CI pins the one in go.mod.
		t.Skipf("the embedded module was built with %s, this is %s: cannot compare bytes", info.Go, runtime.Version())
	}
	out := filepath.Join(t.TempDir(), "connrules.wasm")
	if err := wasmbuild.Build(ctx, "..", wasmbuild.WASI, out); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, out)
	if !bytes.Equal(got, host.Module) {
		t.Fatalf("host/connrules.wasm is stale: the sources build %d bytes (sha256 %x), the committed module is %d bytes (sha256 %x). Run make wasm and commit host/connrules.wasm.",
			len(got), sha256.Sum256(got), len(host.Module), sha256.Sum256(host.Module))
	}
}
