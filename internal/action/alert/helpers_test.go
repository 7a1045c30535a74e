package alert

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/action"
)

// request is what a receiver got.
type request struct {
	Method string
	Path   string // with the query
	Header http.Header
	Body   []byte
}

// receiver is a real HTTP server on 127.0.0.1 that records requests and
// answers the n-th (from 1) with respond.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []request
	respond func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, request{r.Method, r.URL.RequestURI(), r.Header.Clone(), body})
		n := len(rc.reqs)
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(n, w, r)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

// statuses answers the n-th request with codes[n-1], then 200.
func statuses(codes ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= len(codes) {
			w.WriteHeader(codes[n-1])
		}
	}
}

// sleeps records the waits a Sender asks for without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// testAlert is an alert action sent to the channels named.
func testAlert(to ...string) action.Action {
	return action.Action{
		Key:     action.Key("s3-public-bucket", "evt-1", 0),
		Runbook: "s3-public-bucket",
		Index:   0,
		Kind:    action.KindAlert,
		Alert: &action.Alert{
			Severity: "high",
			Title:    "Bucket made public",
			Text:     "Bucket logs-archive got a public policy.\nBy alice.",
			To:       to,
			Fields: map[string]any{
				"bucket":    "logs-archive",
				"principal": "arn:aws:iam::123456789012:user/alice",
			},
		},
	}
}

// testLogger logs JSON lines into a buffer.
func testLogger() (*slog.Logger, *bytes.Buffer) {
	var b bytes.Buffer
	return slog.New(slog.NewJSONHandler(&b, nil)), &b
}

func mustNew(t *testing.T, channels []Channel, opts Options) *Sender {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := New(channels, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}
