// Package bench compares `connrules serve` with `opa run --server` on the
// same requests: the invite stage of policies.yaml, and its Rego
// translation in invite.rego. It is a module of its own so that OPA stays
// out of the library's import graph.
//
//	cd bench && go test -run '^$' -bench Servers -benchtime 3s -count 3
package bench

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const appKey = "bench-app-key-0123456789"

// requests: an allowed invitation (every rule is evaluated), a block,
// and a daily limit.
func requests() [][]byte {
	member := func(id string, day int) map[string]any {
		return map[string]any{"id": id, "kind": "person", "tier": "free", "status": "active", "connections": 120,
			"company": "Acme", "school": "State U", "sent": map[string]int{"hour": 1, "day": day, "week": 20, "month": 60},
			"received": map[string]int{"hour": 0, "day": 0, "week": 0, "month": 0}, "over_limit": 0, "acceptance_rate": 0.6,
			"settings": map[string]any{"invitations": "everyone"}}
	}
	mk := func(day int, blocked bool) []byte {
		b, _ := json.Marshal(map[string]any{"stage": "invite", "now": "2026-03-02T10:00:00-08:00", "note": "Hi Bob, we met at the Go meetup.",
			"sender": member("alice", day), "recipient": member("bob", 0), "pair": map[string]any{"degree": 2, "mutual": 3, "blocked": blocked}})
		return b
	}
	return [][]byte{mk(4, false), mk(4, true), mk(30, false)}
}

var (
	buildOnce sync.Once
	bins      map[string]string
	buildErr  error
)

func build(t testing.TB) map[string]string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "connrules-bench")
		if err != nil {
			buildErr = err
			return
		}
		bins = map[string]string{"opa": filepath.Join(dir, "opa"), "connrules": filepath.Join(dir, "connrules")}
		if out, err := exec.Command("go", "build", "-o", bins["opa"], "github.com/open-policy-agent/opa").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building opa: %v\n%s", err, out)
			return
		}
		if out, err := exec.Command("go", "build", "-C", "..", "-o", bins["connrules"], "./cmd/connrules").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building connrules: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bins
}

func freePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// run starts a server and returns its base URL once it answers.
func run(t testing.TB, engine string) string {
	b := build(t)
	var cmd *exec.Cmd
	var url string
	if engine == "opa" {
		addr := freePort(t)
		cmd = exec.Command(b["opa"], "run", "--server", "--addr", addr, "--log-level", "error", "invite.rego")
		url = "http://" + addr
	} else {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "serve.yaml")
		sum := sha256.Sum256([]byte(appKey))
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf("keys:\n  - {name: bench, scope: app, hash: \"sha256:%x\"}\n", sum)), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(b["connrules"], "serve", "--addr", "127.0.0.1:0", "--policy", "../policies.yaml", "--config", cfg, "--engine", engine,
			"--store", "sqlite:"+filepath.Join(dir, "connrules.db"))
		cmd.Env = append(os.Environ(), "CONNRULES_WASM_CACHE="+filepath.Join(os.TempDir(), "connrules-bench-wasm-cache"))
	}
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if url == "" {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`listening on (http://\S+)`)
		for url == "" && sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				url = m[1]
			}
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(url + "/health"); err == nil {
			r.Body.Close()
			if engine == "opa" && r.StatusCode == 200 {
				return url
			}
		}
		if r, err := http.Get(url + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return url
			}
		}
	}
	t.Fatalf("%s did not start", engine)
	return ""
}

// target is how one server is asked for a decision.
type target struct {
	path string
	wrap func([]byte) []byte
	read func([]byte) (outcome, reason string)
}

var targets = map[string]target{
	"opa": {"/v1/data/connrules/invite/decision",
		func(b []byte) []byte { return append(append([]byte(`{"input":`), b...), '}') },
		func(b []byte) (string, string) {
			var r struct {
				Result struct{ Outcome, Reason string }
			}
			_ = json.Unmarshal(b, &r)
			return r.Result.Outcome, r.Result.Reason
		}},
	"connrules": {"/v1/decide", func(b []byte) []byte { return b },
		func(b []byte) (string, string) {
			var r struct{ Outcome, Reason string }
			_ = json.Unmarshal(b, &r)
			return r.Outcome, r.Reason
		}},
}

func post(cl *http.Client, url, key string, body []byte) (int, []byte, error) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	r, err := cl.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return r.StatusCode, b, err
}

// TestAgreement: the translation decides the requests as the policy does.
func TestAgreement(t *testing.T) {
	if testing.Short() {
		t.Skip("builds opa")
	}
	opa, cr := run(t, "opa"), run(t, "native")
	// The operator view has the reason; an app key sees only the public view.
	for i, req := range requests() {
		_, ob, err := post(http.DefaultClient, opa+targets["opa"].path, "", targets["opa"].wrap(req))
		if err != nil {
			t.Fatal(err)
		}
		oo, orr := targets["opa"].read(ob)
		_, cb, err := post(http.DefaultClient, cr+"/v1/decide", appKey, req)
		if err != nil {
			t.Fatal(err)
		}
		co, _ := targets["connrules"].read(cb)
		if oo != co || orr == "" {
			t.Errorf("request %d: opa %s/%s, connrules %s", i, oo, orr, co)
		}
	}
}

const clients = 32

func BenchmarkServers(b *testing.B) {
	reqs := requests()
	for _, eng := range []string{"native", "wasm", "opa"} {
		b.Run(eng, func(b *testing.B) {
			url := run(b, eng)
			tg, key := targets["connrules"], appKey
			if eng == "opa" {
				tg, key = targets["opa"], ""
			}
			bodies := make([][]byte, len(reqs))
			for i, r := range reqs {
				bodies[i] = tg.wrap(r)
			}
			tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr}
			var next, failed atomic.Int64
			lat := make([][]time.Duration, clients)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N {
							return
						}
						t0 := time.Now()
						st, body, err := post(cl, url+tg.path, key, bodies[i%len(bodies)])
						lat[c] = append(lat[c], time.Since(t0))
						if err != nil || st != 200 {
							failed.Add(1)
							continue
						}
						if o, _ := tg.read(body); o == "" {
							failed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			if failed.Load() > 0 {
				b.Fatalf("%d of %d failed", failed.Load(), b.N)
			}
			var all []time.Duration
			for _, l := range lat {
				all = append(all, l...)
			}
			slices.Sort(all)
			b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
			b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-us")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-us")
		})
	}
}
