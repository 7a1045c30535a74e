// Package server is Trailbook's HTTP API: CloudTrail Lake SQL over the
// store, the runbooks and their runs, the audit log, gates, the tag
// inventory and event intake, behind bearer tokens with roles. Every
// error leaves in one JSON shape (see Error). docs/api.md describes the
// API for people and docs/openapi.yaml for programs; a test keeps the
// latter and the routes served in step.
//
// The server owns nothing it is given: the daemon opens the store, the
// audit log and the gate checker, and closes them after the server has
// stopped.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/trailbook/trailbook/internal/gate"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/store"
)

// Defaults of Deps' limits.
const (
	DefaultQueryTimeout = 30 * time.Second
	DefaultMaxRows      = 10000
	DefaultMaxBody      = 8 << 20
	DefaultMaxQueries   = 2
)

// maxJSONBody bounds the bodies of the endpoints other than /v1/events.
const maxJSONBody = 1 << 20

// Deps is what the API serves from. Store, Runbooks, Checker and
// AuditPath are required; the zero value of every limit is its default.
type Deps struct {
	// Store is the open read-write store. Queries run on connections of
	// its pool (DuckDB lets one process open the file), prepared with
	// query.Prelude; the store is opened with external access off, and
	// the translator lets only SELECTs over the store's tables through.
	Store *store.Store
	// Runbooks returns the set in force; a reload swaps it. Nil, or a nil
	// set, serves no runbooks and no gates.
	Runbooks func() *runbook.Set
	// Checker checks, overrides and reopens gates, appending to the audit
	// log.
	Checker *gate.Checker
	// AuditPath is the audit log file that /v1/audit/verify reads
	// (audit.DefaultPath of the store's path).
	AuditPath string
	// Tokens are the bearer tokens accepted. None: every endpoint but
	// /healthz and /readyz answers 401.
	Tokens []Token

	// Ingest, when set, is handed the body of each POST /v1/events (at
	// most MaxBody bytes) and returns what to answer, as JSON. It returns
	// an *Error for a body it refuses; any other error is a 500. Nil: the
	// endpoint is not served.
	Ingest func(ctx context.Context, body []byte) (any, error)
	// Reload, when set, reloads the runbooks for POST /v1/reload (admin)
	// and returns what to answer, as JSON; an *Error when the new files
	// are refused (the old set stays). Nil: the endpoint is not served.
	Reload func(ctx context.Context) (any, error)
	// Metrics, when set, is served at GET /metrics to reader tokens.
	Metrics http.Handler
	// Ready reports whether the service can serve (/readyz); nil means
	// always.
	Ready func() error

	// QueryTimeout bounds each /v1/query, waiting for a turn included.
	QueryTimeout time.Duration
	// MaxRows caps the rows /v1/query returns; a request may ask for
	// fewer.
	MaxRows int
	// MaxBody bounds the body of POST /v1/events, in bytes.
	MaxBody int64
	// MaxQueries is how many /v1/query requests run at once; the others
	// wait their turn.
	MaxQueries int

	// Logger receives one line per request (method, path, status,
	// duration, token name) and the detail of every 500. Nil: none.
	Logger *slog.Logger
}

// Server is the API's http.Handler. It is safe for concurrent use.
type Server struct {
	deps     Deps
	log      *slog.Logger
	tokens   tokenSet
	mux      *http.ServeMux
	queries  chan struct{} // a slot per query that may run
	prepared preparedConns
}

var _ http.Handler = (*Server)(nil)

// New checks d, fills in its defaults and returns the API. It reports
// every problem of d at once.
func New(d Deps) (*Server, error) {
	var errs []error
	if d.Store == nil {
		errs = append(errs, errors.New("no store"))
	}
	if d.Checker == nil {
		errs = append(errs, errors.New("no gate checker"))
	}
	if d.AuditPath == "" {
		errs = append(errs, errors.New("no audit log path"))
	}
	if d.QueryTimeout < 0 || d.MaxRows < 0 || d.MaxBody < 0 || d.MaxQueries < 0 {
		errs = append(errs, errors.New("a negative limit"))
	}
	tokens, terrs := newTokenSet(d.Tokens)
	errs = append(errs, terrs...)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("http api: %w", err)
	}
	if d.Runbooks == nil {
		d.Runbooks = func() *runbook.Set { return nil }
	}
	if d.Ready == nil {
		d.Ready = func() error { return nil }
	}
	if d.QueryTimeout == 0 {
		d.QueryTimeout = DefaultQueryTimeout
	}
	if d.MaxRows == 0 {
		d.MaxRows = DefaultMaxRows
	}
	if d.MaxBody == 0 {
		d.MaxBody = DefaultMaxBody
	}
	if d.MaxQueries == 0 {
		d.MaxQueries = DefaultMaxQueries
	}
	s := &Server{deps: d, log: d.Logger, tokens: tokens, mux: http.NewServeMux(), queries: make(chan struct{}, d.MaxQueries)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, s.endpoint(rt))
	}
	return s, nil
}

