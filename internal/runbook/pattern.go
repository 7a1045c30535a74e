package runbook

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trailbook/trailbook/internal/trigger"
	"github.com/trailbook/trailbook/internal/yamlpos"
)

// MinSchedule is the shortest schedule a trigger may have.
const MinSchedule = time.Minute

// MaxPatternCombinations bounds the product of the numbers of values the
// fields of a pattern list ({a: [1, 2], b: [3, 4, 5]} has 6): quamina's
// work to compile a pattern grows with it, about 10µs each, so that a
// pattern of a hundred two-valued fields would never compile.
const MaxPatternCombinations = 10_000

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
		d.errorf(n, CodeBadPattern, "the pattern must be a mapping or a string of JSON, not %s", yamlpos.KindOf(n))
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
	if c := combinations(obj); c > MaxPatternCombinations {
		d.errorf(n, CodeTooLarge, "the pattern has more than %d combinations of values (the product of the numbers of values of its fields); split it between runbooks", MaxPatternCombinations)
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

// combinations is the product of the lengths of the lists in pattern v,
// capped just past MaxPatternCombinations.
func combinations(v any) int {
	n := 1
	switch v := v.(type) {
	case map[string]any:
		for _, f := range v {
			n = min(n*combinations(f), MaxPatternCombinations+1)
		}
	case []any:
		n = max(len(v), 1)
		for _, e := range v {
			if obj, ok := e.(map[string]any); ok {
				n = min(n*combinations(obj), MaxPatternCombinations+1)
			}
		}
	}
	return min(n, MaxPatternCombinations+1)
}
