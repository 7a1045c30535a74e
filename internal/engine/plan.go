package engine

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/tags"
)

// plan resolves the index-th action of rb into the actions to carry out:
// one, or one per resource for the actions that act on resources. Each
// gets its idempotency key: the runbook, the event's key, the index, and
// the resource's ARN when the action is per resource.
func (e *Engine) plan(ctx context.Context, rb *runbook.Runbook, index int, a runbook.Action, ev *cloudtrail.Event, key string, effect *tags.Effect, snap Snapshot, v *vars) ([]action.Action, error) {
	base := action.Action{
		Key: action.Key(rb.Name, key, index), Runbook: rb.Name, Index: index, Kind: a.Kind,
		Enforce: e.opts.Enforce && rb.Mode == runbook.Enforce,
	}
	perARN := func(arn string) action.Action {
		x := base
		x.Key += "#" + arn
		return x
	}
	switch a.Kind {
	case action.KindAlert:
		s := a.Alert
		title := rb.Description
		if s.Title != nil {
			t, err := render(s.Title, v)
			if err != nil {
				return nil, err
			}
			title = t
		}
		text := ""
		if s.Text != nil {
			t, err := render(s.Text, v)
			if err != nil {
				return nil, err
			}
			text = t
		}
		to := s.To
		if len(to) == 0 {
			to = []string{"stdout"}
		}
		fields := map[string]any{
			"event_id": ev.EventID.V, "event_name": ev.EventName, "event_source": ev.EventSource.V,
			"event_time": ev.EventTime.UTC(), "principal": ev.UserIdentity.ARN.V, "resources": effect.Touched,
		}
		if len(v.rows) > 0 {
			fields["rows"] = v.rows[:min(len(v.rows), e.opts.EvidenceRows)]
		}
		base.Reason = title
		base.Alert = &action.Alert{Severity: rb.Severity, Title: title, Text: text, To: slices.Clone(to), Fields: fields}
		return []action.Action{base}, nil

	case action.KindRevertTags:
		var only []string
		if a.RevertTags.ARNs != nil {
			arns, err := targets(a.RevertTags.ARNs, effect, v)
			if err != nil {
				return nil, err
			}
			only = arns
		}
		var out []action.Action
		for _, c := range effect.Changes {
			if c.Kind == tags.Delete {
				continue // the resource is gone: nothing to revert
			}
			if a.RevertTags.ARNs != nil && !slices.Contains(only, c.ARN) {
				continue // not one the runbook asked to revert
			}
			var before map[string]string
			known := true
			if c.Kind != tags.Create {
				// Before a create there was nothing, whatever an earlier
				// resource of the same ARN carried.
				var err error
				if before, known, err = snap.TagsBefore(ctx, c.ARN, ev); err != nil {
					return nil, err
				}
			}
			if before == nil {
				before = map[string]string{}
			}
			tc := revert(c, before, a.RevertTags.Keys)
			if tc == nil {
				continue
			}
			tc.Region = regionFor(c.ARN, ev)
			x := perARN(c.ARN)
			x.Tags = tc
			x.Reason = fmt.Sprintf("undo %s by %s on %s", ev.EventName, ev.UserIdentity.ARN.V, c.ARN)
			switch {
			case c.Kind == tags.Create:
				x.Reason += " (it created the resource: the keys it set are removed)"
			case !known:
				x.Reason += " (tags before it unknown: the keys it set are removed)"
			}
			out = append(out, x)
		}
		return out, nil

	case action.KindTag:
		s := a.Tag
		arns, err := targets(s.ARNs, effect, v)
		if err != nil {
			return nil, err
		}
		set := map[string]string{}
		for _, k := range slices.Sorted(maps.Keys(s.Set)) {
			val, err := render(s.Set[k], v)
			if err != nil {
				return nil, fmt.Errorf("tag %s: %w", k, err)
			}
			set[k] = val
		}
		var out []action.Action
		for _, arn := range arns {
			x := perARN(arn)
			x.Tags = &action.TagChange{ARN: arn, Set: set, Remove: slices.Sorted(slices.Values(s.Remove)), Region: regionFor(arn, ev)}
			x.Reason = "tag " + arn
			out = append(out, x)
		}
		return out, nil

	case action.KindQuarantine:
		s := a.Quarantine
		arns, err := targets(s.ARNs, effect, v)
		if err != nil {
			return nil, err
		}
		var out []action.Action
		for _, arn := range arns {
			x := perARN(arn)
			x.Quarantine = &action.Quarantine{ARN: arn, IsolationGroup: s.IsolationGroup, BreakGlass: slices.Clone(s.BreakGlass), Tag: s.Tag, Region: regionFor(arn, ev)}
			x.Reason = fmt.Sprintf("%s: %s by %s", rb.Name, ev.EventName, ev.UserIdentity.ARN.V)
			out = append(out, x)
		}
		return out, nil

	case action.KindGate:
		s := a.Gate
		reason := rb.Description
		if s.Reason != nil {
			r, err := render(s.Reason, v)
			if err != nil {
				return nil, err
			}
			reason = r
		}
		base.Gate = &action.GateChange{Name: s.Name, State: s.State, Reason: reason, Until: v.now.Add(s.TTL)}
		base.Reason = reason
		return []action.Action{base}, nil
	}
	return nil, fmt.Errorf("unknown action kind %q", a.Kind)
}

