package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/trailbook/trailbook/internal/yamlpos"
)

// Limits of what Load reads, so that a hostile or mistaken file costs
// little.
const (
	// MaxFileBytes bounds a configuration file.
	MaxFileBytes = 1 << 20
	// maxNodes bounds the values a file may expand to through its
	// aliases: a hundred times what a large configuration holds.
	maxNodes = 20_000
)

// Load reads the configuration file data, named name in positions: the
// defaults (Default), then the file's values over them, then Validate. An
// empty file is the defaults. A source's empty region and endpoint are
// filled in from aws.region and aws.endpoint.
//
// Every problem is reported at once, as an ErrorList sorted by position,
// with a nil Config; Load returns no other error. The Config keeps name
// and where the file wrote each value, for Validate; it keeps nothing of
// data.
func Load(name string, data []byte) (*Config, error) {
	c := Default()
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	src := &source{file: name, lines: yamlpos.LineCount(data), at: map[string]spot{}, bad: map[string]bool{}}
	d := &decoder{src: src, budget: maxNodes}
	if root := d.parse(data); root != nil {
		d.mapping(root, "", c.fields())
	}
	c.src = src
	errs := d.errs
	if !d.spent { // a cut-off file leaves nothing worth checking
		errs = append(errs, c.check()...)
	}
	if len(errs) > 0 {
		return nil, sortErrors(errs)
	}
	c.fillIn()
	return c, nil
}

// LoadFile is Load of the file at path, named path.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Load(path, data)
}

// fillIn gives sources without a region or endpoint those of aws.
func (c *Config) fillIn() {
	for i := range c.Sources.S3 {
		s := &c.Sources.S3[i]
		s.Region = cmp.Or(s.Region, c.AWS.Region)
		s.Endpoint = cmp.Or(s.Endpoint, c.AWS.Endpoint)
	}
	for i := range c.Sources.SQS {
		s := &c.Sources.SQS[i]
		s.Region = cmp.Or(s.Region, c.AWS.Region)
		s.Endpoint = cmp.Or(s.Endpoint, c.AWS.Endpoint)
	}
}

// sortErrors sorts l and drops exact repeats (a value an alias names
// twice is reported twice).
func sortErrors(l ErrorList) ErrorList {
	l.Sort()
	return slices.CompactFunc(l, func(a, b *Error) bool { return *a == *b })
}

// spot is a 1-based line and column.
type spot struct{ line, col int }

// source is what Load learned of the file: where each value was written,
// by key path ("server.query.timeout", "sources.folders[0].path"), and
// which values did not decode.
type source struct {
	file  string
	lines int
	at    map[string]spot
	bad   map[string]bool
}

// place is where the value at path was written, or, when the file did not
// write it, the nearest value around it that it did; the file's start when
// none.
func (s *source) place(path string) spot {
	for {
		if p, ok := s.at[path]; ok {
			return p
		}
		if path == "" {
			return spot{1, 1}
		}
		path = parentPath(path)
	}
}

// parentPath is the path of the value holding path's: "a.b[2]" of
// "a.b[2].c", "a.b" of "a.b[2]", "" of "a".
func parentPath(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		switch path[i] {
		case '.', '[':
			return path[:i]
		}
	}
	return ""
}

// decoder lays one file over a Config, collecting its problems.
type decoder struct {
	src    *source
	errs   ErrorList
	budget int      // nodes left to decode
	spent  bool     // the budget ran out: the file is reported too large
	paths  []string // keyPaths, once an unknown key needs them
}

