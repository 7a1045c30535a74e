// Package audit is Trailbook's append-only, hash-chained audit log: one
// JSON entry a line in a file, each carrying the SHA-256 of the one before,
// with a copy of every entry in the store's audit table. Log appends;
// Verify reads a log back and reports every entry that was edited, deleted,
// inserted, reordered or cut off, in the file or in the store's copy.
// docs/audit.md describes the format for people and other programs.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/trailbook/trailbook/internal/store"
)

// Genesis is the Prev of the first entry: 64 zeros.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Entry is one line of the audit log. Seq, Prev and Hash are set by
// Log.Append; the rest is what happened.
//
// An entry's line is its canonical JSON encoding (see MarshalJSON); Hash is
// the hex SHA-256 of that encoding without the "hash" member, so Hash
// covers every other field, Prev included, and with it every entry before.
type Entry struct {
	// Seq numbers the entries from 1, without gaps.
	Seq int64 `json:"seq"`
	// Time is when the entry was logged, in UTC, to the microsecond (the
	// store's TIMESTAMP precision); Append truncates finer times.
	Time time.Time `json:"time"`
	// Kind is what the entry records: evaluation, action, gate-decision,
	// gate-override, gate-reopen, ...
	Kind      string `json:"kind"`
	Runbook   string `json:"runbook,omitempty"`
	Gate      string `json:"gate,omitempty"`
	EventID   string `json:"event_id,omitempty"`
	ActionKey string `json:"action_key,omitempty"`
	// Decision is what was decided: act, no-action, skipped, proceed,
	// halt, ...
	Decision string `json:"decision,omitempty"`
	// Data is the entry's own detail, any JSON value. Append stores it in
	// canonical form (see MarshalJSON), so the same content always gives
	// the same bytes; JSON null is the same as no data.
	Data json.RawMessage `json:"data,omitempty"`
	// Prev is the Hash of the entry before; Genesis for the first.
	Prev string `json:"prev"`
	// Hash is the hex SHA-256 of the entry's canonical encoding without
	// the hash member.
	Hash string `json:"hash"`
}

// MarshalJSON returns the entry's canonical encoding, the exact bytes of
// its line in the log (without the newline):
//
//   - one JSON object, no whitespace between tokens;
//   - members in byte order of their names: action_key, data, decision,
//     event_id, gate, hash, kind, prev, runbook, seq, time;
//   - action_key, data, decision, event_id, gate and runbook left out when
//     empty;
//   - seq as a decimal integer; time as RFC 3339 in UTC with the fraction
//     of the second only as long as needed ("2024-05-01T12:00:00.5Z");
//   - data in the same canonical form at every depth: object members
//     sorted by the bytes of their names, numbers as written, strings as
//     below;
//   - strings in UTF-8, escaping only '"' and '\' (as \" and \\),
//     \b \f \n \r \t, and other bytes below 0x20 as \u00XX with lowercase
//     hex; everything else, non-ASCII included, as is.
//
// The bytes hashed are the same encoding with the "hash" member left out.
// This is what Python's json.dumps(entry, sort_keys=True,
// separators=(",", ":"), ensure_ascii=False) writes for entries whose data
// holds no floating-point numbers.
func (e Entry) MarshalJSON() ([]byte, error) {
	data, err := canonicalData(e.Data)
	if err != nil {
		return nil, err
	}
	e.Data = data
	return appendEntry(nil, &e, true), nil
}

// appendEntry appends e's canonical encoding to b, with the hash member
// when withHash. e.Data must already be canonical.
func appendEntry(b []byte, e *Entry, withHash bool) []byte {
	b = append(b, '{')
	str := func(name, v string, always bool) {
		if v == "" && !always {
			return
		}
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = appendString(b, v)
	}
	str("action_key", e.ActionKey, false)
	if len(e.Data) > 0 {
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = append(b, `"data":`...)
		b = append(b, e.Data...)
	}
	str("decision", e.Decision, false)
	str("event_id", e.EventID, false)
	str("gate", e.Gate, false)
	if withHash {
		str("hash", e.Hash, true)
	}
	str("kind", e.Kind, true)
	str("prev", e.Prev, true)
	str("runbook", e.Runbook, false)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"time":"`...)
	b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"', '}')
}

// appendString appends s as a canonical JSON string.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// hashEntry returns the hex SHA-256 of e's canonical encoding without the
// hash member. e.Data must already be canonical.
func hashEntry(e *Entry) string {
	sum := sha256.Sum256(appendEntry(make([]byte, 0, 512), e, false))
	return hex.EncodeToString(sum[:])
}

// canonicalData returns raw in canonical form: nil for no data or JSON
// null, an error for anything that is not one JSON value.
func canonicalData(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("data is not JSON: %w", err)
	}
	if len(bytes.TrimSpace(raw[dec.InputOffset():])) > 0 {
		return nil, errors.New("data is not one JSON value")
	}
	return appendValue(nil, v), nil
}

// appendValue appends v, as decoded with UseNumber, in canonical form.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case json.Number:
		return append(b, v...)
	case string:
		return appendString(b, v)
	case []any:
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, x)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendValue(b, v[k])
		}
		return append(b, '}')
	}
	panic(fmt.Sprintf("audit: unexpected JSON value %T", v))
}

