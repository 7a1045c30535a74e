package gen

import (
	"strconv"

	"github.com/trailbook/trailbook/internal/jsontext"
)

// jsonw appends compact JSON to a byte slice. It tracks only whether the
// next member or element needs a leading comma, which is all a
// single-pass writer of well-nested output needs. Keys are written
// unescaped: every key in this package is a constant ASCII identifier.
// A jsonw is not safe for concurrent use.
type jsonw struct {
	b    []byte
	need bool
}

func (w *jsonw) sep() {
	if w.need {
		w.b = append(w.b, ',')
	}
}

// key writes `"k":` and leaves the writer expecting a value.
func (w *jsonw) key(k string) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	w.need = false
}

// open starts an object as an array element or after key.
func (w *jsonw) open() {
	w.sep()
	w.b = append(w.b, '{')
	w.need = false
}

// openK starts an object member.
func (w *jsonw) openK(k string) {
	w.key(k)
	w.b = append(w.b, '{')
}

func (w *jsonw) close() {
	w.b = append(w.b, '}')
	w.need = true
}

// arrK starts an array member.
func (w *jsonw) arrK(k string) {
	w.key(k)
	w.b = append(w.b, '[')
}

func (w *jsonw) closeArr() {
	w.b = append(w.b, ']')
	w.need = true
}

// str writes a string member.
func (w *jsonw) str(k, v string) {
	w.key(k)
	w.b = jsontext.AppendString(w.b, v)
	w.need = true
}

// elem writes a string array element.
func (w *jsonw) elem(v string) {
	w.sep()
	w.b = jsontext.AppendString(w.b, v)
	w.need = true
}

func (w *jsonw) num(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
	w.need = true
}

func (w *jsonw) boolean(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
	w.need = true
}

func (w *jsonw) null(k string) {
	w.key(k)
	w.b = append(w.b, "null"...)
	w.need = true
}

// raw writes a member whose value is already JSON text.
func (w *jsonw) raw(k, v string) {
	w.key(k)
	w.b = append(w.b, v...)
	w.need = true
}

// time writes a member holding unix seconds as CloudTrail's
// "2024-04-15T10:02:03Z".
func (w *jsonw) time(k string, sec int64) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = appendTime(w.b, sec)
	w.b = append(w.b, '"')
	w.need = true
}

const hexDigits = "0123456789abcdef"

// appendTime formats unix seconds as YYYY-MM-DDTHH:MM:SSZ without going
// through time.Time, using the days-to-civil conversion of the proleptic
// Gregorian calendar.
func appendTime(b []byte, sec int64) []byte {
	days := sec / 86400
	rem := sec % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	y, m, d := civil(days)
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, int(rem/3600))
	b = append(b, ':')
	b = append2(b, int(rem/60%60))
	b = append(b, ':')
	b = append2(b, int(rem%60))
	return append(b, 'Z')
}

// civil converts days since 1970-01-01 to year, month, day.
func civil(z int64) (int, int, int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

func append2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10), byte('0'+v%10))
}

func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000%10), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// appendLongDate formats unix seconds the way responses of Java-based
// services spell dates: "Apr 15, 2024, 10:02:03 AM", or without the comma
// after the year ("Apr 15, 2024 10:02:03 AM", as IAM writes) when
// yearComma is false.
func appendLongDate(b []byte, sec int64, yearComma bool) []byte {
	y, m, d := civil(sec / 86400)
	rem := sec % 86400
	h := int(rem / 3600)
	b = append(b, monthAbbrev[(m-1)*3:m*3]...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(d), 10)
	b = append(b, ", "...)
	b = strconv.AppendInt(b, int64(y), 10)
	if yearComma {
		b = append(b, ',')
	}
	b = append(b, ' ')
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	b = strconv.AppendInt(b, int64(h12), 10)
	b = append(b, ':')
	b = append2(b, int(rem/60%60))
	b = append(b, ':')
	b = append2(b, int(rem%60))
	if h < 12 {
		return append(b, " AM"...)
	}
	return append(b, " PM"...)
}

const monthAbbrev = "JanFebMarAprMayJunJulAugSepOctNovDec"

// longDate writes a member holding a date as appendLongDate spells it.
func (w *jsonw) longDate(k string, sec int64, yearComma bool) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = appendLongDate(w.b, sec, yearComma)
	w.b = append(w.b, '"')
	w.need = true
}