// handler is an endpoint's work: it writes a response, or returns the
// error to send (an *Error, or anything else for a 500). t is the
// caller's token, nil on the endpoints that need none.
type handler func(w http.ResponseWriter, r *http.Request, t *Token) error

// route is one endpoint: a ServeMux pattern with its method, the role it
// needs (0: no token) and its handler.
type route struct {
	pattern string
	role    Role
	h       handler
}

func (s *Server) routes() []route {
	rs := []route{
		{"GET /healthz", 0, s.healthz},
		{"GET /readyz", 0, s.readyz},
		{"POST /v1/query", Reader, s.query},
		{"GET /v1/runbooks", Reader, s.runbooks},
		{"GET /v1/runs", Reader, s.runs},
		{"GET /v1/audit", Reader, s.auditEntries},
		{"GET /v1/audit/verify", Reader, s.auditVerify},
		{"GET /v1/gates", Reader, s.gates},
		{"GET /v1/gates/{name}", Reader, s.gateCheck},
		{"POST /v1/gates/{name}/override", Operator, s.gateOverride},
		{"POST /v1/gates/{name}/reopen", Operator, s.gateReopen},
		{"GET /v1/tags/{arn...}", Reader, s.tags},
	}
	if s.deps.Ingest != nil {
		rs = append(rs, route{"POST /v1/events", Ingest, s.events})
	}
	if s.deps.Reload != nil {
		rs = append(rs, route{"POST /v1/reload", Admin, s.reload})
	}
	if s.deps.Metrics != nil {
		rs = append(rs, route{"GET /metrics", Reader, s.metrics})
	}
	return rs
}

// endpoint wraps rt's handler with its authentication.
func (s *Server) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var t *Token
		if rt.role != 0 {
			var err error
			t, err = s.tokens.authenticate(r, rt.role)
			if t != nil {
				if rec, ok := r.Context().Value(recordKey{}).(*record); ok {
					rec.token = t.Name
				}
			}
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if t.limit != nil {
				if ok, wait := t.limit.take(time.Now()); !ok {
					e := errorf(http.StatusTooManyRequests, CodeRateLimited, "token %s is over its rate of %g requests a second", t.Name, t.Rate)
					e.RetryAfter = wait
					s.writeError(w, r, e)
					return
				}
			}
		}
		if err := rt.h(w, r, t); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// recordKey is the context key of a request's *record.
type recordKey struct{}

// record is what the request log line says beyond the request itself.
type record struct {
	token string
}

// ServeHTTP serves r and logs it. A path no route serves, or serves for
// other methods, gets a 404 or 405 in the error shape.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &record{}
	sw := &statusWriter{ResponseWriter: w}
	r = r.WithContext(context.WithValue(r.Context(), recordKey{}, rec))
	// The mux sets the path's wildcards only when it serves r itself.
	if h, pattern := s.mux.Handler(r); pattern == "" {
		s.unrouted(h).ServeHTTP(sw, r)
	} else {
		s.mux.ServeHTTP(sw, r)
	}
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	// The path only: a query string is the client's to keep.
	attrs := []any{"method", r.Method, "path", r.URL.Path, "status", sw.status, "bytes", sw.bytes,
		"duration", time.Since(start)}
	if rec.token != "" {
		attrs = append(attrs, "token", rec.token)
	}
	s.log.InfoContext(r.Context(), "request", attrs...)
}

// unrouted turns the mux's own answer for a request no route serves (a
// plain-text 404 or 405, or a redirect to a cleaned path) into one in the
// error shape.
func (s *Server) unrouted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &capture{header: http.Header{}}
		h.ServeHTTP(c, r)
		switch c.status {
		case http.StatusNotFound:
			s.writeError(w, r, errorf(http.StatusNotFound, CodeNotFound, "no endpoint %s", r.URL.Path))
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", c.header.Get("Allow"))
			s.writeError(w, r, errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "%s does not take %s; it takes %s", r.URL.Path, r.Method, c.header.Get("Allow")))
		default:
			for k, v := range c.header {
				if k != "Content-Type" && k != "Content-Length" {
					w.Header()[k] = v
				}
			}
			w.WriteHeader(c.status)
		}
	})
}

// capture keeps a response's header and status and drops its body.
type capture struct {
	header http.Header
	status int
}

func (c *capture) Header() http.Header { return c.header }
func (c *capture) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return len(b), nil
}
func (c *capture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

// statusWriter notes the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ *Token) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ *Token) error {
	if err := s.deps.Ready(); err != nil {
		return errorf(http.StatusServiceUnavailable, CodeNotReady, "not ready: %v", err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request, _ *Token) error {
	s.deps.Metrics.ServeHTTP(w, r)
	return nil
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request, _ *Token) error {
	if err := noParams(r); err != nil {
		return err
	}
	res, err := s.deps.Reload(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, orEmpty(res))
	return nil
}

// orEmpty is v, or an empty object for nil.
func orEmpty(v any) any {
	if v == nil {
		return struct{}{}
	}
	return v
}

// set is the runbook set in force, never nil.
func (s *Server) set() *runbook.Set {
	if set := s.deps.Runbooks(); set != nil {
		return set
	}
	return &runbook.Set{}
}
