package cloudtrail

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strconv"

	"github.com/klauspost/compress/gzip"
)

// gunzip inflates all gzip members of data, up to limit bytes. On error it
// returns what was inflated before it.
func gunzip(data []byte, limit int) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	// The trailer holds the size of the last member modulo 2^32: a good
	// first guess for one-member files, bounded against hostile trailers.
	size := 8 * len(data)
	if len(data) >= 18 {
		if n := int(binary.LittleEndian.Uint32(data[len(data)-4:])); n > 0 && n <= 64*len(data) {
			size = n
		}
	}
	buf := make([]byte, 0, min(size, limit)+bytes.MinRead)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := zr.Read(buf[len(buf):min(cap(buf), limit+1)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return buf[:limit], constError("inflated data is over the " + strconv.Itoa(limit) + "-byte limit")
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// gzipFailed records why inflating stopped early. When the last reject is a
// record cut short by the end of the data, the cause is added to it instead.
func (st *state) gzipFailed(err error) {
	var why string
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		why = "gzip data is truncated"
	case errors.As(err, new(constError)):
		why = err.Error()
	default:
		why = "gzip data is corrupt (" + err.Error() + ")"
	}
	res := &st.res
	if st.eofReject >= 0 && st.eofReject == len(res.Rejects)-1 {
		r := &res.Rejects[st.eofReject]
		r.Reason = why + "; " + r.Reason
		return
	}
	line, _ := st.lineAt(len(st.root))
	res.Rejects = append(res.Rejects, Reject{
		Index:  res.Records,
		Line:   line,
		Offset: int64(len(st.root)),
		Reason: why + ", after " + strconv.Itoa(len(st.root)) + " inflated bytes",
	})
	res.Records++
}
