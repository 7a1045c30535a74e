// Package alert delivers the alert action of runbooks to channels: the
// terminal, the log, generic webhooks, Slack and Amazon SNS. A Sender
// built by New from the configured Channels is the action.Executor for
// actions of kind alert. Alerts are sent in dry-run and enforce mode
// alike.
//
// # Channels
//
// Channels are configured as a list; each has a name, which an alert's
// "to" list refers to, and a type:
//
//	channels:
//	  - name: secops
//	    type: webhook
//	    url_env: SECOPS_WEBHOOK_URL
//	    headers_env: {Authorization: SECOPS_WEBHOOK_AUTH}
//	    retries: 5
//	    backoff: 1s
//	    timeout: 5s
//	  - name: team-chat
//	    type: slack
//	    url_env: SLACK_WEBHOOK_URL
//	  - name: pager
//	    type: sns
//	    topic: arn:aws:sns:us-east-1:123456789012:trailbook-alerts
//
// The fields:
//
//   - name (required): unique; "stdout" and "log" are taken by the two
//     built-in channels, which exist without configuration, and may be
//     configured only with the same type.
//   - type (required): stdout, log, webhook, slack or sns.
//   - url, url_env (webhook and slack, exactly one): the address to POST
//     to, an absolute http or https URL without user or password; or the
//     name of the environment variable holding it. Webhook URLs embed
//     tokens: keep them out of git with url_env.
//   - headers, headers_env (webhook): extra request headers; the second
//     maps a header name to the environment variable holding its value
//     (for Authorization and the like). A header may be in one only.
//   - template (webhook): a Go text/template rendering the JSON body.
//   - topic (sns, required): the topic ARN,
//     arn:PARTITION:sns:REGION:ACCOUNT:NAME.
//   - retries (webhook and slack): attempts after the first; default 3,
//     0 for a single attempt.
//   - backoff (webhook and slack): the wait before the first retry,
//     doubled before each later one and never above 30s; default 500ms.
//   - timeout (webhook, slack, sns): the limit on each attempt; default
//     10s.
//
// Durations are Go durations: 500ms, 2s, 1m. A field set on a type that
// does not use it is an error, as is a negative retries, backoff or
// timeout. Environment variables are read when the channels are loaded
// (trailbook serve start or reload); one unset is an error then, while
// lint (Validate) checks the configuration without the environment.
//
// # Behaviour
//
// An alert goes to each channel its "to" list names, once per name, in
// order. The action is applied when every channel took it and failed
// otherwise; the failure names each channel that did not take it and
// why. A name that is not configured fails the action before anything is
// sent.
//
// stdout writes one line:
//
//	ALERT [severity] runbook: title: text
//
// with ": text" left out when the text is empty and line breaks and other
// control characters turned into spaces.
//
// log logs at level info the message "alert" with the attributes
// runbook, key, severity, title and text.
//
// webhook POSTs a JSON body, by default
//
//	{"key": "...", "runbook": "...", "severity": "...", "title": "...",
//	 "text": "...", "fields": {...}}
//
// where key is the action's idempotency key and fields the alert's
// structured facts ({} when none). With template, the body is the
// rendered template instead, which must be valid JSON or the delivery
// fails without a request. The template's data has .Key, .Runbook, .Kind
// (always "alert"), .Severity, .Title, .Text, .To and .Fields; the
// function json encodes any value as JSON, quotes included, and is the
// way to put text in the body:
//
//	{"summary": {{json .Title}}, "details": {{json .Text}},
//	 "account": {{json .Fields.account}}}
//
// Lint renders the template with a sample alert whose text has quotes
// and a line break, so a template writing "{{.Text}}" between quotes
// fails there. Every request has the headers Content-Type:
// application/json, User-Agent: trailbook, the configured headers (which
// may replace the first two), and Idempotency-Key: the action's key, the
// same on every attempt, so that a receiver can drop a repeat.
//
// slack POSTs to a Slack incoming webhook a message whose notification
// text is "[severity] title" and whose blocks are a header with the title
// (cut to 150 characters; "Alert from RUNBOOK" when empty), a section
// with the text in mrkdwn (cut to 3000 characters; left out when empty)
// and a context line "runbook: RUNBOOK | severity: SEVERITY". The
// characters &, < and > are escaped as Slack asks.
//
// webhook and slack deliveries are retried after a network error, a
// timeout, a 429 or a 5xx answer, up to retries times, waiting backoff,
// then twice as long each time, at most 30s; a Retry-After header
// (seconds or an HTTP date) on the answer replaces that wait, still at
// most 30s. Any other answer outside 2xx fails at once, redirects
// included (they are not followed). Shutting down stops a delivery, even
// mid-wait.
//
// sns publishes to the topic with the title as subject (one line, cut to
// 100 characters) and as message the text (the title when the text is
// empty) followed, when the alert has fields, by a blank line and the
// fields as indented JSON. The AWS SDK retries; there are no further
// attempts.
//
// # Secrets
//
// URLs, header values and environment variable values never appear in
// errors, logs or action outcomes: a URL is shown as scheme://host only,
// and what a receiver answers is quoted only with those values replaced
// by [redacted].
package alert
