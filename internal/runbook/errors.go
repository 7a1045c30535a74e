package runbook

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/trailbook/trailbook/internal/yamlpos"
)

// Codes of the problems Load reports. They are stable: tools and tests
// match on them, not on messages.
const (
	CodeSyntax           = "syntax"           // not valid YAML, not UTF-8, or a JSON string that does not parse
	CodeUnknownKey       = "unknown-key"      // a key the format does not have
	CodeWrongType        = "wrong-type"       // a value of the wrong kind (a list where a string goes, ...)
	CodeMissingField     = "missing-field"    // a required key is absent
	CodeBadValue         = "bad-value"        // a value of the right kind that the format does not accept
	CodeDuplicate        = "duplicate"        // a key, runbook, test, channel file or list entry given twice
	CodeUnsupported      = "unsupported"      // YAML merge keys, several documents in one file
	CodeBadPattern       = "bad-pattern"      // a trigger pattern that is not an object or that quamina refuses
	CodeBadSQL           = "bad-sql"          // a query the Lake SQL translator refuses, or an unknown placeholder
	CodeBadCEL           = "bad-cel"          // a CEL expression that does not compile or has the wrong type
	CodeBadTemplate      = "bad-template"     // a Go template that does not parse
	CodeBadChannel       = "bad-channel"      // an alert channel alert.Validate refuses
	CodeUnknownChannel   = "unknown-channel"  // an alert to a channel neither defined nor built in
	CodeUnknownGate      = "unknown-gate"     // a gate action naming a gate the folder, which defines gates, does not
	CodeNondeterministic = "nondeterministic" // a query whose rows could differ between two runs over the same data
	CodeBadTest          = "bad-test"         // a test whose event is missing or not a CloudTrail record, or a bad expect
	CodeMissingTests     = "missing-tests"    // a runbook without tests
	CodeTooLarge         = "too-large"        // a file too big, or too big once its aliases are expanded
)

// Error is one problem in one file, at a 1-based line and column (the
// column counts characters, not bytes).
type Error = yamlpos.Error

// ErrorList is every problem Load found, sorted by file, line and column.
type ErrorList = yamlpos.ErrorList

// sortErrors sorts l and drops exact repeats (an alias decoded twice
// reports its problems twice).
func sortErrors(l ErrorList) ErrorList {
	l.Sort()
	return slices.CompactFunc(l, func(a, b *Error) bool { return *a == *b })
}

// offsetOf is the byte offset in data of 1-based line and column (in
// characters), as yaml.v3 gives them; past the end of a line or of data
// it stops at the end.
func offsetOf(data []byte, line, col int) int {
	i := 0
	for l := 1; l < line && i < len(data); {
		if n := yamlpos.LineBreak(data[i:]); n > 0 {
			i += n
			l++
			continue
		}
		i++
	}
	for c := 1; c < col && i < len(data) && yamlpos.LineBreak(data[i:]) == 0; c++ {
		_, size := utf8.DecodeRune(data[i:])
		i += size
	}
	return i
}

// suggest is the word of words closest to w, when it is close enough to be
// what was meant, or "".
func suggest(w string, words []string) string {
	best, bestDist := "", 0
	for _, c := range words {
		if strings.EqualFold(w, c) {
			return c
		}
		d := editDistance(strings.ToLower(w), c)
		if d <= 2 && d*3 <= len(c)+1 && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b,
// in bytes: insertions, deletions, substitutions and swaps of neighbours
// each count one. It is 99 when either is longer than any key of the
// format.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// oneOf lists words for a message: "a", "a or b", "a, b or c".
func oneOf(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
