package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// defaultPolicy is a copy of the repository's policies.yaml, served when
// no --policy is given and there is no policies.yaml in the working
// directory. TestDefaultPolicyIsFresh keeps it equal to the original.
//
//go:embed default_policies.yaml
var defaultPolicy []byte

// DefaultPolicy returns the embedded default policy's source.
func DefaultPolicy() []byte { return bytes.Clone(defaultPolicy) }

// generation is one loaded policy and everything built from it. Requests
// take the current generation once and use it throughout, so a reload
// never mixes two policies in one answer.
type generation struct {
	pol      *rules.Policy
	hash     string
	loadedAt time.Time
	net      *lifecycle.Network
	// dec decides for the stateless endpoints and the lifecycle.
	dec engine
}

// engine decides with one policy: natively or on wazero.
type engine interface {
	decide(ctx context.Context, req *rules.Request, explain bool) (rules.Decision, error)
}

type nativeEngine struct{ p *rules.Policy }

func (n nativeEngine) decide(_ context.Context, req *rules.Request, explain bool) (rules.Decision, error) {
	if explain {
		return n.p.Explain(req), nil
	}
	return n.p.Decide(req), nil
}

// wasmEngine decides on the wazero host. Its policy is loaded into the
// shared host engine when the generation is built; the host keeps it
// until the next load, which builds the next generation.
type wasmEngine struct{ e *host.Engine }

func (w wasmEngine) decide(ctx context.Context, req *rules.Request, explain bool) (rules.Decision, error) {
	if explain {
		return w.e.Explain(ctx, req)
	}
	return w.e.Decide(ctx, req)
}

// PolicyStatus is what the status endpoint reports about the policy.
type PolicyStatus struct {
	Name     string    `json:"name"`
	File     string    `json:"file"`
	Hash     string    `json:"hash"`
	LoadedAt time.Time `json:"loaded_at"`
	Engine   string    `json:"engine"`
	Reloads  int       `json:"reloads"`
	// LastError is the error of the last load attempt, empty if it loaded.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// policyHolder owns the current generation and reloads it.
type policyHolder struct {
	file   string // "" for the embedded default
	engine string
	store  lifecycle.Store
	clock  lifecycle.Clock
	wasm   *host.Engine // nil for native

	cur atomic.Pointer[generation]

	mu       sync.Mutex // serialises loads; guards the fields below
	loads    int
	lastErr  error
	lastErrT time.Time
	onReload func(ok bool, err error)
}

func policyHash(src []byte) string {
	sum := sha256.Sum256(src)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// load compiles src and, if it is good, makes it current. A bad policy
// leaves the last good one serving and is remembered for the status.
func (h *policyHolder) load(ctx context.Context, src []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	err := h.loadLocked(ctx, src)
	if err != nil {
		h.lastErr, h.lastErrT = err, h.clock.Now()
	} else {
		h.lastErr, h.lastErrT = nil, time.Time{}
	}
	if h.onReload != nil {
		h.onReload(err == nil, err)
	}
	return err
}

func (h *policyHolder) loadLocked(ctx context.Context, src []byte) error {
	name := h.file
	if name == "" {
		name = "default_policies.yaml"
	}
	p, err := rules.Load(name, src)
	if err != nil {
		return err
	}
	g := &generation{pol: p, hash: policyHash(src), loadedAt: h.clock.Now(), dec: nativeEngine{p}}
	cfg := lifecycle.Config{Policy: p, Store: h.store, Clock: h.clock}
	if h.wasm != nil {
		if err := h.wasm.Load(ctx, name, src); err != nil {
			return fmt.Errorf("wasm engine: %w", err)
		}
		g.dec = wasmEngine{h.wasm}
		cfg.Decider = h.wasm
	}
	if g.net, err = lifecycle.New(cfg); err != nil {
		return err
	}
	h.cur.Store(g)
	h.loads++
	return nil
}

func (h *policyHolder) status() PolicyStatus {
	g := h.cur.Load()
	h.mu.Lock()
	defer h.mu.Unlock()
	st := PolicyStatus{File: h.file, Engine: h.engine, Reloads: max(h.loads-1, 0), LastErrorAt: h.lastErrT}
	if st.File == "" {
		st.File = "(embedded default)"
	}
	if h.lastErr != nil {
		st.LastError = h.lastErr.Error()
	}
	if g != nil {
		st.Name, st.Hash, st.LoadedAt = g.pol.Name(), g.hash, g.loadedAt
	}
	return st
}

// watch polls the policy file and reloads it when its contents change,
// as host.Engine.WatchFile does, for both engines: a change is loaded once
// two reads in a row agree, so a file caught half-written is not loaded.
func (h *policyHolder) watch(ctx context.Context, every time.Duration, first []byte) {
	if h.file == "" {
		return
	}
	last, pending := first, []byte(nil)
	var lastReadErr string
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		src, err := os.ReadFile(h.file)
		switch {
		case err != nil:
			if err.Error() != lastReadErr {
				lastReadErr = err.Error()
				h.mu.Lock()
				h.lastErr, h.lastErrT = err, h.clock.Now()
				if h.onReload != nil {
					h.onReload(false, err)
				}
				h.mu.Unlock()
			}
			continue
		case bytes.Equal(src, last):
			pending = nil
			continue
		case !bytes.Equal(src, pending):
			pending = src
			continue
		}
		lastReadErr = ""
		pending, last = nil, src
		_ = h.load(ctx, src)
	}
}

// errNoPolicy is returned when no policy ever loaded.
var errNoPolicy = errors.New("no policy is loaded")
