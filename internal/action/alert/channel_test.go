package alert

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func intp(n int) *int { return &n }

func TestValidate(t *testing.T) {
	const topic = "arn:aws:sns:us-east-1:123456789012:alerts"
	type want struct {
		index int
		field string
		code  string
	}
	tests := []struct {
		name     string
		channels []Channel
		want     []want
	}{
		{
			name: "valid",
			channels: []Channel{
				{Name: "stdout", Type: TypeStdout},
				{Name: "audit-log", Type: TypeLog},
				{Name: "hook", Type: TypeWebhook, URLEnv: "HOOK_URL", Headers: map[string]string{"X-Team": "secops"}, HeadersEnv: map[string]string{"Authorization": "HOOK_AUTH"}, Template: `{"t": {{json .Title}}, "f": {{json .Fields}}}`, Retries: intp(0), Backoff: time.Second, Timeout: 2 * time.Second},
				{Name: "chat", Type: TypeSlack, URL: "https://hooks.slack.com/services/T/B/X"},
				{Name: "pager", Type: TypeSNS, Topic: topic, Timeout: time.Second},
			},
		},
		{
			name:     "unknown type",
			channels: []Channel{{Name: "x", Type: "email"}},
			want:     []want{{0, "type", CodeUnknownType}},
		},
		{
			name:     "missing type",
			channels: []Channel{{Name: "x"}},
			want:     []want{{0, "type", CodeUnknownType}},
		},
		{
			name:     "missing name",
			channels: []Channel{{Type: TypeStdout}},
			want:     []want{{0, "name", CodeMissingName}},
		},
		{
			name:     "name with spaces",
			channels: []Channel{{Name: " x", Type: TypeStdout}},
			want:     []want{{0, "name", CodeBadName}},
		},
		{
			name:     "duplicate name",
			channels: []Channel{{Name: "x", Type: TypeLog}, {Name: "y", Type: TypeLog}, {Name: "x", Type: TypeStdout}},
			want:     []want{{2, "name", CodeDuplicateName}},
		},
		{
			name:     "reserved name",
			channels: []Channel{{Name: "log", Type: TypeSlack, URLEnv: "U"}},
			want:     []want{{0, "name", CodeReservedName}},
		},
		{
			name:     "webhook without url",
			channels: []Channel{{Name: "hook", Type: TypeWebhook}},
			want:     []want{{0, "url", CodeMissingURL}},
		},
		{
			name:     "slack without url",
			channels: []Channel{{Name: "chat", Type: TypeSlack}},
			want:     []want{{0, "url", CodeMissingURL}},
		},
		{
			name:     "url and url_env",
			channels: []Channel{{Name: "hook", Type: TypeWebhook, URL: "https://example.com/h", URLEnv: "U"}},
			want:     []want{{0, "url_env", CodeConflictingURL}},
		},
		{
			name: "bad urls",
			channels: []Channel{
				{Name: "a", Type: TypeWebhook, URL: "ftp://example.com/h"},
				{Name: "b", Type: TypeWebhook, URL: "example.com/h"},
				{Name: "c", Type: TypeWebhook, URL: "https://user:pw@example.com/h"},
				{Name: "d", Type: TypeWebhook, URL: "https://exa mple.com/%zz"},
			},
			want: []want{{0, "url", CodeBadURL}, {1, "url", CodeBadURL}, {2, "url", CodeBadURL}, {3, "url", CodeBadURL}},
		},
		{
			name:     "sns without topic",
			channels: []Channel{{Name: "pager", Type: TypeSNS}},
			want:     []want{{0, "topic", CodeMissingTopic}},
		},
		{
			name:     "sns with a queue arn",
			channels: []Channel{{Name: "pager", Type: TypeSNS, Topic: "arn:aws:sqs:us-east-1:123456789012:q"}},
			want:     []want{{0, "topic", CodeBadTopic}},
		},
		{
			name:     "template does not parse",
			channels: []Channel{{Name: "hook", Type: TypeWebhook, URLEnv: "U", Template: `{"t": {{json .Title}`}},
			want:     []want{{0, "template", CodeBadTemplate}},
		},
		{
			name:     "template names a missing field",
			channels: []Channel{{Name: "hook", Type: TypeWebhook, URLEnv: "U", Template: `{"t": {{json .Account}}}`}},
			want:     []want{{0, "template", CodeBadTemplate}},
		},
		{
			name:     "template calls an unknown function",
			channels: []Channel{{Name: "hook", Type: TypeWebhook, URLEnv: "U", Template: `{"t": {{toJSON .Title}}}`}},
			want:     []want{{0, "template", CodeBadTemplate}},
		},
		{
			name:     "template quotes text without json",
			channels: []Channel{{Name: "hook", Type: TypeWebhook, URLEnv: "U", Template: `{"text": "{{.Text}}"}`}},
			want:     []want{{0, "template", CodeTemplateNotJSON}},
		},
		{
			name:     "template is not json at all",
			channels: []Channel{{Name: "hook", Type: TypeWebhook, URLEnv: "U", Template: `title={{.Title}}`}},
			want:     []want{{0, "template", CodeTemplateNotJSON}},
		},
		{
			name: "negative numbers",
			channels: []Channel{
				{Name: "hook", Type: TypeWebhook, URLEnv: "U", Retries: intp(-1), Backoff: -time.Second, Timeout: -time.Second},
			},
			want: []want{{0, "retries", CodeNegative}, {0, "backoff", CodeNegative}, {0, "timeout", CodeNegative}},
		},
		{
			name: "bad headers",
			channels: []Channel{{Name: "hook", Type: TypeWebhook, URLEnv: "U",
				Headers:    map[string]string{"Bad Name": "v", "X-Line": "a\r\nInjected: 1", "X-Both": "v"},
				HeadersEnv: map[string]string{"X-Both": "B", "X-Empty": ""},
			}},
			want: []want{
				{0, "headers", CodeBadHeader},     // Bad Name
				{0, "headers_env", CodeBadHeader}, // X-Both in both
				{0, "headers", CodeBadHeader},     // X-Line
				{0, "headers_env", CodeBadHeader}, // X-Empty
			},
		},
		{
			name: "fields the type does not use",
			channels: []Channel{
				{Name: "stdout", Type: TypeStdout, URL: "https://example.com", Timeout: time.Second},
				{Name: "chat", Type: TypeSlack, URLEnv: "U", Template: `{}`, Headers: map[string]string{"A": "b"}, Topic: "arn:aws:sns:us-east-1:1:t"},
				{Name: "pager", Type: TypeSNS, Topic: "arn:aws:sns:us-east-1:1:t", URLEnv: "U", Retries: intp(2), Backoff: time.Second},
			},
			want: []want{
				{0, "url", CodeFieldNotUsed}, {0, "timeout", CodeFieldNotUsed},
				{1, "headers", CodeFieldNotUsed}, {1, "template", CodeFieldNotUsed}, {1, "topic", CodeFieldNotUsed},
				{2, "url_env", CodeFieldNotUsed}, {2, "retries", CodeFieldNotUsed}, {2, "backoff", CodeFieldNotUsed},
			},
		},
		{
			name:     "every problem at once",
			channels: []Channel{{Name: "a", Type: TypeWebhook}, {Name: "a", Type: TypeSNS, Retries: intp(-2)}},
			want:     []want{{0, "url", CodeMissingURL}, {1, "name", CodeDuplicateName}, {1, "topic", CodeMissingTopic}, {1, "retries", CodeNegative}, {1, "retries", CodeFieldNotUsed}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Validate(tt.channels)
			var got []want
			for _, err := range errs {
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("error %v is not a *FieldError", err)
				}
				got = append(got, want{fe.Index, fe.Field, fe.Code})
				prefix := fmt.Sprintf("channels[%d] %q: %s: ", fe.Index, tt.channels[fe.Index].Name, fe.Field)
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Errorf("error %q does not start with %q", err, prefix)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Validate:\n got %v\nwant %v\nerrors: %v", got, tt.want, errs)
			}
		})
	}
}

