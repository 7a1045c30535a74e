package schema

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Codes of the problems Load reports. They are stable: tools may match on
// them.
const (
	CodeSyntax       = "syntax"        // the file is not valid YAML or JSON
	CodeUnknownKey   = "unknown-key"   // a key the format does not have
	CodeWrongType    = "wrong-type"    // a value of the wrong kind (a list where a string goes, ...)
	CodeMissingField = "missing-field" // a required key is absent
	CodeBadValue     = "bad-value"     // a value of the right kind that the format does not accept
	CodeBadRegex     = "bad-regex"     // a regular expression that does not compile
	CodeBadPattern   = "bad-pattern"   // a resource, region or value pattern the format does not accept
	CodeDuplicate    = "duplicate"     // a key, rule name or tag key given twice
	CodeBadOperator  = "bad-operator"  // an unknown or misused AWS inheritance operator
	CodeUnsupported  = "unsupported"   // YAML merge keys, several documents in one file
	CodeTooLarge     = "too-large"     // a document too deep, or too big once its aliases are expanded

	// CodeOperatorNotAllowed marks a warning, not an error: a child policy
	// used an operator its parent did not allow, and the operator was
	// ignored, as AWS Organizations ignores it.
	CodeOperatorNotAllowed = "operator-not-allowed"
)

// Error is one problem in one schema file, at a 1-based line and column
// (the column counts characters, not bytes).
type Error struct {
	File      string
	Line, Col int
	Code      string
	Msg       string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Col, e.Code, e.Msg)
}

// ErrorList is every problem Load found, sorted by file, line and column.
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

func (l ErrorList) sort() {
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

// pos is a place in a file.
type pos struct {
	file      string
	line, col int
}

func (p pos) String() string { return fmt.Sprintf("%s:%d:%d", p.file, p.line, p.col) }

// lineCol turns a byte offset in data into a 1-based line and a 1-based
// column counted in characters.
func lineCol(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	line, start := 1, 0
	for i := 0; i < off; i++ {
		if data[i] == '\n' {
			line++
			start = i + 1
		}
	}
	return line, utf8.RuneCount(data[start:off]) + 1
}

// lineCount is the number of lines of data as YAML counts them: "\n",
// "\r\n", a lone "\r", U+0085, U+2028 and U+2029 each end one.
func lineCount(data []byte) int {
	n := 1
	for i := 0; i < len(data); i++ {
		switch rest := data[i:]; {
		case rest[0] == '\n':
			n++
		case rest[0] == '\r':
			if len(rest) == 1 || rest[1] != '\n' {
				n++
			}
		case bytes.HasPrefix(rest, []byte("\u0085")), bytes.HasPrefix(rest, []byte("\u2028")), bytes.HasPrefix(rest, []byte("\u2029")):
			n++
		}
	}
	return n
}
