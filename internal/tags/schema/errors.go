package schema

import (
	"fmt"
	"unicode/utf8"

	"github.com/trailbook/trailbook/internal/yamlpos"
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
type Error = yamlpos.Error

// ErrorList is every problem Load found, sorted by file, line and column.
type ErrorList = yamlpos.ErrorList

// pos is a place in a file.
type pos struct {
	file      string
	line, col int
}

func (p pos) String() string { return fmt.Sprintf("%s:%d:%d", p.file, p.line, p.col) }

// lineCol turns a byte offset in data into a 1-based line and a 1-based
// column counted in characters, with lines ended by "\n" only, as JSON
// ends them: it places the errors of policy files (YAML files are placed
// with yamlpos).
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
