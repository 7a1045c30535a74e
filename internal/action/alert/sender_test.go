package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/action"
)

func TestWebhookDefaultBody(t *testing.T) {
	rc := newReceiver(t, nil)
	s := mustNew(t, []Channel{{Name: "hook", Type: TypeWebhook, URL: rc.URL}}, Options{})
	a := testAlert("hook")
	a.Alert.Text = "a <b> & c"
	if out, err := s.Execute(context.Background(), a); err != nil || out.Status != action.StatusApplied {
		t.Fatalf("Execute: %+v, %v", out, err)
	}
	body := rc.requests()[0].Body
	want := `{"key":"s3-public-bucket/evt-1/0","runbook":"s3-public-bucket","severity":"high","title":"Bucket made public","text":"a <b> & c","fields":{"bucket":"logs-archive","principal":"arn:aws:iam::123456789012:user/alice"}}`
	if string(body) != want {
		t.Errorf("body\n got %s\nwant %s", body, want)
	}

	a.Alert.Fields = nil
	if _, err := s.Execute(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(rc.requests()[1].Body, &got); err != nil {
		t.Fatal(err)
	}
	if f, ok := got["fields"].(map[string]any); !ok || len(f) != 0 {
		t.Errorf("fields of an alert without fields: %#v, want {}", got["fields"])
	}
}

func TestWebhookTemplate(t *testing.T) {
	rc := newReceiver(t, nil)
	tmpl := `{"summary": {{json .Title}}, "details": {{json .Text}}, "severity": {{json .Severity}},
	 "dedup": {{json .Key}}, "source": {{json .Runbook}}, "kind": {{json .Kind}}, "to": {{json .To}},
	 "principal": {{json .Fields.principal}}, "missing": {{json .Fields.nothing}}}`
	s := mustNew(t, []Channel{{Name: "pagerduty", Type: TypeWebhook, URL: rc.URL, Template: tmpl}}, Options{})
	if out, err := s.Execute(context.Background(), testAlert("pagerduty")); err != nil || out.Status != action.StatusApplied {
		t.Fatalf("Execute: %+v, %v", out, err)
	}
	var got map[string]any
	if err := json.Unmarshal(rc.requests()[0].Body, &got); err != nil {
		t.Fatalf("body %s: %v", rc.requests()[0].Body, err)
	}
	want := map[string]any{
		"summary":   "Bucket made public",
		"details":   "Bucket logs-archive got a public policy.\nBy alice.",
		"severity":  "high",
		"dedup":     "s3-public-bucket/evt-1/0",
		"source":    "s3-public-bucket",
		"kind":      "alert",
		"to":        []any{"pagerduty"},
		"principal": "arn:aws:iam::123456789012:user/alice",
		"missing":   nil,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("body\n got %v\nwant %v", got, want)
	}
}

// TestWebhookTemplateNotJSON: a template that passes lint but renders
// something else than JSON for a real alert fails without a request.
func TestWebhookTemplateNotJSON(t *testing.T) {
	rc := newReceiver(t, nil)
	tmpl := `{{if eq .Severity "high"}}{"ok": true}{{else}}severity={{.Severity}}{{end}}`
	s := mustNew(t, []Channel{{Name: "hook", Type: TypeWebhook, URL: rc.URL, Template: tmpl}}, Options{})
	a := testAlert("hook")
	a.Alert.Severity = "low"
	out, err := s.Execute(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != action.StatusFailed || len(rc.requests()) != 0 {
		t.Errorf("outcome %+v after %d requests, want failed after none", out, len(rc.requests()))
	}
	if want := "not delivered to hook: hook: template output is not valid JSON (12 bytes)"; out.Error != want {
		t.Errorf("error %q, want %q", out.Error, want)
	}
}

func TestSlackPayload(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	s := mustNew(t, []Channel{{Name: "chat", Type: TypeSlack, URL: rc.URL + "/services/T0/B0/X"}}, Options{})
	a := testAlert("chat")
	a.Alert.Text = "Policy <allows> s3:GetObject & more"
	if out, err := s.Execute(context.Background(), a); err != nil || out.Status != action.StatusApplied {
		t.Fatalf("Execute: %+v, %v", out, err)
	}
	r := rc.requests()[0]
	if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Idempotency-Key") != a.Key {
		t.Errorf("headers %v", r.Header)
	}
	var got map[string]any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"text": "[high] Bucket made public",
		"blocks": []any{
			map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": "Bucket made public"}},
			map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "Policy &lt;allows&gt; s3:GetObject &amp; more"}},
			map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn", "text": "runbook: s3-public-bucket | severity: high"}}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("payload\n got %s\nwant %v", r.Body, want)
	}
}

