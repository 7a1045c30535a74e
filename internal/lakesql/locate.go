package lakesql

import (
	"errors"
	"strings"
)

// CodeQuery is a query that translates but that DuckDB refuses to run:
// an unknown column, a type mismatch, a bad literal.
const CodeQuery = "query"

// Locate turns an error DuckDB returned when running q.SQL into an *Error
// placed in the user's text. DuckDB marks the token it refused in its own,
// translated text ("LINE 1: ..." and a caret); Locate finds that token in
// the query as the user wrote it, outside comments and strings, and gives
// its line and column there. When it cannot, the error has no position but
// still drops DuckDB's excerpt of text the user never wrote. Other errors
// are returned unchanged.
func (q *Query) Locate(err error) error {
	if err == nil {
		return nil
	}
	var le *Error
	if errors.As(err, &le) {
		return err
	}
	msg := err.Error()
	head, excerpt, ok := strings.Cut(msg, "\nLINE ")
	if !ok {
		return err
	}
	head = strings.TrimSpace(head)
	tok := caretToken(excerpt)
	if off, found := findToken(q.src, tok); found {
		return errorAt(q.src, off, CodeQuery, "%s", head)
	}
	return &Error{Code: CodeQuery, Msg: head}
}

// caretToken is the token DuckDB's caret points at, given what follows
// "\nLINE " in its message: "N: <text>\n<spaces>^", the caret aligned
// under "LINE N: <text>".
func caretToken(excerpt string) string {
	lines := strings.SplitN(excerpt, "\n", 3)
	if len(lines) < 2 {
		return ""
	}
	_, text, ok := strings.Cut(lines[0], ": ")
	if !ok {
		return ""
	}
	caret := strings.IndexByte(lines[1], '^')
	prefix := len("LINE ") + len(lines[0]) - len(text) // the caret line is aligned under "LINE N: text"
	col := caret - prefix
	if caret < 0 || col < 0 || col >= len(text) {
		return ""
	}
	s := &scanner{src: text, pos: col}
	t, err := s.next()
	if err != nil || t.kind == tokEOF {
		return ""
	}
	return t.text
}

// findToken returns the offset of the first token of src equal to tok
// (case-insensitively for words), skipping comments and the insides of
// strings.
func findToken(src, tok string) (int, bool) {
	if tok == "" {
		return 0, false
	}
	s := &scanner{src: src}
	for {
		t, err := s.next()
		if err != nil || t.kind == tokEOF {
			return 0, false
		}
		if t.text == tok || (t.kind == tokWord && strings.EqualFold(t.text, tok)) {
			return t.start, true
		}
	}
}
