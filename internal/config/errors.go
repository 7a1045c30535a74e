package config

import (
	"slices"
	"strings"

	"github.com/trailbook/trailbook/internal/yamlpos"
)

// Codes of the problems Load and Validate report. They are stable: tools
// and tests match on them, not on messages.
const (
	CodeSyntax       = "syntax"        // not valid YAML, or not UTF-8
	CodeUnknownKey   = "unknown-key"   // a key the format does not have
	CodeWrongType    = "wrong-type"    // a value of the wrong kind (a list where a string goes, ...)
	CodeMissingField = "missing-field" // a required value is absent or empty, or TLS has one file of two
	CodeBadValue     = "bad-value"     // a value of the right kind that is not accepted (a bad duration, size, address, enum, hash or range)
	CodeDuplicate    = "duplicate"     // a key, source name, token name, token hash or principal given twice
	CodeUnsupported  = "unsupported"   // YAML merge keys, tags, several documents in one file
	CodeTooLarge     = "too-large"     // a file too big, or too big once its aliases are expanded
	CodeInsecure     = "insecure"      // the API listens beyond loopback without an admin token
)

// Codes are every code Load and Validate report.
func Codes() []string {
	return []string{CodeSyntax, CodeUnknownKey, CodeWrongType, CodeMissingField, CodeBadValue,
		CodeDuplicate, CodeUnsupported, CodeTooLarge, CodeInsecure}
}

// Error is one problem of a configuration file, at a 1-based line and
// column (the column counts characters, not bytes).
type Error = yamlpos.Error

// ErrorList is every problem found, sorted by line and column.
type ErrorList = yamlpos.ErrorList

// closest is the candidate a mistyped key most likely meant, or "" when
// none is close: the same key but for case, '_' and '-' (maxBody,
// max-body), or for the order of its letters (paht), else one at most two
// edits away (a third of its length at most).
func closest(key string, candidates []string) string {
	k, kLetters := squash(key), sortedLetters(key)
	best, bestCost := "", 3
	for _, c := range candidates {
		if squash(c) == k {
			return c
		}
		if len(key) >= 3 && sortedLetters(c) == kLetters {
			best, bestCost = c, 0
		}
		if cost := levenshtein(strings.ToLower(key), c); cost < bestCost && 3*cost <= len(c) {
			best, bestCost = c, cost
		}
	}
	return best
}

// squash is s in lowercase without '_' and '-'.
func squash(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '_' || c == '-':
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// sortedLetters is squash(s) with its bytes in order: two keys with the
// same letters in another order have the same.
func sortedLetters(s string) string {
	b := []byte(squash(s))
	slices.Sort(b)
	return string(b)
}

// levenshtein is the number of single-byte insertions, deletions and
// substitutions that turn a into b; past 64 bytes it gives up and says
// they are far apart.
func levenshtein(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 10
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, sub)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// orList joins words for a message: "a", "a or b", "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
