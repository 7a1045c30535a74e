package runbook

import (
	"regexp"
	"slices"
	"strings"
	"text/template"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/action/alert"
)

// Kinds are the kinds of action a runbook may list, in the order the
// documentation gives them.
func Kinds() []string {
	return []string{action.KindAlert, action.KindRevertTags, action.KindTag, action.KindQuarantine, action.KindGate}
}

// Limits AWS puts on tags.
const (
	maxTagKeyChars = 128
)

func namePattern() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`) }

func securityGroupPattern() *regexp.Regexp { return regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`) }

// actions decodes a runbook's actions list into r.Actions.
func (d *decoder) actions(n *yaml.Node, r *Runbook, sc scope) {
	if n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		d.errorf(n, CodeMissingField, "actions is empty; a runbook needs at least one action")
		return
	}
	d.list(n, "actions", func(_ int, e *yaml.Node) {
		if a := d.action(e, r, sc); a != nil {
			r.Actions = append(r.Actions, *a)
		}
	})
}

func (d *decoder) action(n *yaml.Node, r *Runbook, sc scope) *Action {
	a := &Action{Pos: d.pos(n)}
	var kindKey, kindVal *yaml.Node
	keys := append(Kinds(), "when")
	before := len(d.l.errs)
	ok := d.fields(n, "an action", keys, func(key string, k, v *yaml.Node) {
		if key == "when" {
			a.When = d.expr(v, "when", boolResult, sc)
			return
		}
		if kindKey != nil {
			d.errorf(k, CodeBadValue, "an action has one kind, and this one is already %s; make %s another action", kindKey.Value, key)
			return
		}
		kindKey, kindVal = k, v
	})
	if !ok {
		return nil
	}
	if kindKey == nil && !d.reported(before, CodeUnknownKey) {
		d.errorf(n, CodeMissingField, "the action has no kind; want %s", oneOf(Kinds()))
	}
	if kindKey == nil {
		return nil
	}
	a.Kind = kindKey.Value
	switch a.Kind {
	case action.KindAlert:
		a.Alert = d.alert(kindVal, r, sc)
	case action.KindRevertTags:
		a.RevertTags = d.revertTags(kindVal, sc)
	case action.KindTag:
		a.Tag = d.tag(kindVal, sc)
	case action.KindQuarantine:
		a.Quarantine = d.quarantine(kindVal, sc)
	case action.KindGate:
		a.Gate = d.gate(kindVal, sc)
	}
	return a
}

// isNull reports whether n is an empty value (`revert-tags:`), which
// stands for an empty mapping.
func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func (d *decoder) alert(n *yaml.Node, r *Runbook, sc scope) *AlertSpec {
	s := &AlertSpec{To: []string{alert.TypeStdout}}
	if !isNull(n) {
		d.fields(n, "an alert", []string{"to", "title", "text"}, func(key string, k, v *yaml.Node) {
			switch key {
			case "to":
				s.To = d.channelNames(v)
			case "title":
				s.Title = d.template(v, "title", "title", sc.params)
			case "text":
				s.Text = d.template(v, "text", "text", sc.params)
			}
		})
	}
	if s.Title == nil {
		s.Title = literalTemplate("title", r.Description)
	}
	return s
}

// channelNames decodes an alert's to list: names of channels that exist.
func (d *decoder) channelNames(n *yaml.Node) []string {
	if n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		d.errorf(n, CodeBadValue, "to is empty; leave it out to alert stdout")
		return nil
	}
	var out []string
	seen := map[string]bool{}
	d.list(n, "to", func(_ int, e *yaml.Node) {
		name, ok := d.nonEmpty(e, "a channel name")
		switch {
		case !ok:
		case seen[name]:
			d.errorf(e, CodeDuplicate, "channel %s is already in to", name)
		case !d.l.channels[name]:
			d.errorf(e, CodeUnknownChannel, "no channel is named %s; define it in channels.yaml, or use stdout or log", name)
		default:
			seen[name] = true
			out = append(out, name)
		}
	})
	return out
}

func (d *decoder) revertTags(n *yaml.Node, sc scope) *RevertTagsSpec {
	s := &RevertTagsSpec{}
	if isNull(n) {
		return s
	}
	d.fields(n, "revert-tags", []string{"arns", "keys"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "arns":
			s.ARNs = d.expr(v, "arns", arnsResult, sc)
		case "keys":
			s.Keys = d.tagKeys(v, "keys")
		}
	})
	return s
}

// tagKeys decodes a list of tag keys.
func (d *decoder) tagKeys(n *yaml.Node, what string) []string {
	var out []string
	seen := map[string]bool{}
	d.list(n, what, func(_ int, e *yaml.Node) {
		k, ok := d.str(e, "a tag key")
		switch {
		case !ok:
		case !d.tagKey(e, k):
		case seen[k]:
			d.errorf(e, CodeDuplicate, "tag key %q is already in %s", k, what)
		default:
			seen[k] = true
			out = append(out, k)
		}
	})
	return out
}

