package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Error codes of the API's own errors. They are stable: clients match on
// them, not on the message. A refused or failing query carries the query
// translator's code instead (lakesql.CodeSyntax, CodeNotSelect, ...,
// CodeQuery), the same one `trailbook query` reports.
const (
	CodeBadRequest       = "bad-request"        // 400: a malformed body, an unknown field or query parameter, a bad value
	CodeBadParam         = "bad-param"          // 400: a gate param the gate does not have, or a required one missing
	CodeUnauthorized     = "unauthorized"       // 401: no bearer token, or one no configured token matches
	CodeForbidden        = "forbidden"          // 403: the token's role is too low for the endpoint
	CodeNotOwner         = "not-owner"          // 403: the gate names owners and the token's name is not one
	CodeNotFound         = "not-found"          // 404: no such endpoint, runbook, gate or tag history
	CodeMethodNotAllowed = "method-not-allowed" // 405: the endpoint exists for other methods (see Allow)
	CodeTooLarge         = "too-large"          // 413: the body is over the limit
	CodeRateLimited      = "rate-limited"       // 429: the token is over its rate; Retry-After says when to send again
	CodeInternal         = "internal"           // 500: the detail is in the server's log only
	CodeUnrecorded       = "unrecorded"         // 500: a gate was decided but the audit log refused the decision
	CodeTimeout          = "timeout"            // 503: the query ran past its timeout and was cancelled
	CodeNotReady         = "not-ready"          // 503: /readyz: the service cannot serve yet
	// CodeBusy is for Deps.Ingest to return, with status 503, when the
	// pipeline has no room for more events (backpressure): the response
	// says Retry-After: 1, and EventBridge and other senders retry.
	CodeBusy = "busy"
)

// Error is an API error: the HTTP status, a stable code and a message for
// people. Handlers, and Deps.Ingest and Deps.Reload, return an *Error for
// what the client did wrong; any other error becomes a 500 whose detail
// goes to the log only. Every error leaves as
//
//	{"error": {"code": "...", "message": "..."}}
//
// with line, col and offset added for an error placed in a query's text.
type Error struct {
	Status  int
	Code    string
	Message string
	// Line and Col (1-based) and Offset (0-based, in bytes) place an SQL
	// error in the query as the client wrote it; Line 0 means no place.
	Line, Col, Offset int
	// RetryAfter, for a 429, is when to send again, in whole seconds
	// rounded up, in the Retry-After header.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// errorf builds an *Error.
func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// errorBody is the one shape every error leaves in.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	Offset  *int   `json:"offset,omitempty"`
}

// writeError sends err in the error shape. An error that is not an *Error
// is logged and sent as a bare 500.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = errorf(http.StatusInternalServerError, CodeInternal, "internal error; the server's log has the detail")
	}
	d := errorDetail{Code: e.Code, Message: e.Message}
	if e.Line > 0 {
		d.Line, d.Col, d.Offset = e.Line, e.Col, &e.Offset
	}
	switch e.Status {
	case http.StatusUnauthorized:
		v := `Bearer realm="trailbook"`
		if r.Header.Get("Authorization") != "" {
			v += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", v)
	case http.StatusServiceUnavailable:
		if e.Code == CodeBusy {
			w.Header().Set("Retry-After", "1")
		}
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	case http.StatusForbidden:
		if e.Code == CodeForbidden {
			w.Header().Set("WWW-Authenticate", `Bearer realm="trailbook", error="insufficient_scope"`)
		}
	}
	writeJSON(w, e.Status, errorBody{d})
}

// writeJSON sends v as the response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own types are written: this is a bug, but the client
		// still gets the shape.
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error; the server's log has the detail"}}`)
	}
	writeRaw(w, status, append(b, '\n'))
}

// writeRaw sends b, a JSON document, as the response body with status.
func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	// Responses hold audit entries, events and tags: no cache keeps them.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}
