package lakesql

import (
	"strconv"
	"strings"

	"github.com/goccy/go-json"
)

// node is one object of the json_serialize_sql tree: a query node, a
// table reference or an expression.
type node = map[string]any

// rewriter rewrites a json_serialize_sql tree in place from Lake
// semantics to DuckDB semantics. It is used once, by one goroutine.
type rewriter struct {
	src    *source
	tables map[string]bool   // the store's own tables, lower case
	ctes   []map[string]bool // CTE names in scope, innermost last, lower case
	errs   []*Error
	// tagged returns a fresh tree of Options.TaggedEvents' FROM item, or
	// nil when the store has none.
	tagged func() node
}

// fail records a problem at the location of n; Translate reports the one
// nearest the start of the query, so the outcome does not depend on the
// order the tree is walked in.
func (r *rewriter) fail(n any, code, format string, args ...any) {
	off := minLocation(n)
	if off < 0 {
		off = 0
	}
	r.errs = append(r.errs, r.src.errorAt(off, code, format, args...))
}

func (r *rewriter) firstError() error {
	var first *Error
	for _, e := range r.errs {
		if first == nil || e.Offset < first.Offset || e.Offset == first.Offset && e.Msg < first.Msg {
			first = e
		}
	}
	if first == nil {
		return nil
	}
	return first
}

// walk rewrites v and everything below it, children first, and returns
// what replaces v in its parent.
func (r *rewriter) walk(v any) any {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			x[i] = r.walk(e)
		}
		return x
	case node:
		return r.object(x)
	}
	return v
}

func (r *rewriter) object(n node) any {
	if cm, ok := n["cte_map"].(node); ok {
		names := map[string]bool{}
		entries, _ := cm["map"].([]any)
		for _, e := range entries {
			if en, ok := e.(node); ok {
				if k, ok := en["key"].(string); ok {
					names[strings.ToLower(k)] = true
				}
			}
		}
		r.ctes = append(r.ctes, names)
		defer func() { r.ctes = r.ctes[:len(r.ctes)-1] }()
	}
	if _, isExpr := n["class"]; !isExpr {
		switch n["type"] {
		case "BASE_TABLE":
			r.baseTable(n)
			return n
		case "TABLE_FUNCTION":
			return r.tableFunction(n)
		case "SHOW_REF":
			r.fail(n, CodeForbiddenTable, "DESCRIBE, SHOW and SUMMARIZE are not allowed in a Lake query")
			return n
		case "PIVOT":
			r.fail(n, CodeUnsupported, "PIVOT is not part of the Lake dialect")
			return n
		}
	}
	for k, v := range n {
		n[k] = r.walk(v)
	}
	if n["type"] == "SELECT_NODE" {
		lenientGroupBy(n)
		r.tagFilter(n)
	}
	if _, isExpr := n["class"]; isExpr {
		out := r.expr(n)
		if o, ok := out.(node); ok && o["alias"] == "" {
			o["alias"] = n["alias"] // keep "AS name" when a call is replaced
		}
		return out
	}
	return n
}

func (r *rewriter) isCTE(name string) bool {
	name = strings.ToLower(name)
	for _, scope := range r.ctes {
		if scope[name] {
			return true
		}
	}
	return false
}

// baseTable points every table name that is not a CTE or one of the
// store's own tables at the events table,
// keeping the name the user wrote as the alias so qualified column
// references still resolve.
func (r *rewriter) baseTable(n node) {
	name, _ := n["table_name"].(string)
	schema, _ := n["schema_name"].(string)
	catalog, _ := n["catalog_name"].(string)
	if schema != "" || catalog != "" {
		full := strings.Join(nonEmpty(catalog, schema, name), ".")
		r.fail(n, CodeForbiddenTable,
			"table %s is not available: a Lake query reads the event data store (events) and its own CTEs", full)
		return
	}
	if r.isCTE(name) || r.tables[strings.ToLower(name)] {
		return
	}
	if !strings.EqualFold(name, eventsTable) {
		if alias, _ := n["alias"].(string); alias == "" {
			n["alias"] = name
		}
		n["table_name"] = eventsTable
	}
}

