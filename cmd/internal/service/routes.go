package service

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"time"
)

// access says who may call a route.
type access int

const (
	public   access = iota // no key: health, readiness, the OpenAPI document
	app                    // an app or an operator key
	operator               // an operator key only
)

// param is a query parameter, for the OpenAPI document.
type param struct {
	name, desc string
	integer    bool
}

// response is one documented answer of a route. Several bodies for one
// status (the operator's and the app's view) are documented as anyOf.
type response struct {
	status int
	desc   string
	bodies []any
}

// route is one endpoint. Handlers are registered only through routes, and
// the OpenAPI document is generated from the same table: one source of truth.
type route struct {
	method, path string
	op, summary  string
	access       access
	in           any // a sample of the request body type; nil for none
	query        []param
	out          []response
	raw          bool // serves its own content type (metrics, openapi)
	// decode, when set, replaces the generic strict decoding of the body.
	decode func(data []byte) (any, error)
	serve  func(c *call) (int, any, error)
}

// call is one request as a handler sees it.
type call struct {
	ctx context.Context
	w   http.ResponseWriter
	r   *http.Request
	s   *Server
	g   *generation
	id  identity
	rt  *route
	// body is the decoded request body (a pointer to the route's in type).
	body any
}

// logger is the request's logger: every line carries the request id.
func (c *call) logger() *slog.Logger { return loggerFrom(c.ctx) }

// operator reports whether the caller may see the operator's view.
func (c *call) operator() bool { return c.id.operator() }

// queryInt reads an integer query parameter within [lo, hi].
func (c *call) queryInt(name string, def, lo, hi int) (int, error) {
	s := c.r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badRequest(name, "must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
	return n, nil
}

// handle returns the http.Handler of one route: authentication, the
// body's strict decoding, the handler, and the answer as JSON or a problem.
func (s *Server) handle(rt *route) http.Handler {
	var inType reflect.Type
	if rt.in != nil {
		inType = reflect.TypeOf(rt.in)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{ctx: r.Context(), w: w, r: r, s: s, rt: rt}
		status, err := s.serveCall(c, inType)
		if err != nil {
			status = writeProblem(w, r, err)
			var ae *apiError
			if !errors.As(err, &ae) || ae.status >= 500 {
				c.logger().Error("request failed", "route", rt.op, "error", err)
			}
		}
		setStatus(r.Context(), status)
	})
}

func (s *Server) serveCall(c *call, inType reflect.Type) (int, error) {
	if c.rt.access != public {
		id, ok := s.keys.authenticate(c.r)
		if !ok {
			return 0, errUnauthorized
		}
		if c.rt.access == operator && !id.operator() {
			return 0, errForbidden
		}
		c.id = id
		state(c.ctx).key.Store(&id.name)
		c.ctx = withIdentity(c.ctx, id)
	}
	c.g = s.pol.cur.Load()
	if c.g == nil {
		return 0, unavailable(errNoPolicy.Error())
	}
	if inType != nil {
		data, err := io.ReadAll(c.r.Body)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return 0, &apiError{status: http.StatusRequestEntityTooLarge, title: "Request body too large",
					detail: "the body is over " + strconv.FormatInt(mbe.Limit, 10) + " bytes"}
			}
			return 0, badRequest("", "reading the body: "+err.Error())
		}
		if c.rt.decode != nil {
			if c.body, err = c.rt.decode(data); err != nil {
				return 0, err
			}
		} else {
			v := reflect.New(inType)
			if err := decodeStrict(data, v.Interface()); err != nil {
				return 0, err
			}
			c.body = v.Interface()
		}
	}
	status, out, err := c.rt.serve(c)
	if err != nil || c.rt.raw {
		return status, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return 0, err
	}
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(status)
	_, _ = c.w.Write(append(b, '\n'))
	return status, nil
}

// routes is the service's table: every endpoint is registered from it.
func (s *Server) routes() []*route {
	var rts []*route
	rts = append(rts, s.systemRoutes()...)
	rts = append(rts, s.decideRoutes()...)
	rts = append(rts, s.memberRoutes()...)
	rts = append(rts, s.invitationRoutes()...)
	return rts
}

// withTimeout bounds a handler's work; the server's write timeout bounds
// the rest.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}
