package runbook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailbook/trailbook/internal/yamlpos"
	"gopkg.in/yaml.v3"
)

// Limits of what Load reads, so that a hostile or mistaken file costs
// little.
const (
	// MaxFileBytes bounds a runbook or channels file.
	MaxFileBytes = 1 << 20
	// MaxEventsFileBytes bounds a file of test events.
	MaxEventsFileBytes = 16 << 20
	// maxYAMLNodes bounds the nodes a file may expand to through its
	// aliases, so that a few lines of nested aliases cannot make Load run
	// for hours.
	maxYAMLNodes = 100_000
)

// decoder decodes one file, adding its problems to the loader's list.
type decoder struct {
	l      *loader
	file   string
	data   []byte // without a byte order mark
	lines  int
	budget int  // nodes left to decode
	spent  bool // the budget ran out: the file is reported too large
	// actionsComplete is set when every action of the runbook decoded, so
	// that tests' expected actions can be checked against them.
	actionsComplete bool
	// scheduled is set when the trigger has a schedule, even a bad one.
	scheduled bool
	// gateDoc is set while decoding a gate's templates, which have other
	// keys than a runbook's.
	gateDoc bool
}

func newDecoder(l *loader, f File) *decoder {
	data := bytes.TrimPrefix(f.Data, []byte("\xef\xbb\xbf"))
	return &decoder{l: l, file: f.Name, data: data, lines: yamlpos.LineCount(data), budget: maxYAMLNodes}
}

func (d *decoder) errorAt(line, col int, code, format string, args ...any) {
	if d.spent && code != CodeTooLarge {
		return // what follows the cut is noise
	}
	if line > d.lines { // yaml.v3 puts an empty document's node on the line after
		line, col = d.lines, 1
	}
	d.l.errs = append(d.l.errs, &Error{File: d.file, Line: max(line, 1), Col: max(col, 1), Code: code, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) errorf(n *yaml.Node, code, format string, args ...any) {
	d.errorAt(n.Line, n.Column, code, format, args...)
}

// errorIn reports a problem at byte offset off of scalar n's value.
func (d *decoder) errorIn(n *yaml.Node, off int, code, format string, args ...any) {
	line, col := d.valuePos(n, off)
	d.errorAt(line, col, code, format, args...)
}

func (d *decoder) pos(n *yaml.Node) Pos {
	line, col := max(n.Line, 1), max(n.Column, 1)
	if line > d.lines {
		line, col = d.lines, 1
	}
	return Pos{File: d.file, Line: line, Col: col}
}

// parse parses the file into the node of its one document, or reports why
// it cannot and returns nil. what names the file's content for messages.
func (d *decoder) parse(what string) (root *yaml.Node) {
	if len(d.data) > MaxFileBytes {
		d.errorAt(1, 1, CodeTooLarge, "the file has %d bytes; the limit is %d", len(d.data), MaxFileBytes)
		return nil
	}
	if !utf8.Valid(d.data) {
		bad := 0
		for bad < len(d.data) {
			r, size := utf8.DecodeRune(d.data[bad:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			bad += size
		}
		line, col := yamlpos.LineCol(d.data, bad)
		d.errorAt(line, col, CodeSyntax, "the file is not valid UTF-8")
		return nil
	}
	defer func() {
		// yaml.v3 is not ours; a panic in it is a syntax error to the user.
		if r := recover(); r != nil {
			d.errorAt(1, 1, CodeSyntax, "yaml: parser failed: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(d.data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errorAt(1, 1, CodeMissingField, "the file is empty; it should hold %s", what)
		} else {
			d.syntax(err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntax(err)
		return nil
	default:
		d.errorf(&extra, CodeUnsupported, "a second YAML document; a file holds one")
	}
	if len(doc.Content) == 0 || doc.Content[0].ShortTag() == "!!null" {
		d.errorAt(1, 1, CodeMissingField, "the file is empty; it should hold %s", what)
		return nil
	}
	return doc.Content[0]
}

// syntax reports a yaml.v3 parse error, placed by yamlpos.Syntax.
func (d *decoder) syntax(err error) {
	line, col, msg := yamlpos.Syntax(err, d.data)
	d.errorAt(line, col, CodeSyntax, "%s", msg)
}

// resolve follows aliases and charges n to the budget. It returns nil,
// having reported the file too large once, when the budget is spent.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
		d.budget--
	}
	d.budget--
	if d.budget < 0 && !d.spent {
		d.errorf(n, CodeTooLarge, "the file expands to more than %d nodes through its aliases", maxYAMLNodes)
		d.spent = true
	}
	if d.spent {
		return nil
	}
	return n
}

// reported reports whether an error with code was reported since the
// loader had before errors.
func (d *decoder) reported(before int, code string) bool {
	for _, e := range d.l.errs[before:] {
		if e.Code == code {
			return true
		}
	}
	return false
}

// pairs calls fn with each key of mapping n and its value, aliases
// resolved. It reports repeated keys, merge keys and keys that are not
// scalars instead of passing them on, and reports false when n is not a
// mapping.
func (d *decoder) pairs(n *yaml.Node, what string, fn func(k, v *yaml.Node)) bool {
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
		fn(k, v)
	}
	return true
}

// fields is pairs for a mapping whose keys are keys: it reports any other
// key as unknown, suggesting the one meant when it is close.
func (d *decoder) fields(n *yaml.Node, what string, keys []string, fn func(key string, k, v *yaml.Node)) bool {
	return d.pairs(n, what, func(k, v *yaml.Node) {
		for _, key := range keys {
			if k.Value == key {
				fn(key, k, v)
				return
			}
		}
		d.unknownKey(k, what, keys)
	})
}

func (d *decoder) unknownKey(k *yaml.Node, what string, keys []string) {
	if s := suggest(k.Value, keys); s != "" {
		d.errorf(k, CodeUnknownKey, "unknown key %q in %s; did you mean %s?", k.Value, what, s)
		return
	}
	d.errorf(k, CodeUnknownKey, "unknown key %q in %s; want %s", k.Value, what, oneOf(keys))
}

// str decodes a scalar as its text: numbers and booleans are taken as
// written.
func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.errorf(n, CodeWrongType, "%s must be a string, not %s", what, yamlpos.KindOf(n))
		return "", false
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		d.errorf(n, CodeBadValue, "%s starts with %q, which YAML reads as a tag: quote the value", what, n.Tag)
		return "", false
	}
	return n.Value, true
}

// nonEmpty is str for a value that must not be empty.
func (d *decoder) nonEmpty(n *yaml.Node, what string) (string, bool) {
	s, ok := d.str(n, what)
	if ok && strings.TrimSpace(s) == "" {
		d.errorf(n, CodeBadValue, "%s is empty", what)
		return "", false
	}
	return s, ok
}

// list calls fn with each entry of sequence n, aliases resolved, and
// reports false when n is not a list.
func (d *decoder) list(n *yaml.Node, what string, fn func(i int, e *yaml.Node)) bool {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, CodeWrongType, "%s must be a list, not %s", what, yamlpos.KindOf(n))
		return false
	}
	for i, e := range n.Content {
		if e = d.resolve(e); e == nil {
			return false
		}
		fn(i, e)
	}
	return true
}