func TestSlackPayloadLimits(t *testing.T) {
	a := testAlert("chat")
	a.Alert.Title = strings.Repeat("t", 200)
	a.Alert.Text = ""
	b, err := slackBody(a)
	if err != nil {
		t.Fatal(err)
	}
	var m slackMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Blocks) != 2 || m.Blocks[0].Type != "header" || m.Blocks[1].Type != "context" {
		t.Fatalf("blocks %+v, want header and context", m.Blocks)
	}
	if h := []rune(m.Blocks[0].Text.Text); len(h) != slackHeaderMax || h[len(h)-1] != '…' {
		t.Errorf("header of %d characters: %q", len(h), string(h))
	}

	a.Alert.Title = ""
	b, _ = slackBody(a)
	if !strings.Contains(string(b), `"text":"Alert from s3-public-bucket"`) {
		t.Errorf("untitled alert: %s", b)
	}
}

func TestStdout(t *testing.T) {
	var out bytes.Buffer
	s := mustNew(t, nil, Options{Stdout: &out})
	a := testAlert("stdout")
	a.Enforce = false // alerts go out in dry runs too
	o, err := s.Execute(context.Background(), a)
	if err != nil || o.Status != action.StatusApplied || o.Detail != "delivered to stdout" {
		t.Fatalf("Execute: %+v, %v", o, err)
	}
	a.Alert.Text = ""
	a.Alert.Title = "two\r\nlines\tand a tab"
	s.Execute(context.Background(), a)
	want := "ALERT [high] s3-public-bucket: Bucket made public: Bucket logs-archive got a public policy. By alice.\n" +
		"ALERT [high] s3-public-bucket: two lines and a tab\n"
	if out.String() != want {
		t.Errorf("stdout\n got %q\nwant %q", out.String(), want)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestStdoutWriteError(t *testing.T) {
	s := mustNew(t, nil, Options{Stdout: failingWriter{}})
	o, err := s.Execute(context.Background(), testAlert("stdout"))
	if err != nil || o.Status != action.StatusFailed || o.Error != "not delivered to stdout: stdout: write: broken pipe" {
		t.Errorf("Execute: %+v, %v", o, err)
	}
}

func TestLog(t *testing.T) {
	logger, logs := testLogger()
	s := mustNew(t, []Channel{{Name: "audit", Type: TypeLog}}, Options{Logger: logger})
	for _, to := range []string{"log", "audit"} {
		logs.Reset()
		if o, err := s.Execute(context.Background(), testAlert(to)); err != nil || o.Status != action.StatusApplied {
			t.Fatalf("Execute: %+v, %v", o, err)
		}
		var got map[string]any
		if err := json.Unmarshal(logs.Bytes(), &got); err != nil {
			t.Fatalf("log %q: %v", logs, err)
		}
		delete(got, "time")
		want := map[string]any{
			"level": "INFO", "msg": "alert",
			"runbook": "s3-public-bucket", "key": "s3-public-bucket/evt-1/0", "severity": "high",
			"title": "Bucket made public", "text": "Bucket logs-archive got a public policy.\nBy alice.",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: logged %v, want %v", to, got, want)
		}
	}
}

// publishes records Publish calls.
type publishes struct {
	mu    sync.Mutex
	calls [][3]string
	err   error
}

func (p *publishes) publish(ctx context.Context, topic, subject, message string) error {
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("no deadline")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, [3]string{topic, subject, message})
	return p.err
}

func TestSNS(t *testing.T) {
	const topic = "arn:aws:sns:us-east-1:123456789012:alerts"
	var p publishes
	s := mustNew(t, []Channel{{Name: "pager", Type: TypeSNS, Topic: topic}}, Options{Publish: p.publish})
	a := testAlert("pager")
	a.Alert.Title = "  " + strings.Repeat("é", 120) + "\n"
	if o, err := s.Execute(context.Background(), a); err != nil || o.Status != action.StatusApplied {
		t.Fatalf("Execute: %+v, %v", o, err)
	}
	a = testAlert("pager")
	a.Alert.Fields = nil
	a.Alert.Text = ""
	s.Execute(context.Background(), a)

	want := [][3]string{
		{topic, strings.Repeat("é", 100), "Bucket logs-archive got a public policy.\nBy alice.\n\n{\n  \"bucket\": \"logs-archive\",\n  \"principal\": \"arn:aws:iam::123456789012:user/alice\"\n}"},
		{topic, "Bucket made public", "Bucket made public"},
	}
	if !reflect.DeepEqual(p.calls, want) {
		t.Errorf("published\n got %q\nwant %q", p.calls, want)
	}

	p.err = errors.New("AuthorizationError: not allowed")
	o, err := s.Execute(context.Background(), testAlert("pager"))
	if err != nil || o.Status != action.StatusFailed || o.Error != "not delivered to pager: pager: publish to "+topic+": AuthorizationError: not allowed" {
		t.Errorf("Execute: %+v, %v", o, err)
	}
}

func TestExecuteSeveralChannels(t *testing.T) {
	bad := newReceiver(t, statuses(400))
	good := newReceiver(t, nil)
	var out bytes.Buffer
	s := mustNew(t, []Channel{
		{Name: "bad", Type: TypeWebhook, URL: bad.URL},
		{Name: "good", Type: TypeWebhook, URL: good.URL},
	}, Options{Stdout: &out})
	o, err := s.Execute(context.Background(), testAlert("bad", "stdout", "good", "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	want := action.Outcome{
		Key:    "s3-public-bucket/evt-1/0",
		Status: action.StatusFailed,
		Detail: "delivered to stdout, good",
		Error:  "not delivered to bad: bad: " + bad.URL + " answered 400 Bad Request",
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("outcome\n got %+v\nwant %+v", o, want)
	}
	if strings.Count(out.String(), "\n") != 1 || len(good.requests()) != 1 {
		t.Errorf("stdout %q, %d requests to good; want each once", out.String(), len(good.requests()))
	}
}

func TestExecuteRefuses(t *testing.T) {
	rc := newReceiver(t, nil)
	s := mustNew(t, []Channel{{Name: "hook", Type: TypeWebhook, URL: rc.URL}}, Options{Stdout: &bytes.Buffer{}})

	o, err := s.Execute(context.Background(), testAlert("hook", "nope", "stdout", "other"))
	if err == nil || err.Error() != `alert s3-public-bucket/evt-1/0: unknown channel "nope", "other"` || o.Status != action.StatusFailed || o.Error != err.Error() {
		t.Errorf("unknown channel: %+v, %v", o, err)
	}
	if len(rc.requests()) != 0 {
		t.Errorf("%d requests sent for an alert with an unknown channel", len(rc.requests()))
	}

	a := testAlert("hook")
	a.Kind = action.KindTag
	if o, err := s.Execute(context.Background(), a); err == nil || o.Status != action.StatusFailed {
		t.Errorf("kind tag: %+v, %v", o, err)
	}
	a = testAlert("hook")
	a.Alert = nil
	if o, err := s.Execute(context.Background(), a); err == nil || o.Status != action.StatusFailed {
		t.Errorf("no alert: %+v, %v", o, err)
	}
	if o, err := s.Execute(context.Background(), testAlert()); err != nil || o.Status != action.StatusSkipped {
		t.Errorf("no channels: %+v, %v", o, err)
	}
}

func TestExecuteConcurrentStdout(t *testing.T) {
	var out bytes.Buffer
	s := mustNew(t, nil, Options{Stdout: &out})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { s.Execute(context.Background(), testAlert("stdout")) })
	}
	wg.Wait()
	line := Line(testAlert()) + "\n"
	if out.String() != strings.Repeat(line, 50) {
		t.Errorf("interleaved output:\n%s", out.String())
	}
}

func TestDefaultSleep(t *testing.T) {
	if err := sleep(context.Background(), time.Millisecond); err != nil {
		t.Error(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("sleep on a canceled context: %v after %s", err, time.Since(start))
	}
}
