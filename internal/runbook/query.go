package runbook

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/trailbook/trailbook/internal/lakesql"
	"github.com/trailbook/trailbook/internal/store"
)

// BuiltinPlaceholders are the query placeholders every runbook may use
// besides its params: the triggering event's time and ID, and the
// evaluation's clock.
func BuiltinPlaceholders() []string { return []string{"event_time", "event_id", "now"} }

// query translates a runbook's Lake SQL into r.QuerySQL and r.QueryParams
// and checks its placeholders against params.
func (d *decoder) query(n *yaml.Node, r *Runbook, params []string) {
	r.Query, r.QueryPos, r.QuerySQL, r.QueryParams = d.translate(n, params, BuiltinPlaceholders())
}

// translateSQL translates src, the query n holds, reporting why it does
// not translate at its place in n.
func (d *decoder) translateSQL(n *yaml.Node, src string) (*lakesql.Query, bool) {
	q, err := lakesql.Translate(d.l.ctx, d.l.opts.Conn, src, lakesql.Options{Tables: store.Tables(), TaggedEvents: store.TaggedEventsSQL})
	if err != nil {
		var le *lakesql.Error
		switch {
		case !errors.As(err, &le):
			d.l.fail(fmt.Errorf("translate the query of %s: %w", d.file, err))
		case le.Line == 0:
			d.errorf(n, CodeBadSQL, "%s: %s", le.Code, le.Msg)
		default:
			d.errorIn(n, le.Offset, CodeBadSQL, "%s: %s", le.Code, le.Msg)
		}
		return nil, false
	}
	return q, true
}

// placeholderOffset is the byte offset in the query of the first use of
// name, one of q.Params: Args reports where the first missing value goes.
func placeholderOffset(q *lakesql.Query, name string) int {
	values := map[string]string{}
	for _, p := range q.Params {
		if p != name {
			values[p] = ""
		}
	}
	var le *lakesql.Error
	if _, err := q.Args(values); errors.As(err, &le) {
		return le.Offset
	}
	return 0
}

// finding is one reason a query's rows may differ between two runs.
type finding struct {
	off int
	msg string
}

// unstable finds what makes a query's rows differ between two runs over
// the same events, which would make a runbook's decisions and tests
// depend on luck: LIMIT, OFFSET or FETCH in a query (or subquery) without
// ORDER BY, functions that read the clock instead of :now, and random
// functions and sampling. It reads the text as SQL tokens, skipping
// strings, quoted names and comments; src has translated, so it is valid.
// Ties in ORDER BY are not found.
func unstable(src string) []finding {
	type frame struct{ ordered, reported bool }
	frames := []frame{{}}
	var out []finding
	prev := "" // the previous word, upper case, or "" after other tokens
	prevDot := false
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				return out
			}
			i += j
			continue
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			j := strings.Index(src[i+2:], "*/")
			if j < 0 {
				return out
			}
			i += j + 4
			continue
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(src, i)
			prev, prevDot = "", false
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '(':
			frames = append(frames, frame{})
		case c == ')':
			if len(frames) > 1 {
				frames = frames[:len(frames)-1]
			}
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] == '$' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			w := strings.ToUpper(src[i:j])
			call := strings.HasPrefix(strings.TrimLeft(src[j:], " \t\r\n"), "(")
			f := &frames[len(frames)-1]
			placeholder := i > 0 && src[i-1] == ':' && (i < 2 || src[i-2] != ':')
			switch {
			case prevDot || placeholder:
			case w == "BY" && prev == "ORDER":
				f.ordered = true
			case (w == "LIMIT" || w == "OFFSET" || w == "FETCH") && !f.ordered && !f.reported:
				f.reported = true
				out = append(out, finding{i, fmt.Sprintf("%s without ORDER BY keeps rows in no set order, so runs may differ; add ORDER BY", w)})
			case call && (w == "NOW" || w == "GETDATE" || w == "CURRENT_TIMESTAMP" || w == "TODAY" || w == "GET_CURRENT_TIMESTAMP"),
				!call && (w == "CURRENT_TIMESTAMP" || w == "CURRENT_DATE" || w == "CURRENT_TIME" || w == "LOCALTIMESTAMP" || w == "LOCALTIME"):
				out = append(out, finding{i, fmt.Sprintf("%s reads the clock, so runs and tests differ; use the :now placeholder", strings.ToLower(w))})
			case call && (w == "RANDOM" || w == "RAND" || w == "UUID" || w == "GEN_RANDOM_UUID" || w == "SHUFFLE"),
				w == "TABLESAMPLE" || w == "SAMPLE" && prev == "USING":
				out = append(out, finding{i, fmt.Sprintf("%s is random, so runs may differ", strings.ToLower(w))})
			}
			prev, prevDot = w, false
			i = j
			continue
		}
		prevDot = c == '.'
		prev = ""
		i++
	}
	return out
}

// skipQuoted is the offset just past the string or quoted name starting
// at src[i]; a doubled quote is one quote inside it.
func skipQuoted(src string, i int) int {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		if src[j] == q {
			if j+1 < len(src) && src[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(src)
}
