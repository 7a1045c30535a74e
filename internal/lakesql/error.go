package lakesql

import (
	"fmt"
	"unicode/utf8"
)

// Error codes. They are stable: callers and tests match on them, not on
// the message text.
const (
	// CodeSyntax is a query DuckDB cannot parse, or an unterminated string,
	// quoted name or comment.
	CodeSyntax = "syntax"
	// CodeNotSelect is a statement other than SELECT/WITH/VALUES (COPY,
	// ATTACH, INSTALL, LOAD, PRAGMA, SET, CREATE, INSERT, DELETE, ...).
	CodeNotSelect = "not-select"
	// CodeMultipleStatements is a second statement after a semicolon.
	CodeMultipleStatements = "multiple-statements"
	// CodeForbiddenFunction is a table function other than UNNEST, or a
	// scalar function that reads files, settings or the environment.
	CodeForbiddenFunction = "forbidden-function"
	// CodeForbiddenTable is a FROM item that is not the events table or a
	// CTE: a file path, or a qualified name such as information_schema.tables.
	CodeForbiddenTable = "forbidden-table"
	// CodeUnsupported is Lake SQL this translator does not handle, such as a
	// date_format pattern that is not a string literal, or a positional
	// parameter.
	CodeUnsupported = "unsupported"
	// CodeMissingParam is a placeholder with no value given to Query.Args.
	CodeMissingParam = "missing-param"
	// CodeUnknownParam is a value given to Query.Args for a name the query
	// does not use.
	CodeUnknownParam = "unknown-param"
)

// Error is a problem with the user's query. Line and Col are 1-based and
// Offset is a 0-based byte offset, all into the text given to Translate
// (Col counts characters, not bytes); a zero Line means the error has no
// position.
type Error struct {
	Code   string
	Line   int
	Col    int
	Offset int
	Msg    string
}

// Error formats the error as "line L:C: message", or the bare message when
// it has no position.
func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d:%d: %s", e.Line, e.Col, e.Msg)
}

// errorAt builds an Error positioned at byte offset off of src. An offset
// outside src is clamped to its end.
func errorAt(src string, off int, code, format string, args ...any) *Error {
	if off < 0 {
		off = 0
	}
	if off > len(src) {
		off = len(src)
	}
	line, col := 1, 1
	lineStart := 0
	for i := 0; i < off; i++ {
		if src[i] == '\n' {
			line++
			lineStart = i + 1
		}
	}
	col += utf8.RuneCountInString(src[lineStart:off])
	return &Error{Code: code, Line: line, Col: col, Offset: off, Msg: fmt.Sprintf(format, args...)}
}
