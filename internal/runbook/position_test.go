package runbook

import (
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/trailbook/trailbook/internal/yamlpos"
	"gopkg.in/yaml.v3"
)

// TestValuePos: for scalars of every style, each letter or digit of the
// value is placed on the same character in the file, or on the escape
// that gives it.
func TestValuePos(t *testing.T) {
	for _, src := range []string{
		"v: abc def",
		"v: abc\n  def\n  ghi",
		"v: 'it''s a test'",
		`v: "a\tb \u00e9 c\\d \x41 e"`,
		"v: \"abc \\\n  def\"",
		"v: |\n  SELECT a\n\n  FROM b\n    WHERE c\n",
		"v: |2 # comment x\n   abc\n  def\n",
		"v: >-\n  one two\n  three\n\n  four\n",
		"v: &anc abc",
		"v: !!str &anc 'abc'",
		"v: &anc |\n  anchored\n  block\n",
		"v: héllo wörld ü",
		"v: |\r\n  abc\r\n  def\r\n",
		"v: |\r\n  abc\r\n\r\n  def\r\n\r\nw: >\r\n  ghi\r\n  jkl\r\n\r\n  mno\r\n",
		"x: [1]\nv: {k: v, w: \"inner text\"}",
		"\xef\xbb\xbfv: after a byte order mark",
		"v:\n  - first\n  - 'se''cond'\n",
	} {
		l := &loader{}
		d := newDecoder(l, File{Name: "t.yaml", Data: []byte(src)})
		var doc yaml.Node
		if err := yaml.Unmarshal(d.data, &doc); err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		var scalars []*yaml.Node
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Kind == yaml.ScalarNode {
				scalars = append(scalars, n)
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(&doc)
		for _, n := range scalars {
			for i, r := range n.Value {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					continue
				}
				line, col := d.valuePos(n, i)
				off := offsetOf(d.data, line, col)
				got, _ := utf8.DecodeRune(d.data[off:])
				if got != r && !(got == '\\' && n.Style == yaml.DoubleQuotedStyle) { // an escape gives r
					t.Errorf("%q: %q at %d of %q placed at %d:%d, on %q", src, r, i, n.Value, line, col, got)
				}
			}
		}
	}
}

func TestLineCol(t *testing.T) {
	data := []byte("ab\r\ncd\ref\u2028gé\nh")
	for off, want := range map[int][2]int{0: {1, 1}, 2: {1, 3}, 4: {2, 1}, 7: {3, 1}, 9: {3, 3}, 12: {4, 1}, 13: {4, 2}, 16: {5, 1}} {
		line, col := yamlpos.LineCol(data, off)
		if line != want[0] || col != want[1] {
			t.Errorf("lineCol(%d) = %d:%d, want %d:%d", off, line, col, want[0], want[1])
		}
		if back := offsetOf(data, line, col); back != off {
			t.Errorf("offsetOf(%d:%d) = %d, want %d", line, col, back, off)
		}
	}
	if n := yamlpos.LineCount(data); n != 5 {
		t.Errorf("lineCount = %d", n)
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"name", "description", "trigger", "tests", "when", "to", "title", "text", "isolation_group"}
	for w, want := range map[string]string{
		"descripton": "description", "Name": "name", "trigers": "trigger", "wehn": "when",
		"titel": "title", "isolation-group": "isolation_group", "tset": "tests", "xyz": "", "t": "to",
		"owner": "", "text2": "text",
	} {
		if got := suggest(w, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", w, got, want)
		}
	}
}
