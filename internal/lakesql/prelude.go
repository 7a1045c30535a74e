package lakesql

// Prelude returns the statements that create the lake_* macros translated
// queries call. Run them, in order, on every connection that runs
// translated SQL, before SET lock_configuration=true: they are TEMP macros,
// so they belong to one connection and write nothing to the database (a
// read-only database accepts them). They are idempotent. None depends on
// the TimeZone setting: every time they return is a UTC TIMESTAMP, like
// eventTime.
func Prelude() []string {
	return []string{
		// lake_ts parses an ISO 8601 time; a trailing offset is converted to
		// UTC (a plain TIMESTAMP cast would drop it).
		`CREATE OR REPLACE TEMP MACRO lake_ts(s) AS
			CASE WHEN regexp_matches(CAST(s AS VARCHAR), '\d:\d\d(:\d\d(\.\d*)?)?\s*[+-]\d\d(:?\d\d)?$')
			THEN timezone('UTC', CAST(s AS TIMESTAMPTZ))
			ELSE CAST(s AS TIMESTAMP) END`,
		// lake_coerce(other, s) is s as a comparison operand of other: parsed
		// as a time when other is a TIMESTAMP or DATE, else s unchanged (so a
		// literal keeps DuckDB's literal casting rules). The translator uses
		// it only when it cannot tell other's type itself.
		`CREATE OR REPLACE TEMP MACRO lake_coerce
			(a TIMESTAMP, s VARCHAR) AS lake_ts(s),
			(a DATE, s VARCHAR) AS CAST(lake_ts(s) AS DATE),
			(a, s) AS s`,
		`CREATE OR REPLACE TEMP MACRO lake_ts_date(s) AS CAST(lake_ts(s) AS DATE)`,
		`CREATE OR REPLACE TEMP MACRO lake_from_iso8601_timestamp(s) AS lake_ts(s)`,
		`CREATE OR REPLACE TEMP MACRO lake_from_iso8601_date(s) AS CAST(lake_ts(s) AS DATE)`,
		`CREATE OR REPLACE TEMP MACRO lake_to_iso8601(t) AS strftime(t, '%Y-%m-%dT%H:%M:%S.%gZ')`,
		`CREATE OR REPLACE TEMP MACRO lake_date(t) AS CAST(t AS DATE)`,
		`CREATE OR REPLACE TEMP MACRO lake_now() AS timezone('UTC', now())`,
		`CREATE OR REPLACE TEMP MACRO lake_current_date() AS CAST(timezone('UTC', now()) AS DATE)`,
		`CREATE OR REPLACE TEMP MACRO lake_from_unixtime(n) AS
			make_timestamp(CAST(round(CAST(n AS DOUBLE) * 1000000) AS BIGINT))`,
		`CREATE OR REPLACE TEMP MACRO lake_millisecond(t) AS millisecond(t) % 1000`,
		`CREATE OR REPLACE TEMP MACRO lake_date_add(unit, n, t) AS t + CASE lower(unit)
			WHEN 'millisecond' THEN to_milliseconds(n)
			WHEN 'second' THEN to_seconds(n)
			WHEN 'minute' THEN to_minutes(n)
			WHEN 'hour' THEN to_hours(n)
			WHEN 'day' THEN to_days(n)
			WHEN 'week' THEN to_weeks(n)
			WHEN 'month' THEN to_months(n)
			WHEN 'quarter' THEN to_months(3 * n)
			WHEN 'year' THEN to_years(n)
			ELSE error('date_add: unknown unit ' || unit) END`,
		// JSON: Trino returns NULL for text that is not JSON, where DuckDB
		// fails; json_extract_scalar is NULL for objects and arrays.
		`CREATE OR REPLACE TEMP MACRO lake_json_extract(j, p) AS
			CASE WHEN json_valid(j) THEN json_extract(j, p) END`,
		`CREATE OR REPLACE TEMP MACRO lake_json_extract_scalar(j, p) AS
			CASE WHEN json_valid(j) THEN
				CASE WHEN json_type(j, p) IN ('OBJECT', 'ARRAY') THEN NULL
				ELSE json_extract_string(j, p) END
			END`,
		`CREATE OR REPLACE TEMP MACRO lake_json_parse(s) AS json(s)`,
		`CREATE OR REPLACE TEMP MACRO lake_json_format(j) AS CAST(json(j) AS VARCHAR)`,
		`CREATE OR REPLACE TEMP MACRO lake_json_to_varchar(j) AS json_extract_string(j, '$')`,
		`CREATE OR REPLACE TEMP MACRO lake_json_array_get(j, i) AS
			CASE WHEN json_valid(j) THEN
				CASE WHEN json_type(j) = 'ARRAY' THEN
					json_extract(j, CASE WHEN i < 0 THEN '$[#' || i || ']' ELSE '$[' || i || ']' END)
				END
			END`,
		`CREATE OR REPLACE TEMP MACRO lake_json_array_length(j) AS
			CASE WHEN json_valid(j) THEN
				CASE WHEN json_type(j) = 'ARRAY' THEN json_array_length(j) END
			END`,
		`CREATE OR REPLACE TEMP MACRO lake_json_size(j, p) AS
			CASE WHEN json_valid(j) THEN
				CASE WHEN json_type(j, p) = 'ARRAY' THEN json_array_length(j, p)
					WHEN json_type(j, p) = 'OBJECT' THEN len(json_keys(j, p))
					WHEN json_type(j, p) IS NOT NULL THEN 0 END
			END`,
		`CREATE OR REPLACE TEMP MACRO lake_is_json_scalar(j) AS json_type(j) NOT IN ('OBJECT', 'ARRAY')`,
		// cardinality of an expression whose type (map or array) the
		// translator cannot tell; correct for both, if slower than
		// cardinality(map) or len(list).
		`CREATE OR REPLACE TEMP MACRO lake_cardinality(x) AS
			CASE json_type(to_json(x))
				WHEN 'ARRAY' THEN json_array_length(to_json(x))
				WHEN 'OBJECT' THEN len(json_keys(to_json(x)))
			END`,
		`CREATE OR REPLACE TEMP MACRO lake_regexp_extract
			(s, p) AS CASE WHEN regexp_matches(s, p) THEN regexp_extract(s, p) END,
			(s, p, g) AS CASE WHEN regexp_matches(s, p) THEN regexp_extract(s, p, g) END`,
		`CREATE OR REPLACE TEMP MACRO lake_regexp_count(s, p) AS len(regexp_extract_all(s, p))`,
		`CREATE OR REPLACE TEMP MACRO lake_array_join
			(a, sep) AS array_to_string(a, sep),
			(a, sep, r) AS array_to_string(list_transform(a, lake_e -> coalesce(CAST(lake_e AS VARCHAR), r)), sep)`,
		`CREATE OR REPLACE TEMP MACRO lake_array_position(a, x) AS coalesce(list_position(a, x), 0)`,
		`CREATE OR REPLACE TEMP MACRO lake_array_remove(a, x) AS list_filter(a, lake_e -> lake_e IS DISTINCT FROM x)`,
		`CREATE OR REPLACE TEMP MACRO lake_slice(a, s, n) AS
			list_slice(a, CASE WHEN s < 0 THEN len(a) + s + 1 ELSE s END,
				CASE WHEN s < 0 THEN len(a) + s + n ELSE s + n - 1 END)`,
	}
}
