package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
)

// The load generator: the service on a loopback port, clients on
// keep-alive connections, reporting requests per second and the p50 and
// p99 latency. Client and server share the machine, as with wrk.
//
//	go test ./cmd/internal/service -run '^$' -bench Serve -benchtime 3s -count 3

const benchClients = 32

func benchServer(b *testing.B, cfg Config) (string, func()) {
	b.Helper()
	cfg.Keys = []Key{{Name: "op", Scope: ScopeOperator, Hash: HashKey(testOperatorKey)}, {Name: "app", Scope: ScopeApp, Hash: HashKey(testAppKey)}}
	s := newTestServer(b, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Serve(ctx, ln, 5*time.Second); close(done) }()
	return "http://" + ln.Addr().String(), func() { cancel(); <-done }
}

// load runs b.N requests to one URL; body(i) is the i-th request's body.
func load(b *testing.B, url, key string, body func(i int) []byte, check func(status int, resp []byte) bool) {
	loadPaths(b, func(int) string { return url }, key, body, check)
}

func BenchmarkServeDecide(b *testing.B) {
	body, _ := json.Marshal(facts())
	for _, eng := range []string{"native", "wasm"} {
		b.Run(eng, func(b *testing.B) {
			url, stop := benchServer(b, Config{Policy: DefaultPolicy(), Engine: eng, WasmCacheDir: b.TempDir()})
			defer stop()
			load(b, url+"/v1/decide", testAppKey, func(int) []byte { return body },
				func(st int, r []byte) bool { return st == 200 && bytes.Contains(r, []byte(`"allow"`)) })
		})
	}
}

// BenchmarkServeInvite: invitations through the API, on the memory store
// and on SQLite (skipped where this build has no SQLite store), each from
// a distinct sender-recipient pair, under quotas high enough that every
// one is allowed.
func BenchmarkServeInvite(b *testing.B) {
	for _, name := range []string{"memory", "sqlite"} {
		b.Run(name, func(b *testing.B) {
			url := "memory:"
			if name == "sqlite" {
				url = "sqlite:" + filepath.Join(b.TempDir(), "bench.db")
			}
			st, err := OpenStore(context.Background(), url)
			if err != nil {
				b.Skip(err)
			}
			benchInvite(b, st)
		})
	}
}

func benchInvite(b *testing.B, st Store) {
	const n = 1000
	pol := bytes.Replace(DefaultPolicy(), []byte("free:    {daily: 30,  weekly: 300,"), []byte("free:    {daily: 100000,  weekly: 100000,"), 1)
	ctx := context.Background()
	for i := range n {
		for _, p := range []string{"s", "r"} {
			if err := st.PutMember(ctx, lifecycle.Member{ID: fmt.Sprintf("%s%d", p, i), Kind: "person", Tier: "free", Status: "active",
				Email: fmt.Sprintf("%s%d@example.test", p, i), AcceptanceRate: 0.5}); err != nil {
				b.Fatal(err)
			}
		}
	}
	url, stop := benchServer(b, Config{Policy: pol, Store: st, Clock: lifecycle.NewManualClock(time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC))})
	defer stop()
	if b.N > n*n {
		b.Fatalf("at most %d invitations", n*n)
	}
	// Request i is from sender i%n to recipient i/n: every pair once.
	bodies := func(i int) []byte { return []byte(fmt.Sprintf(`{"email":"r%d@example.test","note":"Hello"}`, (i/n)%n)) }
	loadPaths(b, func(i int) string { return fmt.Sprintf("%s/v1/members/s%d/invitations", url, i%n) }, testAppKey, bodies,
		func(st int, r []byte) bool { return st == 200 && bytes.Contains(r, []byte(`"allow"`)) })
}

// loadPaths runs b.N requests from benchClients goroutines, request i to
// url(i) with body(i), and reports req/s, p50 and p99.
func loadPaths(b *testing.B, url func(int) string, key string, body func(i int) []byte, check func(int, []byte) bool) {
	tr := &http.Transport{MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr}
	var next, failed atomic.Int64
	lat := make([][]time.Duration, benchClients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				req, _ := http.NewRequest("POST", url(i), bytes.NewReader(body(i)))
				req.Header.Set("Authorization", "Bearer "+key)
				t0 := time.Now()
				resp, err := cl.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				rb, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat[c] = append(lat[c], time.Since(t0))
				if !check(resp.StatusCode, rb) {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d of %d requests failed", failed.Load(), b.N)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-us")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-us")
}
