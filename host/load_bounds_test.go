package host_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/internal/hostile"
	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/wasm/guest"
)

// Bounds every hostile policy must load or fail within, under wazero and
// under Node. Generous guards for a busy machine, not speed figures:
// before the load limits these cases ran for minutes, exhausted the
// instance's memory or overflowed the stack. Memory under wazero is
// bounded by the instance's cap (host.DefaultMemoryLimitPages, 64 MiB): a
// case over it would fail as an InstanceError, not a load error.
const (
	wasmLoadTimeout = 60 * time.Second
	nodeRunTimeout  = 5 * time.Minute // every case in one Node process
	nodeMaxRSS      = 2 << 30         // bytes, the whole Node process at its peak
)

// nativeLoad is the guest's answer natively, which every runtime must give
// byte for byte.
func nativeLoad(c hostile.Case) string {
	var g guest.Engine
	out, _ := g.Load(c.Name+".yaml", c.Src)
	return string(out)
}

// TestHostilePoliciesWazero loads each hostile policy into the wazero
// instance: it loads or fails with the native errors, within
// wasmLoadTimeout and the instance's memory.
func TestHostilePoliciesWazero(t *testing.T) {
	ctx := context.Background()
	e, err := host.New(ctx, host.WithPoolSize(1))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	for _, c := range hostile.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			lctx, cancel := context.WithTimeout(ctx, wasmLoadTimeout)
			defer cancel()
			start := time.Now()
			err := e.Load(lctx, c.Name+".yaml", c.Src)
			t.Logf("%v", time.Since(start).Round(time.Millisecond))
			var want struct {
				Errors json.RawMessage `json:"errors"`
			}
			_ = json.Unmarshal([]byte(nativeLoad(c)), &want)
			if c.Error == "" {
				if err != nil {
					t.Fatalf("want it to load, got %.500v", err)
				}
				d, err := e.DecideJSON(ctx, []byte(`{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"id":"a","kind":"person","status":"active","tier":"free"},"recipient":{"id":"b","kind":"person","status":"active","tier":"free"}}`), false)
				if err != nil || !bytes.Contains(d, []byte(`"outcome"`)) {
					t.Errorf("decide: %s, %v", d, err)
				}
				return
			}
			var list rules.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("want positioned errors, got %T %.500v", err, err)
			}
			if got, _ := json.Marshal(list); !bytes.Equal(got, want.Errors) {
				t.Errorf("errors differ from native:\ngot  %.500s\nwant %.500s", got, want.Errors)
			}
		})
	}
}

// TestHostilePoliciesNode loads each hostile policy into the js build
// under Node, in one process: each answer is the native one, and the
// whole run stays within nodeRunTimeout and nodeMaxRSS.
func TestHostilePoliciesNode(t *testing.T) {
	node := nodeOrSkip(t)
	mod := buildJS(t)
	valid, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	req := `{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"id":"a","kind":"person","status":"active","tier":"free"},"recipient":{"id":"b","kind":"person","status":"active","tier":"free"}}`
	job := nodeJob{Mode: "conform", Policies: []nodePolicy{{File: "policies.yaml", Src: string(valid)}},
		Cases: []nodeCase{{Policy: 0, Request: base64.StdEncoding.EncodeToString([]byte(req))}}}
	cases := hostile.Cases()
	for _, c := range cases {
		job.Policies = append(job.Policies, nodePolicy{File: c.Name + ".yaml", Src: string(c.Src)})
	}
	in, _ := json.Marshal(job)
	ctx, cancel := context.WithTimeout(context.Background(), nodeRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "../wasm/js/run.js", wasmExecJS(), mod)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node after %v: %v\n%.2000s", time.Since(start), err, stderr.String())
	}
	rss := int64(0)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss << 10 // KiB on Linux
	}
	t.Logf("%d cases in %v, peak RSS %d MiB", len(cases), time.Since(start).Round(time.Millisecond), rss>>20)
	if rss > nodeMaxRSS {
		t.Errorf("peak RSS %d MiB, want at most %d", rss>>20, nodeMaxRSS>>20)
	}
	var res struct {
		Loads []string `json:"loads"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Loads) != len(job.Policies) {
		t.Fatalf("node answer: %v, %d loads\n%.500s", err, len(res.Loads), out)
	}
	for i, c := range cases {
		got := res.Loads[i+1]
		if c.Error == "" {
			if !bytes.HasPrefix([]byte(got), []byte(`{"name":`)) {
				t.Errorf("%s: want it to load, got %.500s", c.Name, got)
			}
			continue
		}
		if want := nativeLoad(c); got != want {
			t.Errorf("%s: differs from native:\ngot  %.500s\nwant %.500s", c.Name, got, want)
		}
	}
}