// regionFor is the region an action on arn is to be made in when arn
// names none (S3 buckets: arn:aws:s3:::NAME): ev's awsRegion, where the
// call that triggered it was served. Empty when arn has a region of its
// own, or is no ARN.
func regionFor(arn string, ev *cloudtrail.Event) string {
	if a, ok := tags.ParseARN(arn); ok && a.Region == "" {
		return ev.AWSRegion.V
	}
	return ""
}

// revert is the tag change that undoes c, given the tags before it,
// limited to keys when keys is not empty; nil when there is nothing to do.
func revert(c tags.Change, before map[string]string, keys []string) *action.TagChange {
	touched := map[string]bool{}
	switch c.Kind {
	case tags.Merge:
		for _, t := range c.Set {
			touched[t.Key] = true
		}
		for _, r := range c.Remove {
			touched[r.Key] = true
		}
	case tags.Replace, tags.Create:
		for k := range before {
			touched[k] = true
		}
		for _, t := range c.Set {
			touched[t.Key] = true
		}
	}
	tc := &action.TagChange{ARN: c.ARN, Set: map[string]string{}}
	for _, k := range slices.Sorted(maps.Keys(touched)) {
		if len(keys) > 0 && !slices.Contains(keys, k) {
			continue
		}
		if v, ok := before[k]; ok {
			tc.Set[k] = v
		} else {
			tc.Remove = append(tc.Remove, k)
		}
	}
	if len(tc.Set) == 0 && len(tc.Remove) == 0 {
		return nil
	}
	return tc
}

// targets are the ARNs an action acts on: those expr gives (a string or a
// list of strings), or every resource the event touched.
func targets(expr *runbook.Expr, effect *tags.Effect, v *vars) ([]string, error) {
	if expr == nil {
		return slices.Clone(effect.Touched), nil
	}
	val, err := eval(expr, v)
	if err != nil {
		return nil, fmt.Errorf("arns: %w", err)
	}
	var out []string
	switch x := val.(type) {
	case string:
		out = []string{x}
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("arns: %v is not a string", e)
			}
			out = append(out, s)
		}
	case nil:
	default:
		return nil, fmt.Errorf("arns: gave %T, want a string or a list of strings", val)
	}
	out = slices.DeleteFunc(out, func(s string) bool { return strings.TrimSpace(s) == "" })
	slices.Sort(out)
	return slices.Compact(out), nil
}

func render(t *template.Template, v *vars) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, v.template()); err != nil {
		return "", err
	}
	return b.String(), nil
}
