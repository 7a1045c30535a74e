package lakesql

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// edit replaces src[start:end] with repl. Edits are kept sorted and never
// overlap.
type edit struct {
	start, end int
	repl       string
}

// param is a named placeholder and the offset of its first use.
type param struct {
	name   string
	offset int
}

// source is the user's text made parseable by DuckDB: Lake placeholders
// for the event data store are replaced by the events table name, ${name}
// and :name placeholders by $1, $2, ..., and Trino's array(T) type by T[].
// Every edit is recorded so that offsets into text map back to src.
type source struct {
	src    string
	text   string
	edits  []edit
	params []param
}

// origOffset maps a byte offset into s.text back to s.src. An offset inside
// replaced text maps to the start of what it replaced.
func (s *source) origOffset(off int) int {
	shift := 0
	for _, e := range s.edits {
		newStart := e.start + shift
		if off < newStart {
			break
		}
		if off < newStart+len(e.repl) {
			return e.start
		}
		shift += len(e.repl) - (e.end - e.start)
	}
	return off - shift
}

// errorAt builds an Error at an offset into s.text.
func (s *source) errorAt(off int, code, format string, args ...any) *Error {
	return errorAt(s.src, s.origOffset(off), code, format, args...)
}

// frame is the lexical state of one level of brackets.
type frame struct {
	open      byte // '(', '[', '{' or 0 at top level
	query     bool // a SELECT keyword appeared at this level
	inFrom    bool // inside a FROM clause at this level
	closeRepl string
}

// prepass walks the tokens of src once and builds the source DuckDB can
// parse, refusing what must never reach it.
type prepass struct {
	source
	sc       scanner
	frames   []frame
	prev     [2]token // the two previous significant tokens, most recent first
	stmtSeen bool     // the first statement has started
	stmtDone bool     // a ';' ended the first statement
}

