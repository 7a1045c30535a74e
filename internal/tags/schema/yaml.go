package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"

	"github.com/trailbook/trailbook/internal/yamlpos"
	"gopkg.in/yaml.v3"
)

// maxYAMLNodes bounds the nodes a file may expand to through its aliases,
// so that a few lines of nested aliases cannot make Load run for hours.
const maxYAMLNodes = 100_000

// ydec decodes one Trailbook YAML schema, adding its problems to errs.
type ydec struct {
	file   string
	lines  int // in the file, to keep positions inside it
	errs   *ErrorList
	budget int
	names  map[string]*yaml.Node // rule names, to find repeats
}

func (d *ydec) errorAt(line, col int, code, format string, args ...any) {
	if d.budget < 0 && code != CodeTooLarge {
		return // what follows the cut is noise
	}
	if line > d.lines { // yaml.v3 puts an empty document's node on the line after
		line, col = d.lines, 1
	}
	*d.errs = append(*d.errs, &Error{File: d.file, Line: line, Col: col, Code: code, Msg: fmt.Sprintf(format, args...)})
}

func (d *ydec) errorf(n *yaml.Node, code, format string, args ...any) {
	d.errorAt(max(n.Line, 1), max(n.Column, 1), code, format, args...)
}

// decodeYAML decodes the Trailbook schema in f into its rules.
func decodeYAML(f File, errs *ErrorList) []*rule {
	d := &ydec{file: f.Name, lines: yamlpos.LineCount(f.Data), errs: errs, budget: maxYAMLNodes, names: map[string]*yaml.Node{}}
	root := d.parse(f.Data)
	if root == nil {
		return nil
	}
	return d.schema(root)
}

// parse parses data into the node of its one document, or reports why it
// cannot and returns nil.
func (d *ydec) parse(data []byte) (root *yaml.Node) {
	defer func() {
		// yaml.v3 is not ours; a panic in it is a syntax error to the user.
		if r := recover(); r != nil {
			d.errorAt(1, 1, CodeSyntax, "yaml: parser failed: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errorAt(1, 1, CodeMissingField, "the file is empty; a schema needs version and rules")
		} else {
			d.syntax(err, data)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntax(err, data)
		return nil
	default:
		d.errorf(&extra, CodeUnsupported, "a second YAML document; a schema file holds one")
	}
	if len(doc.Content) == 0 || doc.Content[0].ShortTag() == "!!null" {
		d.errorAt(1, 1, CodeMissingField, "the file is empty; a schema needs version and rules")
		return nil
	}
	return doc.Content[0]
}

// syntax reports a yaml.v3 parse error, placed by yamlpos.Syntax.
//
// A file that YAML cannot read and that starts as JSON does, `{"`, is
// reported as JSON, whose errors have columns.
func (d *ydec) syntax(err error, data []byte) {
	if startsJSONObject(data) {
		if _, jerr := parseJSON(data); jerr != nil {
			line, col := lineCol(data, jerr.off)
			d.errorAt(line, col, CodeSyntax, "%s", jerr.msg)
			return
		}
	}
	line, col, msg := yamlpos.Syntax(err, data)
	d.errorAt(line, col, CodeSyntax, "%s", msg)
}

// resolve follows aliases and charges n to the budget. It returns nil,
// having reported the file too large once, when the budget is spent.
func (d *ydec) resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
		d.budget--
	}
	d.budget--
	if d.budget == -1 {
		d.errorf(n, CodeTooLarge, "the schema expands to more than %d nodes through its aliases", maxYAMLNodes)
	}
	if d.budget < 0 {
		return nil
	}
	return n
}

// fields calls fn with each key of mapping n and its value. It reports
// repeated keys, merge keys and keys that are not scalars instead of
// passing them on, and reports false when n is not a mapping.
func (d *ydec) fields(n *yaml.Node, what string, fn func(key string, k, v *yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, CodeWrongType, "%s must be a mapping, not %s", what, yamlpos.KindOf(n))
		return false
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.resolve(n.Content[i]), d.resolve(n.Content[i+1])
		if k == nil || v == nil {
			return false
		}
		switch {
		case k.ShortTag() == "!!merge":
			d.errorf(k, CodeUnsupported, "merge keys (<<) are not supported; alias the whole value instead")
			continue
		case k.Kind != yaml.ScalarNode:
			d.errorf(k, CodeWrongType, "a key in %s must be a string, not %s", what, yamlpos.KindOf(k))
			continue
		}
		if prev, ok := seen[k.Value]; ok {
			d.errorf(k, CodeDuplicate, "key %q repeats the one at line %d", k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		fn(k.Value, k, v)
	}
	return true
}

// str decodes a scalar as its text: numbers and booleans are taken as
// written.
func (d *ydec) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.errorf(n, CodeWrongType, "%s must be a string, not %s", what, yamlpos.KindOf(n))
		return "", false
	}
	return n.Value, true
}

