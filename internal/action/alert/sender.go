package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/trailbook/trailbook/internal/action"
)

// PublishFunc publishes one message to an SNS topic. The AWS package
// supplies it; it must be safe for concurrent use and should do its own
// retries, as the SDK does.
type PublishFunc func(ctx context.Context, topicARN, subject, message string) error

// Options are a Sender's connections to the world. The zero value of each
// field means the default given beside it.
type Options struct {
	Stdout io.Writer    // stdout channel; default os.Stdout
	Logger *slog.Logger // log channel and retry warnings; default slog.Default()
	// HTTP posts webhook and Slack deliveries; default a new
	// http.Client. The Sender uses a copy that does not follow
	// redirects: a POST redirected would turn into a GET.
	HTTP   *http.Client
	Getenv func(string) string // for url_env and headers_env; default os.Getenv
	// Sleep waits between attempts and returns ctx's error if ctx ends
	// first; default a timer. Tests inject one that records durations.
	Sleep func(ctx context.Context, d time.Duration) error
	// Publish sends to SNS; required when a channel has type sns.
	Publish PublishFunc
}

// Sender delivers alerts to configured channels. It is an action.Executor
// for actions of kind alert. A Sender is safe for concurrent use; lines
// written to Stdout by concurrent alerts do not interleave.
type Sender struct {
	channels map[string]*channel
	stdout   io.Writer
	stdoutMu sync.Mutex
	logger   *slog.Logger
	http     *http.Client
	sleep    func(ctx context.Context, d time.Duration) error
	publish  PublishFunc
}

var _ action.Executor = (*Sender)(nil)

// channel is a Channel with its defaults applied and its environment
// read.
type channel struct {
	Channel
	url     string      // resolved from URL or URLEnv
	origin  string      // scheme://host of url, safe to show
	header  http.Header // defaults and configured headers, resolved
	tmpl    *template.Template
	retries int
	backoff time.Duration
	timeout time.Duration
	redact  redactor
}

