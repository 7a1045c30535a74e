package lakesql

import (
	"strings"
)

// renamed returns the DuckDB function or Prelude macro that computes the
// Trino function name exactly as Trino does, whatever its arguments, or ""
// when name needs more than a rename (or none).
func renamed(name string) string {
	switch name {
	case "arbitrary":
		return "any_value"
	case "every":
		return "bool_and"
	case "regexp_like":
		return "regexp_matches"
	case "regexp_extract":
		return "lake_regexp_extract"
	case "regexp_count":
		return "lake_regexp_count"
	case "regexp_split":
		return "regexp_split_to_array"
	case "transform":
		return "list_transform"
	case "filter":
		return "list_filter"
	case "array_join":
		return "lake_array_join"
	case "array_position":
		return "lake_array_position"
	case "array_remove":
		return "lake_array_remove"
	case "array_distinct":
		return "list_distinct"
	case "array_max":
		return "list_max"
	case "array_min":
		return "list_min"
	case "slice":
		return "lake_slice"
	case "sequence":
		return "generate_series"
	case "json_parse":
		return "lake_json_parse"
	case "json_format":
		return "lake_json_format"
	case "json_array_get":
		return "lake_json_array_get"
	case "json_array_length":
		return "lake_json_array_length"
	case "json_size":
		return "lake_json_size"
	case "is_json_scalar":
		return "lake_is_json_scalar"
	case "from_iso8601_timestamp":
		return "lake_from_iso8601_timestamp"
	case "from_iso8601_date":
		return "lake_from_iso8601_date"
	case "to_iso8601":
		return "lake_to_iso8601"
	case "to_unixtime":
		return "epoch"
	case "date":
		return "lake_date"
	case "now", "current_timestamp", "localtimestamp":
		return "lake_now"
	case "current_date":
		return "lake_current_date"
	case "day_of_week", "dow":
		return "isodow"
	case "day_of_month":
		return "dayofmonth"
	case "day_of_year", "doy":
		return "dayofyear"
	case "year_of_week", "yow":
		return "isoyear"
	case "week_of_year":
		return "weekofyear"
	case "millisecond":
		return "lake_millisecond"
	case "last_day_of_month":
		return "last_day"
	case "levenshtein_distance":
		return "levenshtein"
	case "hamming_distance":
		return "hamming"
	case "to_hex":
		return "hex"
	case "from_hex":
		return "unhex"
	case "ends_with":
		return "suffix"
	case "is_nan":
		return "isnan"
	case "is_infinite":
		return "isinf"
	case "is_finite":
		return "isfinite"
	case "truncate":
		return "trunc"
	case "rand":
		return "random"
	case "format":
		return "printf"
	}
	return ""
}

