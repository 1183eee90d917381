package host

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/connrules/connrules/wasm/guest"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// TestGuestCallCounts counts the wasm function calls one decision makes
// inside the guest, by function, on a module built with its names:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o /tmp/named.wasm ./wasm/wasip1
//	CONNRULES_PROFILE_MODULE=/tmp/named.wasm go test ./host -run GuestCallCounts -v
//
// Calls are what Go's wasm output pays most for (RATIONALE, "Where does a
// call's time go in wazero now?"), so the counts show where a decision's
// time goes where no profiler reaches. Skipped without the variable.
func TestGuestCallCounts(t *testing.T) {
	path := os.Getenv("CONNRULES_PROFILE_MODULE")
	if path == "" {
		t.Skip("CONNRULES_PROFILE_MODULE is not set")
	}
	mod, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	counting := false
	ctx := experimental.WithFunctionListenerFactory(context.Background(),
		experimental.FunctionListenerFactoryFunc(func(def api.FunctionDefinition) experimental.FunctionListener {
			name := def.DebugName()
			return experimental.FunctionListenerFunc(func(context.Context, api.Module, api.FunctionDefinition, []uint64, experimental.StackIterator) {
				if counting {
					counts[name]++
				}
			})
		}))
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	compiled, err := rt.CompileModule(ctx, mod)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(config{pool: 1, memPages: DefaultMemoryLimitPages}, &shared{rt: rt, compiled: compiled})
	defer e.Close(ctx)
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// A cold start's instance and load, counted too.
	counting = true
	if err := e.Load(ctx, "policies.yaml", src); err != nil {
		t.Fatal(err)
	}
	counting = false
	t.Log(topCalls("instantiate and load", counts, 1, 30))
	const n = 160 // a multiple of the yield's period
	for _, r := range []struct {
		name string
		req  func() []byte
	}{
		{"early denial", func() []byte { w, _ := guest.AppendWire(nil, benchEarlyRequest()); return w }},
		{"allow", func() []byte { w, _ := guest.AppendWire(nil, benchRequest()); return w }},
	} {
		clear(counts)
		err := e.call(ctx, "decide", func(in *instance) error {
			w := r.req()
			if _, err := in.call(ctx, in.fDecide, w, guest.FlagWire|guest.FlagWireOut); err != nil {
				return err
			}
			counting = true
			defer func() { counting = false }()
			for range n {
				if _, err := in.call(ctx, in.fDecide, w, guest.FlagWire|guest.FlagWireOut); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Log(topCalls(r.name, counts, n, 40))
	}
}

// topCalls lists the most called functions of counts, per run of n.
func topCalls(what string, counts map[string]int, n, top int) string {
	type fc struct {
		name string
		n    int
	}
	var all []fc
	total := 0
	for k, v := range counts {
		all = append(all, fc{k, v})
		total += v
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || all[i].n == all[j].n && all[i].name < all[j].name })
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %.0f calls\n", what, float64(total)/float64(n))
	for _, c := range all[:min(len(all), top)] {
		fmt.Fprintf(&b, "%10.1f  %s\n", float64(c.n)/float64(n), c.name)
	}
	return b.String()
}