// prepare lexes src, checks that it holds one SELECT statement, and
// rewrites the tokens DuckDB cannot parse.
func prepare(src string) (*source, error) {
	if !utf8.ValidString(src) {
		bad := 0
		for bad < len(src) {
			r, size := utf8.DecodeRuneInString(src[bad:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			bad += size
		}
		return nil, errorAt(src, bad, CodeSyntax, "the query is not valid UTF-8")
	}
	p := &prepass{source: source{src: src}, sc: scanner{src: src}, frames: []frame{{}}}
	for {
		t, err := p.sc.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokEOF {
			break
		}
		if err := p.token(t); err != nil {
			return nil, err
		}
		p.prev[1], p.prev[0] = p.prev[0], t
	}
	if !p.stmtSeen {
		return nil, errorAt(src, len(src), CodeNotSelect, "empty query: expected a SELECT statement")
	}
	var b strings.Builder
	last := 0
	for _, e := range p.edits {
		b.WriteString(src[last:e.start])
		b.WriteString(e.repl)
		last = e.end
	}
	b.WriteString(src[last:])
	p.text = b.String()
	return &p.source, nil
}

func (p *prepass) top() *frame { return &p.frames[len(p.frames)-1] }

func (p *prepass) addEdit(start, end int, repl string) {
	p.edits = append(p.edits, edit{start: start, end: end, repl: repl})
}

// statementKind names the statement a token starts, for error messages:
// the keyword, plus the object kind after CREATE, DROP and ALTER.
func (p *prepass) statementKind(t token) string {
	if t.kind != tokWord {
		return strconv.Quote(t.text)
	}
	kind := t.upper()
	if len(kind) > 32 {
		return strconv.Quote(t.text[:32] + "...")
	}
	switch kind {
	case "CREATE", "DROP", "ALTER":
		save := p.sc.pos
		defer func() { p.sc.pos = save }()
		for i := 0; i < 6; i++ {
			n, err := p.sc.next()
			if err != nil || n.kind != tokWord {
				break
			}
			switch w := n.upper(); w {
			case "OR", "REPLACE", "TEMP", "TEMPORARY", "UNIQUE", "PERSISTENT":
				continue
			default:
				return kind + " " + w
			}
		}
	}
	return kind
}

func (p *prepass) token(t token) error {
	if p.stmtDone {
		if t.kind == tokPunct && t.text == ";" {
			return nil
		}
		return errorAt(p.src, t.start, CodeMultipleStatements,
			"only one statement is allowed, found a second one (%s)", p.statementKind(t))
	}
	if !p.stmtSeen {
		if t.kind == tokPunct && t.text == ";" {
			return nil
		}
		p.stmtSeen = true
		ok := t.kind == tokPunct && t.text == "("
		if t.kind == tokWord {
			switch t.upper() {
			case "SELECT", "WITH", "VALUES":
				ok = true
			}
		}
		if !ok {
			return errorAt(p.src, t.start, CodeNotSelect,
				"only SELECT queries are allowed, found %s", p.statementKind(t))
		}
	}
	switch t.kind {
	case tokWord:
		return p.word(t)
	case tokBrace:
		name := strings.TrimSpace(t.text[2 : len(t.text)-1])
		if !validParamName(name) {
			return errorAt(p.src, t.start, CodeSyntax, "invalid placeholder %s", t.text)
		}
		p.placeholder(t.start, t.end, name)
	case tokString:
		if v, ok := stringValue(t); ok && strings.HasPrefix(v, "${") && strings.HasSuffix(v, "}") {
			if name := strings.TrimSpace(v[2 : len(v)-1]); validParamName(name) {
				p.placeholder(t.start, t.end, name)
			}
		}
	case tokPunct:
		return p.punct(t)
	}
	return nil
}

func (p *prepass) word(t token) error {
	top := p.top()
	switch t.upper() {
	case "SELECT":
		top.query = true
		top.inFrom = false
	case "FROM":
		if !top.query {
			return nil // EXTRACT(x FROM y), SUBSTRING(s FROM n), TRIM(c FROM s)
		}
		if p.prev[0].kind == tokWord && p.prev[0].upper() == "DISTINCT" {
			if w := p.prev[1].upper(); p.prev[1].kind == tokWord && (w == "IS" || w == "NOT") {
				return nil // a IS [NOT] DISTINCT FROM b
			}
		}
		top.inFrom = true
		return p.tableName()
	case "JOIN":
		if top.query {
			top.inFrom = true
			return p.tableName()
		}
	case "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "FETCH", "WINDOW",
		"QUALIFY", "UNION", "EXCEPT", "INTERSECT":
		top.inFrom = false
	case "ARRAY":
		return p.arrayType(t)
	}
	return nil
}

func (p *prepass) punct(t token) error {
	switch t.text {
	case "(", "[", "{":
		p.frames = append(p.frames, frame{open: t.text[0]})
	case ")", "]", "}":
		if len(p.frames) > 1 {
			f := p.frames[len(p.frames)-1]
			p.frames = p.frames[:len(p.frames)-1]
			if f.closeRepl != "" {
				p.addEdit(t.start, t.end, f.closeRepl)
			}
		}
	case ",":
		if p.top().inFrom {
			return p.tableName()
		}
	case ";":
		p.stmtDone = true
	case "?":
		return errorAt(p.src, t.start, CodeUnsupported,
			"positional parameter ? is not supported: use :name or ${name}")
	case "$":
		if c := p.sc.peekAt(0); isDigit(c) {
			return errorAt(p.src, t.start, CodeUnsupported,
				"positional parameter $%c is not supported: use :name or ${name}", c)
		} else if isIdentStart(c) {
			return errorAt(p.src, t.start, CodeSyntax,
				"unexpected $ outside FROM: write parameters as ${name} or :name")
		}
	case ":":
		if f := p.top(); f.open == '[' || f.open == '{' {
			return nil // slice bounds, struct literal keys
		}
		if !isIdentStart(p.sc.peekAt(0)) {
			return nil
		}
		n, err := p.sc.next()
		if err != nil {
			return err
		}
		p.placeholder(t.start, n.end, n.text)
	}
	return nil
}

// arrayType rewrites Trino's array(T) type to DuckDB's T[]; ARRAY[...] and
// ARRAY(SELECT ...) are left alone.
func (p *prepass) arrayType(t token) error {
	save := p.sc.pos
	open, err := p.sc.next()
	if err != nil || open.kind != tokPunct || open.text != "(" {
		p.sc.pos = save
		return nil
	}
	inner, err := p.sc.next()
	p.sc.pos = open.end
	if err != nil || inner.kind != tokWord {
		p.sc.pos = save
		return nil
	}
	switch inner.upper() {
	case "SELECT", "WITH", "VALUES":
		p.sc.pos = save
		return nil
	}
	p.addEdit(t.start, open.end, "")
	p.frames = append(p.frames, frame{open: '(', closeRepl: "[]"})
	return nil
}

// placeholder replaces src[start:end] with the positional parameter for
// name, numbering names in order of first use.
func (p *prepass) placeholder(start, end int, name string) {
	idx := -1
	for i, pr := range p.params {
		if pr.name == name {
			idx = i
			break
		}
	}
	if idx < 0 {
		p.params = append(p.params, param{name: name, offset: start})
		idx = len(p.params) - 1
	}
	p.addEdit(start, end, "$"+strconv.Itoa(idx+1))
}

func validParamName(name string) bool {
	if name == "" || !isIdentStart(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isIdentChar(c) || c == '$' {
			if c != '.' && c != '-' {
				return false
			}
		}
	}
	return true
}

// tableName looks at the FROM item after FROM, JOIN or a comma in a FROM
// clause. Lake event data store references that DuckDB cannot parse
// ($EDS_ID, <EDS ID>, bare IDs such as a UUID, ARNs) become the events
// table; a quoted file path is refused. Plain names are left for the tree
// rewrite, which maps them to the events table unless they name a CTE.
func (p *prepass) tableName() error {
	if err := p.sc.skipSpace(); err != nil {
		return err
	}
	src := p.src
	start := p.sc.pos
	if start >= len(src) {
		return nil
	}
	switch c := src[start]; {
	case c == '(':
		p.sc.pos++
		t, err := p.sc.next()
		p.sc.pos = start
		if err == nil && t.kind == tokWord {
			switch t.upper() {
			case "DESCRIBE", "SHOW", "SUMMARIZE":
				return errorAt(src, t.start, CodeForbiddenTable,
					"%s is not allowed in a Lake query", t.upper())
			}
		}
		return nil
	case c == '\'':
		t, err := p.sc.next()
		if err != nil {
			return err
		}
		return errorAt(src, start, CodeForbiddenTable,
			"FROM %s: reading files is not allowed, query the event data store", t.text)
	case c == '<':
		end := start + 1
		for end < len(src) && src[end] != '>' && src[end] != '\n' && src[end] != '<' {
			end++
		}
		if end < len(src) && src[end] == '>' && end > start+1 {
			p.replaceTable(start, end+1)
		}
		return nil
	case c == '$':
		end := start + 1
		for end < len(src) && isIdentChar(src[end]) && src[end] != '$' {
			end++
		}
		if end > start+1 && isIdentStart(src[start+1]) {
			p.replaceTable(start, end)
		}
		return nil
	case !isIdentChar(c):
		return nil
	}
	// A run of name characters; IDs and ARNs add '-', ':', '/' and <...>.
	end := start
	special := false
scan:
	for end < len(src) {
		c := src[end]
		switch {
		case isIdentChar(c) || c == '.':
			end++
		case c == '-' && end+1 < len(src) && src[end+1] != '-':
			end++
			special = true
		case c == ':' || c == '/':
			end++
			special = true
		case c == '<':
			gt := strings.IndexByte(src[end:], '>')
			nl := strings.IndexByte(src[end:], '\n')
			if gt < 0 || nl >= 0 && nl < gt {
				break scan
			}
			end += gt + 1
			special = true
		default:
			break scan
		}
	}
	if special {
		p.replaceTable(start, end)
	}
	return nil
}

func (p *prepass) replaceTable(start, end int) {
	p.addEdit(start, end, eventsTable)
	p.sc.pos = end
}
