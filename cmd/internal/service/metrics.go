package service

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the service's Prometheus series, on a registry of its own.
type metrics struct {
	reg       *prometheus.Registry
	decisions *prometheus.CounterVec
	decideDur *prometheus.HistogramVec
	httpDur   *prometheus.HistogramVec
	reloads   *prometheus.CounterVec
	storeErrs *prometheus.CounterVec
	inFlight  prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connrules_decisions_total",
			Help: "Decisions by stage, outcome and reason (the operator's view).",
		}, []string{"stage", "outcome", "reason"}),
		decideDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "connrules_decision_duration_seconds",
			Help:    "Time to decide one request in the engine.",
			Buckets: []float64{5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 0.025, 0.1},
		}, []string{"engine"}),
		httpDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "connrules_http_request_duration_seconds",
			Help:    "HTTP requests by route and status code.",
			Buckets: []float64{1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.1, 0.5, 2.5},
		}, []string{"route", "code"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connrules_policy_reloads_total",
			Help: "Policy loads by result (ok or error).",
		}, []string{"result"}),
		storeErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connrules_store_errors_total",
			Help: "Store failures by route.",
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "connrules_http_in_flight_requests",
			Help: "Requests being served.",
		}),
	}
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	m.reg.MustRegister(m.decisions, m.decideDur, m.httpDur, m.reloads, m.storeErrs, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
