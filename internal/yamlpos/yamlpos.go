// Package yamlpos is what Trailbook's strict YAML loaders (tag schemas,
// runbooks) share: a problem at a file, line and column with a stable
// code, the sorted list of them, and positions as YAML counts them,
// including those yaml.v3's own syntax errors leave out.
package yamlpos

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Error is one problem in one file, at a 1-based line and column (the
// column counts characters, not bytes). Code is stable: tools and tests
// match on it, not on Msg.
type Error struct {
	File      string
	Line, Col int
	Code      string
	Msg       string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Col, e.Code, e.Msg)
}

// ErrorList is every problem a load found; Sort puts it in file, line and
// column order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err is nil when l is empty, and l otherwise.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Sort orders l by file, line, column, code and message, keeping the
// order of equal entries.
func (l ErrorList) Sort() {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
			cmp.Compare(a.Code, b.Code),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
}

// LineBreak reports the length of the YAML line break at the start of b:
// "\n", "\r\n", a lone "\r", U+0085, U+2028 or U+2029; 0 when there is none.
func LineBreak(b []byte) int {
	switch {
	case len(b) == 0:
		return 0
	case b[0] == '\n':
		return 1
	case b[0] == '\r':
		if len(b) > 1 && b[1] == '\n' {
			return 2
		}
		return 1
	case len(b) >= 2 && b[0] == 0xc2 && b[1] == 0x85:
		return 2
	case len(b) >= 3 && b[0] == 0xe2 && b[1] == 0x80 && (b[2] == 0xa8 || b[2] == 0xa9):
		return 3
	}
	return 0
}

// LineCol turns a byte offset in data into a 1-based line and a 1-based
// column counted in characters, with lines ended as YAML ends them.
func LineCol(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	line, start := 1, 0
	for i := 0; i < off; {
		if n := LineBreak(data[i:]); n > 0 {
			i += n
			if i <= off {
				line++
				start = i
			}
			continue
		}
		i++
	}
	return line, utf8.RuneCount(data[start:off]) + 1
}

// LineCount is the number of lines of data as YAML counts them.
func LineCount(data []byte) int {
	n := 1
	for i := 0; i < len(data); {
		if b := LineBreak(data[i:]); b > 0 {
			n++
			i += b
			continue
		}
		i++
	}
	return n
}

// Syntax places a yaml.v3 parse error of data. yaml.v3 says "yaml: line
// N: msg" without a column, so the column is 1; for the errors of its
// parser, as against its scanner, N is one less than the line meant. An
// unknown anchor is placed at its first use. msg is the error without
// yaml.v3's prefixes.
func Syntax(err error, data []byte) (line, col int, msg string) {
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	line, col = 1, 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil && n > 0 {
				line, msg = n, text
				if parserProblem(msg) {
					line++
				}
			}
		}
	} else if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		name, _, _ = strings.Cut(name, "'")
		if i := bytes.Index(data, []byte("*"+name)); i >= 0 {
			line, col = LineCol(data, i)
		}
	}
	return line, col, msg
}

// parserProblem reports whether msg is one of the problems yaml.v3's
// parser reports (parserc.go), whose line numbers count from 0.
func parserProblem(msg string) bool {
	switch msg {
	case "did not find expected ',' or ']'", "did not find expected ',' or '}'",
		"did not find expected '-' indicator", "did not find expected <document start>",
		"did not find expected <stream-start>", "did not find expected key",
		"did not find expected node content", "found duplicate %TAG directive",
		"found duplicate %YAML directive", "found incompatible YAML document",
		"found undefined tag handle":
		return true
	}
	return false
}

// KindOf names what kind of YAML value n is, for messages such as "name
// must be a string, not a list".
func KindOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "a boolean"
	case "!!int", "!!float":
		return "a number"
	}
	return "a string"
}
