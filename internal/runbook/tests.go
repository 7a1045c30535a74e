package runbook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/yamlpos"
)

// Decisions a test may expect.
const (
	DecisionAct      = "act"       // the condition held: the actions are planned
	DecisionNoAction = "no-action" // the trigger matched and the condition did not hold
	DecisionNoMatch  = "no-match"  // the trigger did not match the event
	DecisionSkipped  = "skipped"   // loop protection or the cooldown held the runbook back
	DecisionDeferred = "deferred"  // a resource it created is within its schema's grace: judged later
)

// Decisions are the decisions a test may expect.
func Decisions() []string {
	return []string{DecisionAct, DecisionNoAction, DecisionNoMatch, DecisionSkipped, DecisionDeferred}
}

// maxInflatedEvents bounds a gzipped file of test events once inflated.
const maxInflatedEvents = 4 * MaxEventsFileBytes

// tests decodes a runbook's tests into r.Tests. The query and the actions
// are decoded already.
func (d *decoder) tests(n *yaml.Node, r *Runbook) {
	if n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		d.errorf(n, CodeMissingTests, "tests is empty; give the runbook at least one test")
		return
	}
	names := map[string]*yaml.Node{}
	d.list(n, "tests", func(_ int, e *yaml.Node) {
		if t, ok := d.test(e, r, names); ok {
			r.Tests = append(r.Tests, t)
		}
	})
}

func (d *decoder) test(n *yaml.Node, r *Runbook, names map[string]*yaml.Node) (Test, bool) {
	t := Test{Pos: d.pos(n)}
	var nameNode, eventNode, nowNode, expectNode *yaml.Node
	ok := d.fields(n, "a test", []string{"name", "given", "event", "now", "expect"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			nameNode = v
			t.Name = d.testName(v, names)
		case "given":
			t.Given = d.given(v)
		case "event":
			eventNode = v
			if recs := d.records(v, "the event", true); len(recs) == 1 {
				t.Event = recs[0]
			}
		case "now":
			nowNode = v
			if s, ok := d.str(v, "now"); ok {
				tm, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					d.errorf(v, CodeBadValue, "now %q is not an RFC 3339 time such as 2024-05-01T12:00:00Z", s)
					return
				}
				t.Now = tm
			}
		case "expect":
			expectNode = v
			t.Expect = d.expect(v, r)
		}
	})
	if !ok {
		return t, false
	}
	if nameNode == nil {
		d.errorf(n, CodeMissingField, "the test has no name")
	}
	switch {
	case eventNode != nil:
	case !d.scheduled:
		d.errorf(n, CodeBadTest, "the test has no event; give the CloudTrail record that triggers the runbook")
	case nowNode == nil:
		d.errorf(n, CodeBadTest, "a test of a scheduled runbook needs an event or now")
	}
	if expectNode == nil {
		d.errorf(n, CodeBadTest, "the test has no expect; say at least the decision: %s", oneOf(Decisions()))
	}
	return t, true
}

// testName decodes a test's name, reporting one names holds already.
func (d *decoder) testName(v *yaml.Node, names map[string]*yaml.Node) string {
	name, ok := d.nonEmpty(v, "the test's name")
	if !ok {
		return ""
	}
	if prev, dup := names[name]; dup {
		d.errorf(v, CodeDuplicate, "test %q repeats the one at line %d", name, prev.Line)
		return ""
	}
	names[name] = v
	return name
}

// given decodes a test's given: the records stored before it runs.
func (d *decoder) given(v *yaml.Node) []json.RawMessage {
	out := []json.RawMessage{}
	d.list(v, "given", func(_ int, e *yaml.Node) {
		out = append(out, d.records(e, "an entry of given", false)...)
	})
	return out
}

// records decodes an event of a test: an inline CloudTrail record, or
// {file: path}, a JSON file of records read relative to the runbook file.
// one says exactly one record is wanted. The records' JSON is as the
// cloudtrail decoder gives it: the record, unwrapped from its container.
func (d *decoder) records(n *yaml.Node, what string, one bool) []json.RawMessage {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, CodeBadTest, "%s must be a CloudTrail record (a mapping) or {file: path}, not %s", what, yamlpos.KindOf(n))
		return nil
	}
	if len(n.Content) == 2 && n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Value == "file" {
		pathNode := d.resolve(n.Content[1])
		if pathNode == nil {
			return nil
		}
		path, ok := d.nonEmpty(pathNode, "file")
		if !ok {
			return nil
		}
		full := d.besideFile(path)
		data, err := d.l.readFile(full)
		switch {
		case err != nil:
			d.errorf(pathNode, CodeBadTest, "cannot read %s: %v", path, err)
			return nil
		case len(data) > MaxEventsFileBytes:
			d.errorf(pathNode, CodeTooLarge, "%s has %d bytes; the limit is %d", path, len(data), MaxEventsFileBytes)
			return nil
		}
		return d.decodeRecords(pathNode, path, data, one)
	}
	var b bytes.Buffer
	if !d.toJSON(&b, n, what) {
		return nil
	}
	return d.decodeRecords(n, what, b.Bytes(), true)
}

