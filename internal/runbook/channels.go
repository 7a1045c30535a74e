package runbook

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/trailbook/trailbook/internal/action/alert"
)

// IsChannelsFile reports whether the file named name holds a folder's
// alert channels rather than a runbook: its base name is channels.yaml or
// channels.yml.
func IsChannelsFile(name string) bool {
	base := filepath.Base(name)
	return base == "channels.yaml" || base == "channels.yml"
}

// channelField is one field of alert.Channel, by its YAML key.
type channelField struct {
	key   string
	index int // in alert.Channel
}

// channelFields are alert.Channel's fields by their YAML keys, in
// declaration order.
func channelFields() []channelField {
	t := reflect.TypeFor[alert.Channel]()
	var out []channelField
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if key != "" && key != "-" {
			out = append(out, channelField{key: key, index: i})
		}
	}
	return out
}

// channelNodes is where a channel's fields are written, to place
// alert.Validate's findings.
type channelNodes struct {
	entry  *yaml.Node
	fields map[string]*yaml.Node // values by key
	bad    map[string]bool       // keys whose value did not decode
	broken bool                  // the entry is not a mapping
}

// channels decodes a channels file, strictly, and checks the channels
// with alert.Validate. Their names become known to alerts.
func (d *decoder) channels() []alert.Channel {
	root := d.parse("a channels: list")
	if root == nil {
		return nil
	}
	var list *yaml.Node
	ok := d.fields(root, "the channels file", []string{"channels"}, func(_ string, _, v *yaml.Node) { list = v })
	if !ok {
		return nil
	}
	if list == nil {
		d.errorf(root, CodeMissingField, "the channels file has no channels list")
		return nil
	}
	fields := channelFields()
	var keys []string
	for _, f := range fields {
		keys = append(keys, f.key)
	}
	var out []alert.Channel
	var nodes []channelNodes
	d.list(list, "channels", func(_ int, e *yaml.Node) {
		var c alert.Channel
		cn := channelNodes{entry: e, fields: map[string]*yaml.Node{}, bad: map[string]bool{}}
		cn.broken = !d.fields(e, "a channel", keys, func(key string, _, v *yaml.Node) {
			cn.fields[key] = v
			for _, f := range fields {
				if f.key != key {
					continue
				}
				if err := v.Decode(reflect.ValueOf(&c).Elem().Field(f.index).Addr().Interface()); err != nil {
					cn.bad[key] = true
					d.errorf(v, CodeWrongType, "%s: %s", key, decodeMessage(err))
				}
			}
		})
		if c.Name != "" {
			d.l.channels[c.Name] = true
		}
		out = append(out, c)
		nodes = append(nodes, cn)
	})
	for _, err := range alert.Validate(out) {
		var fe *alert.FieldError
		if !errors.As(err, &fe) || fe.Index < 0 || fe.Index >= len(nodes) {
			d.errorf(list, CodeBadChannel, "%v", err)
			continue
		}
		cn := nodes[fe.Index]
		if cn.broken || cn.bad[fe.Field] {
			continue // already reported
		}
		at := cn.entry
		if v := cn.fields[fe.Field]; v != nil {
			at = v
		}
		d.errorf(at, CodeBadChannel, "%s: %s", fe.Code, fe.Message)
	}
	return out
}

// decodeMessage is yaml.v3's decoding error without its "yaml: " and
// "line N: " prefixes, which the error's position replaces.
func decodeMessage(err error) string {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msgs = te.Errors
	}
	for i, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		if rest, ok := strings.CutPrefix(m, "line "); ok {
			if _, after, ok := strings.Cut(rest, ": "); ok {
				m = after
			}
		}
		msgs[i] = m
	}
	return strings.Join(msgs, "; ")
}