// New validates channels, reads the environment variables they name
// through opts.Getenv, and returns a Sender for them. The channels
// "stdout" and "log" exist whether configured or not. Every problem is
// reported at once, as *FieldError values joined; a missing environment
// variable is an error here rather than at the first alert. New keeps no
// reference to channels.
func New(channels []Channel, opts Options) (*Sender, error) {
	if errs := Validate(channels); len(errs) > 0 {
		return nil, fmt.Errorf("alert channels: %w", errors.Join(errs...))
	}
	s := &Sender{
		stdout:  opts.Stdout,
		logger:  opts.Logger,
		sleep:   opts.Sleep,
		publish: opts.Publish,
	}
	if s.stdout == nil {
		s.stdout = os.Stdout
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.sleep == nil {
		s.sleep = sleep
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	client := http.Client{}
	if opts.HTTP != nil {
		client = *opts.HTTP
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.http = &client

	s.channels = map[string]*channel{
		TypeStdout: {Channel: Channel{Name: TypeStdout, Type: TypeStdout}},
		TypeLog:    {Channel: Channel{Name: TypeLog, Type: TypeLog}},
	}
	var errs []error
	for i, c := range channels {
		ch, ferrs := resolve(c, getenv, opts.Publish != nil)
		for _, e := range ferrs {
			e.Index, e.Name = i, c.Name
			errs = append(errs, e)
		}
		if len(ferrs) == 0 {
			s.channels[c.Name] = ch
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("alert channels: %w", errors.Join(errs...))
	}
	return s, nil
}

// CodeMissingEnv and CodeNoPublisher are reported by New only: they depend
// on the environment and the wiring, not on the configuration.
const (
	CodeMissingEnv  = "alert-channel-missing-env"
	CodeNoPublisher = "alert-channel-no-publisher"
)

// resolve applies c's defaults and reads its environment variables. c is
// valid.
func resolve(c Channel, getenv func(string) string, canPublish bool) (*channel, []*FieldError) {
	var errs []*FieldError
	add := func(field, code, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	ch := &channel{
		Channel: c,
		retries: DefaultRetries,
		backoff: c.Backoff,
		timeout: c.Timeout,
	}
	if c.Retries != nil {
		ch.retries = *c.Retries
	}
	if ch.backoff == 0 {
		ch.backoff = DefaultBackoff
	}
	if ch.timeout == 0 {
		ch.timeout = DefaultTimeout
	}
	switch c.Type {
	case TypeWebhook, TypeSlack:
		ch.url = c.URL
		if c.URLEnv != "" {
			ch.url = getenv(c.URLEnv)
			if ch.url == "" {
				add("url_env", CodeMissingEnv, "environment variable %s is not set", c.URLEnv)
			} else if err := checkURL(ch.url); err != nil {
				add("url_env", CodeBadURL, "environment variable %s: %v", c.URLEnv, err)
			}
		}
		ch.origin = origin(ch.url)
		ch.header = http.Header{}
		ch.header.Set("Content-Type", "application/json")
		ch.header.Set("User-Agent", "trailbook")
		var values []string
		for _, h := range sortedKeys(c.Headers) {
			ch.header.Set(h, c.Headers[h])
			values = append(values, c.Headers[h])
		}
		for _, h := range sortedKeys(c.HeadersEnv) {
			v := getenv(c.HeadersEnv[h])
			if v == "" {
				add("headers_env", CodeMissingEnv, "header %s: environment variable %s is not set", h, c.HeadersEnv[h])
				continue
			}
			if strings.ContainsAny(v, "\r\n\x00") {
				add("headers_env", CodeBadHeader, "header %s: environment variable %s has a line break or NUL", h, c.HeadersEnv[h])
				continue
			}
			ch.header.Set(h, v)
			values = append(values, v)
		}
		ch.redact = newRedactor(ch.url, values)
		if c.Template != "" {
			t, err := parseTemplate(c.Name, c.Template)
			if err != nil { // Validate parsed it already
				add("template", CodeBadTemplate, "%v", err)
			}
			ch.tmpl = t
		}
	case TypeSNS:
		if !canPublish {
			add("type", CodeNoPublisher, "sns channels need a publisher (Options.Publish), which this command does not have")
		}
	}
	return ch, errs
}

// Execute delivers a.Alert to each channel a.Alert.To names, once per
// name, in order, one after the other; a.Enforce plays no part. The
// Outcome is applied when every channel took the alert and failed
// otherwise, its Error naming each failed channel and why, never a URL
// beyond scheme://host nor a header value.
//
// The returned error is non-nil when the action could not be tried (a
// kind other than alert, no Alert, a channel name not configured: then
// nothing is sent) or when ctx ended before every channel was done; it
// wraps ctx's error then. A delivery that failed on its own is reported
// in the Outcome only.
func (s *Sender) Execute(ctx context.Context, a action.Action) (action.Outcome, error) {
	out := action.Outcome{Key: a.Key, Status: action.StatusFailed}
	fail := func(err error) (action.Outcome, error) {
		out.Error = err.Error()
		return out, err
	}
	if a.Kind != action.KindAlert {
		return fail(fmt.Errorf("alert %s: action of kind %q is not an alert", a.Key, a.Kind))
	}
	if a.Alert == nil {
		return fail(fmt.Errorf("alert %s: no alert in the action", a.Key))
	}
	var chs []*channel
	var unknown []string
	seen := map[string]bool{}
	for _, name := range a.Alert.To {
		if seen[name] {
			continue
		}
		seen[name] = true
		ch, ok := s.channels[name]
		if !ok {
			unknown = append(unknown, strconv.Quote(name))
			continue
		}
		chs = append(chs, ch)
	}
	if len(unknown) > 0 {
		return fail(fmt.Errorf("alert %s: unknown channel %s", a.Key, strings.Join(unknown, ", ")))
	}
	if len(chs) == 0 {
		out.Status = action.StatusSkipped
		out.Detail = "the alert names no channel"
		return out, nil
	}

	var sent, failed, reasons []string
	for _, ch := range chs {
		if err := ctx.Err(); err != nil {
			failed = append(failed, ch.Name)
			reasons = append(reasons, fmt.Sprintf("%s: not tried: %v", ch.Name, err))
			continue
		}
		attempts, err := s.deliver(ctx, ch, a)
		if err != nil {
			failed = append(failed, ch.Name)
			reasons = append(reasons, ch.Name+": "+ch.redact.clean(err.Error()))
			continue
		}
		if attempts > 1 {
			sent = append(sent, fmt.Sprintf("%s (%d attempts)", ch.Name, attempts))
		} else {
			sent = append(sent, ch.Name)
		}
	}
	if len(sent) > 0 {
		out.Detail = "delivered to " + strings.Join(sent, ", ")
	}
	if len(failed) == 0 {
		out.Status = action.StatusApplied
		return out, nil
	}
	out.Error = "not delivered to " + strings.Join(failed, ", ") + ": " + strings.Join(reasons, "; ")
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("alert %s: %w", a.Key, err)
	}
	return out, nil
}

// deliver sends a to one channel and returns the number of attempts made.
func (s *Sender) deliver(ctx context.Context, ch *channel, a action.Action) (int, error) {
	switch ch.Type {
	case TypeStdout:
		line := Line(a)
		s.stdoutMu.Lock()
		_, err := io.WriteString(s.stdout, line+"\n")
		s.stdoutMu.Unlock()
		if err != nil {
			return 1, fmt.Errorf("write: %w", err)
		}
		return 1, nil
	case TypeLog:
		s.logger.LogAttrs(ctx, slog.LevelInfo, "alert",
			slog.String("runbook", a.Runbook),
			slog.String("key", a.Key),
			slog.String("severity", a.Alert.Severity),
			slog.String("title", a.Alert.Title),
			slog.String("text", a.Alert.Text))
		return 1, nil
	case TypeWebhook:
		body, err := webhookBody(ch, a)
		if err != nil {
			return 0, err
		}
		return s.post(ctx, ch, a.Key, body)
	case TypeSlack:
		body, err := slackBody(a)
		if err != nil {
			return 0, err
		}
		return s.post(ctx, ch, a.Key, body)
	case TypeSNS:
		msg, err := snsMessage(a)
		if err != nil {
			return 0, err
		}
		pctx, cancel := context.WithTimeout(ctx, ch.timeout)
		defer cancel()
		if err := s.publish(pctx, ch.Topic, snsSubject(a.Alert.Title), msg); err != nil {
			return 1, fmt.Errorf("publish to %s: %w", ch.Topic, err)
		}
		return 1, nil
	}
	return 0, fmt.Errorf("channel type %q cannot deliver", ch.Type)
}

// Line is the stdout channel's line for a, without its newline:
//
//	ALERT [severity] runbook: title: text
//
// with ": text" left out when the text is empty. Line breaks and other
// control characters in the parts become spaces, so that an alert is
// always one line.
func Line(a action.Action) string {
	var al action.Alert
	if a.Alert != nil {
		al = *a.Alert
	}
	line := "ALERT [" + oneLine(al.Severity) + "] " + oneLine(a.Runbook) + ": " + oneLine(al.Title)
	if al.Text != "" {
		line += ": " + oneLine(al.Text)
	}
	return line
}

// oneLine replaces control characters (line breaks, tabs) with spaces and
// folds "\r\n" into one.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// sleep waits d or until ctx ends, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sortedKeys returns m's keys in order, so that headers are set and
// reported deterministically.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
