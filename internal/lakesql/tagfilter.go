package lakesql

import (
	"strings"

	"github.com/goccy/go-json"
)

// noLocation is DuckDB's query_location for a node with no place in the
// text.
const noLocation = json.Number("18446744073709551615")

// TagPlaceholder is the column name Options.TaggedEvents uses where the
// query's tag conditions go, and TagAlias the alias its tag rows have.
const (
	TagPlaceholder = "trailbook_tag_condition"
	TagAlias       = "trailbook_tag"
)

// tagPath reports whether a column reference is resources.tag.key or
// resources.tag.value, possibly qualified by a table alias, and returns
// the field and the qualifier.
func tagPath(n node) (field, qualifier string, ok bool) {
	parts := columnParts(n)
	switch {
	case len(parts) == 3 && parts[0] == "resources" && parts[1] == "tag":
	case len(parts) == 4 && parts[1] == "resources" && parts[2] == "tag":
		qualifier, parts = parts[0], parts[1:]
	default:
		return "", "", false
	}
	if parts[2] != "key" && parts[2] != "value" {
		return "", "", false
	}
	return parts[2], qualifier, true
}

// collect returns the nodes under v that visit takes, depth first. visit
// also says whether to look below a node.
func collect(v any, visit func(node) (take, descend bool)) []node {
	var out []node
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case node:
			take, descend := visit(x)
			if take {
				out = append(out, x)
			}
			if descend {
				for _, e := range x {
					walk(e)
				}
			}
		}
	}
	walk(v)
	return out
}

func isTagRef(n node) bool {
	if n["class"] != "COLUMN_REF" {
		return false
	}
	_, _, ok := tagPath(n)
	return ok
}

// findTagRefs returns the tag column references under v, not looking into
// nested queries (each is rewritten on its own).
func findTagRefs(v any) []node {
	return collect(v, func(n node) (bool, bool) {
		if n["class"] == "COLUMN_REF" {
			return isTagRef(n), false
		}
		nested := n["type"] == "SELECT_NODE" || n["type"] == "SUBQUERY" && n["class"] == nil
		return false, !nested
	})
}

// findOr returns the OR and NOT nodes under v.
func findOr(v any) []node {
	return collect(v, func(n node) (bool, bool) {
		return n["type"] == "CONJUNCTION_OR" || n["type"] == "OPERATOR_NOT", true
	})
}

// nonTagRefs returns the column references under v that are not tag
// columns.
func nonTagRefs(v any) []node {
	return collect(v, func(n node) (bool, bool) {
		if n["class"] == "COLUMN_REF" {
			return !isTagRef(n), false
		}
		return false, true
	})
}

// conjuncts flattens the AND tree of a WHERE clause.
func conjuncts(v any) []any {
	n, ok := v.(node)
	if !ok || n["class"] != "CONJUNCTION" || n["type"] != "CONJUNCTION_AND" {
		if v == nil {
			return nil
		}
		return []any{v}
	}
	var out []any
	kids, _ := n["children"].([]any)
	for _, k := range kids {
		out = append(out, conjuncts(k)...)
	}
	return out
}

func and(parts []any) any {
	if len(parts) == 1 {
		return parts[0]
	}
	var loc any = noLocation
	if first, ok := parts[0].(node); ok && first["query_location"] != nil {
		loc = first["query_location"]
	}
	return node{"class": "CONJUNCTION", "type": "CONJUNCTION_AND", "alias": "", "query_location": loc, "children": parts}
}

