package render

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/trailbook/trailbook/internal/jsontext"
)

// Time layouts. A layout's fraction ".999999999" prints only the non-zero
// digits and drops the point when the fraction is zero.
const (
	layoutTimestamp = "2006-01-02T15:04:05.999999999Z07:00" // applied to UTC, so always Z
	layoutDate      = "2006-01-02"
	layoutTime      = "15:04:05.999999999"
	layoutTimeTZ    = "15:04:05.999999999Z07:00"
)

// appendText appends the text of a non-NULL value as csv and table show it:
// scalars bare, nested values (STRUCT, MAP, LIST, ARRAY) and JSON columns
// as compact JSON. t is the value's type, or nil when unknown.
func appendText(b []byte, v any, t *colType) []byte {
	if t.is("JSON") {
		return appendJSON(b, v, t)
	}
	switch x := v.(type) {
	case nil:
		return b
	case string:
		return append(b, x...)
	case []any, map[string]any, duckdb.OrderedMap:
		return appendJSON(b, v, t)
	case duckdb.Union:
		return appendText(b, x.Value, t.member(x.Tag))
	case []byte:
		return appendBytes(b, x, t)
	case time.Time:
		return appendTime(b, x, t)
	case duckdb.Interval:
		return appendInterval(b, x)
	}
	return appendNumber(b, v)
}

// appendJSON appends v as JSON. Strings and the values JSON has no type for
// (times, intervals, UUIDs, BLOBs) become strings in their text form; a
// STRUCT is an object in t's field order, a MAP an object in the map's own
// key order, with non-string keys in their text form.
func appendJSON(b []byte, v any, t *colType) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return jsontext.AppendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case []any:
		elem := t.element()
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e, elem)
		}
		return append(b, ']')
	case map[string]any:
		return appendStruct(b, x, t)
	case duckdb.OrderedMap:
		return appendMap(b, x, t)
	case duckdb.Union:
		return appendJSON(b, x.Value, t.member(x.Tag))
	case []byte:
		if t.is("UUID") && len(x) == 16 {
			return append(appendUUID(append(b, '"'), x), '"')
		}
		// The BLOB text form may hold backslashes; escape it.
		return jsontext.AppendString(b, string(appendBytes(nil, x, t)))
	case time.Time:
		return append(appendTime(append(b, '"'), x, t), '"')
	case duckdb.Interval:
		return append(appendInterval(append(b, '"'), x), '"')
	case float64:
		return appendJSONFloat(b, x, 64)
	case float32:
		return appendJSONFloat(b, float64(x), 32)
	}
	if isNumber(v) {
		return appendNumber(b, v)
	}
	return jsontext.AppendString(b, string(appendNumber(nil, v)))
}

// appendStruct writes a STRUCT in t's field order. Fields t does not name,
// which happens when t is unknown or the value is a parsed JSON object,
// follow in byte order.
func appendStruct(b []byte, m map[string]any, t *colType) []byte {
	b = append(b, '{')
	n := 0
	if t.is("STRUCT") {
		for _, f := range t.fields {
			v, ok := m[f.name]
			if !ok {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			b = append(jsontext.AppendString(b, f.name), ':')
			b = appendJSON(b, v, f.typ)
			n++
		}
	}
	if n < len(m) {
		keys := make([]string, 0, len(m)-n)
		for k := range m {
			if !t.is("STRUCT") || t.member(k) == nil {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if n > 0 {
				b = append(b, ',')
			}
			b = append(jsontext.AppendString(b, k), ':')
			b = appendJSON(b, m[k], nil)
			n++
		}
	}
	return append(b, '}')
}

// appendMap writes a MAP as an object in the map's stored key order.
func appendMap(b []byte, m duckdb.OrderedMap, t *colType) []byte {
	var kt, vt *colType
	if t.is("MAP") {
		kt, vt = t.key, t.value
	}
	keys, vals := m.Keys(), m.Values()
	b = append(b, '{')
	var scratch []byte
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		if s, ok := k.(string); ok {
			b = jsontext.AppendString(b, s)
		} else {
			scratch = appendText(scratch[:0], k, kt)
			b = jsontext.AppendString(b, string(scratch))
		}
		b = append(b, ':')
		b = appendJSON(b, vals[i], vt)
	}
	return append(b, '}')
}

// appendNumber appends the scalars that are neither strings, bytes, times
// nor intervals: booleans, integers, floats, HUGEINT and DECIMAL. Anything
// else falls back to its fmt form.
func appendNumber(b []byte, v any) []byte {
	switch x := v.(type) {
	case bool:
		return strconv.AppendBool(b, x)
	case int8:
		return strconv.AppendInt(b, int64(x), 10)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case uint:
		return strconv.AppendUint(b, uint64(x), 10)
	case float64:
		return appendFloat(b, x, 64)
	case float32:
		return appendFloat(b, float64(x), 32)
	case *big.Int:
		return x.Append(b, 10)
	case duckdb.Decimal:
		return appendDecimal(b, x)
	}
	return fmt.Append(b, v)
}

// isNumber reports whether appendNumber writes v as a JSON number.
func isNumber(v any) bool {
	switch v.(type) {
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint, *big.Int, duckdb.Decimal:
		return true
	}
	return false
}

// appendFloat writes f in the shortest form that reads back as the same
// float of its size: plain decimals between 1e-6 and 1e21, exponent form
// outside. NaN and the infinities are written NaN, Infinity and -Infinity.
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// 1e-07 -> 1e-7
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONFloat writes f as a JSON number, or NaN and the infinities,
// which JSON has no number for, as strings.
func appendJSONFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(appendFloat(append(b, '"'), f, bits), '"')
	}
	return appendFloat(b, f, bits)
}

