package runbook

import (
	"strings"
	"unicode/utf8"

	"github.com/trailbook/trailbook/internal/yamlpos"
	"gopkg.in/yaml.v3"
)

// valuePos is the place in the file of byte offset off of scalar n's
// value, so that a problem found inside an expression, a query or a
// template points where it is written.
//
// YAML makes a value from its text by dropping quotes, indentation and
// escapes and by folding line breaks; valuePos walks the value and the text
// side by side, matching each character of the one to the next fitting
// character of the other. For plain and literal (|) scalars this is exact;
// for the others it is exact up to escapes and folded breaks.
func (d *decoder) valuePos(n *yaml.Node, off int) (line, col int) {
	data := d.data
	p := offsetOf(data, n.Line, n.Column)
	if n.Kind != yaml.ScalarNode || p >= len(data) {
		return n.Line, n.Column
	}
	style := n.Style &^ (yaml.TaggedStyle | yaml.FlowStyle)
	for p < len(data) && (data[p] == '&' || data[p] == '!') { // an anchor or a tag
		for p < len(data) && !isSpace(data[p:]) {
			p++
		}
		for p < len(data) && (data[p] == ' ' || data[p] == '\t') {
			p++
		}
	}
	switch style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		for p < len(data) && yamlpos.LineBreak(data[p:]) == 0 {
			p++
		}
		p += yamlpos.LineBreak(data[p:])
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		q := byte('"')
		if style == yaml.SingleQuotedStyle {
			q = '\''
		}
		for p < len(data) && data[p] != q {
			p++
		}
		p++
	}
	v := n.Value
	off = min(max(off, 0), len(v))
	for i := 0; p < len(data) && i < len(v); {
		r, size := utf8.DecodeRuneInString(v[i:])
		k := textOf(data[p:], r, style)
		if k <= 0 {
			p += max(-k, 1) // indentation, a quote, a tag, an escaped line break
			continue
		}
		if i >= off {
			break
		}
		p += k
		i += size
	}
	return yamlpos.LineCol(data, p)
}

// textOf is how many bytes at the start of b, the text of a scalar
// written in style, give the value's character r; or, when they do not, 0
// or minus the number of bytes to skip.
func textOf(b []byte, r rune, style yaml.Style) int {
	switch {
	case style == yaml.DoubleQuotedStyle && b[0] == '\\':
		if n := yamlpos.LineBreak(b[1:]); n > 0 { // an escaped line break joins lines
			n++
			for n < len(b) && (b[n] == ' ' || b[n] == '\t') {
				n++
			}
			return -n
		}
		return escapeLen(b)
	case style == yaml.SingleQuotedStyle && b[0] == '\'' && len(b) > 1 && b[1] == '\'':
		return 2
	case hasRune(b, r):
		return utf8.RuneLen(r)
	case r == '\n' && yamlpos.LineBreak(b) > 0: // "\r\n" and the others give "\n"
		return yamlpos.LineBreak(b)
	case (r == ' ' || r == '\n') && isSpace(b): // a folded line break
		n := 0
		for n < len(b) && isSpace(b[n:]) {
			n += max(yamlpos.LineBreak(b[n:]), 1)
		}
		return n
	}
	return 0
}

// hasRune reports whether b starts with r.
func hasRune(b []byte, r rune) bool {
	got, _ := utf8.DecodeRune(b)
	return got == r
}

// isSpace reports whether b starts with a space, a tab or a line break.
func isSpace(b []byte) bool {
	return len(b) > 0 && (b[0] == ' ' || b[0] == '\t') || yamlpos.LineBreak(b) > 0
}

// escapeLen is the length of the double-quoted YAML escape at the start of
// b (a backslash and what follows).
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return len(b)
	}
	n := 2
	switch b[1] {
	case 'x':
		n = 4
	case 'u':
		n = 6
	case 'U':
		n = 10
	}
	return min(n, len(b))
}

// lineOffset is the byte offset in s of the start of 1-based line line,
// plus col characters (0-based), lines ending at "\n" as CEL, Go
// templates and SQL count them.
func lineOffset(s string, line, col int) int {
	i := 0
	for l := 1; l < line; l++ {
		j := strings.IndexByte(s[i:], '\n')
		if j < 0 {
			return len(s)
		}
		i += j + 1
	}
	for c := 0; c < col && i < len(s) && s[i] != '\n'; c++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}
