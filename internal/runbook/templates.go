package runbook

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"gopkg.in/yaml.v3"
)

// TemplateFuncs are the functions runbook templates may call besides
// text/template's own. Load parses templates with them, so executing a
// loaded template needs nothing more.
//
//   - json: v as JSON (a string with its quotes);
//   - join: the elements of a list, each formatted as by print, separated
//     by sep: {{join .params.keys ", "}}.
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			if err != nil {
				return "", fmt.Errorf("json: %w", err)
			}
			return string(b), nil
		},
		"join": func(list any, sep string) (string, error) {
			var parts []string
			switch l := list.(type) {
			case nil:
			case []string:
				parts = l
			case []any:
				for _, e := range l {
					parts = append(parts, fmt.Sprint(e))
				}
			default:
				return "", fmt.Errorf("join: %T is not a list", list)
			}
			return strings.Join(parts, sep), nil
		},
	}
}

// TemplateKeys are the keys of the data templates are executed with:
// .event (the record as JSON decodes it), .params, .rows, .now (the
// evaluation's clock, a time.Time), .runbook (Runbook.Vars) and
// .violations (as in CEL; empty without a schema). Load reports a
// template that reads another key from the top.
func TemplateKeys() []string {
	return []string{"event", "params", "rows", "now", "runbook", "violations"}
}

// newTemplate is an empty template as runbook templates are made:
// missing map keys give the zero value, the functions are TemplateFuncs.
func newTemplate(name string) *template.Template {
	return template.New(name).Option("missingkey=zero").Funcs(TemplateFuncs())
}

// literalTemplate is a template that renders text as it is.
func literalTemplate(name, text string) *template.Template {
	return template.Must(newTemplate(name).Parse("{{" + strconv.Quote(text) + "}}"))
}

// templateError matches text/template's parse errors: "template:
// NAME:LINE: msg", where msg may end in "started at NAME:LINE", the line
// meant.
func templateError() *regexp.Regexp {
	return regexp.MustCompile(`^template: [^:]*:(\d+):(?:\d+:)? ?(.*?)(?: started at [^:]*:(\d+))?$`)
}

// template parses the Go template n, named name (no colon), reporting its
// problems where they are written. params are the runbook's params, for
// checking .params.NAME.
func (d *decoder) template(n *yaml.Node, name, what string, params []string) *template.Template {
	src, ok := d.str(n, what)
	if !ok {
		return nil
	}
	t, err := newTemplate(name).Parse(src)
	if err != nil {
		msg, off := err.Error(), 0
		if m := templateError().FindStringSubmatch(msg); m != nil {
			if m[3] != "" {
				m[1] = m[3]
			}
			line, _ := strconv.Atoi(m[1])
			msg, off = m[2], lineOffset(src, line, 0)
		}
		d.errorIn(n, off, CodeBadTemplate, "%s: %s", what, msg)
		return nil
	}
	if t.Tree == nil || t.Root == nil {
		return t // empty text: renders ""
	}
	bad := false
	keys := TemplateKeys()
	if d.gateDoc {
		keys = GateTemplateKeys()
	}
	walkFields(t.Root, true, func(pos int, path []string) {
		switch {
		case !slices.Contains(keys, path[0]):
			d.errorIn(n, pos, CodeBadTemplate, "%s: .%s is not known; want %s", what, path[0], oneOf(dotted(keys)))
		case len(path) < 2:
			return
		case path[0] == "params" && !slices.Contains(params, path[1]):
			d.errorIn(n, pos, CodeBadTemplate, "%s: there is no param %s", what, path[1])
		case path[0] == "runbook" && !slices.Contains(runbookVarKeys(), path[1]):
			d.errorIn(n, pos, CodeBadTemplate, "%s: .runbook has no key %s; want %s", what, path[1], oneOf(runbookVarKeys()))
		default:
			return
		}
		bad = true
	})
	if bad {
		return nil
	}
	return t
}

func dotted(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = "." + w
	}
	return out
}

// walkFields calls fn with every field path read from the template's data
// at the top, and the byte offset where it starts: .a.b while dot is the
// data (atTop), and $.a.b anywhere. The bodies of range and with, where
// dot is something else, are skipped but for $ paths.
func walkFields(n parse.Node, atTop bool, fn func(pos int, path []string)) {
	if n == nil {
		return
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkFields(c, atTop, fn)
		}
	case *parse.ActionNode:
		walkFields(n.Pipe, atTop, fn)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkFields(c, atTop, fn)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walkFields(a, atTop, fn)
		}
	case *parse.FieldNode:
		if atTop && len(n.Ident) > 0 {
			fn(chainStart(n.Pos, "."+n.Ident[0], len(n.Ident)), n.Ident)
		}
	case *parse.ChainNode:
		walkFields(n.Node, atTop, fn)
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			fn(chainStart(n.Pos, "$", len(n.Ident)), n.Ident[1:])
		}
	case *parse.IfNode:
		walkFields(n.Pipe, atTop, fn)
		walkFields(n.List, atTop, fn)
		walkFields(n.ElseList, atTop, fn)
	case *parse.RangeNode:
		walkFields(n.Pipe, atTop, fn)
		walkFields(n.List, false, fn)
		walkFields(n.ElseList, atTop, fn)
	case *parse.WithNode:
		walkFields(n.Pipe, atTop, fn)
		walkFields(n.List, false, fn)
		walkFields(n.ElseList, atTop, fn)
	case *parse.TemplateNode:
		walkFields(n.Pipe, atTop, fn)
	}
}

// chainStart is where a field chain of parts parts (.a.b, $.a) starts:
// text/template places a chain of more than one part at its second, after
// first.
func chainStart(pos parse.Pos, first string, parts int) int {
	if parts > 1 {
		return max(int(pos)-len(first), 0)
	}
	return int(pos)
}