// checkText reports a text field Append cannot store as given.
func checkText(name, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", name)
	}
	return nil
}

// decodeLine parses one line of the log (without its newline). It returns
// an error, worded to follow "not an audit entry: ", when the line is not
// an entry at all; canonical is false when the line is an entry but not in
// its canonical form (its hash may still match its content).
func decodeLine(line []byte) (e Entry, canonical bool, err error) {
	var w struct {
		Seq       *int64          `json:"seq"`
		Time      *string         `json:"time"`
		Kind      *string         `json:"kind"`
		Runbook   string          `json:"runbook"`
		Gate      string          `json:"gate"`
		EventID   string          `json:"event_id"`
		ActionKey string          `json:"action_key"`
		Decision  string          `json:"decision"`
		Data      json.RawMessage `json:"data"`
		Prev      *string         `json:"prev"`
		Hash      *string         `json:"hash"`
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return e, false, errors.New("empty line")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return e, false, err
	}
	if len(bytes.TrimSpace(line[dec.InputOffset():])) > 0 {
		return e, false, errors.New("more than one JSON value")
	}
	switch {
	case w.Seq == nil:
		return e, false, errors.New("no seq")
	case *w.Seq < 1:
		return e, false, fmt.Errorf("seq %d is not positive", *w.Seq)
	case w.Time == nil:
		return e, false, errors.New("no time")
	case w.Kind == nil || *w.Kind == "":
		return e, false, errors.New("no kind")
	case w.Prev == nil || !isHash(*w.Prev):
		return e, false, errors.New("prev is not 64 lowercase hex digits")
	case w.Hash == nil || !isHash(*w.Hash):
		return e, false, errors.New("hash is not 64 lowercase hex digits")
	}
	t, err := time.Parse(time.RFC3339Nano, *w.Time)
	if err != nil {
		return e, false, fmt.Errorf("time: %w", err)
	}
	data, err := canonicalData(w.Data)
	if err != nil {
		return e, false, err
	}
	e = Entry{
		Seq: *w.Seq, Time: t.UTC(), Kind: *w.Kind,
		Runbook: w.Runbook, Gate: w.Gate, EventID: w.EventID, ActionKey: w.ActionKey, Decision: w.Decision,
		Data: data, Prev: *w.Prev, Hash: *w.Hash,
	}
	return e, bytes.Equal(appendEntry(make([]byte, 0, len(line)), &e, true), line), nil
}

// isHash reports whether s is a hex SHA-256 as the log writes it.
func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// rowOf returns the store's copy of e.
func rowOf(e *Entry) store.AuditRow {
	return store.AuditRow{
		Seq: e.Seq, LoggedAt: e.Time.UTC(), Kind: e.Kind,
		Runbook: e.Runbook, Gate: e.Gate, EventID: e.EventID, ActionKey: e.ActionKey, Decision: e.Decision,
		Data: e.Data, Prev: e.Prev, Hash: e.Hash,
	}
}

// entryOf returns the entry a store row copies, and whether the row is
// consistent: its data canonical JSON and its hash that of its content.
func entryOf(r *store.AuditRow) (Entry, bool) {
	e := Entry{
		Seq: r.Seq, Time: r.LoggedAt.UTC(), Kind: r.Kind,
		Runbook: r.Runbook, Gate: r.Gate, EventID: r.EventID, ActionKey: r.ActionKey, Decision: r.Decision,
		Data: r.Data, Prev: r.Prev, Hash: r.Hash,
	}
	data, err := canonicalData(r.Data)
	if err != nil || !bytes.Equal(data, r.Data) {
		return e, false
	}
	return e, hashEntry(&e) == r.Hash
}

// rowDiff names the columns in which two rows differ, with both values,
// as "decision: store "x", file "y"".
func rowDiff(file, row *store.AuditRow) []string {
	var out []string
	add := func(col, f, s string) {
		if f != s {
			out = append(out, fmt.Sprintf("%s: store %q, file %q", col, s, f))
		}
	}
	add("seq", strconv.FormatInt(file.Seq, 10), strconv.FormatInt(row.Seq, 10))
	if !file.LoggedAt.Equal(row.LoggedAt) {
		out = append(out, fmt.Sprintf("logged_at: store %s, file %s", row.LoggedAt.UTC().Format(time.RFC3339Nano), file.LoggedAt.UTC().Format(time.RFC3339Nano)))
	}
	add("kind", file.Kind, row.Kind)
	add("runbook", file.Runbook, row.Runbook)
	add("gate", file.Gate, row.Gate)
	add("event_id", file.EventID, row.EventID)
	add("action_key", file.ActionKey, row.ActionKey)
	add("decision", file.Decision, row.Decision)
	if !bytes.Equal(file.Data, row.Data) || (file.Data == nil) != (row.Data == nil) {
		out = append(out, fmt.Sprintf("data: store %s, file %s", orNull(row.Data), orNull(file.Data)))
	}
	add("prev", file.Prev, row.Prev)
	add("hash", file.Hash, row.Hash)
	return out
}

func orNull(b []byte) string {
	if b == nil {
		return "NULL"
	}
	const max = 80
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
