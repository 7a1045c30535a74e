package alert

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/trailbook/trailbook/internal/action"
)

// TestRedaction drives every failure path that could show a secret (an
// answer echoing the URL and headers, a missing receiver, retries logged)
// and checks that no URL path or query, header value or environment value
// reaches the outcome, the returned error or the log.
func TestRedaction(t *testing.T) {
	const (
		pathSecret  = "T0PATHSECRET/B0/xoxbPATHTOKEN"
		querySecret = "QUERYSECRET"
		authSecret  = "Bearer AUTHSECRET"
		literalHdr  = "LITERALHEADERSECRET"
	)
	secrets := []string{"PATHSECRET", "PATHTOKEN", querySecret, "AUTHSECRET", literalHdr}

	echo := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		// A receiver that quotes the request back, as some do.
		w.Write([]byte("bad request " + r.URL.String() + " auth=" + r.Header.Get("Authorization") + " key=" + r.Header.Get("X-Api-Key")))
	})
	gone := newReceiver(t, nil)
	gone.Close()

	env := map[string]string{
		"ECHO_URL":  echo.URL + "/" + pathSecret + "?token=" + querySecret,
		"GONE_URL":  gone.URL + "/" + pathSecret,
		"SLACK_URL": echo.URL + "/services/" + pathSecret,
		"AUTH":      authSecret,
	}
	logger, logs := testLogger()
	var sl sleeps
	s := mustNew(t, []Channel{
		{Name: "echo", Type: TypeWebhook, URLEnv: "ECHO_URL", HeadersEnv: map[string]string{"Authorization": "AUTH"}, Headers: map[string]string{"X-Api-Key": literalHdr}, Retries: intp(1)},
		{Name: "gone", Type: TypeWebhook, URLEnv: "GONE_URL", Retries: intp(1)},
		{Name: "chat", Type: TypeSlack, URLEnv: "SLACK_URL", Retries: intp(0)},
	}, Options{Getenv: func(k string) string { return env[k] }, Logger: logger, Sleep: sl.sleep})

	out, err := s.Execute(context.Background(), testAlert("echo", "gone", "chat"))
	if err != nil || out.Status != action.StatusFailed {
		t.Fatalf("Execute: %+v, %v", out, err)
	}
	if len(echo.requests()) != 3 {
		t.Fatalf("%d requests to the echoing receiver, want 3", len(echo.requests()))
	}
	for _, where := range []struct{ name, text string }{{"outcome error", out.Error}, {"outcome detail", out.Detail}, {"log", logs.String()}} {
		for _, secret := range secrets {
			if strings.Contains(where.text, secret) {
				t.Errorf("%s shows %s:\n%s", where.name, secret, where.text)
			}
		}
	}
	// What may be shown is shown.
	for _, want := range []string{
		"echo: " + echo.URL + " answered 500 Internal Server Error",
		"[redacted]",
		"gone: post to " + gone.URL + ": ",
		"chat: " + echo.URL + " answered 500 Internal Server Error: \"bad request [redacted] auth= key=\"",
	} {
		if !strings.Contains(out.Error, want) {
			t.Errorf("outcome error lacks %q:\n%s", want, out.Error)
		}
	}
}

func TestOrigin(t *testing.T) {
	for u, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/X": "https://hooks.slack.com",
		"http://127.0.0.1:8080/x?token=y":          "http://127.0.0.1:8080",
		"https://u:p@example.com/x":                "https://example.com",
		"not a url":                                "(unparsable url)",
		"https://ex ample.com/":                    "(unparsable url)",
	} {
		if got := origin(u); got != want {
			t.Errorf("origin(%q) = %q, want %q", u, got, want)
		}
	}
}

func TestSnippet(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "",
		"ok":                         "ok",
		"  line one\r\n\tline two\n": "line one line two",
		"\xff\xfe bad":               "\ufffd\ufffd bad",
		strings.Repeat("x", 300):     strings.Repeat("x", 20) + "...",
	} {
		if got := snippet([]byte(in), 20); got != want {
			t.Errorf("snippet(%q) = %q, want %q", in, got, want)
		}
	}
}
