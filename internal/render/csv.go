package render

import (
	"bufio"
	"bytes"
	"fmt"
)

// writeCSV writes a header row of the column names as the query gave them,
// then one record per row.
func writeCSV(w *bufio.Writer, rs *result) (int, error) {
	var line []byte
	for i, name := range rs.names {
		if i > 0 {
			line = append(line, ',')
		}
		line = appendCSVField(line, []byte(name))
	}
	line = append(line, '\n')
	if _, err := w.Write(line); err != nil {
		return 0, fmt.Errorf("write csv header: %w", err)
	}
	var cell []byte
	for {
		ok, err := rs.next()
		if !ok {
			return rs.n, err
		}
		line = line[:0]
		for i, v := range rs.vals {
			if i > 0 {
				line = append(line, ',')
			}
			if v == nil {
				continue
			}
			cell = appendText(cell[:0], v, rs.types[i])
			line = appendCSVField(line, cell)
		}
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return rs.n - 1, fmt.Errorf("write csv row %d: %w", rs.n, err)
		}
	}
}

// appendCSVField writes s as one RFC 4180 field, quoted when it holds a
// comma, a quote or a line break, or is empty, which sets it apart from NULL.
func appendCSVField(b, s []byte) []byte {
	if len(s) > 0 && !bytes.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	for {
		i := bytes.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}
