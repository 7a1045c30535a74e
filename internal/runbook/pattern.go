package runbook

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trailbook/trailbook/internal/trigger"
)

// MinSchedule is the shortest schedule a trigger may have.
const MinSchedule = time.Minute

// trigger decodes a runbook's trigger: exactly one of pattern and
// schedule.
func (d *decoder) trigger(n *yaml.Node) Trigger {
	var t Trigger
	var first *yaml.Node
	ok := d.fields(n, "the trigger", []string{"pattern", "schedule"}, func(key string, k, v *yaml.Node) {
		if first != nil {
			d.errorf(k, CodeBadValue, "a trigger has a pattern or a schedule, not both")
			return
		}
		first = k
		t.Pos = d.pos(v)
		switch key {
		case "pattern":
			t.Pattern, t.Envelope = d.pattern(v)
		case "schedule":
			d.scheduled = true
			t.Schedule, _ = d.duration(v, "schedule", MinSchedule)
		}
	})
	if ok && first == nil {
		d.errorf(n, CodeMissingField, "the trigger has neither a pattern nor a schedule")
	}
	return t
}

// pattern decodes an EventBridge event pattern, written as YAML or as a
// string of JSON, into canonical JSON, and says whether it is written
// against the envelope.
func (d *decoder) pattern(n *yaml.Node) (string, bool) {
	var raw []byte
	switch {
	case n.Kind == yaml.MappingNode:
		var b bytes.Buffer
		if !d.toJSON(&b, n, "the pattern") {
			return "", false
		}
		raw = b.Bytes()
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		raw = []byte(n.Value)
		if off, msg := jsonSyntax(raw); msg != "" {
			d.errorIn(n, off, CodeBadPattern, "the pattern is not JSON: %s", msg)
			return "", false
		}
	default:
		d.errorf(n, CodeBadPattern, "the pattern must be a mapping or a string of JSON, not %s", kindOf(n))
		return "", false
	}
	canon, v, err := canonicalJSON(raw)
	if err != nil {
		d.errorf(n, CodeBadPattern, "the pattern is not JSON: %v", err)
		return "", false
	}
	obj, isObj := v.(map[string]any)
	switch {
	case !isObj:
		d.errorf(n, CodeBadPattern, "the pattern must be a JSON object, not %s", jsonKind(v))
		return "", false
	case len(obj) == 0:
		d.errorf(n, CodeBadPattern, "the pattern is empty; it would match every event")
		return "", false
	}
	if err := trigger.Check(canon); err != nil {
		d.errorf(n, CodeBadPattern, "the pattern is not one EventBridge (quamina) accepts: %v", err)
		return "", false
	}
	return canon, trigger.IsEnvelope(obj)
}

// jsonSyntax reports where and why data is not one JSON value, or "" when
// it is.
func jsonSyntax(data []byte) (int, string) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v any
	err := dec.Decode(&v)
	if err == nil {
		end := int(dec.InputOffset())
		if rest := bytes.TrimLeft(data[end:], " \t\r\n"); len(rest) > 0 {
			return len(data) - len(rest), "text after the JSON value"
		}
		return 0, ""
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return max(int(se.Offset)-1, 0), se.Error()
	}
	return len(data), err.Error() // unexpected EOF
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "an object"
}
