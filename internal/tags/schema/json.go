package schema

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// jkind is the kind of a JSON value.
type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

func (k jkind) String() string {
	switch k {
	case jNull:
		return "null"
	case jBool:
		return "a boolean"
	case jNumber:
		return "a number"
	case jString:
		return "a string"
	case jArray:
		return "an array"
	}
	return "an object"
}

// jnode is one JSON value and the byte offset where it starts, so that
// problems found after parsing still have a position.
type jnode struct {
	kind    jkind
	off     int
	text    string // a string's value; the literal of a number or boolean
	elems   []*jnode
	members []jmember // in document order, repeats kept
}

type jmember struct {
	key string
	off int // of the key's opening quote
	val *jnode
}

// jsonSyntaxError is where and why data is not JSON.
type jsonSyntaxError struct {
	off int
	msg string
}

// maxJSONDepth bounds nesting; tag policies nest four deep.
const maxJSONDepth = 64

// parseJSON parses data, which must hold exactly one JSON value (a
// leading UTF-8 byte order mark is skipped). It accepts what
// encoding/json accepts, below maxJSONDepth.
func parseJSON(data []byte) (*jnode, *jsonSyntaxError) {
	p := jparser{data: data}
	if len(data) >= 3 && string(data[:3]) == "\xef\xbb\xbf" {
		p.pos = 3
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(data) {
		return nil, p.fail("invalid character %s after top-level value", p.quoteChar())
	}
	return v, nil
}

type jparser struct {
	data []byte
	pos  int
}

func (p *jparser) fail(format string, args ...any) *jsonSyntaxError {
	return &jsonSyntaxError{off: p.pos, msg: fmt.Sprintf(format, args...)}
}

func (p *jparser) quoteChar() string {
	r, _ := utf8.DecodeRune(p.data[p.pos:])
	return fmt.Sprintf("%q", r)
}

func (p *jparser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jparser) value(depth int) (*jnode, *jsonSyntaxError) {
	p.space()
	if p.pos >= len(p.data) {
		return nil, p.fail("unexpected end of input, looking for a value")
	}
	if depth >= maxJSONDepth {
		return nil, p.fail("nested deeper than %d", maxJSONDepth)
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		off := p.pos
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &jnode{kind: jString, off: off, text: s}, nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return p.literal("true", jBool)
	case c == 'f':
		return p.literal("false", jBool)
	case c == 'n':
		return p.literal("null", jNull)
	}
	return nil, p.fail("invalid character %s looking for a value", p.quoteChar())
}

func (p *jparser) literal(word string, kind jkind) (*jnode, *jsonSyntaxError) {
	off := p.pos
	for i := 0; i < len(word); i++ {
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of input in literal %s", word)
		}
		if p.data[p.pos] != word[i] {
			return nil, p.fail("invalid character %s in literal %s", p.quoteChar(), word)
		}
		p.pos++
	}
	return &jnode{kind: kind, off: off, text: word}, nil
}

func (p *jparser) digits() int {
	n := 0
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
		n++
	}
	return n
}

func (p *jparser) number() (*jnode, *jsonSyntaxError) {
	off := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.data) && p.data[p.pos] == '0':
		p.pos++
	case p.digits() == 0:
		return nil, p.numberFail()
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if p.digits() == 0 {
			return nil, p.numberFail()
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return nil, p.numberFail()
		}
	}
	return &jnode{kind: jNumber, off: off, text: string(p.data[off:p.pos])}, nil
}

func (p *jparser) numberFail() *jsonSyntaxError {
	if p.pos >= len(p.data) {
		return p.fail("unexpected end of input in a number")
	}
	return p.fail("invalid character %s in a number", p.quoteChar())
}

// str reads the string starting at p.pos, its opening quote.
func (p *jparser) str() (string, *jsonSyntaxError) {
	start := p.pos
	p.pos++
	plain := true
	for {
		if p.pos >= len(p.data) {
			return "", p.fail("unexpected end of input in a string")
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			raw := p.data[start:p.pos]
			if plain && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			// Escapes are valid here; encoding/json decodes them, and
			// invalid UTF-8, as JSON readers do.
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", &jsonSyntaxError{off: start, msg: "invalid string: " + err.Error()}
			}
			return s, nil
		case c < 0x20:
			return "", p.fail("invalid control character %q in a string", rune(c))
		case c == '\\':
			plain = false
			p.pos++
			if p.pos >= len(p.data) {
				return "", p.fail("unexpected end of input in a string")
			}
			switch p.data[p.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos++
			case 'u':
				p.pos++
				for range 4 {
					if p.pos >= len(p.data) {
						return "", p.fail("unexpected end of input in a \\u escape")
					}
					if !isHex(p.data[p.pos]) {
						return "", p.fail("invalid character %s in a \\u escape", p.quoteChar())
					}
					p.pos++
				}
			default:
				return "", p.fail("invalid character %s in a string escape", p.quoteChar())
			}
		default:
			p.pos++
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (p *jparser) object(depth int) (*jnode, *jsonSyntaxError) {
	n := &jnode{kind: jObject, off: p.pos}
	p.pos++
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return n, nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of input, looking for a key")
		}
		if p.data[p.pos] != '"' {
			return nil, p.fail("invalid character %s looking for a key", p.quoteChar())
		}
		off := p.pos
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of input, looking for ':'")
		}
		if p.data[p.pos] != ':' {
			return nil, p.fail("invalid character %s after a key, looking for ':'", p.quoteChar())
		}
		p.pos++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.members = append(n.members, jmember{key: key, off: off, val: v})
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of input, looking for ',' or '}'")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return n, nil
		default:
			return nil, p.fail("invalid character %s after a value, looking for ',' or '}'", p.quoteChar())
		}
	}
}

func (p *jparser) array(depth int) (*jnode, *jsonSyntaxError) {
	n := &jnode{kind: jArray, off: p.pos}
	p.pos++
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return n, nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.elems = append(n.elems, v)
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of input, looking for ',' or ']'")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return n, nil
		default:
			return nil, p.fail("invalid character %s after a value, looking for ',' or ']'", p.quoteChar())
		}
	}
}
