package service

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Problem is an RFC 9457 problem detail. Field names the JSON path (or
// query parameter) at fault when there is one.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Field     string `json:"field,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id"`
}

// apiError is an error a handler returns to answer with a problem.
type apiError struct {
	status int
	title  string
	field  string
	detail string
	// retry, when set, adds a Retry-After header (seconds).
	retry int
}

func (e *apiError) Error() string { return e.title + ": " + e.detail }

func badRequest(field, detail string) error {
	return &apiError{status: http.StatusBadRequest, title: "Bad request", field: field, detail: detail}
}

func notFound(detail string) error {
	return &apiError{status: http.StatusNotFound, title: "Not found", detail: detail}
}

func conflict(detail string) error {
	return &apiError{status: http.StatusConflict, title: "Conflict", detail: detail}
}

// unavailable is the fail-closed answer: nothing was allowed or changed
// that the caller should rely on, and they may retry.
func unavailable(detail string) error {
	return &apiError{status: http.StatusServiceUnavailable, title: "Service unavailable", detail: detail, retry: 30}
}

var (
	errUnauthorized = &apiError{status: http.StatusUnauthorized, title: "Unauthorized",
		detail: "send an API key in the header Authorization: Bearer KEY"}
	errForbidden = &apiError{status: http.StatusForbidden, title: "Forbidden",
		detail: "this key's scope does not allow this endpoint"}
)

// problemType is the type URI of a status: the API has no per-error pages,
// so the status is the type.
func problemType(status int) string {
	return "https://connrules.dev/problems/" + strconv.Itoa(status)
}

// writeProblem answers err as problem+json. Errors that are not an
// *apiError are internal: their text is logged, never sent.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) int {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusServiceUnavailable, title: "Service unavailable",
			detail: "the request could not be completed; nothing was decided", retry: 30}
	}
	p := Problem{Type: problemType(ae.status), Title: ae.title, Status: ae.status, Detail: ae.detail,
		Field: ae.field, Instance: r.URL.Path, RequestID: requestID(r.Context())}
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="connrules"`)
	}
	if ae.retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.retry))
	}
	b, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(ae.status)
	_, _ = w.Write(append(b, '\n'))
	return ae.status
}