func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// tableFunction allows UNNEST only, and gives it Trino's shape: with
// several column aliases, an array of rows expands into one column per
// field and a map into key and value; several arrays unnest side by side.
func (r *rewriter) tableFunction(n node) any {
	fnode, _ := n["function"].(node)
	name, _ := fnode["function_name"].(string)
	if !strings.EqualFold(name, "unnest") {
		r.fail(fnode, CodeForbiddenFunction,
			"table function %s is not allowed: a Lake query reads the event data store; only UNNEST may appear in FROM", name)
		return n
	}
	r.walk(fnode)
	args, _ := fnode["children"].([]any)
	aliases, _ := n["column_name_alias"].([]any)
	columns := len(aliases)
	ordinality := n["with_ordinality"] == "WITH_ORDINALITY"
	if ordinality && columns > 0 {
		columns-- // the last alias names the ordinal
	}
	if columns <= 1 && len(args) <= 1 {
		return n
	}
	if ordinality {
		r.fail(fnode, CodeUnsupported, "UNNEST WITH ORDINALITY of several columns is not supported")
		return n
	}
	loc := n["query_location"]
	var items []any
	for _, a := range args {
		if len(aliases) == len(args) {
			items = append(items, call("unnest", loc, a))
			continue
		}
		// Expand each element (a row, or a map entry) into its fields.
		if staticType(a) == typeMap {
			a = call("map_entries", loc, a)
		}
		depth := constant(2, "INTEGER", loc)
		depth["alias"] = "max_depth"
		items = append(items, call("unnest", loc, a, depth))
	}
	return node{
		"type":              "SUBQUERY",
		"alias":             n["alias"],
		"sample":            nil,
		"query_location":    loc,
		"subquery":          node{"node": selectNode(items), "named_param_map": []any{}},
		"column_name_alias": aliases,
	}
}

// expr rewrites one expression whose children are already rewritten.
func (r *rewriter) expr(n node) any {
	switch n["class"] {
	case "FUNCTION":
		return r.function(n)
	case "WINDOW":
		if name, ok := n["function_name"].(string); ok {
			name = strings.ToLower(name)
			args, _ := n["children"].([]any)
			if to := renamed(name); to != "" {
				n["function_name"] = to
			} else if name == "approx_distinct" || name == "approx_percentile" {
				r.approx(n, name, args)
			} else if name == "count_if" {
				countIf(n, args)
			}
		}
	case "COMPARISON":
		n["left"], n["right"] = coerce(n["right"], n["left"]), coerce(n["left"], n["right"])
	case "BETWEEN":
		n["lower"] = coerce(n["input"], n["lower"])
		n["upper"] = coerce(n["input"], n["upper"])
	case "OPERATOR":
		if t := n["type"]; t == "COMPARE_IN" || t == "COMPARE_NOT_IN" {
			kids, _ := n["children"].([]any)
			for i := 1; i < len(kids); i++ {
				kids[i] = coerce(kids[0], kids[i])
			}
		}
	case "CAST":
		if ct, _ := n["cast_type"].(node); ct["id"] == "VARCHAR" && producesJSON(n["child"]) {
			return call("lake_json_to_varchar", n["query_location"], n["child"])
		}
	case "COLUMN_REF":
		if names, _ := n["column_names"].([]any); len(names) == 1 {
			name, _ := names[0].(string)
			switch strings.ToLower(name) {
			case "current_timestamp", "localtimestamp":
				return call("lake_now", n["query_location"])
			case "current_date":
				return call("lake_current_date", n["query_location"])
			}
		}
	}
	return n
}

// producesJSON reports whether v is a call that returns Trino's JSON type,
// whose cast to VARCHAR unquotes a string instead of keeping the quotes.
func producesJSON(v any) bool {
	n, ok := v.(node)
	if !ok || n["class"] != "FUNCTION" {
		return false
	}
	switch n["function_name"] {
	case "lake_json_extract", "lake_json_parse", "lake_json_array_get":
		return true
	}
	return false
}

// dateLike reports whether s starts like an ISO 8601 date (YYYY-M-D), the
// string literals Lake compares as timestamps.
func dateLike(s string) bool {
	s = strings.TrimLeft(s, " \t")
	digits := func(min, max int) bool {
		n := 0
		for n < len(s) && n < max && isDigit(s[n]) {
			n++
		}
		s = s[n:]
		return n >= min
	}
	dash := func() bool {
		if s == "" || s[0] != '-' {
			return false
		}
		s = s[1:]
		return true
	}
	return digits(4, 4) && dash() && digits(1, 2) && dash() && digits(1, 2)
}

// coerce returns side, a comparison operand, wrapped so that it compares
// the way Lake compares it with other: a date-like string literal or a
// parameter compared with a TIMESTAMP or DATE is parsed as an ISO 8601
// time (an offset is converted to UTC); compared with anything else it is
// left as written. When other's type is not known statically, the
// overloads of the lake_coerce macro let DuckDB choose.
func coerce(other, side any) any {
	s, ok := side.(node)
	if !ok || isConstantLike(other) {
		return side
	}
	switch s["class"] {
	case "PARAMETER":
	case "CONSTANT":
		str, ok := stringConstant(s)
		if !ok || !dateLike(str) {
			return side
		}
	default:
		return side
	}
	loc := s["query_location"]
	switch staticType(other) {
	case typeTimestamp:
		return call("lake_ts", loc, side)
	case typeDate:
		return call("lake_ts_date", loc, side)
	case typeUnknown:
		return call("lake_coerce", loc, other, side)
	}
	return side
}