// appendDecimal writes d exactly, with all d.Scale fraction digits, as
// DuckDB does: DECIMAL(10,2) 1.5 is 1.50.
func appendDecimal(b []byte, d duckdb.Decimal) []byte {
	if d.Value == nil {
		return append(b, '0')
	}
	digits := new(big.Int).Abs(d.Value).String()
	if d.Value.Sign() < 0 {
		b = append(b, '-')
	}
	scale := int(d.Scale)
	if scale == 0 {
		return append(b, digits...)
	}
	for len(digits) <= scale {
		digits = "0" + digits
	}
	b = append(b, digits[:len(digits)-scale]...)
	b = append(b, '.')
	return append(b, digits[len(digits)-scale:]...)
}

// appendTime writes a DATE, TIME or TIMETZ in its own form and every
// timestamp in RFC 3339 UTC. The store keeps TIMESTAMP values in UTC, and
// the driver hands TIMESTAMPTZ over in UTC.
func appendTime(b []byte, v time.Time, t *colType) []byte {
	switch {
	case t.is("DATE"):
		return v.AppendFormat(b, layoutDate)
	case t.is("TIME"):
		return v.AppendFormat(b, layoutTime)
	case t.is("TIMETZ"):
		return v.AppendFormat(b, layoutTimeTZ)
	}
	return v.UTC().AppendFormat(b, layoutTimestamp)
}

// appendInterval writes an INTERVAL as an ISO 8601 duration: P1Y2M3DT4H5M6.5S,
// PT0S when zero. DuckDB keeps months, days and microseconds apart and each
// may be negative; a negative part carries its own sign (P-1DT2H).
func appendInterval(b []byte, iv duckdb.Interval) []byte {
	b = append(b, 'P')
	start := len(b)
	unit := func(n int64, u byte) {
		if n != 0 {
			b = strconv.AppendInt(b, n, 10)
			b = append(b, u)
		}
	}
	unit(int64(iv.Months/12), 'Y')
	unit(int64(iv.Months%12), 'M')
	unit(int64(iv.Days), 'D')
	if iv.Micros != 0 {
		b = append(b, 'T')
		us := iv.Micros
		sign := int64(1)
		if us < 0 {
			sign = -1
		}
		// Divide before taking the sign off, so that MinInt64 cannot overflow.
		hours, rest := us/3_600_000_000, us%3_600_000_000
		minutes, rest := rest/60_000_000, rest%60_000_000
		unit(hours, 'H')
		unit(minutes, 'M')
		if rest != 0 {
			rest *= sign
			if sign < 0 {
				b = append(b, '-')
			}
			b = strconv.AppendInt(b, rest/1_000_000, 10)
			if frac := rest % 1_000_000; frac != 0 {
				s := strconv.FormatInt(frac+1_000_000, 10)[1:] // six digits
				for s[len(s)-1] == '0' {
					s = s[:len(s)-1]
				}
				b = append(append(b, '.'), s...)
			}
			b = append(b, 'S')
		}
	}
	if len(b) == start {
		b = append(b, "T0S"...)
	}
	return b
}

// appendBytes writes a UUID in its canonical form and any other bytes
// (BLOB, GEOMETRY) as DuckDB casts a BLOB to VARCHAR: printable ASCII as is,
// except \ ' and ", which with all other bytes are written \xHH.
func appendBytes(b []byte, v []byte, t *colType) []byte {
	if t.is("UUID") && len(v) == 16 {
		return appendUUID(b, v)
	}
	const digits = "0123456789ABCDEF"
	for _, c := range v {
		if c >= 0x20 && c < 0x7f && c != '\\' && c != '\'' && c != '"' {
			b = append(b, c)
			continue
		}
		b = append(b, '\\', 'x', digits[c>>4], digits[c&0xf])
	}
	return b
}

// appendUUID writes 16 bytes as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.
func appendUUID(b []byte, v []byte) []byte {
	for i, part := range [][]byte{v[:4], v[4:6], v[6:8], v[8:10], v[10:]} {
		if i > 0 {
			b = append(b, '-')
		}
		b = hex.AppendEncode(b, part)
	}
	return b
}