func (d *decoder) errorAt(p spot, code, format string, args ...any) {
	if d.spent && code != CodeTooLarge {
		return // what follows the cut is noise
	}
	if p.line > d.src.lines { // yaml.v3 places an empty value's node on the line after
		p = spot{d.src.lines, 1}
	}
	d.errs = append(d.errs, &Error{File: d.src.file, Line: max(p.line, 1), Col: max(p.col, 1), Code: code, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) errorf(n *yaml.Node, code, format string, args ...any) {
	d.errorAt(spot{n.Line, n.Column}, code, format, args...)
}

// fail reports a problem of the value at path, which then keeps its
// default and is not checked further.
func (d *decoder) fail(n *yaml.Node, path, code, format string, args ...any) {
	d.src.bad[path] = true
	d.errorf(n, code, format, args...)
}

// parse parses data into the root node of its one document; nil when the
// file has none (its problems reported, or empty).
func (d *decoder) parse(data []byte) (root *yaml.Node) {
	if len(data) > MaxFileBytes {
		d.errorAt(spot{1, 1}, CodeTooLarge, "the file has %d bytes; the limit is %d", len(data), MaxFileBytes)
		return nil
	}
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			off += n
		}
		line, col := yamlpos.LineCol(data, off)
		d.errorAt(spot{line, col}, CodeSyntax, "the file is not valid UTF-8")
		return nil
	}
	defer func() {
		// yaml.v3 is not ours: a panic in it is a syntax error to the user.
		if r := recover(); r != nil {
			d.errorAt(spot{1, 1}, CodeSyntax, "yaml: parser failed: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			d.syntax(err, data)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntax(err, data)
		return nil
	default:
		d.errorf(&next, CodeUnsupported, "a second YAML document; the file holds one")
		return nil
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

func (d *decoder) syntax(err error, data []byte) {
	line, col, msg := yamlpos.Syntax(err, data)
	d.errorAt(spot{line, col}, CodeSyntax, "%s", msg)
}

// node follows n's aliases and charges it to the budget. It returns nil,
// its problem reported, when the budget is spent or n has a tag the format
// does not read.
func (d *decoder) node(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil && d.budget >= 0 {
		n = n.Alias
		d.budget--
	}
	d.budget--
	if d.budget < 0 {
		if !d.spent {
			d.errorf(n, CodeTooLarge, "the file expands to more than %d values through its aliases", maxNodes)
			d.spent = true
		}
		return nil
	}
	switch tag := n.ShortTag(); tag {
	case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq", "!!timestamp", "!!merge":
		return n
	default:
		d.errorf(n, CodeUnsupported, "YAML tags such as %s are not supported; write the plain value", tag)
		return nil
	}
}

// isNull reports whether n is an empty value (nothing, ~ or null).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// what names the value at path in messages.
func what(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

// mapping lays mapping n over fields, the keys of the value at path. An
// empty value leaves every field as it is.
func (d *decoder) mapping(n *yaml.Node, path string, fields []field) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, CodeWrongType, "%s must be a mapping of %s, not %s", what(path), keysOf(fields), quoted(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.node(n.Content[i]), d.node(n.Content[i+1])
		switch {
		case k == nil || v == nil:
			continue
		case k.ShortTag() == "!!merge":
			d.errorf(k, CodeUnsupported, "merge keys (<<) are not supported; alias a whole value instead")
			continue
		case k.Kind != yaml.ScalarNode:
			d.errorf(k, CodeWrongType, "a key must be a string, not %s", yamlpos.KindOf(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.errorf(k, CodeDuplicate, "key %s repeats the one at line %d", k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		i := slices.IndexFunc(fields, func(f field) bool { return f.key == k.Value })
		if i < 0 {
			d.unknownKey(k, path, fields)
			continue
		}
		d.field(fields[i], v, joinPath(path, k.Value))
	}
}

// field decodes v, the value of f at path.
func (d *decoder) field(f field, v *yaml.Node, path string) {
	d.src.at[path] = spot{v.Line, v.Column}
	switch {
	case f.sub != nil:
		if f.present != nil {
			f.present()
		}
		d.mapping(v, path, f.sub)
	case f.entry != nil:
		if !isNull(v) && v.Kind != yaml.SequenceNode {
			d.fail(v, path, CodeWrongType, "%s must be a list, not %s", path, quoted(v))
			return
		}
		f.present()
		for i, e := range v.Content {
			if e = d.node(e); e == nil {
				continue
			}
			at := fmt.Sprintf("%s[%d]", path, i)
			d.src.at[at] = spot{e.Line, e.Column}
			if e.Kind != yaml.MappingNode {
				d.fail(e, at, CodeWrongType, "%s must be a mapping, not %s", at, quoted(e))
				continue
			}
			d.mapping(e, at, f.entry())
		}
	default:
		f.value(d, v, path)
	}
}

// unknownKey reports key k, which the mapping at path does not have,
// with the key meant when one is close, or the key's place when it
// belongs elsewhere.
func (d *decoder) unknownKey(k *yaml.Node, path string, fields []field) {
	in := "in " + path
	if path == "" {
		in = "at the top level"
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.key
	}
	if s := closest(k.Value, names); s != "" {
		d.errorf(k, CodeUnknownKey, "unknown key %q %s; did you mean %s?", k.Value, in, s)
		return
	}
	if d.paths == nil {
		d.paths = keyPaths()
	}
	var elsewhere []string
	for _, p := range d.paths {
		if p == k.Value || len(p) > len(k.Value) && p[len(p)-len(k.Value)-1] == '.' && p[len(p)-len(k.Value):] == k.Value {
			elsewhere = append(elsewhere, p)
		}
	}
	if len(elsewhere) > 0 {
		d.errorf(k, CodeUnknownKey, "unknown key %q %s; did you mean %s?", k.Value, in, orList(elsewhere))
		return
	}
	d.errorf(k, CodeUnknownKey, "unknown key %q %s; want %s", k.Value, in, orList(names))
}

// keysOf lists the keys of fields for a message.
func keysOf(fields []field) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.key
	}
	if len(names) > 4 {
		return fmt.Sprintf("keys such as %s and %s", names[0], names[1])
	}
	return orList(names)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
