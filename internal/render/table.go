package render

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxCellWidth is the widest a table cell may be, in terminal columns; a
// longer cell is cut to end in an ellipsis.
const maxCellWidth = 60

// writeTable reads every row, then writes a header, a separator line, the
// rows and a row count line. Numeric columns are right-aligned, NULL is
// written NULL, and cells are made safe for a terminal: line breaks, tabs,
// control and bidirectional-override characters are written as escapes
// (\n, \t, \x1b, \u202e), so that event data cannot move the cursor or
// reorder what is shown.
func writeTable(w *bufio.Writer, rs *result) (int, error) {
	ncol := len(rs.names)
	widths := make([]int, ncol)
	header := make([]string, ncol)
	for i, name := range rs.names {
		header[i], widths[i] = tableCell([]byte(name))
	}
	var cells []string // row after row, ncol cells each
	var buf []byte
	for {
		ok, err := rs.next()
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		for i, v := range rs.vals {
			s, width := "NULL", 4
			if v != nil {
				buf = appendText(buf[:0], v, rs.types[i])
				s, width = tableCell(buf)
			}
			cells = append(cells, s)
			widths[i] = max(widths[i], width)
		}
	}
	right := make([]bool, ncol)
	for i, t := range rs.types {
		right[i] = t.numeric()
	}

	var line []byte
	writeLine := func(row []string) {
		line = line[:0]
		for i, s := range row {
			if i > 0 {
				line = append(line, " | "...)
			}
			pad := widths[i] - displayWidth(s)
			if right[i] {
				line = appendSpaces(line, pad)
				line = append(line, s...)
			} else {
				line = append(line, s...)
				if i < ncol-1 {
					line = appendSpaces(line, pad)
				}
			}
		}
		line = append(line, '\n')
		w.Write(line) // a write error sticks in w and is seen at Flush
	}
	writeLine(header)
	line = line[:0]
	for i, width := range widths {
		if i > 0 {
			line = append(line, "-+-"...)
		}
		line = append(line, strings.Repeat("-", width)...)
	}
	w.Write(append(line, '\n'))
	for r := 0; r < len(cells); r += max(ncol, 1) {
		writeLine(cells[r : r+ncol])
	}
	if rs.n == 1 {
		w.WriteString("(1 row)\n")
	} else {
		w.WriteString("(" + strconv.Itoa(rs.n) + " rows)\n")
	}
	if err := w.Flush(); err != nil {
		return 0, fmt.Errorf("write table: %w", err)
	}
	return rs.n, nil
}

func appendSpaces(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}

// tableCell returns s made safe for one terminal line and cut to
// maxCellWidth, with its width.
func tableCell(s []byte) (string, int) {
	const hexDigits = "0123456789abcdef"
	var b []byte
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		i += size
		switch {
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r < 0x20 || r == 0x7f:
			b = append(b, '\\', 'x', hexDigits[r>>4], hexDigits[r&0xf])
		case (r >= 0x80 && r < 0xa0) || isBidiControl(r):
			b = fmt.Appendf(b, `\u%04x`, r)
		default:
			// An invalid byte decoded as U+FFFD and is written as such.
			b = utf8.AppendRune(b, r)
		}
	}
	width := displayWidth(string(b))
	if width <= maxCellWidth {
		return string(b), width
	}
	// Keep what fits in maxCellWidth-1 columns, then the ellipsis.
	cut, w := 0, 0
	for cut < len(b) {
		r, size := utf8.DecodeRune(b[cut:])
		rw := runeWidth(r)
		if w+rw > maxCellWidth-1 {
			break
		}
		w += rw
		cut += size
	}
	return string(b[:cut]) + "…", w + 1
}

// isBidiControl reports whether r changes the direction of the text around
// it, which could make a terminal show a cell other than it is.
func isBidiControl(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// displayWidth is the number of terminal columns s takes, by runeWidth.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// runeWidth approximates the terminal columns r takes: none for combining
// marks and format characters, two for the common East Asian wide and
// emoji blocks, one otherwise.
func runeWidth(r rune) int {
	switch {
	case r < 0x300:
		return 1
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	case r >= 0x1100 && r <= 0x115f,
		r >= 0x2e80 && r <= 0x303e,
		r >= 0x3041 && r <= 0x33ff,
		r >= 0x3400 && r <= 0x4dbf,
		r >= 0x4e00 && r <= 0x9fff,
		r >= 0xa000 && r <= 0xa4cf,
		r >= 0xac00 && r <= 0xd7a3,
		r >= 0xf900 && r <= 0xfaff,
		r >= 0xfe30 && r <= 0xfe4f,
		r >= 0xff00 && r <= 0xff60,
		r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f,
		r >= 0x1f900 && r <= 0x1f9ff,
		r >= 0x20000 && r <= 0x3fffd:
		return 2
	}
	return 1
}
