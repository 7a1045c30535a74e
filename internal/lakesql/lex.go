package lakesql

import "strings"

// tokKind classifies a token of Lake SQL text.
type tokKind uint8

const (
	tokEOF    tokKind = iota
	tokWord           // bare identifier or keyword
	tokQuoted         // "quoted identifier"
	tokString         // 'string', E'string' or $tag$string$tag$
	tokNumber         // numeric literal
	tokPunct          // operator or punctuation; "::" and ":=" are one token
	tokBrace          // ${name} placeholder
)

// token is one lexeme; start and end are byte offsets into the source.
type token struct {
	kind       tokKind
	start, end int
	text       string
}

// upper returns the token text in upper case, for keyword comparison.
func (t token) upper() string { return strings.ToUpper(t.text) }

// scanner splits SQL text into tokens. It knows just enough of the
// language to never mistake the inside of a string, quoted name or comment
// for code. It is not safe for concurrent use.
type scanner struct {
	src string
	pos int
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipSpace moves past white space and comments. Block comments nest, as
// in DuckDB.
func (s *scanner) skipSpace() error {
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			s.pos++
		case c == '-' && s.peekAt(1) == '-':
			nl := strings.IndexByte(s.src[s.pos:], '\n')
			if nl < 0 {
				s.pos = len(s.src)
			} else {
				s.pos += nl + 1
			}
		case c == '/' && s.peekAt(1) == '*':
			start := s.pos
			depth := 0
			for {
				if s.pos >= len(s.src) {
					return errorAt(s.src, start, CodeSyntax, "unterminated comment")
				}
				if s.src[s.pos] == '/' && s.peekAt(1) == '*' {
					depth++
					s.pos += 2
					continue
				}
				if s.src[s.pos] == '*' && s.peekAt(1) == '/' {
					depth--
					s.pos += 2
					if depth == 0 {
						break
					}
					continue
				}
				s.pos++
			}
		default:
			return nil
		}
	}
	return nil
}

// peekAt returns the byte i positions after the cursor, or 0 past the end.
func (s *scanner) peekAt(i int) byte {
	if s.pos+i < len(s.src) {
		return s.src[s.pos+i]
	}
	return 0
}

// next returns the token after any white space and comments.
func (s *scanner) next() (token, error) {
	if err := s.skipSpace(); err != nil {
		return token{}, err
	}
	start := s.pos
	if start >= len(s.src) {
		return token{kind: tokEOF, start: start, end: start}, nil
	}
	c := s.src[start]
	tok := func(k tokKind) (token, error) {
		return token{kind: k, start: start, end: s.pos, text: s.src[start:s.pos]}, nil
	}
	switch {
	case (c == 'e' || c == 'E') && s.peekAt(1) == '\'':
		s.pos++
		if err := s.quoted('\'', true); err != nil {
			return token{}, err
		}
		return tok(tokString)
	case isIdentStart(c):
		for s.pos < len(s.src) && isIdentChar(s.src[s.pos]) {
			s.pos++
		}
		return tok(tokWord)
	case isDigit(c) || c == '.' && isDigit(s.peekAt(1)):
		for s.pos < len(s.src) && (isIdentChar(s.src[s.pos]) || s.src[s.pos] == '.') {
			s.pos++
		}
		return tok(tokNumber)
	case c == '\'':
		if err := s.quoted('\'', false); err != nil {
			return token{}, err
		}
		return tok(tokString)
	case c == '"':
		if err := s.quoted('"', false); err != nil {
			return token{}, err
		}
		return tok(tokQuoted)
	case c == '$':
		if s.peekAt(1) == '{' {
			if end := strings.IndexByte(s.src[start:], '}'); end > 0 {
				s.pos = start + end + 1
				return tok(tokBrace)
			}
		}
		if ok, err := s.dollarQuoted(); ok || err != nil {
			if err != nil {
				return token{}, err
			}
			return tok(tokString)
		}
		s.pos++
		return tok(tokPunct)
	case c == ':' && (s.peekAt(1) == ':' || s.peekAt(1) == '='):
		s.pos += 2
		return tok(tokPunct)
	default:
		s.pos++
		return tok(tokPunct)
	}
}

// quoted consumes a string or quoted name opened by q at the cursor; a
// doubled q is an escaped q, and with backslash a backslash escapes the
// next byte.
func (s *scanner) quoted(q byte, backslash bool) error {
	start := s.pos
	s.pos++
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case backslash && c == '\\':
			s.pos += 2
		case c == q && s.peekAt(1) == q:
			s.pos += 2
		case c == q:
			s.pos++
			return nil
		default:
			s.pos++
		}
	}
	what := "string literal"
	if q == '"' {
		what = "quoted identifier"
	}
	return errorAt(s.src, start, CodeSyntax, "unterminated %s", what)
}

// dollarQuoted consumes a $tag$...$tag$ string at the cursor. It reports
// false, leaving the cursor alone, when the text there is not a dollar
// quote opener.
func (s *scanner) dollarQuoted() (bool, error) {
	i := s.pos + 1
	for i < len(s.src) && isIdentChar(s.src[i]) && s.src[i] != '$' {
		if i == s.pos+1 && isDigit(s.src[i]) {
			return false, nil
		}
		i++
	}
	if i >= len(s.src) || s.src[i] != '$' {
		return false, nil
	}
	tag := s.src[s.pos : i+1]
	end := strings.Index(s.src[i+1:], tag)
	if end < 0 {
		return false, errorAt(s.src, s.pos, CodeSyntax, "unterminated dollar-quoted string")
	}
	s.pos = i + 1 + end + len(tag)
	return true, nil
}

// stringValue returns the value of a plain '...' string token, or false for
// any other kind of string.
func stringValue(t token) (string, bool) {
	if t.kind != tokString || !strings.HasPrefix(t.text, "'") {
		return "", false
	}
	return strings.ReplaceAll(t.text[1:len(t.text)-1], "''", "'"), true
}
