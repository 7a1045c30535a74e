package alert

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/action"
)

func TestWebhookRetriesThenDelivers(t *testing.T) {
	rc := newReceiver(t, statuses(500, 500))
	var sl sleeps
	logger, logs := testLogger()
	s := mustNew(t, []Channel{{Name: "hook", Type: TypeWebhook, URL: rc.URL + "/hook"}}, Options{Sleep: sl.sleep, Logger: logger})
	a := testAlert("hook")
	out, err := s.Execute(context.Background(), a)
	if err != nil || out.Status != action.StatusApplied {
		t.Fatalf("Execute: %+v, %v", out, err)
	}
	if out.Key != a.Key || out.Detail != "delivered to hook (3 attempts)" {
		t.Errorf("outcome %+v", out)
	}
	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.Method != http.MethodPost || r.Path != "/hook" {
			t.Errorf("request %d: %s %s", i, r.Method, r.Path)
		}
		if got := r.Header.Get("Idempotency-Key"); got != a.Key {
			t.Errorf("request %d: Idempotency-Key %q, want %q", i, got, a.Key)
		}
		if string(r.Body) != string(reqs[0].Body) {
			t.Errorf("request %d: body differs from the first", i)
		}
	}
	if got, want := sl.got(), []time.Duration{DefaultBackoff, 2 * DefaultBackoff}; !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	if n := strings.Count(logs.String(), `"msg":"alert delivery failed, will retry"`); n != 2 {
		t.Errorf("%d retry warnings logged, want 2:\n%s", n, logs)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	rc := newReceiver(t, statuses(503, 503, 503, 503, 503))
	var sl sleeps
	s := mustNew(t, []Channel{{Name: "hook", Type: TypeWebhook, URL: rc.URL, Retries: intp(2), Backoff: 100 * time.Millisecond}}, Options{Sleep: sl.sleep})
	out, err := s.Execute(context.Background(), testAlert("hook"))
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != action.StatusFailed || len(rc.requests()) != 3 {
		t.Fatalf("outcome %+v after %d requests, want failed after 3", out, len(rc.requests()))
	}
	want := "not delivered to hook: hook: " + rc.URL + " answered 503 Service Unavailable; gave up after 3 attempts"
	if out.Error != want {
		t.Errorf("error\n got %q\nwant %q", out.Error, want)
	}
	if got, want := sl.got(), []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}; !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
}

func TestWebhookNoRetryOn4xx(t *testing.T) {
	for _, code := range []int{400, 401, 403, 404, 410, 302} {
		rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			if code == 302 {
				w.Header().Set("Location", "/elsewhere")
			}
			w.WriteHeader(code)
			w.Write([]byte("invalid_payload\n"))
		})
		var sl sleeps
		s := mustNew(t, []Channel{{Name: "hook", Type: TypeWebhook, URL: rc.URL}}, Options{Sleep: sl.sleep})
		out, err := s.Execute(context.Background(), testAlert("hook"))
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != action.StatusFailed || len(rc.requests()) != 1 || len(sl.got()) != 0 {
			t.Errorf("%d: outcome %+v after %d requests and %d waits, want failed after 1 and none", code, out, len(rc.requests()), len(sl.got()))
		}
		if !strings.Contains(out.Error, http.StatusText(code)) || !strings.HasSuffix(out.Error, `: "invalid_payload"`) {
			t.Errorf("%d: error %q lacks the status and the answer", code, out.Error)
		}
	}
}

func TestWebhookRetryAfter(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.Header().Set("Retry-After", "120") // above the cap
			w.WriteHeader(http.StatusServiceUnavailable)
		case 3:
			w.Header().Set("Retry-After", time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)) // past
			w.WriteHeader(http.StatusServiceUnavailable)
		case 4:
			w.Header().Set("Retry-After", "soon") // unreadable: backoff
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	var sl sleeps
	s := mustNew(t, []Channel{{Name: "hook", Type: TypeWebhook, URL: rc.URL, Retries: intp(4), Backoff: 100 * time.Millisecond}}, Options{Sleep: sl.sleep})
	out, err := s.Execute(context.Background(), testAlert("hook"))
	if err != nil || out.Status != action.StatusApplied {
		t.Fatalf("Execute: %+v, %v", out, err)
	}
	want := []time.Duration{2 * time.Second, MaxBackoff, 0, 800 * time.Millisecond}
	if got := sl.got(); !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		h    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{" 7 ", 7 * time.Second, true},
		{"30", 30 * time.Second, true},
		{"31", MaxBackoff, true},
		{"99999999999999999", MaxBackoff, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"Sun, 01 Mar 2026 12:00:10 GMT", 10 * time.Second, true},
		{"Sunday, 01-Mar-26 12:00:05 GMT", 5 * time.Second, true},
		{"Sun Mar  1 12:00:20 2026", 20 * time.Second, true},
		{"Sun, 01 Mar 2026 13:00:00 GMT", MaxBackoff, true},
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0, true},
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.h, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.h, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBackoffCap(t *testing.T) {
	ch := &channel{backoff: 5 * time.Second}
	var got []time.Duration
	for attempt := 1; attempt <= 6; attempt++ {
		got = append(got, ch.wait(attempt, -1))
	}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, MaxBackoff, MaxBackoff, MaxBackoff}
	if !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	ch = &channel{backoff: time.Hour}
	if got := ch.wait(1, -1); got != MaxBackoff {
		t.Errorf("a backoff of 1h waits %v, want %v", got, MaxBackoff)
	}
}