// TestValidateQuotesNoURL checks that a bad literal URL, which may hold a
// token, is not repeated in the error.
func TestValidateQuotesNoURL(t *testing.T) {
	for _, u := range []string{"ftp://example.com/T0SECRET", "https://u:pw-SECRET@example.com/x", "https://ex ample.com/%zzSECRET", "no-scheme/SECRET"} {
		errs := Validate([]Channel{{Name: "hook", Type: TypeWebhook, URL: u}})
		if len(errs) != 1 {
			t.Fatalf("%s: got %v, want one error", u, errs)
		}
		if strings.Contains(errs[0].Error(), "SECRET") {
			t.Errorf("error quotes the url: %v", errs[0])
		}
	}
}

// TestChannelYAML checks the shape the runbook loader decodes, strictly.
func TestChannelYAML(t *testing.T) {
	const doc = `
channels:
  - name: secops
    type: webhook
    url_env: SECOPS_URL
    headers: {X-Team: secops}
    headers_env: {Authorization: SECOPS_AUTH}
    template: '{"title": {{json .Title}}}'
    retries: 0
    backoff: 250ms
    timeout: 2s
  - name: pager
    type: sns
    topic: arn:aws:sns:us-east-1:123456789012:alerts
`
	var cfg struct {
		Channels []Channel `yaml:"channels"`
	}
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	c := cfg.Channels[0]
	if c.Retries == nil || *c.Retries != 0 || c.Backoff != 250*time.Millisecond || c.Timeout != 2*time.Second ||
		c.URLEnv != "SECOPS_URL" || c.Headers["X-Team"] != "secops" || c.HeadersEnv["Authorization"] != "SECOPS_AUTH" || c.Template == "" {
		t.Errorf("decoded %+v", c)
	}
	if cfg.Channels[1].Retries != nil || cfg.Channels[1].Topic == "" {
		t.Errorf("decoded %+v", cfg.Channels[1])
	}
	if errs := Validate(cfg.Channels); errs != nil {
		t.Errorf("Validate: %v", errs)
	}

	bad := "channels:\n  - name: x\n    type: stdout\n    retry: 2\n"
	dec = yaml.NewDecoder(strings.NewReader(bad))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("unknown key: got %v, want an error at line 4", err)
	}
}

