package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"
)

type ctxKey int

const (
	ridKey ctxKey = iota
	logKey
	statusKey
)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(ridKey).(string)
	return id
}

// loggerFrom returns the request's logger, which adds its request id to
// every line. It is made on first use: most requests log one line only.
func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(logKey).(*lazyLogger); ok {
		if l.l == nil {
			l.l = l.base.With("request_id", l.rid)
		}
		return l.l
	}
	return slog.Default()
}

type lazyLogger struct {
	base *slog.Logger
	rid  string
	l    *slog.Logger
}

// reqState is what the access log learns from the handler.
type reqState struct {
	status atomic.Int64
	key    atomic.Pointer[string]
}

func state(ctx context.Context) *reqState {
	st, _ := ctx.Value(statusKey).(*reqState)
	if st == nil {
		st = new(reqState)
	}
	return st
}

func setStatus(ctx context.Context, code int) { state(ctx).status.Store(int64(code)) }

// validRequestID accepts a caller's X-Request-Id if it is short and plain,
// so it can go into logs and headers as it is.
func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// wrap adds, around a route's handler: the request id, the body limit, the
// per-request timeout, the in-flight gauge, the access log, the latency
// histogram, and panic recovery into a fail-closed 503.
func (s *Server) wrap(rt *route, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rid := r.Header.Get("X-Request-Id")
		if !validRequestID(rid) {
			rid = newRequestID()
		}
		w.Header().Set("X-Request-Id", rid)
		ll := &lazyLogger{base: s.log, rid: rid}
		st := new(reqState)
		status := &st.status
		ctx := context.WithValue(r.Context(), ridKey, rid)
		ctx = context.WithValue(ctx, logKey, ll)
		ctx = context.WithValue(ctx, statusKey, st)
		ctx, cancel := withTimeout(ctx, s.cfg.HandlerTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		s.met.inFlight.Inc()
		defer s.met.inFlight.Dec()
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				loggerFrom(ctx).Error("panic", "route", rt.op, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				status.Store(int64(writeProblem(w, r, fmt.Errorf("panic: %v", p))))
			}
			code := int(status.Load())
			d := time.Since(start)
			s.met.httpDur.WithLabelValues(rt.op, strconv.Itoa(code)).Observe(d.Seconds())
			s.log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("request_id", rid), slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.String("route", rt.op), slog.Int("status", code),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.String("key", keyName(st)))
		}()
		h.ServeHTTP(w, r)
	})
}

func keyName(st *reqState) string {
	if p := st.key.Load(); p != nil {
		return *p
	}
	return ""
}
