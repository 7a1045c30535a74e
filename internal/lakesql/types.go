package lakesql

import "strings"

// exprType is what the rewriter can tell about an expression's DuckDB type
// without binding the query.
//
// Some Trino functions mean different things for different argument types
// (cardinality of a map or an array; UNNEST of a map or an array of rows;
// a string compared with a timestamp or with a string). DuckDB cannot
// choose for us at run time: a macro overloaded on parameter types picks
// the wrong overload, or none, when the argument is a column of an outer
// query. So the rewriter uses what it knows statically (the Lake schema and
// the result types of functions), and where it knows nothing falls back to
// a form that is correct for every type or, for comparisons, to the
// lake_coerce macro.
type exprType uint8

const (
	typeUnknown exprType = iota
	typeTimestamp
	typeDate
	typeMap
	typeList
	typeOther // known, and none of the above
)

// columnType returns the type of a Lake schema column or struct field,
// given its dotted path in lower case.
func columnType(path string) exprType {
	switch path {
	case "eventtime", "useridentity.sessioncontext.attributes.creationdate":
		return typeTimestamp
	case "requestparameters", "responseelements", "additionaleventdata", "serviceeventdetails",
		"addendum", "edgedevicedetails", "insightdetails",
		"useridentity.sessioncontext.webidfederationdata.attributes":
		return typeMap
	case "resources":
		return typeList
	case "eventversion", "eventsource", "eventname", "awsregion", "sourceipaddress", "useragent",
		"errorcode", "errormessage", "requestid", "eventid", "readonly", "eventtype", "apiversion",
		"managementevent", "recipientaccountid", "sharedeventid", "annotation", "vpcendpointid",
		"vpcendpointaccountid", "eventcategory", "sessioncredentialfromconsole", "eventjson",
		"eventjsonchecksum":
		return typeOther
	}
	return typeUnknown
}

// staticType infers the type of a rewritten expression, or typeUnknown.
func staticType(v any) exprType {
	n, ok := v.(node)
	if !ok {
		return typeUnknown
	}
	switch n["class"] {
	case "CONSTANT":
		return typeOther
	case "COLUMN_REF":
		raw, _ := n["column_names"].([]any)
		names := make([]string, len(raw))
		for i, r := range raw {
			s, _ := r.(string)
			names[i] = strings.ToLower(s)
		}
		// The path itself, or the path after a table qualifier.
		for skip := 0; skip <= 1 && skip < len(names); skip++ {
			if t := columnType(strings.Join(names[skip:], ".")); t != typeUnknown {
				return t
			}
		}
	case "CAST":
		ct, _ := n["cast_type"].(node)
		switch ct["id"] {
		case "TIMESTAMP":
			return typeTimestamp
		case "DATE":
			return typeDate
		case "MAP":
			return typeMap
		case "LIST":
			return typeList
		case nil:
		default:
			return typeOther
		}
	case "OPERATOR":
		if n["type"] == "ARRAY_CONSTRUCTOR" {
			return typeList
		}
	case "FUNCTION":
		name, _ := n["function_name"].(string)
		return functionType(name)
	}
	return typeUnknown
}

// functionType is the result type of the DuckDB functions and Prelude
// macros the rewriter produces or passes through.
func functionType(name string) exprType {
	switch name {
	case "lake_ts", "lake_from_iso8601_timestamp", "lake_from_unixtime", "lake_now", "lake_date_add",
		"strptime", "date_trunc", "make_timestamp":
		return typeTimestamp
	case "lake_date", "lake_ts_date", "lake_current_date", "lake_from_iso8601_date", "last_day":
		return typeDate
	case "map", "map_from_entries", "map_concat", "histogram":
		return typeMap
	case "list_transform", "list_filter", "map_keys", "map_values", "string_split", "str_split", "split",
		"regexp_extract_all", "regexp_split_to_array", "list_sort", "list_reverse_sort", "list_distinct",
		"array_agg", "list", "generate_series", "list_value", "list_slice", "lake_slice",
		"lake_array_remove", "flatten", "list_concat", "array_concat":
		return typeList
	case "count", "count_star", "len", "cardinality", "lake_cardinality", "strftime", "lower", "upper",
		"lake_json_extract_scalar", "json_extract_string", "concat", "substring", "substr", "epoch",
		"isodow", "year", "month", "day", "hour", "minute", "second":
		return typeOther
	}
	return typeUnknown
}