// tagFilter rewrites Lake's tag conditions in the WHERE clause of one
// SELECT: conditions on resources.tag.key and resources.tag.value that are
// ANDed at the top of WHERE all apply to one tag of one resource the
// event touched, as that resource was tagged at the event's time. The
// events table they refer to is replaced by r.tagged, the events filtered
// by those conditions. Tag conditions anywhere else are refused.
func (r *rewriter) tagFilter(n node) {
	var tagConds, rest []any
	for _, c := range conjuncts(n["where_clause"]) {
		if len(findTagRefs(c)) > 0 {
			tagConds = append(tagConds, c)
		} else {
			rest = append(rest, c)
		}
	}
	for _, k := range []string{"select_list", "group_expressions", "having", "qualify", "modifiers", "from_table"} {
		if refs := findTagRefs(n[k]); len(refs) > 0 {
			r.fail(refs[0], CodeUnsupported, "resources.tag.key and resources.tag.value can only be used in WHERE conditions joined by AND")
			return
		}
	}
	if len(tagConds) == 0 {
		return
	}
	for _, c := range tagConds {
		for _, o := range findOr(c) {
			if len(findTagRefs(o)) > 0 {
				// OR between tag conditions of one tag is fine: the whole
				// condition is evaluated per tag. OR with an event column
				// is not.
				if refs := nonTagRefs(o); len(refs) > 0 {
					r.fail(refs[0], CodeUnsupported, "a condition on resources.tag.key or resources.tag.value cannot be combined with other columns by OR or NOT; join them with AND")
					return
				}
			}
		}
		if refs := nonTagRefs(c); len(refs) > 0 {
			r.fail(refs[0], CodeUnsupported, "a condition on resources.tag.key or resources.tag.value cannot also use other columns; join them with AND")
			return
		}
	}
	qualifier := ""
	for _, c := range tagConds {
		for _, ref := range findTagRefs(c) {
			_, q, _ := tagPath(ref)
			if q != "" && qualifier != "" && q != qualifier {
				r.fail(ref, CodeUnsupported, "tag conditions in one WHERE must all refer to the same table")
				return
			}
			if q != "" {
				qualifier = q
			}
		}
	}
	target, count := eventsRef(n["from_table"], qualifier)
	if target == nil {
		ref := findTagRefs(tagConds[0])[0]
		if count > 1 {
			r.fail(ref, CodeUnsupported, "qualify resources.tag with the alias of the events table it refers to")
		} else {
			r.fail(ref, CodeUnsupported, "resources.tag needs the events table in the FROM clause of the same SELECT")
		}
		return
	}
	if r.tagged == nil {
		r.fail(tagConds[0], CodeUnsupported, "tag conditions are not available on this store")
		return
	}
	sub := r.tagged()
	if sub == nil {
		r.fail(tagConds[0], CodeUnsupported, "tag conditions are not available on this store")
		return
	}
	for _, c := range tagConds {
		for _, ref := range findTagRefs(c) {
			field, _, _ := tagPath(ref)
			ref["column_names"] = []any{TagAlias, field}
		}
	}
	if !replacePlaceholder(sub, and(tagConds)) {
		r.fail(tagConds[0], CodeUnsupported, "tag conditions are not available on this store")
		return
	}
	loc := target["query_location"]
	alias, _ := target["alias"].(string)
	if alias == "" {
		alias, _ = target["table_name"].(string)
	}
	for k := range target {
		delete(target, k)
	}
	for k, v := range sub {
		target[k] = v
	}
	target["alias"] = alias
	target["query_location"] = loc
	if len(rest) == 0 {
		n["where_clause"] = nil
	} else {
		n["where_clause"] = and(rest)
	}
}

// eventsRef finds the events table reference in a FROM clause that
// qualifier names (or the only one, when qualifier is empty), and counts
// the events tables in it.
func eventsRef(from any, qualifier string) (node, int) {
	var tables []node
	var walk func(any)
	walk = func(v any) {
		n, ok := v.(node)
		if !ok {
			return
		}
		switch n["type"] {
		case "BASE_TABLE":
			if name, _ := n["table_name"].(string); strings.EqualFold(name, eventsTable) {
				tables = append(tables, n)
			}
		case "JOIN":
			walk(n["left"])
			walk(n["right"])
		}
	}
	walk(from)
	if qualifier == "" {
		if len(tables) == 1 {
			return tables[0], 1
		}
		return nil, len(tables)
	}
	for _, t := range tables {
		alias, _ := t["alias"].(string)
		if alias == "" {
			alias, _ = t["table_name"].(string)
		}
		if strings.EqualFold(alias, qualifier) {
			return t, len(tables)
		}
	}
	return nil, len(tables)
}

// replacePlaceholder puts cond where the template has the placeholder
// column, and drops the template's own positions (they are not in the
// user's text).
func replacePlaceholder(v any, cond any) bool {
	done := false
	var visit func(v any) any
	visit = func(v any) any {
		switch x := v.(type) {
		case []any:
			for i, e := range x {
				x[i] = visit(e)
			}
		case node:
			if x["class"] == "COLUMN_REF" {
				if names, _ := x["column_names"].([]any); len(names) == 1 && names[0] == TagPlaceholder {
					done = true
					return cond
				}
			}
			if _, ok := x["query_location"]; ok {
				x["query_location"] = noLocation
			}
			for k, e := range x {
				x[k] = visit(e)
			}
		}
		return v
	}
	visit(v)
	return done
}