func isConstantLike(v any) bool {
	n, ok := v.(node)
	if !ok {
		return true
	}
	c := n["class"]
	return c == "CONSTANT" || c == "PARAMETER"
}

// minLocation returns the smallest known query_location at or below v, or
// -1. DuckDB leaves some locations unset (the maximum uint64).
func minLocation(v any) int {
	best := -1
	var visit func(any)
	visit = func(v any) {
		switch x := v.(type) {
		case node:
			if q, ok := x["query_location"].(json.Number); ok {
				if i, err := strconv.ParseInt(string(q), 10, 64); err == nil && (best < 0 || int(i) < best) {
					best = int(i)
				}
			}
			for _, c := range x {
				visit(c)
			}
		case []any:
			for _, c := range x {
				visit(c)
			}
		}
	}
	visit(v)
	return best
}

// call builds a FUNCTION expression.
func call(name string, loc any, args ...any) node {
	if args == nil {
		args = []any{}
	}
	return node{
		"class":          "FUNCTION",
		"type":           "FUNCTION",
		"alias":          "",
		"query_location": loc,
		"function_name":  name,
		"schema":         "",
		"catalog":        "",
		"children":       args,
		"filter":         nil,
		"order_bys":      node{"type": "ORDER_MODIFIER", "orders": []any{}},
		"distinct":       false,
		"is_operator":    false,
		"export_state":   false,
	}
}

// constant builds a constant expression of the given DuckDB type id.
func constant(v any, typ string, loc any) node {
	return node{
		"class":          "CONSTANT",
		"type":           "VALUE_CONSTANT",
		"alias":          "",
		"query_location": loc,
		"value": node{
			"type":    node{"id": typ, "type_info": nil},
			"is_null": false,
			"value":   v,
		},
	}
}

// selectNode builds SELECT items, with no FROM clause.
func selectNode(items []any) node {
	unknown := json.Number("18446744073709551615")
	return node{
		"type":               "SELECT_NODE",
		"modifiers":          []any{},
		"cte_map":            node{"map": []any{}},
		"select_list":        items,
		"from_table":         node{"type": "EMPTY", "alias": "", "sample": nil, "query_location": unknown},
		"where_clause":       nil,
		"group_expressions":  []any{},
		"group_sets":         []any{},
		"aggregate_handling": "STANDARD_HANDLING",
		"having":             nil,
		"sample":             nil,
		"qualify":            nil,
	}
}

// lenientGroupBy lets a grouped query select a plain column it does not
// group by, as CloudTrail Lake evidently does (AWS's own sample
// network-activity-events-vpce-access-denied-s3 relies on it): such a
// column becomes min(column), keeping its output name. min is one choice of
// Trino's arbitrary() value, and a deterministic one. Queries that group by
// position or alias, or by grouping sets, are left as they are.
func lenientGroupBy(n node) {
	groups, _ := n["group_expressions"].([]any)
	if len(groups) == 0 {
		return
	}
	if sets, _ := n["group_sets"].([]any); len(sets) > 1 {
		return
	}
	grouped := map[string]bool{}
	for _, g := range groups {
		gn, ok := g.(node)
		if !ok {
			return
		}
		if gn["class"] == "CONSTANT" {
			return // GROUP BY 1: positions name select items
		}
		if gn["class"] == "COLUMN_REF" {
			grouped[columnPath(gn)] = true
		}
	}
	items, _ := n["select_list"].([]any)
	aliases := map[string]bool{}
	for _, it := range items {
		if in, ok := it.(node); ok {
			if a, _ := in["alias"].(string); a != "" {
				aliases[strings.ToLower(a)] = true
			}
		}
	}
	for path := range grouped {
		if !strings.Contains(path, ".") && aliases[path] {
			return // GROUP BY an output alias
		}
	}
	for i, it := range items {
		in, ok := it.(node)
		if !ok || in["class"] != "COLUMN_REF" {
			continue
		}
		path := columnPath(in)
		if grouped[path] {
			continue
		}
		names, _ := in["column_names"].([]any)
		alias, _ := in["alias"].(string)
		if alias == "" && len(names) > 0 {
			alias, _ = names[len(names)-1].(string)
		}
		in["alias"] = ""
		agg := call("min", in["query_location"], in)
		agg["alias"] = alias
		items[i] = agg
	}
}

// columnPath is a column reference's dotted name, lower case.
func columnPath(n node) string { return strings.Join(columnParts(n), ".") }

// columnParts are the names of a column reference, lower case.
func columnParts(n node) []string {
	names, _ := n["column_names"].([]any)
	parts := make([]string, 0, len(names))
	for _, x := range names {
		s, _ := x.(string)
		parts = append(parts, strings.ToLower(s))
	}
	return parts
}
