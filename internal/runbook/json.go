package runbook

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trailbook/trailbook/internal/yamlpos"
	"gopkg.in/yaml.v3"
)

// toJSON appends n, a YAML value, to b as JSON, keeping what YAML says of
// each scalar: strings stay strings (timestamps included), numbers
// numbers, booleans booleans, and mapping keys their order. It reports
// false, having reported why, for what JSON cannot say: merge keys,
// repeated or non-scalar keys, infinities and NaN.
func (d *decoder) toJSON(b *bytes.Buffer, n *yaml.Node, what string) bool {
	switch n.Kind {
	case yaml.MappingNode:
		b.WriteByte('{')
		ok, first := true, true
		d.pairs(n, what, func(k, v *yaml.Node) {
			if !ok {
				return
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			writeJSONString(b, k.Value)
			b.WriteByte(':')
			ok = d.toJSON(b, v, what)
		})
		b.WriteByte('}')
		return ok && !d.spent && d.cleanMapping(n)
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, e := range n.Content {
			if e = d.resolve(e); e == nil {
				return false
			}
			if i > 0 {
				b.WriteByte(',')
			}
			if !d.toJSON(b, e, what) {
				return false
			}
		}
		b.WriteByte(']')
		return true
	case yaml.ScalarNode:
		return d.scalarJSON(b, n)
	}
	d.errorf(n, CodeWrongType, "%s cannot hold %s", what, yamlpos.KindOf(n))
	return false
}

// cleanMapping reports whether pairs passed every key of mapping n on:
// none was a merge key, a repeat or not a scalar.
func (d *decoder) cleanMapping(n *yaml.Node) bool {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		for k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" || seen[k.Value] {
			return false
		}
		seen[k.Value] = true
	}
	return true
}

func (d *decoder) scalarJSON(b *bytes.Buffer, n *yaml.Node) bool {
	v := n.Value
	switch n.ShortTag() {
	case "!!null":
		b.WriteString("null")
	case "!!bool":
		b.WriteString(strconv.FormatBool(strings.EqualFold(v, "true")))
	case "!!int":
		if isJSONNumber(v) {
			b.WriteString(v)
			break
		}
		clean := strings.ReplaceAll(v, "_", "")
		if i, err := strconv.ParseInt(clean, 0, 64); err == nil {
			b.WriteString(strconv.FormatInt(i, 10))
		} else if u, err := strconv.ParseUint(strings.TrimPrefix(clean, "+"), 0, 64); err == nil {
			b.WriteString(strconv.FormatUint(u, 10))
		} else {
			d.errorf(n, CodeBadValue, "the number %s cannot be written in JSON; quote it to keep it as a string", v)
			return false
		}
	case "!!float":
		if isJSONNumber(v) {
			b.WriteString(v)
			break
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			d.errorf(n, CodeBadValue, "the number %s cannot be written in JSON; quote it to keep it as a string", v)
			return false
		}
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	default:
		writeJSONString(b, v)
	}
	return true
}

// isJSONNumber reports whether s is a number as JSON writes one.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// writeJSONString writes s as a JSON string, escaping only what JSON
// requires (and U+2028, U+2029, which JavaScript does not take raw).
func writeJSONString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == '\u2028' || r == '\u2029':
			b.WriteString(`\u`)
			b.WriteByte(hex[r>>12&0xf])
			b.WriteByte(hex[r>>8&0xf])
			b.WriteByte(hex[r>>4&0xf])
			b.WriteByte(hex[r&0xf])
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// canonicalJSON is data, one JSON value, compact, with object keys sorted
// and numbers as written. Repeated keys keep the last value, as
// encoding/json does.
func canonicalJSON(data []byte) (string, any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", nil, err
	}
	return strings.TrimSuffix(out.String(), "\n"), v, nil
}