// forbidden reports whether a function may read files, settings, secrets or
// the environment, or change database state. The runner also locks DuckDB
// down; this is the first line.
func forbidden(name string) bool {
	switch name {
	case "getenv", "current_setting", "getvariable", "nextval", "currval", "setseed", "glob",
		"sniff_csv", "query", "query_table", "checkpoint", "force_checkpoint",
		"enable_logging", "disable_logging", "truncate_duckdb_logs", "which_secret",
		"load_extension", "install_extension", "export_database", "import_database",
		"parquet_scan", "json_execute_serialized_sql", "summary", "test_all_types":
		return true
	}
	for _, prefix := range []string{"read_", "parquet_", "duckdb_", "pragma_", "sqlite_",
		"postgres_", "mysql_", "iceberg_", "delta_", "http", "s3_", "st_read", "json_execute"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// dateUnit reports whether u is a unit Trino's date_add and date_diff take.
func dateUnit(u string) bool {
	switch u {
	case "millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year":
		return true
	}
	return false
}

// extractPart maps a Trino EXTRACT field that DuckDB spells differently, or
// returns "".
func extractPart(p string) string {
	switch p {
	case "day_of_week", "dow":
		return "isodow"
	case "day_of_month":
		return "day"
	case "day_of_year", "doy":
		return "doy"
	case "year_of_week", "yow":
		return "isoyear"
	case "week_of_year":
		return "week"
	}
	return ""
}

// function rewrites one call from Trino semantics to DuckDB semantics.
func (r *rewriter) function(n node) any {
	orig, _ := n["function_name"].(string)
	name := strings.ToLower(orig)
	args, _ := n["children"].([]any)
	loc := n["query_location"]
	if forbidden(name) {
		r.fail(n, CodeForbiddenFunction,
			"function %s is not allowed: it touches files, settings, the environment or database state", orig)
		return n
	}
	if to := renamed(name); to != "" {
		rename(n, to)
		return n
	}
	switch name {
	case "approx_distinct", "approx_percentile":
		r.approx(n, name, args)
	case "count_if":
		countIf(n, args)
	case "cardinality":
		switch staticType(args0(args)) {
		case typeMap:
			rename(n, "cardinality")
		case typeList:
			rename(n, "len")
		default:
			rename(n, "lake_cardinality")
		}
	case "element_at":
		// map[key] is the value or NULL; list[i] is 1-based, negative from
		// the end, NULL out of range: Trino's element_at for both types.
		if len(args) == 2 {
			return node{"class": "OPERATOR", "type": "ARRAY_EXTRACT", "alias": "",
				"query_location": loc, "children": args}
		}
	case "json_extract", "json_extract_scalar":
		if len(args) == 2 {
			if path, ok := stringConstant(args[1]); ok {
				if p, ok := duckJSONPath(path); ok {
					setString(args[1], p)
				}
			}
		}
		rename(n, "lake_"+name)
	case "date_format", "date_parse", "format_datetime", "parse_datetime":
		return r.timeFormat(n, name, args)
	case "date_add":
		r.checkUnit(n, args)
		rename(n, "lake_date_add")
	case "date_diff":
		r.checkUnit(n, args)
		rename(n, "date_sub")
	case "date_part":
		// EXTRACT(field FROM x) arrives as date_part('field', x).
		if len(args) == 2 {
			if part, ok := stringConstant(args[0]); ok {
				if p := extractPart(strings.ToLower(part)); p != "" {
					setString(args[0], p)
				}
			}
		}
	case "regexp_replace":
		return r.regexpReplace(n, args)
	case "replace":
		if len(args) == 2 {
			n["children"] = append(args, constant("", "VARCHAR", loc))
		}
	case "from_unixtime":
		if len(args) != 1 {
			r.fail(n, CodeUnsupported, "from_unixtime with a time zone is not supported; times are UTC")
			return n
		}
		rename(n, "lake_from_unixtime")
	case "array_sort":
		if len(args) != 1 {
			r.fail(n, CodeUnsupported, "array_sort with a comparator is not supported")
			return n
		}
		rename(n, "list_sort")
	case "any_match", "all_match", "none_match":
		if len(args) != 2 {
			return n
		}
		agg, empty := "list_bool_or", false
		if name == "all_match" {
			agg, empty = "list_bool_and", true
		}
		v := node{"class": "OPERATOR", "type": "OPERATOR_COALESCE", "alias": "", "query_location": loc,
			"children": []any{call(agg, loc, call("list_transform", loc, args...)), constant(empty, "BOOLEAN", loc)}}
		if name == "none_match" {
			return node{"class": "OPERATOR", "type": "OPERATOR_NOT", "alias": "",
				"query_location": loc, "children": []any{v}}
		}
		return v
	case "reduce", "zip_with", "map_zip_with", "transform_keys", "transform_values":
		r.fail(n, CodeUnsupported, "function %s is not supported", orig)
	}
	return n
}

// approx computes Trino's approximate aggregates exactly: always within
// Trino's error bound, and deterministic. n is a FUNCTION or WINDOW node.
func (r *rewriter) approx(n node, name string, args []any) {
	switch name {
	case "approx_distinct":
		if len(args) >= 1 {
			n["children"] = args[:1] // drop Trino's maximum standard error
			n["distinct"] = true
			n["function_name"] = "count"
		}
	case "approx_percentile":
		if len(args) != 2 {
			r.fail(n, CodeUnsupported, "approx_percentile with weights is not supported")
			return
		}
		n["function_name"] = "quantile_disc" // a value from the data, as Trino's is
	}
}

// countIf makes count_if(x) count(nullif(x, false)): Trino's count_if is
// 0 over no rows or only NULLs, where DuckDB's is NULL. n is a FUNCTION
// or WINDOW node.
func countIf(n node, args []any) {
	if len(args) != 1 {
		return
	}
	loc := n["query_location"]
	n["function_name"] = "count"
	n["children"] = []any{call("nullif", loc, args[0], constant(false, "BOOLEAN", loc))}
}

// rename points a call at another function or at a Prelude macro; the
// schema is cleared because macros live in the temp schema.
func rename(n node, to string) {
	n["function_name"] = to
	n["schema"] = ""
	n["catalog"] = ""
}

// checkUnit refuses a date_add/date_diff unit literal Trino does not know.
func (r *rewriter) checkUnit(n node, args []any) {
	if len(args) != 3 {
		return
	}
	u, ok := stringConstant(args[0])
	if !ok {
		return
	}
	if !dateUnit(strings.ToLower(u)) {
		r.fail(args[0], CodeUnsupported,
			"unknown unit %q: use millisecond, second, minute, hour, day, week, month, quarter or year", u)
		return
	}
	setString(args[0], strings.ToLower(u))
}

// timeFormat translates date_format/date_parse (MySQL specifiers) and
// format_datetime/parse_datetime (Joda patterns) to strftime/strptime. The
// pattern must be a string literal.
func (r *rewriter) timeFormat(n node, name string, args []any) any {
	if len(args) != 2 {
		return n
	}
	pattern, ok := stringConstant(args[1])
	if !ok {
		r.fail(n, CodeUnsupported, "%s: the format must be a string literal", name)
		return n
	}
	var conv string
	var err error
	if name == "date_format" || name == "date_parse" {
		conv, err = mysqlFormat(pattern)
	} else {
		conv, err = jodaFormat(pattern)
	}
	if err != nil {
		r.fail(args[1], CodeUnsupported, "%s: %v", name, err)
		return n
	}
	setString(args[1], conv)
	if name == "date_format" || name == "format_datetime" {
		rename(n, "strftime")
	} else {
		rename(n, "strptime")
	}
	return n
}

// regexpReplace gives regexp_replace Trino's meaning: replace every match,
// with $1-style group references in the replacement.
func (r *rewriter) regexpReplace(n node, args []any) any {
	loc := n["query_location"]
	switch len(args) {
	case 2:
		args = append(args, constant("", "VARCHAR", loc))
	case 3:
		if a, ok := args[2].(node); ok && a["class"] == "LAMBDA" {
			r.fail(n, CodeUnsupported, "regexp_replace with a function is not supported")
			return n
		}
		if repl, ok := stringConstant(args[2]); ok {
			conv, err := re2Replacement(repl)
			if err != nil {
				r.fail(args[2], CodeUnsupported, "regexp_replace: %v", err)
				return n
			}
			setString(args[2], conv)
		}
	default:
		return n
	}
	n["children"] = append(args, constant("g", "VARCHAR", loc))
	return n
}

// stringConstant returns the value of a VARCHAR constant expression.
func stringConstant(v any) (string, bool) {
	n, ok := v.(node)
	if !ok || n["class"] != "CONSTANT" {
		return "", false
	}
	val, _ := n["value"].(node)
	typ, _ := val["type"].(node)
	if typ["id"] != "VARCHAR" {
		return "", false
	}
	s, ok := val["value"].(string)
	return s, ok
}

// setString replaces the value of a VARCHAR constant expression.
func setString(v any, s string) {
	n := v.(node)
	n["value"].(node)["value"] = s
}

// args0 returns the first argument, or nil.
func args0(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return args[0]
}