func TestNewErrors(t *testing.T) {
	env := map[string]string{"BAD_URL": "ftp://example.com/T0SECRET/path", "GOOD_URL": "https://example.com/T0SECRET"}
	getenv := func(k string) string { return env[k] }
	_, err := New([]Channel{
		{Name: "a", Type: TypeWebhook, URLEnv: "UNSET_URL"},
		{Name: "b", Type: TypeSlack, URLEnv: "BAD_URL"},
		{Name: "c", Type: TypeWebhook, URLEnv: "GOOD_URL", HeadersEnv: map[string]string{"Authorization": "UNSET_AUTH"}},
		{Name: "d", Type: TypeSNS, Topic: "arn:aws:sns:us-east-1:123456789012:alerts"},
	}, Options{Getenv: getenv})
	if err == nil {
		t.Fatal("New: no error")
	}
	msg := err.Error()
	for _, want := range []string{
		`channels[0] "a": url_env: environment variable UNSET_URL is not set`,
		`channels[1] "b": url_env: environment variable BAD_URL: url scheme must be https or http`,
		`channels[2] "c": headers_env: header Authorization: environment variable UNSET_AUTH is not set`,
		`channels[3] "d": type: sns channels need a publisher`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("New error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "SECRET") {
		t.Errorf("New error quotes a url:\n%s", msg)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Code != CodeMissingEnv {
		t.Errorf("errors.As: got %+v, want the first *FieldError, %s", fe, CodeMissingEnv)
	}

	if _, err := New([]Channel{{Name: "x", Type: "email"}}, Options{}); err == nil || !strings.Contains(err.Error(), "unknown type") {
		t.Errorf("New with an invalid channel: got %v", err)
	}
}
