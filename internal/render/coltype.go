package render

import (
	"fmt"
	"strconv"
	"strings"
)

// colType is a result column's DuckDB type as duckdb-go spells it in
// ColumnType.DatabaseTypeName: "TIMESTAMP", "DECIMAL(18,3)", "VARCHAR[]",
// "INTEGER[3]", "MAP(VARCHAR, BIGINT)", `STRUCT("a" INTEGER, "b" VARCHAR)`,
// `UNION("n" INTEGER, "s" VARCHAR)`. The renderer needs it because the
// scanned Go values alone lose facts the output keeps: a STRUCT arrives as a
// map[string]any without its field order, a UUID as 16 bytes like a BLOB, and
// DATE, TIME and TIMESTAMP all as time.Time.
//
// The driver names nested types by their storage type, so a JSON value inside
// a STRUCT or LIST is named VARCHAR; only a top-level column is named JSON.
type colType struct {
	name string // "STRUCT", "UNION", "MAP", "LIST", "ARRAY", "DECIMAL", or a scalar name

	width, scale int // DECIMAL
	size         int // ARRAY length

	elem       *colType // LIST and ARRAY element
	key, value *colType // MAP
	fields     []field  // STRUCT fields and UNION members, in declared order
}

// field is one STRUCT field or UNION member.
type field struct {
	name string
	typ  *colType
}

// parseColType parses a type name written by duckdb-go. Every name the
// driver writes parses; anything else is an error, and String of a parsed
// name gives back the input.
func parseColType(s string) (*colType, error) {
	p := typeParser{s: s}
	t, err := p.typ(0)
	if err == nil && p.i < len(s) {
		err = p.errorf("unexpected %q", s[p.i:])
	}
	if err != nil {
		return nil, fmt.Errorf("parse column type %q: %w", s, err)
	}
	return t, nil
}

// maxTypeDepth bounds nesting so that a hostile name cannot exhaust the
// stack; DuckDB's own nesting limit is far below it.
const maxTypeDepth = 1000

type typeParser struct {
	s string
	i int
}

func (p *typeParser) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *typeParser) typ(depth int) (*colType, error) {
	if depth > maxTypeDepth {
		return nil, p.errorf("type nested too deeply")
	}
	t, err := p.base(depth)
	if err != nil {
		return nil, err
	}
	for p.i < len(p.s) && p.s[p.i] == '[' {
		p.i++
		if p.eat("]") {
			t = &colType{name: "LIST", elem: t}
			continue
		}
		n, err := p.number()
		if err != nil {
			return nil, err
		}
		if !p.eat("]") {
			return nil, p.errorf("want ]")
		}
		t = &colType{name: "ARRAY", size: n, elem: t}
	}
	return t, nil
}

func (p *typeParser) base(depth int) (*colType, error) {
	start := p.i
	for p.i < len(p.s) && (isUpper(p.s[p.i]) || p.s[p.i] == '_' || isDigit(p.s[p.i])) {
		p.i++
	}
	name := p.s[start:p.i]
	if name == "" {
		return nil, p.errorf("want a type name")
	}
	t := &colType{name: name}
	if !p.eat("(") {
		if name == "STRUCT" || name == "UNION" || name == "MAP" || name == "DECIMAL" {
			return nil, p.errorf("want ( after %s", name)
		}
		return t, nil
	}
	var err error
	switch name {
	case "DECIMAL":
		if t.width, err = p.number(); err != nil {
			return nil, err
		}
		if !p.eat(",") {
			return nil, p.errorf("want ,")
		}
		if t.scale, err = p.number(); err != nil {
			return nil, err
		}
	case "MAP":
		if t.key, err = p.typ(depth + 1); err != nil {
			return nil, err
		}
		if !p.eat(", ") {
			return nil, p.errorf("want , between MAP key and value types")
		}
		if t.value, err = p.typ(depth + 1); err != nil {
			return nil, err
		}
	case "STRUCT", "UNION":
		for i := 0; p.i < len(p.s) && p.s[p.i] != ')'; i++ {
			if i > 0 && !p.eat(", ") {
				return nil, p.errorf("want , between %s fields", name)
			}
			var f field
			if f.name, err = p.quoted(); err != nil {
				return nil, err
			}
			if !p.eat(" ") {
				return nil, p.errorf("want space after field name")
			}
			if f.typ, err = p.typ(depth + 1); err != nil {
				return nil, err
			}
			t.fields = append(t.fields, f)
		}
	default:
		return nil, p.errorf("unexpected ( after %s", name)
	}
	if !p.eat(")") {
		return nil, p.errorf("want )")
	}
	return t, nil
}

// quoted reads a double-quoted field name in which "" stands for ".
func (p *typeParser) quoted() (string, error) {
	if !p.eat(`"`) {
		return "", p.errorf(`want " to open a field name`)
	}
	var b strings.Builder
	for {
		j := strings.IndexByte(p.s[p.i:], '"')
		if j < 0 {
			return "", p.errorf("unterminated field name")
		}
		b.WriteString(p.s[p.i : p.i+j])
		p.i += j + 1
		if !p.eat(`"`) {
			return b.String(), nil
		}
		b.WriteByte('"')
	}
}

func (p *typeParser) number() (int, error) {
	start := p.i
	for p.i < len(p.s) && isDigit(p.s[p.i]) {
		p.i++
	}
	// Leading zeros would not survive String, so they are not a name the
	// driver writes.
	n, err := strconv.Atoi(p.s[start:p.i])
	if err != nil || (p.i-start > 1 && p.s[start] == '0') {
		p.i = start
		return 0, p.errorf("want a number")
	}
	return n, nil
}

func (p *typeParser) eat(tok string) bool {
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// String spells t the way duckdb-go does.
func (t *colType) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *colType) write(b *strings.Builder) {
	switch t.name {
	case "LIST":
		t.elem.write(b)
		b.WriteString("[]")
	case "ARRAY":
		t.elem.write(b)
		fmt.Fprintf(b, "[%d]", t.size)
	case "DECIMAL":
		fmt.Fprintf(b, "DECIMAL(%d,%d)", t.width, t.scale)
	case "MAP":
		b.WriteString("MAP(")
		t.key.write(b)
		b.WriteString(", ")
		t.value.write(b)
		b.WriteByte(')')
	case "STRUCT", "UNION":
		b.WriteString(t.name)
		b.WriteByte('(')
		for i, f := range t.fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(f.name, `"`, `""`))
			b.WriteString(`" `)
			f.typ.write(b)
		}
		b.WriteByte(')')
	default:
		b.WriteString(t.name)
	}
}

// is reports whether t is the named type; a nil t is no type.
func (t *colType) is(name string) bool { return t != nil && t.name == name }

// element is the type of a LIST's or ARRAY's elements, or nil.
func (t *colType) element() *colType {
	if t == nil {
		return nil
	}
	return t.elem
}

// member is the type of the STRUCT field or UNION member named name, or nil.
func (t *colType) member(name string) *colType {
	if t == nil {
		return nil
	}
	for _, f := range t.fields {
		if f.name == name {
			return f.typ
		}
	}
	return nil
}

// numeric reports whether t holds numbers, which the table right-aligns.
func (t *colType) numeric() bool {
	if t == nil {
		return false
	}
	switch t.name {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
		"FLOAT", "DOUBLE", "DECIMAL", "BIGNUM":
		return true
	}
	return false
}
