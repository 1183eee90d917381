// Package service is `connrules serve`: the engine and the invitation
// lifecycle over HTTP, for platforms in any language.
//
// Every endpoint is a [route] in one table; the handlers, the
// authentication and the OpenAPI document are all built from it. Keys
// have a scope: an app key acts for the member a request names and only
// ever sees that member's view (Policy.Public), an operator key sees
// everything. Errors are RFC 9457 problem+json naming the field at fault.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules/lifecycle"
)

// Config configures a [Server].
type Config struct {
	// PolicyFile is the policy to serve and watch; empty serves Policy.
	PolicyFile string
	// Policy is the source used when PolicyFile is empty.
	Policy []byte
	// Engine is native or wasm.
	Engine string
	// WasmCacheDir keeps wazero's compiled module between runs.
	WasmCacheDir string
	// Store holds the lifecycle's state; the server closes it. Nil means
	// a new in-memory store: a library caller never gets a database file
	// it did not ask for (connrules serve opens DefaultStore itself).
	Store Store
	// Keys are the API keys.
	Keys []Key
	// Clock is the service's time; nil is the system clock.
	Clock lifecycle.Clock
	// DecisionLog receives one JSON line per decision; nil is none.
	DecisionLog         io.Writer
	LogNotes, LogEmails bool
	MaxBodyBytes        int64
	HandlerTimeout      time.Duration
	WatchInterval       time.Duration
	Logger              *slog.Logger
}

// Server is the HTTP service.
type Server struct {
	cfg      Config
	log      *slog.Logger
	keys     keyring
	store    Store
	clock    lifecycle.Clock
	manual   *lifecycle.ManualClock
	pol      *policyHolder
	met      *metrics
	dlog     *decisionLog
	mux      *http.ServeMux
	openapi  []byte
	draining atomic.Bool
	wasm     *host.Engine
	src      []byte
}

// New loads the policy and builds the server. A policy with errors is an
// error here: the service does not start without a good policy.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Engine == "" {
		cfg.Engine = "native"
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.HandlerTimeout <= 0 {
		cfg.HandlerTimeout = 10 * time.Second
	}
	if cfg.WatchInterval <= 0 {
		cfg.WatchInterval = 500 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if cfg.Clock == nil {
		cfg.Clock = lifecycle.ClockFunc(time.Now)
	}
	if cfg.Store == nil {
		st, err := OpenStore(ctx, "memory:")
		if err != nil {
			return nil, err
		}
		cfg.Store = st
	}
	s := &Server{cfg: cfg, log: cfg.Logger, keys: newKeyring(cfg.Keys), store: cfg.Store, clock: cfg.Clock, met: newMetrics(),
		dlog: &decisionLog{w: cfg.DecisionLog, keepNotes: cfg.LogNotes, keepEmail: cfg.LogEmails}}
	s.manual, _ = cfg.Clock.(*lifecycle.ManualClock)
	s.pol = &policyHolder{file: cfg.PolicyFile, engine: cfg.Engine, store: cfg.Store, clock: cfg.Clock}
	switch cfg.Engine {
	case "native":
	case "wasm":
		opts := []host.Option{}
		if cfg.WasmCacheDir != "" && os.MkdirAll(cfg.WasmCacheDir, 0o755) == nil {
			opts = append(opts, host.WithCompilationCache(cfg.WasmCacheDir))
		}
		e, err := host.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("wasm engine: %w", err)
		}
		s.wasm, s.pol.wasm = e, e
	default:
		return nil, fmt.Errorf("unknown engine %q (want native or wasm)", cfg.Engine)
	}
	s.src = cfg.Policy
	if cfg.PolicyFile != "" {
		b, err := os.ReadFile(cfg.PolicyFile)
		if err != nil {
			return nil, err
		}
		s.src = b
	}
	if err := s.pol.load(ctx, s.src); err != nil {
		return nil, err
	}
	s.pol.onReload = s.reported
	s.mux = http.NewServeMux()
	rts := s.routes()
	for _, rt := range rts {
		s.mux.Handle(rt.method+" "+rt.path, s.wrap(rt, s.handle(rt)))
	}
	fallback := &route{op: "not_found", serve: func(*call) (int, any, error) {
		return 0, nil, notFound("no such endpoint; see /openapi.json")
	}}
	s.mux.Handle("/", s.wrap(fallback, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, rt := range rts {
			if pathMatches(rt.path, r.URL.Path) {
				allow = append(allow, rt.method)
			}
		}
		err := notFound("no such endpoint; see /openapi.json")
		if allow != nil {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			err = &apiError{status: http.StatusMethodNotAllowed, title: "Method not allowed", detail: "this endpoint takes " + strings.Join(allow, ", ")}
		}
		setStatus(r.Context(), writeProblem(w, r, err))
	})))
	doc, err := openAPI(rts)
	if err != nil {
		return nil, err
	}
	s.openapi = doc
	return s, nil
}

// pathMatches reports whether path fits a route's pattern, such as
// /v1/members/{member}.
func pathMatches(pattern, path string) bool {
	ps, qs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(qs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") && qs[i] != "" || ps[i] == qs[i] {
			continue
		}
		return false
	}
	return true
}

// reported logs and counts a reload; it runs with the holder's lock held.
func (s *Server) reported(ok bool, err error) {
	if ok {
		s.met.reloads.WithLabelValues("ok").Inc()
		s.log.Info("policy reloaded", "file", s.cfg.PolicyFile, "hash", s.pol.cur.Load().hash)
		return
	}
	s.met.reloads.WithLabelValues("error").Inc()
	s.log.Error("policy reload failed; the last good policy stays in force", "file", s.cfg.PolicyFile, "error", err.Error())
}

// Handler is the service's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Serve serves on ln until ctx is done, then shuts down gracefully:
// readiness turns false, in-flight requests finish (up to grace), and the
// store and the engine are closed.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	hs := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      s.cfg.HandlerTimeout + 5*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	wctx, cancelWatch := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() { s.pol.watch(wctx, s.cfg.WatchInterval, s.src); close(watched) }()
	// The watcher is stopped, and any load it started has finished,
	// before the engine and the store close.
	stopWatch := func() { cancelWatch(); <-watched }
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.draining.Store(true)
		s.log.Info("shutting down", "grace", grace.String())
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		err = hs.Shutdown(sctx)
		cancel()
	}
	stopWatch()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, s.Close())
}

// Close closes the store and the engine.
func (s *Server) Close() error {
	var errs []error
	if s.wasm != nil {
		errs = append(errs, s.wasm.Close(context.Background()))
		s.wasm = nil
	}
	if s.store != nil {
		errs = append(errs, s.store.Close())
		s.store = nil
	}
	return errors.Join(errs...)
}