// strList decodes a list of scalars, calling fn with each.
func (d *ydec) strList(n *yaml.Node, what string, fn func(s string, n *yaml.Node)) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, CodeWrongType, "%s must be a list, not %s", what, yamlpos.KindOf(n))
		return
	}
	for _, e := range n.Content {
		if e = d.resolve(e); e == nil {
			return
		}
		if s, ok := d.str(e, "an entry of "+what); ok {
			fn(s, e)
		}
	}
}

func (d *ydec) schema(n *yaml.Node) []*rule {
	var version, rules *yaml.Node
	var out []*rule
	ok := d.fields(n, "a schema", func(key string, k, v *yaml.Node) {
		switch key {
		case "version":
			version = v
			switch {
			case v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int":
				d.errorf(v, CodeWrongType, "version must be a number, not %s", yamlpos.KindOf(v))
			case v.Value != "1":
				d.errorf(v, CodeBadValue, "version %s is not supported; want 1", v.Value)
			}
		case "rules":
			rules = v
			if v.Kind != yaml.SequenceNode {
				d.errorf(v, CodeWrongType, "rules must be a list, not %s", yamlpos.KindOf(v))
				return
			}
			for _, e := range v.Content {
				if e = d.resolve(e); e == nil {
					return
				}
				if r := d.rule(e); r != nil {
					out = append(out, r)
				}
			}
		default:
			d.errorf(k, CodeUnknownKey, "unknown key %q in a schema; want version or rules", key)
		}
	})
	if !ok {
		return nil
	}
	if version == nil {
		d.errorf(n, CodeMissingField, "the schema has no version; want version: 1")
	}
	if rules == nil {
		d.errorf(n, CodeMissingField, "the schema has no rules")
	}
	return out
}

// keySpec is one key a rule names, in require or in keys.
type keySpec struct {
	key      string
	node     *yaml.Node
	values   *valueSet
	required bool
}

func (d *ydec) rule(n *yaml.Node) *rule {
	r := &rule{}
	var name string
	var nameNode *yaml.Node
	var specs []*keySpec
	byFold := map[string]*keySpec{} // by lowercase key
	addKey := func(key string, k *yaml.Node, required bool, values *valueSet) {
		switch {
		case key == "":
			d.errorf(k, CodeBadValue, "empty tag key")
			return
		case len(key) > maxKeyLen:
			d.errorf(k, CodeBadValue, "tag key %.20q... is longer than %d bytes", key, maxKeyLen)
			return
		}
		fold := strings.ToLower(key)
		prev, ok := byFold[fold]
		switch {
		case !ok:
			ks := &keySpec{key: key, node: k, values: values, required: required}
			byFold[fold] = ks
			specs = append(specs, ks)
		case prev.key != key:
			d.errorf(k, CodeDuplicate, "tag key %q differs only in case from %q at line %d", key, prev.key, prev.node.Line)
		case required && prev.required:
			d.errorf(k, CodeDuplicate, "tag key %q is required twice", key)
		default: // in keys and in require
			prev.required = prev.required || required
			if values != nil {
				prev.values = values
			}
		}
	}
	var requireNode, keysNode *yaml.Node
	ok := d.fields(n, "a rule", func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			nameNode = v
			name, _ = d.str(v, "name")
		case "resources":
			d.resources(v, "resources", &r.scope.resources)
		case "accounts":
			r.scope.accounts = d.accounts(v, "accounts")
		case "regions":
			d.regions(v, "regions", &r.scope.regions)
		case "exclude":
			d.exclude(v, &r.scope)
		case "tagged":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
				d.errorf(v, CodeWrongType, "tagged must be true or false, not %s", yamlpos.KindOf(v))
				return
			}
			r.tagged = v.Value == "true"
		case "require":
			requireNode = v
		case "keys":
			keysNode = v
		case "grace":
			s, ok := d.str(v, "grace")
			if !ok {
				return
			}
			g, err := time.ParseDuration(s)
			switch {
			case err != nil:
				d.errorf(v, CodeBadValue, "grace %q is not a duration such as 30m or 4h", s)
			case g < 0:
				d.errorf(v, CodeBadValue, "grace %q is negative", s)
			case g > maxGrace:
				d.errorf(v, CodeBadValue, "grace %q is longer than %s", s, maxGrace)
			default:
				r.grace = g
			}
		case "case":
			s, ok := d.str(v, "case")
			switch {
			case !ok:
			case s == "exact":
			case s == "insensitive":
				r.fold = true
			default:
				d.errorf(v, CodeBadValue, "case %q is not exact or insensitive", s)
			}
		default:
			d.errorf(k, CodeUnknownKey, "unknown key %q in a rule; want name, resources, accounts, regions, exclude, tagged, require, keys, case or grace", key)
		}
	})
	if !ok {
		return nil
	}
	// keys first, so that a key both specified and required is reported
	// where require repeats it.
	if keysNode != nil {
		d.fields(keysNode, "keys", func(key string, k, v *yaml.Node) {
			values, ok := d.keySpec(key, v)
			if ok {
				addKey(key, k, false, values)
			}
		})
	}
	if requireNode != nil {
		d.strList(requireNode, "require", func(s string, e *yaml.Node) { addKey(s, e, true, nil) })
	}
	switch {
	case nameNode == nil:
		d.errorf(n, CodeMissingField, "the rule has no name")
		return nil
	case name == "":
		if nameNode.Kind == yaml.ScalarNode && nameNode.ShortTag() != "!!null" {
			d.errorf(nameNode, CodeBadValue, "empty rule name")
		}
		return nil
	}
	if prev, ok := d.names[name]; ok {
		d.errorf(nameNode, CodeDuplicate, "rule name %q repeats the one at line %d", name, prev.Line)
	} else {
		d.names[name] = nameNode
	}
	if !r.tagged && requireNode == nil && keysNode == nil {
		d.errorf(n, CodeMissingField, "rule %q checks nothing; give it require, keys or tagged: true", name)
	}
	r.id = fmt.Sprintf("%s:%d: %s", d.file, n.Line, name)
	for _, ks := range specs {
		kr := keyRule{key: ks.key, ascii: isASCII(ks.key), values: ks.values, caseID: r.id, valueID: r.id, requiredID: r.id}
		kr.required.all = ks.required
		r.keys = append(r.keys, kr)
	}
	return r
}

