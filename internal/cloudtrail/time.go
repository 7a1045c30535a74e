package cloudtrail

import (
	"math"
	"strconv"
	"time"
)

// parseTime reads the timestamp spellings found in CloudTrail records and
// their exports, always returning UTC:
//
//   - RFC 3339 as CloudTrail writes it ("2023-07-10T11:42:19Z"), with optional
//     fraction (up to nanoseconds; more digits are truncated) and a "Z" or
//     ±hh:mm / ±hhmm / ±hh offset;
//   - the same with a space for the "T" and no zone, as Lake, Athena and
//     Panther print it ("2022-09-27 17:09:18.123"); no zone means UTC;
//   - an epoch in seconds, possibly fractional ("1424476529.0"), as in
//     LookupEvents output; magnitudes of 1e11 and up are taken as milliseconds.
//
// It returns false for anything else, including the zero time and years
// outside 1 to 9999.
func parseTime(s string) (time.Time, bool) {
	if len(s) > 0 && (s[0] >= '0' && s[0] <= '9' || s[0] == '-') && !isDateLike(s) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, false
		}
		return epochTime(f)
	}
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	if c := s[10]; c != 'T' && c != 't' && c != ' ' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		k := 1
		scale := 100000000
		for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
			nsec += int(rest[k]-'0') * scale
			scale /= 10
			k++
		}
		if k == 1 {
			return time.Time{}, false
		}
		rest = rest[k:]
	}
	offset := 0
	switch {
	case rest == "" || rest == "Z" || rest == "z":
	case rest[0] == '+' || rest[0] == '-':
		z := rest[1:]
		var hh, mm int
		var ok bool
		switch len(z) {
		case 2:
			hh, ok = digits(z)
		case 4:
			var okm bool
			hh, ok = digits(z[:2])
			mm, okm = digits(z[2:])
			ok = ok && okm
		case 5:
			var okm bool
			hh, ok = digits(z[:2])
			mm, okm = digits(z[3:])
			ok = ok && okm && z[2] == ':'
		}
		if !ok || hh > 23 || mm > 59 {
			return time.Time{}, false
		}
		offset = (hh*60 + mm) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	unix := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec-offset)
	return inRange(time.Unix(unix, int64(nsec)).UTC())
}

// inRange accepts t when its year is 1 to 9999, what RFC 3339 and the store
// can hold, and it is not the zero time.
func inRange(t time.Time) (time.Time, bool) {
	if y := t.Year(); y < 1 || y > 9999 || t.IsZero() {
		return time.Time{}, false
	}
	return t, true
}

// isDateLike reports whether s starts like "YYYY-".
func isDateLike(s string) bool {
	return len(s) >= 5 && s[4] == '-'
}

// epochTime converts seconds (or milliseconds, see parseTime) since 1970.
func epochTime(f float64) (time.Time, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false
	}
	if math.Abs(f) >= 1e11 {
		f /= 1000
	}
	if f < -62135596800 || f >= 253402300800 { // years 1 to 9999; see inRange
		return time.Time{}, false
	}
	sec := math.Floor(f)
	nsec := math.Round((f - sec) * 1e9)
	if nsec >= 1e9 {
		sec++
		nsec -= 1e9
	}
	return inRange(time.Unix(int64(sec), int64(nsec)).UTC())
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