// strList decodes a list of strings, reporting empty and repeated ones.
func (d *decoder) strList(n *yaml.Node, what string) ([]string, bool) {
	out := []string{}
	seen := map[string]bool{}
	ok := d.list(n, what, func(_ int, e *yaml.Node) {
		s, ok := d.nonEmpty(e, "an entry of "+what)
		switch {
		case !ok:
		case seen[s]:
			d.errorf(e, CodeDuplicate, "%q is already in %s", s, what)
		default:
			seen[s] = true
			out = append(out, s)
		}
	})
	return out, ok
}

func (d *decoder) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		d.errorf(n, CodeWrongType, "%s must be true or false, not %s", what, yamlpos.KindOf(n))
		return false, false
	}
	return strings.EqualFold(n.Value, "true"), true
}

// duration decodes a Go duration of at least least (which is at least
// 1ns: no duration may be zero or negative).
func (d *decoder) duration(n *yaml.Node, what string, least time.Duration) (time.Duration, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.errorf(n, CodeWrongType, "%s must be a duration such as 15m or 1h30m, not %s", what, yamlpos.KindOf(n))
		return 0, false
	}
	v, err := time.ParseDuration(n.Value)
	switch {
	case err != nil:
		d.errorf(n, CodeBadValue, "%s %q is not a duration such as 15m or 1h30m", what, n.Value)
		return 0, false
	case v <= 0 && least <= time.Nanosecond:
		d.errorf(n, CodeBadValue, "%s is %s; it must be more than 0", what, v)
		return 0, false
	case v < least:
		d.errorf(n, CodeBadValue, "%s is %s; it must be at least %s", what, v, least)
		return 0, false
	}
	return v, true
}
