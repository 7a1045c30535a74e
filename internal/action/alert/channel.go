package alert

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Channel types.
const (
	TypeStdout  = "stdout"
	TypeLog     = "log"
	TypeWebhook = "webhook"
	TypeSlack   = "slack"
	TypeSNS     = "sns"
)

// Delivery defaults and limits for webhook and Slack channels.
const (
	DefaultRetries = 3
	DefaultBackoff = 500 * time.Millisecond
	DefaultTimeout = 10 * time.Second
	// MaxBackoff caps every wait between attempts, Retry-After included.
	MaxBackoff = 30 * time.Second
)

// Channel is one configured delivery channel, as a runbook folder's
// channels: list decodes into it. Fields that do not apply to Type must be
// left empty; Validate reports them. The names "stdout" and "log" always
// exist: a Channel may take one of them only with the same type.
type Channel struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`

	// URL is the webhook or Slack incoming-webhook address. It usually
	// embeds a token, so prefer URLEnv, which names an environment
	// variable holding it. Exactly one of the two is set.
	URL    string `yaml:"url,omitempty"`
	URLEnv string `yaml:"url_env,omitempty"`

	// Headers are extra request headers for a webhook; HeadersEnv maps a
	// header to the environment variable holding its value. A header may
	// be in only one of the two.
	Headers    map[string]string `yaml:"headers,omitempty"`
	HeadersEnv map[string]string `yaml:"headers_env,omitempty"`

	// Template, for a webhook, is a text/template that renders the JSON
	// body in place of the default one. See the package documentation
	// for its data and functions.
	Template string `yaml:"template,omitempty"`

	// Topic is the SNS topic ARN of an sns channel.
	Topic string `yaml:"topic,omitempty"`

	// Retries is how many times a webhook or Slack delivery is tried
	// again after the first attempt; nil means DefaultRetries and 0 means
	// one attempt only.
	Retries *int `yaml:"retries,omitempty"`
	// Backoff is the wait before the first retry, doubled before each
	// later one and capped at MaxBackoff; zero means DefaultBackoff.
	Backoff time.Duration `yaml:"backoff,omitempty"`
	// Timeout bounds each attempt (each Publish for sns); zero means
	// DefaultTimeout.
	Timeout time.Duration `yaml:"timeout,omitempty"`
}

// Validation error codes, stable for docs and tests.
const (
	CodeMissingName     = "alert-channel-missing-name"
	CodeBadName         = "alert-channel-bad-name"
	CodeDuplicateName   = "alert-channel-duplicate-name"
	CodeReservedName    = "alert-channel-reserved-name"
	CodeUnknownType     = "alert-channel-unknown-type"
	CodeMissingURL      = "alert-channel-missing-url"
	CodeConflictingURL  = "alert-channel-conflicting-url"
	CodeBadURL          = "alert-channel-bad-url"
	CodeMissingTopic    = "alert-channel-missing-topic"
	CodeBadTopic        = "alert-channel-bad-topic"
	CodeBadHeader       = "alert-channel-bad-header"
	CodeBadTemplate     = "alert-channel-bad-template"
	CodeTemplateNotJSON = "alert-channel-template-not-json"
	CodeNegative        = "alert-channel-negative"
	CodeFieldNotUsed    = "alert-channel-field-not-used"
)

// FieldError is one problem with one field of the Index-th channel. Field
// is the YAML key (url_env, headers, ...), so that the runbook loader can
// point at its line and column. Messages never quote a URL or a header
// value.
type FieldError struct {
	Index   int    // in the channels list, from 0
	Name    string // the channel's name, possibly empty
	Field   string // YAML key
	Code    string // one of the Code constants
	Message string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("channels[%d] %q: %s: %s", e.Index, e.Name, e.Field, e.Message)
}

// Validate checks channels as lint and New do, without reading the
// environment or touching the network, and returns every problem found,
// each a *FieldError, in list order; nil means valid.
func Validate(channels []Channel) []error {
	var errs []error
	seen := map[string]int{}
	for i, c := range channels {
		add := func(field, code, format string, args ...any) {
			errs = append(errs, &FieldError{Index: i, Name: c.Name, Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
		}
		switch {
		case c.Name == "":
			add("name", CodeMissingName, "a channel needs a name")
		case strings.TrimSpace(c.Name) != c.Name:
			add("name", CodeBadName, "name has leading or trailing spaces")
		default:
			if j, ok := seen[c.Name]; ok {
				add("name", CodeDuplicateName, "name already used by channels[%d]", j)
			} else {
				seen[c.Name] = i
			}
			if (c.Name == TypeStdout || c.Name == TypeLog) && c.Type != c.Name {
				add("name", CodeReservedName, "name %s is reserved for the %s channel", c.Name, c.Name)
			}
		}

		isHTTP := c.Type == TypeWebhook || c.Type == TypeSlack
		switch c.Type {
		case TypeStdout, TypeLog, TypeSNS:
		case TypeWebhook, TypeSlack:
		case "":
			add("type", CodeUnknownType, "a channel needs a type: stdout, log, webhook, slack or sns")
		default:
			add("type", CodeUnknownType, "unknown type %q: want stdout, log, webhook, slack or sns", c.Type)
		}

		notUsed := func(field string, set bool) {
			if set && c.Type != "" {
				add(field, CodeFieldNotUsed, "%s is not used by a %s channel", field, c.Type)
			}
		}
		if isHTTP {
			switch {
			case c.URL == "" && c.URLEnv == "":
				add("url", CodeMissingURL, "a %s channel needs url or url_env", c.Type)
			case c.URL != "" && c.URLEnv != "":
				add("url_env", CodeConflictingURL, "set url or url_env, not both")
			case c.URL != "":
				if err := checkURL(c.URL); err != nil {
					add("url", CodeBadURL, "%v", err)
				}
			}
		} else {
			notUsed("url", c.URL != "")
			notUsed("url_env", c.URLEnv != "")
		}

		if c.Type == TypeWebhook {
			for _, h := range sortedKeys(c.Headers) {
				if err := checkHeaderName(h); err != nil {
					add("headers", CodeBadHeader, "%v", err)
				} else if strings.ContainsAny(c.Headers[h], "\r\n\x00") {
					add("headers", CodeBadHeader, "header %s: value has a line break or NUL", h)
				}
				if _, ok := c.HeadersEnv[h]; ok {
					add("headers_env", CodeBadHeader, "header %s is also in headers", h)
				}
			}
			for _, h := range sortedKeys(c.HeadersEnv) {
				if err := checkHeaderName(h); err != nil {
					add("headers_env", CodeBadHeader, "%v", err)
				} else if c.HeadersEnv[h] == "" {
					add("headers_env", CodeBadHeader, "header %s: names no environment variable", h)
				}
			}
			if c.Template != "" {
				if _, err := sampleBody(c); err != nil {
					add("template", err.code, "%v", err.err)
				}
			}
		} else {
			notUsed("headers", len(c.Headers) > 0)
			notUsed("headers_env", len(c.HeadersEnv) > 0)
			notUsed("template", c.Template != "")
		}

		if c.Type == TypeSNS {
			switch {
			case c.Topic == "":
				add("topic", CodeMissingTopic, "an sns channel needs a topic ARN")
			case !isTopicARN(c.Topic):
				add("topic", CodeBadTopic, "topic %q is not an SNS topic ARN (arn:PARTITION:sns:REGION:ACCOUNT:NAME)", c.Topic)
			}
		} else {
			notUsed("topic", c.Topic != "")
		}

		if c.Retries != nil && *c.Retries < 0 {
			add("retries", CodeNegative, "retries is %d: want 0 or more", *c.Retries)
		}
		if c.Backoff < 0 {
			add("backoff", CodeNegative, "backoff is %s: want 0 (default) or more", c.Backoff)
		}
		if c.Timeout < 0 {
			add("timeout", CodeNegative, "timeout is %s: want 0 (default) or more", c.Timeout)
		}
		if !isHTTP {
			notUsed("retries", c.Retries != nil)
			notUsed("backoff", c.Backoff != 0)
		}
		if c.Type == TypeStdout || c.Type == TypeLog {
			notUsed("timeout", c.Timeout != 0)
		}
	}
	return errs
}

// checkURL reports whether u is an absolute http or https URL. Its error
// never quotes u, which may hold a token.
func checkURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("url does not parse")
	}
	if p.Scheme != "https" && p.Scheme != "http" {
		return fmt.Errorf("url scheme must be https or http")
	}
	if p.Host == "" {
		return fmt.Errorf("url has no host")
	}
	if p.User != nil {
		return fmt.Errorf("url must not hold a user or password: use headers_env")
	}
	return nil
}

// checkHeaderName reports whether h is a valid HTTP header field name
// (an RFC 9110 token).
func checkHeaderName(h string) error {
	if h == "" {
		return fmt.Errorf("empty header name")
	}
	for _, r := range h {
		if r >= 0x7f || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return fmt.Errorf("header name %q is not a valid token", h)
		}
	}
	return nil
}

// isTopicARN reports whether s has the shape
// arn:PARTITION:sns:REGION:ACCOUNT:NAME.
func isTopicARN(s string) bool {
	p := strings.Split(s, ":")
	return len(p) == 6 && p[0] == "arn" && p[1] != "" && p[2] == "sns" && p[3] != "" && p[4] != "" && p[5] != ""
}
