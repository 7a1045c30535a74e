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
	"maps"
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
		if recs, ok := OnRecord(pattern); ok {
			// Matched on the record: no envelope to build.
			for _, p := range recs {
				if err := q.AddPattern(name, p); err != nil {
					return fmt.Errorf("pattern of %s: %w", name, err)
				}
			}
			return nil
		}
		q, m.hasEnvelope = m.envelope, true
	}
	if err := q.AddPattern(name, pattern); err != nil {
		return fmt.Errorf("pattern of %s: %w", name, err)
	}
	return nil
}

// OnRecord rewrites an envelope pattern as the pattern on the record that
// matches exactly the same records, when it can: each envelope field is
// one the record carries (detail, account, region) or derives from
// (source, detail-type), with plain string values for the derived ones.
// Matching the record alone spares building and flattening an envelope
// for every record. ok is false for patterns it cannot rewrite (time, id,
// version or resources; matchers other than strings on source or
// detail-type), which are matched on the envelope.
func OnRecord(pattern string) (out []string, ok bool) {
	var p map[string]any
	if err := json.Unmarshal([]byte(pattern), &p); err != nil {
		return nil, false
	}
	rec := map[string]any{}
	if d, has := p["detail"]; has {
		d, ok := d.(map[string]any)
		if !ok {
			return nil, false
		}
		maps.Copy(rec, d)
	}
	// The envelope's own fields, as the record fields they come from.
	derived := map[string]any{}
	apiCalls := false
	for k, v := range p {
		switch k {
		case "detail":
		case "account":
			derived["recipientAccountId"] = v
		case "region":
			derived["awsRegion"] = v
		case "source":
			vals, ok := stringList(v)
			if !ok {
				return nil, false
			}
			var srcs []any
			for _, x := range vals {
				svc, ok := strings.CutPrefix(x, "aws.")
				if !ok || svc == "" {
					return nil, false
				}
				// Envelope's source is aws. and the eventSource with any
				// .amazonaws.com cut off.
				srcs = append(srcs, svc+".amazonaws.com")
				if !strings.HasSuffix(svc, ".amazonaws.com") {
					srcs = append(srcs, svc)
				}
			}
			derived["eventSource"] = srcs
		case "detail-type":
			vals, ok := stringList(v)
			if !ok {
				return nil, false
			}
			m, ok := eventTypeMatcher(vals)
			if !ok {
				return nil, false
			}
			if m != nil {
				derived["eventType"] = m
			} else {
				apiCalls = true
			}
		default:
			return nil, false // time, id, version, resources
		}
	}
	for f, v := range derived {
		if _, clash := rec[f]; clash {
			return nil, false // the same field twice: both must hold, which one pattern cannot say
		}
		rec[f] = v
	}
	var recs []map[string]any
	if apiCalls {
		// API calls are the records of any eventType but the two others,
		// or of none: two patterns, either of which matches.
		if _, clash := rec["eventType"]; clash {
			return nil, false
		}
		other := maps.Clone(rec)
		rec["eventType"] = []any{map[string]any{"anything-but": []any{"AwsConsoleSignIn", "AwsServiceEvent"}}}
		other["eventType"] = []any{map[string]any{"exists": false}}
		recs = append(recs, rec, other)
	} else {
		recs = append(recs, rec)
	}
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, false
		}
		out = append(out, string(b))
	}
	return out, true
}

// stringList is v as a non-empty list of plain strings.
func stringList(v any) ([]string, bool) {
	l, ok := v.([]any)
	if !ok || len(l) == 0 {
		return nil, false
	}
	out := make([]string, len(l))
	for i, x := range l {
		if out[i], ok = x.(string); !ok {
			return nil, false
		}
	}
	return out, true
}

// eventTypeMatcher is the record's eventType matcher for a list of
// detail-types, as Envelope derives them. m is nil for API calls alone
// (the records of any other eventType, or of none: OnRecord's two
// patterns). ok is false for a mix of API calls and the others, and for a
// detail-type no CloudTrail record has: left to the envelope.
func eventTypeMatcher(detailTypes []string) (m []any, ok bool) {
	api, signin, service := false, false, false
	for _, t := range detailTypes {
		switch t {
		case "AWS API Call via CloudTrail":
			api = true
		case "AWS Console Sign In via CloudTrail":
			signin = true
		case "AWS Service Event via CloudTrail":
			service = true
		default:
			return nil, false
		}
	}
	switch {
	case api && (signin || service):
		return nil, false
	case api:
		return nil, true
	}
	if signin {
		m = append(m, "AwsConsoleSignIn")
	}
	if service {
		m = append(m, "AwsServiceEvent")
	}
	return m, true
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
