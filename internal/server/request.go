package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// decodeBody decodes r's body, one JSON object of at most limit bytes,
// into v strictly: an unknown field, a wrong type or anything after the
// object is a 400, a longer body a 413.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("more after the JSON object")
			if terr != nil && isTooLarge(terr) {
				err = terr
			}
		}
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case isTooLarge(err):
		return tooLarge(limit)
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, CodeBadRequest, "the body is empty: want a JSON object")
	case errors.As(err, &syn):
		return errorf(http.StatusBadRequest, CodeBadRequest, "the body is not JSON: %v at byte %d", syn, syn.Offset)
	case errors.As(err, &typ):
		return errorf(http.StatusBadRequest, CodeBadRequest, "the body's %s is a JSON %s, not a %s", typ.Field, typ.Value, typ.Type)
	}
	return errorf(http.StatusBadRequest, CodeBadRequest, "the body: %v", err)
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func tooLarge(limit int64) *Error {
	return errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "the body is over the limit of %d bytes", limit)
}

// params reads r's query parameters strictly: one value each, and only
// the names given or, for a name ending in '.', any name with that prefix.
func params(r *http.Request, names ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "the query string: %v", err)
	}
	for k, vs := range q {
		ok := slices.ContainsFunc(names, func(n string) bool {
			return n == k || strings.HasSuffix(n, ".") && strings.HasPrefix(k, n) && len(k) > len(n)
		})
		switch {
		case !ok && len(names) == 0:
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "unknown query parameter %s: this endpoint takes none", k)
		case !ok:
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "unknown query parameter %s: this endpoint takes %s", k, strings.Join(names, ", "))
		case len(vs) > 1:
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "query parameter %s given %d times", k, len(vs))
		}
	}
	return q, nil
}

// noParams refuses any query parameter.
func noParams(r *http.Request) error {
	_, err := params(r)
	return err
}

// intParam reads q's name as an integer in [lo, hi], def when absent.
func intParam(q url.Values, name string, def, lo, hi int64) (int64, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, errorf(http.StatusBadRequest, CodeBadRequest, "%s=%s: want a whole number from %d to %d", name, s, lo, hi)
	}
	return n, nil
}

// boolParam reads q's name as a boolean, false when absent.
func boolParam(q url.Values, name string) (bool, error) {
	s := q.Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, errorf(http.StatusBadRequest, CodeBadRequest, "%s=%s: want true or false", name, s)
	}
	return b, nil
}

// timeParam reads q's name as a time: RFC 3339, a date, or a duration
// before now (1h). Zero when absent.
func timeParam(q url.Values, name string, now time.Time) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d).UTC(), nil
	}
	t, err := parseTime(s)
	if err != nil {
		return time.Time{}, errorf(http.StatusBadRequest, CodeBadRequest, "%s: %v, or a duration before now such as 1h", name, err)
	}
	return t, nil
}

// parseTime reads RFC 3339 or a date, as the CLI's --at and --until do.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want RFC 3339 (2024-05-01T12:00:00Z) or a date (2024-05-01)", s)
}