// tagKey reports whether k, at n, is a tag key AWS lets one set.
func (d *decoder) tagKey(n *yaml.Node, k string) bool {
	switch {
	case k == "":
		d.errorf(n, CodeBadValue, "empty tag key")
	case utf8.RuneCountInString(k) > maxTagKeyChars:
		d.errorf(n, CodeBadValue, "tag key %.20q... is longer than %d characters", k, maxTagKeyChars)
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		d.errorf(n, CodeBadValue, "tag key %q: keys starting with aws: belong to AWS", k)
	default:
		return true
	}
	return false
}

func (d *decoder) tag(n *yaml.Node, sc scope) *TagSpec {
	s := &TagSpec{}
	var setNode, removeNode *yaml.Node
	ok := d.fields(n, "a tag action", []string{"arns", "set", "remove"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "arns":
			s.ARNs = d.expr(v, "arns", arnsResult, sc)
		case "set":
			setNode = v
			s.Set = map[string]*template.Template{}
			d.pairs(v, "set", func(k, v *yaml.Node) {
				if !d.tagKey(k, k.Value) {
					return
				}
				if t := d.template(v, "set", "the value of tag "+k.Value, sc.params); t != nil {
					s.Set[k.Value] = t
				}
			})
		case "remove":
			removeNode = v
			s.Remove = d.tagKeys(v, "remove")
		}
	})
	if !ok {
		return s
	}
	if setNode == nil && removeNode == nil {
		d.errorf(n, CodeMissingField, "a tag action needs set, remove or both")
	}
	for _, k := range s.Remove {
		if _, both := s.Set[k]; both {
			d.errorf(removeNode, CodeBadValue, "tag key %q is both set and removed", k)
		}
	}
	return s
}

func (d *decoder) quarantine(n *yaml.Node, sc scope) *QuarantineSpec {
	s := &QuarantineSpec{}
	if isNull(n) {
		return s
	}
	d.fields(n, "a quarantine action", []string{"arns", "isolation_group", "break_glass", "tag"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "arns":
			s.ARNs = d.expr(v, "arns", arnsResult, sc)
		case "isolation_group":
			if g, ok := d.str(v, "isolation_group"); ok {
				if !securityGroupPattern().MatchString(g) {
					d.errorf(v, CodeBadValue, "isolation_group %q is not a security group ID (sg- and 8 or 17 hex digits)", g)
					return
				}
				s.IsolationGroup = g
			}
		case "break_glass":
			s.BreakGlass = []string{}
			d.list(v, "break_glass", func(_ int, e *yaml.Node) {
				a, ok := d.str(e, "an entry of break_glass")
				switch {
				case !ok:
				case !isARN(a):
					d.errorf(e, CodeBadValue, "break_glass %q is not a principal ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)", a)
				case slices.Contains(s.BreakGlass, a):
					d.errorf(e, CodeDuplicate, "%s is already in break_glass", a)
				default:
					s.BreakGlass = append(s.BreakGlass, a)
				}
			})
		case "tag":
			s.Tag, _ = d.boolean(v, "tag")
		}
	})
	return s
}

// isARN reports whether s has an ARN's six parts.
func isARN(s string) bool {
	p := strings.SplitN(s, ":", 6)
	return len(p) == 6 && p[0] == "arn" && p[1] != "" && p[2] != "" && p[5] != ""
}

func (d *decoder) gate(n *yaml.Node, sc scope) *GateSpec {
	s := &GateSpec{}
	var name, state, ttl *yaml.Node
	ok := d.fields(n, "a gate action", []string{"name", "state", "reason", "ttl"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			name = v
			if g, ok := d.nonEmpty(v, "the gate's name"); ok {
				if !namePattern().MatchString(g) {
					d.errorf(v, CodeBadValue, "gate name %q may hold only lowercase letters, digits and '-', and starts with a letter or digit", g)
					return
				}
				s.Name = g
				d.l.gateRefs = append(d.l.gateRefs, gateRef{name: g, pos: d.pos(v)})
			}
		case "state":
			state = v
			if st, ok := d.str(v, "state"); ok {
				if st != GateHalt && st != GateSkip {
					d.errorf(v, CodeBadValue, "state %q is not %s or %s", st, GateHalt, GateSkip)
					return
				}
				s.State = st
			}
		case "reason":
			s.Reason = d.template(v, "reason", "reason", sc.params)
		case "ttl":
			ttl = v
			s.TTL, _ = d.duration(v, "ttl", 1)
		}
	})
	if !ok {
		return s
	}
	for _, f := range []struct {
		n    *yaml.Node
		what string
	}{{name, "name"}, {state, "state (halt or skip)"}, {ttl, "ttl"}} {
		if f.n == nil {
			d.errorf(n, CodeMissingField, "a gate action needs a %s", f.what)
		}
	}
	return s
}
