package render

import (
	"bufio"
	"fmt"

	"github.com/trailbook/trailbook/internal/jsontext"
)

// writeJSON writes one object per row, keyed by column name with repeated
// names suffixed (see uniqueNames). As an array it writes "[", the objects
// one per line separated by commas, and "]"; zero rows give "[]". Otherwise
// it writes one object per line.
func writeJSON(w *bufio.Writer, rs *result, array bool) (int, error) {
	keys := make([][]byte, len(rs.names))
	for i, name := range UniqueNames(rs.names) {
		keys[i] = append(jsontext.AppendString(nil, name), ':')
	}
	if array {
		if err := w.WriteByte('['); err != nil {
			return 0, fmt.Errorf("write json: %w", err)
		}
	}
	var line []byte
	for {
		ok, err := rs.next()
		if !ok {
			if err == nil && array {
				end := "]\n"
				if rs.n > 0 {
					end = "\n]\n"
				}
				if _, werr := w.WriteString(end); werr != nil {
					err = fmt.Errorf("write json: %w", werr)
				}
			}
			return rs.n, err
		}
		line = line[:0]
		if array {
			if rs.n > 1 {
				line = append(line, ',')
			}
			line = append(line, '\n')
		}
		line = append(line, '{')
		for i, v := range rs.vals {
			if i > 0 {
				line = append(line, ',')
			}
			line = append(line, keys[i]...)
			line = appendJSON(line, v, rs.types[i])
		}
		line = append(line, '}')
		if !array {
			line = append(line, '\n')
		}
		if _, err := w.Write(line); err != nil {
			return rs.n - 1, fmt.Errorf("write json row %d: %w", rs.n, err)
		}
	}
}