// keySpec decodes what keys says of one key: nothing (any value), values,
// regex, or both (a value passes when it is in values or matches regex).
func (d *ydec) keySpec(key string, n *yaml.Node) (*valueSet, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, true
	}
	var vs *valueSet
	var words []string
	ok := true
	d.fields(n, "the spec of key "+strconv.Quote(key), func(field string, k, v *yaml.Node) {
		switch field {
		case "values":
			if vs == nil {
				vs = &valueSet{}
			}
			if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
				vs.none = true
			}
			d.strList(v, "values", func(s string, _ *yaml.Node) {
				vs.list.add(s)
				words = append(words, s)
			})
		case "regex":
			s, isStr := d.str(v, "regex")
			if !isStr {
				ok = false
				return
			}
			re, err := regexp.Compile(s)
			if err != nil {
				msg := err.Error()
				if se := (*syntax.Error)(nil); errors.As(err, &se) {
					msg = se.Code.String()
				}
				d.errorf(v, CodeBadRegex, "regex %q of key %q: %s", s, key, msg)
				ok = false
				return
			}
			if vs == nil {
				vs = &valueSet{}
			}
			vs.re = re
		default:
			d.errorf(k, CodeUnknownKey, "unknown key %q in the spec of key %q; want values or regex", field, key)
		}
	})
	if vs != nil {
		vs.words = listWords(words)
		if vs.re != nil {
			vs.none = false
		}
	}
	return vs, ok
}

// resources decodes a list of resource patterns: "*", "service:type",
// "service:*", or an ARN glob ("arn:aws:s3:::logs-*").
func (d *ydec) resources(n *yaml.Node, what string, set *resourceSet) {
	d.strList(n, what, func(s string, e *yaml.Node) {
		switch {
		case s == "*":
			set.all = true
		case strings.HasPrefix(s, "arn:"):
			if strings.Count(s, ":") < 5 {
				d.errorf(e, CodeBadPattern, "pattern %q starts as an ARN but has fewer than its six parts", s)
				return
			}
			set.arns = append(set.arns, newGlob(s))
		default:
			service, typ, err := splitType(s, false)
			if err != nil {
				d.errorf(e, CodeBadPattern, "resource pattern %q is not \"*\", service:type, service:* or an ARN pattern", s)
				return
			}
			set.add(service, typ)
		}
	})
}

func isAccountID(s string) bool {
	return len(s) == 12 && strings.Trim(s, "0123456789") == ""
}

func (d *ydec) accounts(n *yaml.Node, what string) map[string]bool {
	set := map[string]bool{}
	d.strList(n, what, func(s string, e *yaml.Node) {
		if !isAccountID(s) {
			d.errorf(e, CodeBadValue, "account %q is not a 12-digit account id", s)
			return
		}
		set[s] = true
	})
	return set
}

func (d *ydec) regions(n *yaml.Node, what string, set *globSet) {
	d.strList(n, what, func(s string, e *yaml.Node) {
		if s == "" || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-*") != "" {
			d.errorf(e, CodeBadPattern, "region pattern %q may hold only lowercase letters, digits, '-' and '*'", s)
			return
		}
		set.add(s)
	})
}

func (d *ydec) exclude(n *yaml.Node, sc *scope) {
	d.fields(n, "exclude", func(key string, k, v *yaml.Node) {
		switch key {
		case "resources":
			d.resources(v, "exclude.resources", &sc.notResources)
		case "accounts":
			sc.notAccounts = d.accounts(v, "exclude.accounts")
		case "regions":
			d.regions(v, "exclude.regions", &sc.notRegions)
		default:
			d.errorf(k, CodeUnknownKey, "unknown key %q in exclude; want resources, accounts or regions", key)
		}
	})
}

// startsJSONObject reports whether data starts with '{' and a quoted key,
// or is "{}", white space aside.
func startsJSONObject(data []byte) bool {
	if !looksLikeJSONObject(data) {
		return false
	}
	rest := bytes.TrimLeft(data[bytes.IndexByte(data, '{')+1:], " \t\r\n")
	return len(rest) == 0 || rest[0] == '"' || rest[0] == '}'
}