// decodeRecords decodes data, what n gives, into its CloudTrail records.
func (d *decoder) decodeRecords(n *yaml.Node, what string, data []byte, one bool) []json.RawMessage {
	res := cloudtrail.Decode(data, cloudtrail.Options{MaxRecordBytes: MaxEventsFileBytes, MaxInflatedBytes: maxInflatedEvents})
	if len(res.Rejects) > 0 {
		rj := res.Rejects[0]
		more := ""
		if len(res.Rejects) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(res.Rejects)-1)
		}
		if n.Kind == yaml.ScalarNode { // a file
			d.errorf(n, CodeBadTest, "%s: record %d is not a CloudTrail record: %s%s", what, rj.Index+1, rj.Reason, more)
		} else {
			d.errorf(n, CodeBadTest, "%s is not a CloudTrail record: %s%s", what, rj.Reason, more)
		}
		return nil
	}
	if len(res.Skipped) > 0 {
		var kinds []string
		for k := range res.Skipped {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		d.errorf(n, CodeBadTest, "%s holds records that are not CloudTrail events: %s", what, strings.Join(kinds, ", "))
		return nil
	}
	switch {
	case len(res.Events) == 0:
		d.errorf(n, CodeBadTest, "%s holds no CloudTrail record", what)
		return nil
	case one && len(res.Events) > 1:
		d.errorf(n, CodeBadTest, "%s holds %d records; want one", what, len(res.Events))
		return nil
	}
	out := make([]json.RawMessage, len(res.Events))
	for i, ev := range res.Events {
		out[i] = bytes.Clone(ev.JSON)
	}
	return out
}

func (d *decoder) expect(n *yaml.Node, r *Runbook) Expect {
	var e Expect
	var decision, actions *yaml.Node
	ok := d.fields(n, "expect", []string{"decision", "actions", "rows"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "decision":
			decision = v
			if s, ok := d.str(v, "decision"); ok {
				if !slices.Contains(Decisions(), s) {
					d.errorf(v, CodeBadTest, "decision %q is not %s", s, oneOf(Decisions()))
					return
				}
				e.Decision = s
			}
		case "actions":
			actions = v
			e.Actions = []string{}
			d.list(v, "actions", func(_ int, a *yaml.Node) {
				s, ok := d.str(a, "an action kind")
				switch {
				case !ok:
				case !slices.Contains(Kinds(), s):
					d.errorf(a, CodeBadTest, "%q is not an action kind; want %s", s, oneOf(Kinds()))
				default:
					e.Actions = append(e.Actions, s)
				}
			})
		case "rows":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
				d.errorf(v, CodeWrongType, "rows must be a number, not %s", yamlpos.KindOf(v))
				return
			}
			var rows int
			if err := v.Decode(&rows); err != nil || rows < 0 {
				d.errorf(v, CodeBadTest, "rows %s is not a count of rows", v.Value)
				return
			}
			if r.Query == "" {
				d.errorf(v, CodeBadTest, "rows counts the query's rows, and the runbook has no query")
				return
			}
			e.Rows = &rows
		}
	})
	if !ok {
		return e
	}
	if decision == nil {
		d.errorf(n, CodeBadTest, "expect has no decision; want %s", oneOf(Decisions()))
	}
	if actions == nil || e.Actions == nil {
		return e
	}
	if e.Decision != "" && e.Decision != DecisionAct && len(e.Actions) > 0 {
		d.errorf(actions, CodeBadTest, "actions are planned only when the decision is act")
		return e
	}
	var kinds []string
	for _, a := range r.Actions {
		kinds = append(kinds, a.Kind)
	}
	if d.actionsComplete && !subsequence(e.Actions, kinds) {
		d.errorf(actions, CodeBadTest, "the runbook's actions (%s) can never plan %s in this order", strings.Join(kinds, ", "), strings.Join(e.Actions, ", "))
	}
	return e
}

// subsequence reports whether sub is seq with some elements left out.
func subsequence(sub, seq []string) bool {
	i := 0
	for _, s := range seq {
		if i < len(sub) && sub[i] == s {
			i++
		}
	}
	return i == len(sub)
}