// TestWebhookCancelMidBackoff uses the real sleep with a long backoff and
// cancels while it waits: the Sender stops at once, after one request.
func TestWebhookCancelMidBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	// Cancel once the Sender has logged that it will wait.
	logger := slog.New(onRecord{slog.NewTextHandler(io.Discard, nil), func(r slog.Record) {
		if r.Message == "alert delivery failed, will retry" {
			cancel()
		}
	}})
	s := mustNew(t, []Channel{
		{Name: "hook", Type: TypeWebhook, URL: rc.URL, Backoff: time.Hour},
		{Name: "audit", Type: TypeLog},
	}, Options{Logger: logger})
	done := make(chan struct{})
	var out action.Outcome
	var err error
	go func() {
		out, err = s.Execute(ctx, testAlert("hook", "audit"))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Execute did not return after cancel")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Execute error %v, want context.Canceled", err)
	}
	if out.Status != action.StatusFailed || len(rc.requests()) != 1 {
		t.Errorf("outcome %+v after %d requests, want failed after 1", out, len(rc.requests()))
	}
	for _, want := range []string{"not delivered to hook, audit: ", "stopped waiting to retry: context canceled", "audit: not tried: context canceled"} {
		if !strings.Contains(out.Error, want) {
			t.Errorf("error %q lacks %q", out.Error, want)
		}
	}
}

// onRecord is a slog.Handler that calls f with each record it handles.
type onRecord struct {
	slog.Handler
	f func(slog.Record)
}

func (h onRecord) Handle(ctx context.Context, r slog.Record) error {
	h.f(r)
	return h.Handler.Handle(ctx, r)
}

// TestWebhookCancelDuringRequest cancels while the receiver holds the
// request: no retry follows.
func TestWebhookCancelDuringRequest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc := newReceiver(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	})
	var sl sleeps
	s := mustNew(t, []Channel{{Name: "hook", Type: TypeWebhook, URL: rc.URL}}, Options{Sleep: sl.sleep})
	out, err := s.Execute(ctx, testAlert("hook"))
	if !errors.Is(err, context.Canceled) || out.Status != action.StatusFailed {
		t.Errorf("Execute: %+v, %v; want failed and context.Canceled", out, err)
	}
	if len(rc.requests()) != 1 || len(sl.got()) != 0 {
		t.Errorf("%d requests, %d waits; want 1 and none", len(rc.requests()), len(sl.got()))
	}
	if want := "not delivered to hook: hook: post to " + rc.URL + ": context canceled"; out.Error != want {
		t.Errorf("error %q, want %q", out.Error, want)
	}
}

// TestWebhookAttemptTimeout: an attempt with no answer within the timeout
// is retried.
func TestWebhookAttemptTimeout(t *testing.T) {
	rc := newReceiver(t, func(n int, _ http.ResponseWriter, r *http.Request) {
		if n == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	})
	var sl sleeps
	s := mustNew(t, []Channel{{Name: "hook", Type: TypeWebhook, URL: rc.URL, Timeout: 50 * time.Millisecond}}, Options{Sleep: sl.sleep})
	out, err := s.Execute(context.Background(), testAlert("hook"))
	if err != nil || out.Status != action.StatusApplied || len(rc.requests()) != 2 {
		t.Errorf("Execute: %+v, %v after %d requests; want applied after 2", out, err, len(rc.requests()))
	}
}

// TestWebhookNetworkError: a receiver that is not there is retried, and
// the error names only scheme://host.
func TestWebhookNetworkError(t *testing.T) {
	rc := newReceiver(t, nil)
	url := rc.URL + "/services/T0/B0/tokenSECRET"
	rc.Close()
	var sl sleeps
	s := mustNew(t, []Channel{{Name: "hook", Type: TypeWebhook, URL: url, Retries: intp(1)}}, Options{Sleep: sl.sleep})
	out, err := s.Execute(context.Background(), testAlert("hook"))
	if err != nil || out.Status != action.StatusFailed || len(sl.got()) != 1 {
		t.Fatalf("Execute: %+v, %v, %d waits; want failed after 2 attempts", out, err, len(sl.got()))
	}
	if !strings.HasPrefix(out.Error, "not delivered to hook: hook: post to "+rc.URL+": ") || strings.Contains(out.Error, "SECRET") {
		t.Errorf("error %q", out.Error)
	}
}

func TestWebhookHeaders(t *testing.T) {
	rc := newReceiver(t, nil)
	env := map[string]string{"HOOK_URL": rc.URL + "/in?token=abc123", "HOOK_AUTH": "Bearer s3cr3t-token"}
	s := mustNew(t, []Channel{{
		Name: "hook", Type: TypeWebhook, URLEnv: "HOOK_URL",
		Headers:    map[string]string{"X-Team": "secops", "User-Agent": "trailbook-prod"},
		HeadersEnv: map[string]string{"Authorization": "HOOK_AUTH"},
	}}, Options{Getenv: func(k string) string { return env[k] }})
	out, err := s.Execute(context.Background(), testAlert("hook"))
	if err != nil || out.Status != action.StatusApplied {
		t.Fatalf("Execute: %+v, %v", out, err)
	}
	r := rc.requests()[0]
	if r.Path != "/in?token=abc123" {
		t.Errorf("path %q", r.Path)
	}
	for h, want := range map[string]string{
		"Content-Type":    "application/json",
		"User-Agent":      "trailbook-prod",
		"X-Team":          "secops",
		"Authorization":   "Bearer s3cr3t-token",
		"Idempotency-Key": "s3-public-bucket/evt-1/0",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("header %s: %q, want %q", h, got, want)
		}
	}
}
