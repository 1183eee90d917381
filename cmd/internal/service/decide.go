package service

import (
	"net/http"
	"strconv"
	"time"

	"github.com/connrules/connrules/rules"
)

// maxBatch bounds the requests of one batch.
const maxBatch = 1000

func (s *Server) decideRoutes() []*route {
	views := []any{rules.Decision{}, rules.PublicDecision{}}
	return []*route{
		{method: "POST", path: "/v1/decide", op: "decide", access: app, in: rules.Request{}, decode: decodeFacts,
			summary: "Decide one request. Operator keys get the engine's Decision; app keys its public view (Policy.Public).",
			out:     []response{{200, "The decision.", views}}, serve: s.decide(false)},
		{method: "POST", path: "/v1/decide/batch", op: "decide_batch", access: app, in: []rules.Request{},
			summary: "Decide up to 1000 requests, in order.",
			out:     []response{{200, "One decision per request, in order.", []any{[]rules.Decision{}, []rules.PublicDecision{}}}}, serve: s.decideBatch},
		{method: "POST", path: "/v1/explain", op: "explain", access: operator, in: rules.Request{}, decode: decodeFacts,
			summary: "Decide one request with a trace of every rule of its stage.",
			out:     []response{{200, "The decision with its trace.", []any{rules.Decision{}}}}, serve: s.decide(true)},
	}
}

// decodeFacts decodes facts with the engine's fast decoder, which is as
// strict as decodeStrict; only a body it refuses is decoded again, for the
// error's JSON path.
func decodeFacts(data []byte) (any, error) {
	req, err := rules.DecodeRequestFast(data)
	if err == nil {
		return req, nil
	}
	req = new(rules.Request)
	if serr := decodeStrict(data, req); serr != nil {
		return nil, serr
	}
	if verr := validate(req, ""); verr != nil {
		return nil, verr
	}
	return nil, badRequest("", err.Error())
}

// validate checks decoded facts as the engine does, naming the field.
func validate(req *rules.Request, prefix string) error {
	if err := req.Validate(); err != nil {
		if fe, ok := err.(*rules.FactsError); ok {
			return badRequest(join(prefix, fe.Field), fe.Msg)
		}
		return badRequest(prefix, err.Error())
	}
	return nil
}

func (s *Server) decide(explain bool) func(c *call) (int, any, error) {
	return func(c *call) (int, any, error) {
		// decodeFacts has validated the facts already.
		req := c.body.(*rules.Request)
		d, err := s.decideOne(c, req, explain)
		if err != nil {
			return 0, nil, err
		}
		if c.operator() {
			return http.StatusOK, d, nil
		}
		return http.StatusOK, c.g.pol.Public(d), nil
	}
}

func (s *Server) decideBatch(c *call) (int, any, error) {
	reqs := *c.body.(*[]rules.Request)
	if len(reqs) > maxBatch {
		return 0, nil, badRequest("", "a batch holds at most "+strconv.Itoa(maxBatch)+" requests, got "+strconv.Itoa(len(reqs)))
	}
	for i := range reqs {
		if err := validate(&reqs[i], "["+strconv.Itoa(i)+"]"); err != nil {
			return 0, nil, err
		}
	}
	full := make([]rules.Decision, len(reqs))
	for i := range reqs {
		d, err := s.decideOne(c, &reqs[i], false)
		if err != nil {
			return 0, nil, err
		}
		full[i] = d
	}
	if c.operator() {
		return http.StatusOK, full, nil
	}
	pub := make([]rules.PublicDecision, len(full))
	for i, d := range full {
		pub[i] = c.g.pol.Public(d)
	}
	return http.StatusOK, pub, nil
}

// decideOne decides on the generation's engine and records the decision
// in the metrics and the decision log. An engine failure is a 503: the
// caller gets no decision rather than a wrong one.
func (s *Server) decideOne(c *call, req *rules.Request, explain bool) (rules.Decision, error) {
	start := time.Now()
	d, err := c.g.dec.decide(c.ctx, req, explain)
	s.met.decideDur.WithLabelValues(s.cfg.Engine).Observe(time.Since(start).Seconds())
	if err != nil {
		c.logger().Error("engine failed", "error", err)
		return d, unavailable("the engine could not decide; nothing was allowed")
	}
	s.record(c, req, d, "")
	return d, nil
}

// record counts a decision and writes it to the decision log.
func (s *Server) record(c *call, req *rules.Request, d rules.Decision, email string) {
	stage := ""
	if req != nil {
		stage = req.Stage
	}
	s.met.decisions.WithLabelValues(stage, d.Outcome, d.Reason).Inc()
	s.dlog.write(DecisionRecord{Time: s.clock.Now(), RequestID: requestID(c.ctx), Route: c.rt.op,
		PolicyHash: c.g.hash, Email: email, Facts: req, Decision: d})
}
