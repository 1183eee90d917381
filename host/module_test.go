package host_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
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

// TestEmbeddedModuleDataIsPacked checks that the embedded module went
// through wasmbuild.PackData: Go's linker writes ~93,000 data segments,
// which wazero decodes and copies one by one in every process that
// starts the module (RATIONALE.md, "What bounds a second process's
// start?").
func TestEmbeddedModuleDataIsPacked(t *testing.T) {
	segs, ok := dataSegments(host.Module)
	if !ok {
		t.Fatal("the embedded module has no readable data section")
	}
	if segs > 1000 {
		t.Fatalf("the embedded module has %d data segments: build it with make wasm (wasmbuild.WASI packs them)", segs)
	}
}

// dataSegments is the number of segments in mod's data section.
func dataSegments(mod []byte) (int, bool) {
	if len(mod) < 8 {
		return 0, false
	}
	b := mod[8:]
	for len(b) > 1 {
		size, n := binary.Uvarint(b[1:])
		if n <= 0 || uint64(len(b)-1-n) < size {
			return 0, false
		}
		body := b[1+n : 1+n+int(size)]
		if b[0] == 11 {
			count, k := binary.Uvarint(body)
			return int(count), k > 0
		}
		b = b[1+n+int(size):]
	}
	return 0, false
}
