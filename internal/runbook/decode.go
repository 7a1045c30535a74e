package runbook

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/trailbook/trailbook/internal/tags/schema"
	"github.com/trailbook/trailbook/internal/yamlpos"
	"gopkg.in/yaml.v3"
)

// Severities are a runbook's severities, lowest first.
func Severities() []string { return slices.Clone(severities) }

// DefaultSeverity is the severity of a runbook that does not say.
const DefaultSeverity = "medium"

// runbookKeys are the keys of a runbook, in the order the documentation
// gives them.
func runbookKeys() []string {
	return []string{"name", "description", "owner", "severity", "mode", "trigger", "params", "schema", "query", "condition", "actions", "cooldown", "dedup", "tests"}
}

// reservedParams are the names a param may not take: the variables of
// expressions, and the query's built-in placeholders.
func reservedParams() []string {
	return append([]string{"event", "rows", "now", "runbook", "params"}, BuiltinPlaceholders()...)
}

// runbook decodes the file's root as one runbook. It returns nil when
// root is not a mapping at all; otherwise a Runbook holding what decoded,
// its problems reported.
func (d *decoder) runbook(root *yaml.Node) *Runbook {
	r := &Runbook{File: d.file, Pos: d.pos(root), Severity: DefaultSeverity, Mode: DryRun}
	got := map[string]*yaml.Node{}
	keyOf := map[string]*yaml.Node{}
	if !d.fields(root, "a runbook", runbookKeys(), func(key string, k, v *yaml.Node) {
		got[key], keyOf[key] = v, k
	}) {
		return nil
	}
	missing := func(key, format string, args ...any) *yaml.Node {
		v := got[key]
		if v == nil {
			d.errorf(root, CodeMissingField, format, args...)
		}
		return v
	}

	if v := missing("name", "the runbook has no name"); v != nil {
		r.Name = d.definedName(v, "name", "name", "runbook", d.l.names)
	}
	if v := missing("description", "the runbook has no description"); v != nil {
		r.Description, _ = d.nonEmpty(v, "description")
	}
	if v := missing("owner", "the runbook has no owner"); v != nil {
		r.Owner, _ = d.nonEmpty(v, "owner")
	}
	if v := got["severity"]; v != nil {
		if s, ok := d.str(v, "severity"); ok {
			if !slices.Contains(severities, s) {
				d.errorf(v, CodeBadValue, "severity %q is not %s", s, oneOf(severities))
			} else {
				r.Severity = s
			}
		}
	}
	if v := got["mode"]; v != nil {
		if s, ok := d.str(v, "mode"); ok {
			if s != DryRun && s != Enforce {
				d.errorf(v, CodeBadValue, "mode %q is not %s or %s", s, DryRun, Enforce)
			} else {
				r.Mode = s
			}
		}
	}
	if v := missing("trigger", "the runbook has no trigger; give a pattern or a schedule"); v != nil {
		r.Trigger = d.trigger(v)
	}

	var params []string
	if v := got["params"]; v != nil {
		r.Params, params = d.params(v)
	}
	if v := got["schema"]; v != nil {
		d.schema(v, r)
	}
	sc := scope{params: params, noSchema: got["schema"] == nil}
	if v := got["query"]; v != nil {
		d.query(v, r, params)
	}
	if v := got["condition"]; v != nil {
		r.Condition = d.expr(v, "condition", boolResult, sc)
	}
	if v := missing("actions", "the runbook has no actions"); v != nil {
		d.actionsComplete = true
		before := len(d.l.errs)
		d.actions(v, r, sc)
		d.actionsComplete = len(d.l.errs) == before
	}
	if v := got["cooldown"]; v != nil {
		r.Cooldown, _ = d.duration(v, "cooldown", 1)
	}
	if v := got["dedup"]; v != nil {
		if got["cooldown"] == nil {
			d.errorf(keyOf["dedup"], CodeBadValue, "dedup says what a cooldown is kept per, and the runbook has no cooldown")
		}
		r.Dedup = d.expr(v, "dedup", stringResult, scope{params: params, beforeQuery: "the cooldown is checked before the query runs"})
	}
	if v := got["tests"]; v != nil {
		d.tests(v, r)
	} else {
		d.errorf(root, CodeMissingTests, "the runbook has no tests; give at least one that shows it acting")
	}
	return r
}

