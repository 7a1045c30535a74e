package lakesql

import (
	"fmt"
	"strings"
)

// mysqlFormat converts a Trino date_format/date_parse pattern (MySQL
// specifiers) to a DuckDB strftime/strptime pattern. Specifiers Trino
// itself does not implement, or that strftime cannot express, are errors.
func mysqlFormat(p string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(p) {
			return "", fmt.Errorf("format %q ends with a lone %%", p)
		}
		switch s := p[i]; s {
		case 'a', 'b', 'd', 'f', 'H', 'I', 'j', 'm', 'p', 'S', 'U', 'w', 'Y', 'y':
			b.WriteByte('%')
			b.WriteByte(s)
		case 'c':
			b.WriteString("%-m")
		case 'e':
			b.WriteString("%-d")
		case 'h':
			b.WriteString("%I")
		case 'i':
			b.WriteString("%M")
		case 'k':
			b.WriteString("%-H")
		case 'l':
			b.WriteString("%-I")
		case 'M':
			b.WriteString("%B")
		case 'r':
			b.WriteString("%I:%M:%S %p")
		case 's':
			b.WriteString("%S")
		case 'T':
			b.WriteString("%H:%M:%S")
		case 'u':
			b.WriteString("%W")
		case 'v':
			b.WriteString("%V")
		case 'W':
			b.WriteString("%A")
		case 'x':
			b.WriteString("%G")
		case '%':
			b.WriteString("%%")
		case 'D', 'V', 'X':
			return "", fmt.Errorf("format specifier %%%c is not supported", s)
		default:
			b.WriteByte(s) // MySQL: %x is x for any x not listed
		}
	}
	return b.String(), nil
}

// jodaFormat converts a Trino format_datetime/parse_datetime pattern (Joda
// DateTimeFormat) to a DuckDB strftime/strptime pattern.
func jodaFormat(p string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(p); {
		c := p[i]
		if c == '\'' {
			end := i + 1
			for end < len(p) {
				if p[end] == '\'' {
					if end+1 < len(p) && p[end+1] == '\'' {
						b.WriteByte('\'')
						end += 2
						continue
					}
					break
				}
				if p[end] == '%' {
					b.WriteString("%%")
				} else {
					b.WriteByte(p[end])
				}
				end++
			}
			if end == i+1 && end < len(p) {
				b.WriteByte('\'') // '' is a quote
			}
			i = end + 1
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			if c == '%' {
				b.WriteString("%%")
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		}
		n := 1
		for i+n < len(p) && p[i+n] == c {
			n++
		}
		spec, err := jodaField(c, n)
		if err != nil {
			return "", err
		}
		b.WriteString(spec)
		i += n
	}
	return b.String(), nil
}

// jodaField converts a run of n pattern letters c.
func jodaField(c byte, n int) (string, error) {
	pick := func(short, long string) string {
		if n >= 2 {
			return long
		}
		return short
	}
	switch c {
	case 'y', 'Y', 'u':
		if n == 2 {
			return "%y", nil
		}
		return "%Y", nil
	case 'x':
		return "%G", nil
	case 'M':
		switch {
		case n >= 4:
			return "%B", nil
		case n == 3:
			return "%b", nil
		}
		return pick("%-m", "%m"), nil
	case 'd':
		return pick("%-d", "%d"), nil
	case 'D':
		return "%j", nil
	case 'H':
		return pick("%-H", "%H"), nil
	case 'h':
		return pick("%-I", "%I"), nil
	case 'm':
		return pick("%-M", "%M"), nil
	case 's':
		return pick("%-S", "%S"), nil
	case 'S':
		switch {
		case n <= 3:
			return "%g", nil
		case n <= 6:
			return "%f", nil
		}
		return "%n", nil
	case 'a':
		return "%p", nil
	case 'E':
		if n >= 4 {
			return "%A", nil
		}
		return "%a", nil
	case 'e':
		return "%u", nil
	case 'w':
		return "%V", nil
	case 'Z':
		return "%z", nil
	case 'z':
		return "%Z", nil
	}
	return "", fmt.Errorf("pattern letter %q is not supported", string(c))
}

// re2Replacement converts a Trino regexp_replace replacement ($1 group
// references, backslash escapes) to RE2's (\1 group references).
func re2Replacement(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] == '\\' {
				b.WriteString(`\\`)
			} else {
				b.WriteByte(s[i])
			}
		case c == '\\':
			b.WriteString(`\\`)
		case c == '$' && i+1 < len(s) && isDigit(s[i+1]):
			if i+2 < len(s) && isDigit(s[i+2]) {
				return "", fmt.Errorf("group reference $%c%c: at most 9 groups are supported", s[i+1], s[i+2])
			}
			b.WriteByte('\\')
			b.WriteByte(s[i+1])
			i++
		case c == '$' && i+1 < len(s) && s[i+1] == '{':
			return "", fmt.Errorf("named group references are not supported")
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// duckJSONPath converts a Trino JSONPath to DuckDB's syntax: bracketed keys
// ($["a b"], $['a']) become quoted dotted keys ($."a b"). It reports false
// for a path it does not understand, which is then passed on unchanged.
func duckJSONPath(p string) (string, bool) {
	if !strings.HasPrefix(p, "$") {
		return "", false
	}
	var b strings.Builder
	b.WriteByte('$')
	for i := 1; i < len(p); {
		switch p[i] {
		case '.':
			end := i + 1
			for end < len(p) && p[end] != '.' && p[end] != '[' {
				end++
			}
			if end == i+1 {
				return "", false
			}
			b.WriteString(p[i:end])
			i = end
		case '[':
			if i+1 >= len(p) {
				return "", false
			}
			if q := p[i+1]; q == '"' || q == '\'' {
				end := strings.IndexByte(p[i+2:], q)
				if end < 0 {
					return "", false
				}
				key := p[i+2 : i+2+end]
				close := i + 2 + end + 1
				if close >= len(p) || p[close] != ']' || strings.ContainsRune(key, '"') {
					return "", false
				}
				b.WriteString(`."` + key + `"`)
				i = close + 1
				continue
			}
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return "", false
			}
			b.WriteString(p[i : i+end+1])
			i += end + 1
		default:
			return "", false
		}
	}
	return b.String(), true
}
