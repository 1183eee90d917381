package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/connrules/connrules/cmd/internal/service"
	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

func init() {
	register("serve", "serve decisions and the invitation lifecycle over HTTP", runServe)
}

const defaultServeAddr = "127.0.0.1:8181"

func runServe(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "serve", "[--policy FILE] [--store URL] [--engine native|wasm] [--addr HOST:PORT] [--config serve.yaml]")
	policy := fs.String("policy", "", "policy file, watched and hot-reloaded (default: ./policies.yaml, else the built-in default policy)")
	store := fs.String("store", service.DefaultStore, "state store: memory:, sqlite:PATH or postgres://...")
	engine := fs.String("engine", "native", "where to decide: native or wasm")
	addr := fs.String("addr", defaultServeAddr, "address to listen on; port 0 picks a free one")
	config := fs.String("config", "", "serve.yaml: API keys (hashed), decision log, masking")
	newKey := fs.String("new-key", "", "print a new API key of this scope (app or operator) and its config entry, and exit")
	grace := fs.Duration("grace", 20*time.Second, "how long shutdown waits for in-flight requests")
	watch := fs.Duration("watch-interval", 500*time.Millisecond, "how often the policy file is checked for changes")
	logLevel := fs.String("log-level", "info", "debug, info (one line per request), warn or error")
	testClock := fs.String("test-clock", "", "for tests: start the clock at this RFC 3339 time and allow POST /v1/clock")
	if _, err := parseFlags(fs, args); err != nil {
		return exitUsage
	}
	if *newKey != "" {
		if *newKey != service.ScopeApp && *newKey != service.ScopeOperator {
			fmt.Fprintln(e.Stderr, "connrules serve: --new-key wants app or operator")
			return exitUsage
		}
		k := service.NewKey(*newKey)
		fmt.Fprintf(e.Stdout, "key: %s\n\n# in serve.yaml:\nkeys:\n  - name: my-%s\n    scope: %s\n    hash: %s\n", k, *newKey, *newKey, service.HashKey(k))
		return exitOK
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(e.Stderr, "connrules serve: --log-level: %v\n", err)
		return exitUsage
	}
	cfg := service.Config{Engine: *engine, WatchInterval: *watch,
		Logger: slog.New(slog.NewJSONHandler(e.Stderr, &slog.HandlerOptions{Level: level}))}
	if d := wasmCacheDir(); d != "" {
		cfg.WasmCacheDir = d
	}
	var fc service.FileConfig
	if *config != "" {
		var err error
		if fc, err = service.LoadFileConfig(*config); err != nil {
			fmt.Fprintf(e.Stderr, "connrules serve: %v\n", err)
			return exitFail
		}
	}
	cfg.Keys, cfg.LogNotes, cfg.LogEmails, cfg.MaxBodyBytes = fc.Keys, fc.LogNotes, fc.LogEmails, fc.MaxBodyBytes
	switch fc.DecisionLog {
	case "":
	case "-":
		cfg.DecisionLog = e.Stderr
	default:
		f, err := os.OpenFile(fc.DecisionLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			fmt.Fprintf(e.Stderr, "connrules serve: decision log: %v\n", err)
			return exitFail
		}
		defer f.Close()
		cfg.DecisionLog = f
	}
	switch {
	case *policy != "":
		cfg.PolicyFile = *policy
	case fileExists("policies.yaml"):
		cfg.PolicyFile = "policies.yaml"
	default:
		cfg.Policy = service.DefaultPolicy()
	}
	if *testClock != "" {
		t, err := time.Parse(time.RFC3339, *testClock)
		if err != nil {
			fmt.Fprintf(e.Stderr, "connrules serve: --test-clock: %v\n", err)
			return exitUsage
		}
		cfg.Clock = lifecycle.NewManualClock(t)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(e.Stderr, "connrules serve: %v\n", err)
		return exitFail
	}
	defer ln.Close()
	loopback := isLoopback(ln.Addr())
	var devKeys [2]string
	if len(cfg.Keys) == 0 {
		if !loopback {
			fmt.Fprintln(e.Stderr, "connrules serve: no API keys configured; outside loopback give --config with keys (make one with --new-key operator)")
			return exitUsage
		}
		// A first run on loopback: keys for this process only, printed below.
		devKeys = [2]string{service.NewKey(service.ScopeOperator), service.NewKey(service.ScopeApp)}
		cfg.Keys = []service.Key{{Name: "dev-operator", Scope: service.ScopeOperator, Hash: service.HashKey(devKeys[0])},
			{Name: "dev-app", Scope: service.ScopeApp, Hash: service.HashKey(devKeys[1])}}
	}
	if cfg.Store, err = service.OpenStore(ctx, *store); err != nil {
		fmt.Fprintf(e.Stderr, "connrules serve: %v\n", err)
		return exitFail
	}
	srv, err := service.New(ctx, cfg)
	if err != nil {
		_ = cfg.Store.Close()
		fmt.Fprintln(e.Stderr, err)
		var list rules.ErrorList
		if errors.As(err, &list) {
			fmt.Fprintf(e.Stderr, "%s: %d error%s\n", cfg.PolicyFile, len(list), plural(len(list)))
		}
		return exitFail
	}
	url := "http://" + ln.Addr().String()
	printBanner(e.Stdout, url, cfg, devKeys)

	sctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Serve(sctx, ln, *grace); err != nil {
		fmt.Fprintf(e.Stderr, "connrules serve: %v\n", err)
		return exitFail
	}
	return exitOK
}

func printBanner(w io.Writer, url string, cfg service.Config, devKeys [2]string) {
	pol := cfg.PolicyFile
	if pol == "" {
		pol = "the built-in default policy"
	}
	fmt.Fprintf(w, "connrules serve: listening on %s (policy %s, engine %s)\n", url, pol, cfg.Engine)
	if devKeys[0] != "" {
		fmt.Fprintf(w, "no --config: keys for this run only:\n  operator: %s\n  app:      %s\n", devKeys[0], devKeys[1])
		fmt.Fprintf(w, "try:\n  curl -s -H 'Authorization: Bearer %s' %s/v1/policy\n", devKeys[0], url)
	}
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