// definedName decodes the name a runbook or gate (kind) is defined under
// (the value of key; label names it in messages), reporting a malformed
// name and one defined before, which names records.
func (d *decoder) definedName(v *yaml.Node, key, label, kind string, names map[string]Pos) string {
	name, ok := d.nonEmpty(v, key)
	switch {
	case !ok:
	case !namePattern().MatchString(name):
		d.errorf(v, CodeBadValue, "%s %q may hold only lowercase letters, digits and '-', and starts with a letter or digit", label, name)
	default:
		if prev, dup := names[name]; dup {
			d.errorf(v, CodeDuplicate, "%s %s is already defined at %s:%d:%d", kind, name, prev.File, prev.Line, prev.Col)
		} else {
			names[name] = d.pos(v)
		}
	}
	return name
}

// params decodes the params mapping, in order: each param's expression
// may use the ones before it.
func (d *decoder) params(n *yaml.Node) ([]Param, []string) {
	var out []Param
	var names []string
	d.pairs(n, "params", func(k, v *yaml.Node) {
		name := k.Value
		if !d.paramName(k, reservedParams()) {
			return
		}
		e := d.expr(v, fmt.Sprintf("param %s", name), anyResult, scope{params: slices.Clone(names), inParams: true, beforeQuery: "params are computed before the query runs"})
		names = append(names, name)
		if e != nil {
			out = append(out, Param{Name: name, Expr: e})
		}
	})
	return out, names
}

// paramName reports whether the param name k is well formed and not one
// of reserved, reporting why when it is not.
func (d *decoder) paramName(k *yaml.Node, reserved []string) bool {
	switch {
	case !isParamName(k.Value):
		d.errorf(k, CodeBadValue, "param name %q must be a lowercase letter or _ and then lowercase letters, digits or _", k.Value)
		return false
	case slices.Contains(reserved, k.Value):
		d.errorf(k, CodeBadValue, "param name %s is taken by the variable or placeholder of that name", k.Value)
		return false
	}
	return true
}

// isParamName reports whether s matches [a-z_][a-z0-9_]*.
func isParamName(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// schema decodes the schema key: a tag schema file, or a list of them
// (Trailbook YAML or AWS tag policies, in order, parent policy first),
// each a path relative to the runbook file. Their problems are reported
// in the schema files themselves.
func (d *decoder) schema(n *yaml.Node, r *Runbook) {
	var paths []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		paths = []*yaml.Node{n}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			d.errorf(n, CodeBadValue, "schema is empty; give a tag schema file or a list of them")
			return
		}
		paths = n.Content
	default:
		d.errorf(n, CodeWrongType, "schema must be a file name or a list of them, not %s", yamlpos.KindOf(n))
		return
	}
	var files []schema.File
	for _, p := range paths {
		p = d.resolve(p)
		if p == nil {
			return
		}
		name, ok := d.nonEmpty(p, "schema")
		if !ok {
			return
		}
		full := d.besideFile(name)
		data, err := d.l.readFile(full)
		if err != nil {
			d.errorf(p, CodeBadValue, "cannot read schema %s: %v", name, err)
			return
		}
		files = append(files, schema.File{Name: full, Data: data})
		r.SchemaFiles = append(r.SchemaFiles, name)
	}
	s, err := schema.Load(files)
	var list schema.ErrorList
	switch {
	case errors.As(err, &list):
		d.l.errs = append(d.l.errs, list...)
		return
	case err != nil:
		d.errorf(n, CodeBadValue, "schema: %v", err)
		return
	case s.Empty():
		d.errorf(n, CodeBadValue, "the schema has no rules, so it finds nothing")
		return
	}
	r.Schema = s
}

// besideFile is the path of a file a runbook names (test events, schemas):
// relative to the runbook file's directory, unless absolute.
func (d *decoder) besideFile(name string) string {
	full := filepath.FromSlash(name)
	if !filepath.IsAbs(full) {
		full = filepath.Join(filepath.Dir(d.file), full)
	}
	return full
}
