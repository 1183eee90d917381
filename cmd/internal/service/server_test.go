package service

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
)

// TestPanicFailsClosed: a handler that panics answers a 503 problem with
// Retry-After and the request id; nothing is allowed.
func TestPanicFailsClosed(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := &route{op: "boom"}
	h := s.wrap(rt, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/v1/decide", strings.NewReader("{}")))
	if w.Code != 503 || w.Header().Get("Retry-After") != "30" || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	if strings.Contains(w.Body.String(), "boom") || strings.Contains(w.Body.String(), "allow") {
		t.Fatalf("the panic leaks or allows: %s", w.Body)
	}
}

type closeCounter struct {
	Store
	closed atomic.Int32
}

func (c *closeCounter) Close() error { c.closed.Add(1); return nil }

// TestGracefulShutdown: cancelling Serve's context lets an in-flight
// request finish, then closes the store.
func TestGracefulShutdown(t *testing.T) {
	st, _ := OpenStore(context.Background(), "memory:")
	cc := &closeCounter{Store: st}
	s := newTestServer(t, Config{Store: cc})
	started := make(chan struct{})
	s.mux.Handle("GET /slow", s.wrap(&route{op: "slow"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		_, _ = io.WriteString(w, "done")
	})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, 5*time.Second) }()
	got := make(chan string, 1)
	go func() {
		r, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}()
	<-started
	cancel()
	if body := <-got; body != "done" {
		t.Fatalf("in-flight request: %q", body)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if cc.closed.Load() != 1 {
		t.Fatalf("store closed %d times", cc.closed.Load())
	}
}

// TestLoopbackDefaults: the default store and clock work in process.
func TestLoopbackDefaults(t *testing.T) {
	s := newTestServer(t, Config{Clock: lifecycle.NewManualClock(time.Now())})
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"ready"`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}
