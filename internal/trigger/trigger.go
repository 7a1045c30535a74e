// Package trigger compiles runbooks' EventBridge event patterns into one
// matcher (quamina) and tells, for a CloudTrail record, which runbooks it
// triggers.
//
// A pattern is written either against the CloudTrail record itself
// ({"eventSource": ["iam.amazonaws.com"]}) or, as in an EventBridge rule,
// against the envelope EventBridge puts around it ({"source": ["aws.iam"],
// "detail-type": ["AWS API Call via CloudTrail"], "detail": {...}}). The
// matcher keeps one quamina instance for each form and wraps the record in
// an envelope only when some pattern needs it.
package trigger

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"quamina.net/go/quamina"
)

// Matcher matches records against a set of named patterns. It is not safe
// for concurrent use; Copy gives an independent matcher sharing the
// compiled patterns, one per goroutine.
type Matcher struct {
	record, envelope *quamina.Quamina
	hasEnvelope      bool
}

// New is an empty Matcher.
func New() (*Matcher, error) {
	r, err := quamina.New()
	if err != nil {
		return nil, err
	}
	e, err := quamina.New()
	if err != nil {
		return nil, err
	}
	return &Matcher{record: r, envelope: e}, nil
}

// Copy is a Matcher sharing m's patterns, for use on another goroutine.
func (m *Matcher) Copy() *Matcher {
	return &Matcher{record: m.record.Copy(), envelope: m.envelope.Copy(), hasEnvelope: m.hasEnvelope}
}

// Add adds pattern (JSON) under name; envelope says it is written against
// the EventBridge envelope. Check reports the problems Add would.
func (m *Matcher) Add(name, pattern string, envelope bool) error {
	q := m.record
	if envelope {
		q, m.hasEnvelope = m.envelope, true
	}
	if err := q.AddPattern(name, pattern); err != nil {
		return fmt.Errorf("pattern of %s: %w", name, err)
	}
	return nil
}

// Check reports whether pattern is one quamina accepts.
func Check(pattern string) error {
	q, err := quamina.New()
	if err != nil {
		return err
	}
	return q.AddPattern("check", pattern)
}

// IsEnvelope reports whether a pattern (decoded JSON object) is written
// against the EventBridge envelope rather than the record: it names one of
// the fields only the envelope has. (resources and region are not
// decisive: a record has resources too.)
func IsEnvelope(pattern map[string]any) bool {
	for _, k := range []string{"detail", "detail-type", "source", "version", "id", "account", "time"} {
		if _, ok := pattern[k]; ok {
			return true
		}
	}
	return false
}

// Match returns the names of the patterns record (the CloudTrail record's
// JSON) matches, sorted, each once.
func (m *Matcher) Match(record []byte) ([]string, error) {
	got, err := m.record.MatchesForEvent(record)
	if err != nil {
		return nil, fmt.Errorf("match record: %w", err)
	}
	if m.hasEnvelope {
		env, err := Envelope(record)
		if err != nil {
			return nil, err
		}
		more, err := m.envelope.MatchesForEvent(env)
		if err != nil {
			return nil, fmt.Errorf("match envelope: %w", err)
		}
		got = append(got, more...)
	}
	names := make([]string, 0, len(got))
	for _, x := range got {
		names = append(names, x.(string))
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// Envelope wraps a CloudTrail record the way EventBridge delivers it: source
// aws.<service>, detail-type "AWS API Call via CloudTrail" (or the
// console sign-in and service event types), account, region and time from
// the record, and the record as detail.
func Envelope(record []byte) ([]byte, error) {
	var head struct {
		EventSource        string `json:"eventSource"`
		EventType          string `json:"eventType"`
		EventTime          string `json:"eventTime"`
		AWSRegion          string `json:"awsRegion"`
		RecipientAccountID string `json:"recipientAccountId"`
	}
	if err := json.Unmarshal(record, &head); err != nil {
		return nil, fmt.Errorf("wrap record in an envelope: %w", err)
	}
	detailType := "AWS API Call via CloudTrail"
	switch head.EventType {
	case "AwsConsoleSignIn":
		detailType = "AWS Console Sign In via CloudTrail"
	case "AwsServiceEvent":
		detailType = "AWS Service Event via CloudTrail"
	}
	source := "aws." + strings.TrimSuffix(head.EventSource, ".amazonaws.com")
	if t, err := time.Parse(time.RFC3339, head.EventTime); err == nil {
		head.EventTime = t.UTC().Format(time.RFC3339)
	}
	var b bytes.Buffer
	b.WriteString(`{"version":"0","detail-type":`)
	quote(&b, detailType)
	b.WriteString(`,"source":`)
	quote(&b, source)
	b.WriteString(`,"account":`)
	quote(&b, head.RecipientAccountID)
	b.WriteString(`,"time":`)
	quote(&b, head.EventTime)
	b.WriteString(`,"region":`)
	quote(&b, head.AWSRegion)
	b.WriteString(`,"resources":[],"detail":`)
	b.Write(record)
	b.WriteByte('}')
	return b.Bytes(), nil
}

func quote(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}
