package cloudtrail

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// maxNesting bounds how deeply arrays and objects may nest inside one value.
// It keeps every accepted record within the limits of other JSON readers
// (encoding/json and DuckDB stop near 10,000).
const maxNesting = 1000

// syntaxError is a JSON syntax error at byte off of the buffer being scanned.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

// scanner validates and walks JSON held in b. It never copies b; it records
// the first invalid UTF-8 sequence it meets in bad (-1 when none) instead of
// failing, because such a record is structurally sound and its neighbours
// can still be decoded.
type scanner struct {
	b     []byte
	bad   int
	stack []byte
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// ws returns the index of the first non-whitespace byte at or after i.
func (s *scanner) ws(i int) int {
	b := s.b
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func (s *scanner) errAt(off int, msg string) *syntaxError {
	if off >= len(s.b) {
		return &syntaxError{off: len(s.b), msg: "unexpected end of data"}
	}
	return &syntaxError{off: off, msg: msg + ", found " + quoteByte(s.b[off])}
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	const hex = "0123456789abcdef"
	return "byte 0x" + string([]byte{hex[c>>4], hex[c&15]})
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// str scans the string whose opening quote is at b[i]. It returns the index
// just past the closing quote and whether the string holds escapes.
func (s *scanner) str(i int) (int, bool, error) {
	b := s.b
	start := i
	i++
	esc := false
	for {
		if i+8 <= len(b) {
			// Eight bytes at a time: flag quotes, backslashes, control
			// bytes and non-ASCII bytes; the lowest flag is exact.
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (ones * '"')
			bs := x ^ (ones * '\\')
			m := (((x - ones*0x20) &^ x) | ((q - ones) &^ q) | ((bs - ones) &^ bs) | x) & highs
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < len(b) {
				if c := b[i]; c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
					break
				}
				i++
			}
			if i >= len(b) {
				return i, esc, &syntaxError{off: len(b), msg: "unexpected end of data in the string starting at offset " + strconv.Itoa(start)}
			}
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return i, esc, &syntaxError{off: len(b), msg: "unexpected end of data in a string escape"}
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return i, esc, &syntaxError{off: len(b), msg: "unexpected end of data in a string escape"}
				}
				for _, h := range b[i+2 : i+6] {
					if unhex(h) < 0 {
						return i, esc, &syntaxError{off: i, msg: "invalid \\u escape in string"}
					}
				}
				i += 6
			default:
				return i, esc, &syntaxError{off: i, msg: "invalid escape " + quoteByte(b[i+1]) + " in string"}
			}
		case c < 0x20:
			return i, esc, &syntaxError{off: i, msg: "control character " + quoteByte(c) + " in string"}
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 && s.bad < 0 {
				s.bad = i
			}
			i += n
		}
	}
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// num scans the number starting at b[i] and returns the index just past it.
func (s *scanner) num(i int) (int, error) {
	b := s.b
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, s.errAt(i, "")
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return i, s.errAt(i, "invalid number, expected digit")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return i, s.errAt(i, "invalid number, expected digit after decimal point")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return i, s.errAt(i, "invalid number, expected digit in exponent")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i, nil
}

// lit scans the literal true, false or null starting at b[i].
func (s *scanner) lit(i int) (int, error) {
	b := s.b
	var want string
	switch b[i] {
	case 't':
		want = "true"
	case 'f':
		want = "false"
	default:
		want = "null"
	}
	for k := 0; k < len(want); k++ {
		if i+k >= len(b) || b[i+k] != want[k] {
			return i + k, s.errAt(i+k, "invalid literal, expected "+want)
		}
	}
	return i + len(want), nil
}

// skip validates the value starting at b[i] and returns the index just past
// it. spaced reports whether the value holds whitespace between its tokens,
// that is whether it differs from its compact form.
func (s *scanner) skip(i int) (end int, spaced bool, err error) {
	b := s.b
	stack := s.stack[:0]
	defer func() { s.stack = stack[:0] }()
	for {
		// a value starts at i
		if i >= len(b) {
			return i, spaced, s.errAt(i, "")
		}
		switch c := b[i]; {
		case c == '"':
			if i, _, err = s.str(i); err != nil {
				return i, spaced, err
			}
		case c == '{' || c == '[':
			if len(stack) >= maxNesting {
				return i, spaced, &syntaxError{off: i, msg: "values nested more than " + strconv.Itoa(maxNesting) + " deep"}
			}
			j := s.ws(i + 1)
			spaced = spaced || j != i+1
			if j < len(b) && b[j] == c+2 { // '{'+2 == '}', '['+2 == ']'
				i = j + 1
				break
			}
			stack = append(stack, c)
			i = j
			if c == '{' {
				if i, err = s.key(i, &spaced); err != nil {
					return i, spaced, err
				}
			}
			continue
		case c == 't' || c == 'f' || c == 'n':
			if i, err = s.lit(i); err != nil {
				return i, spaced, err
			}
		case c == '-' || (c >= '0' && c <= '9'):
			if i, err = s.num(i); err != nil {
				return i, spaced, err
			}
		default:
			return i, spaced, s.errAt(i, "invalid character, expected a value")
		}
		// a value ended at i: close containers or move to the next member
		for {
			if len(stack) == 0 {
				return i, spaced, nil
			}
			j := s.ws(i)
			spaced = spaced || j != i
			i = j
			if i >= len(b) {
				return i, spaced, s.errAt(i, "")
			}
			top := stack[len(stack)-1]
			if b[i] == ',' {
				j := s.ws(i + 1)
				spaced = spaced || j != i+1
				i = j
				if top == '{' {
					if i, err = s.key(i, &spaced); err != nil {
						return i, spaced, err
					}
				}
				break
			}
			if b[i] == top+2 {
				i++
				stack = stack[:len(stack)-1]
				continue
			}
			if top == '{' {
				return i, spaced, s.errAt(i, "expected ',' or '}' after object member")
			}
			return i, spaced, s.errAt(i, "expected ',' or ']' after array element")
		}
	}
}

// key scans an object key and the colon after it, leaving i at the value.
func (s *scanner) key(i int, spaced *bool) (int, error) {
	b := s.b
	if i >= len(b) || b[i] != '"' {
		return i, s.errAt(i, "expected a string for the object key")
	}
	i, _, err := s.str(i)
	if err != nil {
		return i, err
	}
	j := s.ws(i)
	if j >= len(b) || b[j] != ':' {
		return j, s.errAt(j, "expected ':' after object key")
	}
	k := s.ws(j + 1)
	if j != i || k != j+1 {
		*spaced = true
	}
	return k, nil
}

// view returns p as a string without copying. Every buffer passed here is
// owned by the decoder and never written once filled, so the string stays
// immutable.
func view(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	return unsafe.String(&p[0], len(p))
}
