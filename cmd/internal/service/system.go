package service

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Health is the liveness and readiness answer.
type Health struct {
	Status string `json:"status"`
	// Policy is the loaded policy's content hash (readiness only).
	Policy string `json:"policy,omitempty"`
}

// ClockInput moves the test clock: by Advance (a Go duration such as
// "24h") or to Set.
type ClockInput struct {
	Advance string    `json:"advance,omitempty"`
	Set     time.Time `json:"set,omitzero"`
}

// ClockView is the service's time.
type ClockView struct {
	Now time.Time `json:"now"`
}

func (s *Server) systemRoutes() []*route {
	return []*route{
		{method: "GET", path: "/healthz", op: "healthz", access: public, summary: "Liveness: the process serves HTTP.",
			out: []response{{200, "Alive.", []any{Health{}}}}, serve: func(*call) (int, any, error) {
				return http.StatusOK, Health{Status: "ok"}, nil
			}},
		{method: "GET", path: "/readyz", op: "readyz", access: public, summary: "Readiness: a policy is loaded and the service is not shutting down.",
			out: []response{{200, "Ready.", []any{Health{}}}}, serve: s.ready},
		{method: "GET", path: "/openapi.json", op: "openapi", access: public, raw: true, summary: "This document.",
			out: []response{{200, "The OpenAPI 3.1 document.", nil}}, serve: s.serveOpenAPI},
		{method: "GET", path: "/metrics", op: "metrics", access: operator, raw: true, summary: "Prometheus metrics.",
			out: []response{{200, "Metrics in the Prometheus text format.", nil}}, serve: s.serveMetrics},
		{method: "GET", path: "/v1/policy", op: "policy_status", access: operator,
			summary: "The policy in force: name, content hash, load time, and the last load error.",
			out:     []response{{200, "The status.", []any{PolicyStatus{}}}}, serve: func(*call) (int, any, error) {
				return http.StatusOK, s.pol.status(), nil
			}},
		{method: "POST", path: "/v1/clock", op: "clock", access: operator, in: ClockInput{},
			summary: "Move the service's clock. Only when started with --test-clock; 404 otherwise.",
			out:     []response{{200, "The new time.", []any{ClockView{}}}}, serve: s.moveClock},
	}
}

func (s *Server) ready(c *call) (int, any, error) {
	if s.draining.Load() {
		return 0, nil, unavailable("shutting down")
	}
	return http.StatusOK, Health{Status: "ready", Policy: c.g.hash}, nil
}

func (s *Server) serveOpenAPI(c *call) (int, any, error) {
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(s.openapi)
	return http.StatusOK, nil, nil
}

func (s *Server) serveMetrics(c *call) (int, any, error) {
	promhttp.HandlerFor(s.met.reg, promhttp.HandlerOpts{}).ServeHTTP(c.w, c.r)
	return http.StatusOK, nil, nil
}

func (s *Server) moveClock(c *call) (int, any, error) {
	if s.manual == nil {
		return 0, nil, notFound("the clock can be moved only when the service runs with --test-clock")
	}
	in := c.body.(*ClockInput)
	switch {
	case in.Advance != "":
		d, err := time.ParseDuration(in.Advance)
		if err != nil || d < 0 {
			return 0, nil, badRequest("advance", "a non-negative Go duration such as 24h")
		}
		s.manual.Advance(d)
	case !in.Set.IsZero():
		s.manual.Set(in.Set)
	default:
		return 0, nil, badRequest("advance", "give advance or set")
	}
	return http.StatusOK, ClockView{Now: s.manual.Now()}, nil
}
