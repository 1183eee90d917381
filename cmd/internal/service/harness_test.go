package service

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The end-to-end tests start the real binary, built once into a
// temporary directory, on a free loopback port, and drive it over HTTP.
// Every response they get is checked against the committed openapi.json.

const (
	testOperatorKey = "test-operator-key-0123456789"
	testAppKey      = "test-app-key-0123456789"
	// Monday 2 March 2026, 10:00 Pacific: the week began at 00:01.
	testStart = "2026-03-02T10:00:00-08:00"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func buildBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs the binary")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "connrules-e2e")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "connrules")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/connrules/connrules/cmd/connrules").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// testPolicy is policies.yaml with small free-tier quotas, so the stories
// run in a few requests: 5 a day, 8 a week, 3 connections.
func testPolicy(t testing.TB) []byte {
	src, err := os.ReadFile("../../../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	old := "free:    {daily: 30,  weekly: 300, monthly: 0, connections: 500}"
	if !bytes.Contains(src, []byte(old)) {
		t.Fatal("policies.yaml: the free tier line changed; update testPolicy")
	}
	return bytes.Replace(src, []byte(old), []byte("free:    {daily: 5,  weekly: 8, monthly: 0, connections: 3}"), 1)
}

// server is a running `connrules serve`.
type server struct {
	t      testing.TB
	url    string
	cmd    *exec.Cmd
	dir    string
	policy string
	stderr *bytes.Buffer
	mu     sync.Mutex
	done   chan error
}

type syncBuf struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// start runs the binary with the test policy, the test keys and a manual
// clock, plus any extra flags.
func start(t testing.TB, extra ...string) *server {
	t.Helper()
	bin := buildBinary(t)
	dir := t.TempDir()
	pol := filepath.Join(dir, "policies.yaml")
	if err := os.WriteFile(pol, testPolicy(t), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("keys:\n  - {name: ops, scope: operator, hash: %q}\n  - {name: platform, scope: app, hash: %q}\ndecision_log: %s\n",
		HashKey(testOperatorKey), HashKey(testAppKey), filepath.Join(dir, "decisions.jsonl"))
	if err := os.WriteFile(filepath.Join(dir, "serve.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--policy", pol, "--config", filepath.Join(dir, "serve.yaml"),
		"--test-clock", testStart, "--watch-interval", "50ms"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CONNRULES_WASM_CACHE="+filepath.Join(os.TempDir(), "connrules-e2e-wasm-cache"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errBuf := &syncBuf{}
	cmd.Stderr = errBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, dir: dir, policy: pol, done: make(chan error, 1)}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { s.done <- cmd.Wait() }()
	re := regexp.MustCompile(`listening on (http://\S+)`)
	deadline := time.After(60 * time.Second)
	for s.url == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited before listening:\n%s", errBuf.String())
			}
			if m := re.FindStringSubmatch(l); m != nil {
				s.url = m[1]
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("serve did not start:\n%s", errBuf.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.stop()
		}
		if t.Failed() {
			t.Logf("serve stderr:\n%s", tail(errBuf.String(), 4000))
		}
	})
	return s
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("serve exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		s.t.Error("serve did not stop within 30s of SIGTERM")
	}
}

// resp is one HTTP answer.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// m is a JSON object, for reading answers loosely.
type m = map[string]any

var client = &http.Client{Timeout: 30 * time.Second}

// do sends a request with a key ("" for none) and a body (nil, []byte, a
// string or a value to encode), checks the answer against the OpenAPI
// document, and returns it.
func (s *server) do(method, path, key string, body any) resp {
	s.t.Helper()
	r, err := doReq(s.url, method, path, key, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := checkAgainstOpenAPI(method, path, r); err != nil {
		s.t.Errorf("%s %s -> %d: does not match openapi.json: %v\nbody: %s", method, path, r.status, err, r.body)
	}
	return r
}

func doReq(base, method, path, key string, body any) (resp, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return resp{}, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return resp{}, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hr, err := client.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer hr.Body.Close()
	b, err := io.ReadAll(hr.Body)
	if err != nil {
		return resp{}, err
	}
	if hr.Header.Get("X-Request-Id") == "" {
		return resp{}, fmt.Errorf("%s %s: no X-Request-Id", method, path)
	}
	return resp{status: hr.StatusCode, header: hr.Header, body: b}, nil
}

// The OpenAPI check: find the operation by method and path template, the
// response by status (else default), and validate the body.
var (
	apiOnce  sync.Once
	apiDoc   map[string]any
	apiComp  *jsonschema.Compiler
	apiErr   error
	apiMu    sync.Mutex
	apiCache = map[string]*jsonschema.Schema{}
)

var updateDoc = flag.Bool("update", false, "rewrite openapi.json")

func loadAPI() error {
	apiOnce.Do(func() {
		b, err := os.ReadFile("openapi.json")
		if err != nil {
			apiErr = err
			return
		}
		if err := json.Unmarshal(b, &apiDoc); err != nil {
			apiErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			apiErr = err
			return
		}
		apiComp = jsonschema.NewCompiler()
		apiErr = apiComp.AddResource("https://connrules.test/openapi.json", doc)
	})
	return apiErr
}

func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func checkAgainstOpenAPI(method, path string, r resp) error {
	if err := loadAPI(); err != nil {
		return err
	}
	path, _, _ = strings.Cut(path, "?")
	paths := apiDoc["paths"].(map[string]any)
	tmpl := ""
	for p := range paths {
		if pathMatches(p, path) && (tmpl == "" || strings.Count(p, "{") < strings.Count(tmpl, "{")) {
			if _, ok := paths[p].(map[string]any)[strings.ToLower(method)]; ok {
				tmpl = p
			}
		}
	}
	ct := r.header.Get("Content-Type")
	if tmpl == "" {
		if r.status == 404 || r.status == 405 {
			return nil // no such endpoint: nothing documented to match
		}
		return fmt.Errorf("no operation for %s %s", method, path)
	}
	op := paths[tmpl].(map[string]any)[strings.ToLower(method)].(map[string]any)
	resps := op["responses"].(map[string]any)
	code := fmt.Sprint(r.status)
	if _, ok := resps[code]; !ok {
		code = "default"
		if r.status < 400 {
			return fmt.Errorf("status %d is not documented", r.status)
		}
	}
	content, _ := resps[code].(map[string]any)["content"].(map[string]any)
	media, _, _ := strings.Cut(ct, ";")
	if _, ok := content[media]; !ok {
		return fmt.Errorf("content type %q is not documented for %d", ct, r.status)
	}
	if media != "application/json" && media != "application/problem+json" {
		return nil
	}
	loc := "https://connrules.test/openapi.json#/paths/" + pointerEscape(tmpl) + "/" + strings.ToLower(method) +
		"/responses/" + code + "/content/" + pointerEscape(media) + "/schema"
	apiMu.Lock()
	sch, ok := apiCache[loc]
	if !ok {
		var err error
		if sch, err = apiComp.Compile(loc); err != nil {
			apiMu.Unlock()
			return err
		}
		apiCache[loc] = sch
	}
	apiMu.Unlock()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.body))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}
