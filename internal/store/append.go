package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/zeebo/xxh3"

	"github.com/trailbook/trailbook/internal/cloudtrail"
)

// File is one decoded input file, appended atomically: its events, its
// rejects and its ledger row land in one transaction or not at all.
type File struct {
	Source  string // path, or "-" for stdin
	Bytes   int64  // size as read (compressed)
	SHA256  [32]byte
	Records int // everything seen in the file: events, rejects and skipped
	Events  []cloudtrail.Event
	Rejects []Reject
	Skipped int // records recognised as not events (digests, notifications, ...)
}

// Reject is a record that could not be stored, kept with its reason.
type Reject struct {
	Index  int    // 0-based index of the record in its file
	Line   int    // 1-based line the record starts on; 0 when unknown
	Offset int64  // byte offset in the decompressed file
	Reason string // what was wrong, e.g. "invalid JSON at line 3 column 7: ..."
	Record []byte // at most the first 4 KiB of the record
}

// Counts summarises an append. Stored+Duplicates is the number of events
// offered; Records counts everything seen, events, rejects and skipped.
type Counts struct {
	Files      int
	Records    int
	Stored     int
	Duplicates int
	Skipped    int
	Rejected   int
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Files += o.Files
	c.Records += o.Records
	c.Stored += o.Stored
	c.Duplicates += o.Duplicates
	c.Skipped += o.Skipped
	c.Rejected += o.Rejected
}

// Append stores the events of files, each event at most once across the
// whole store, together with their rejects and a ledger row per file, in a
// single transaction: after a crash either all of files are recorded or none.
// Concurrent calls are serialised.
func (s *Store) Append(ctx context.Context, files []File) (Counts, error) {
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return Counts{}, ctx.Err()
	}
	defer func() { <-s.writer }()

	b := newBatch(files)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return Counts{}, fmt.Errorf("append: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return Counts{}, fmt.Errorf("append: %w", err)
	}
	defer tx.Rollback()
	if len(b.keys) > 0 {
		if err := b.dropStored(ctx, conn); err != nil {
			return Counts{}, fmt.Errorf("append: check duplicates: %w", err)
		}
		if err := b.insert(conn); err != nil {
			return Counts{}, fmt.Errorf("append: insert events: %w", err)
		}
	}
	now := time.Now().UTC()
	var total Counts
	for i, f := range files {
		for _, rj := range f.Rejects {
			if _, err := tx.ExecContext(ctx, `INSERT INTO rejects VALUES (?, ?, ?, ?, ?, ?, ?)`,
				f.Source, rj.Index, nullInt(rj.Line), rj.Offset, rj.Reason, rj.Record, now); err != nil {
				return Counts{}, fmt.Errorf("append: record reject: %w", err)
			}
		}
		c := b.counts[i]
		if _, err := tx.ExecContext(ctx, `INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			f.Source, f.Bytes, hex.EncodeToString(f.SHA256[:]), c.Records, c.Stored, c.Duplicates, c.Skipped, c.Rejected, now); err != nil {
			return Counts{}, fmt.Errorf("append: record file: %w", err)
		}
		total.Add(c)
	}
	if err := tx.Commit(); err != nil {
		return Counts{}, fmt.Errorf("append: commit: %w", err)
	}
	return total, nil
}

// batch is the events of one Append, each with its dedupe key, and the
// per-file counts as the duplicates are found.
type batch struct {
	files  []File
	counts []Counts
	keys   []batchKey // one per event not repeated within the batch
	minT   time.Time
	maxT   time.Time
}

type batchKey struct {
	hi, lo      uint64
	file, event int32
	stored      bool // already in the store
}

// newBatch keys every event and drops those whose key repeats within files.
func newBatch(files []File) *batch {
	b := &batch{files: files, counts: make([]Counts, len(files))}
	seen := make(map[[2]uint64]struct{})
	for i := range files {
		f := &files[i]
		c := &b.counts[i]
		*c = Counts{Files: 1, Records: f.Records, Rejected: len(f.Rejects), Skipped: f.Skipped}
		for j := range f.Events {
			ev := &f.Events[j]
			hi, lo := eventKey(ev)
			if _, dup := seen[[2]uint64{hi, lo}]; dup {
				c.Duplicates++
				continue
			}
			seen[[2]uint64{hi, lo}] = struct{}{}
			if len(b.keys) == 0 || ev.EventTime.Before(b.minT) {
				b.minT = ev.EventTime
			}
			if len(b.keys) == 0 || ev.EventTime.After(b.maxT) {
				b.maxT = ev.EventTime
			}
			b.keys = append(b.keys, batchKey{hi: hi, lo: lo, file: int32(i), event: int32(j)})
			c.Stored++
		}
	}
	return b
}

// dropStored marks the keys already in the store and moves them from
// Stored to Duplicates. Only the slice of the store within the batch's
// eventTime range is read: the key includes eventTime.
func (b *batch) dropStored(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE batch_keys (key_hi UBIGINT, key_lo UBIGINT, pos INTEGER)`); err != nil {
		return err
	}
	err := conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", "batch_keys")
		if err != nil {
			return err
		}
		for i, k := range b.keys {
			if err := app.AppendRow(k.hi, k.lo, int32(i)); err != nil {
				app.Close()
				return err
			}
		}
		return app.Close()
	})
	if err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, `SELECT k.pos FROM temp.batch_keys k SEMI JOIN (
		SELECT key_hi, key_lo FROM event_store WHERE eventTime BETWEEN ?::TIMESTAMP AND ?::TIMESTAMP
	) e USING (key_hi, key_lo)`, b.minT, b.maxT)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pos int
		if err := rows.Scan(&pos); err != nil {
			return err
		}
		k := &b.keys[pos]
		k.stored = true
		b.counts[k.file].Stored--
		b.counts[k.file].Duplicates++
	}
	return rows.Err()
}

// insert appends the events not yet stored. Each event travels as one
// Lake-shaped JSON document that DuckDB turns into the table's structs,
// maps and lists in a single vectorised pass, plus the original record.
func (b *batch) insert(conn *sql.Conn) error {
	types := make([]duckdb.TypeInfo, 0, 4)
	for _, t := range []duckdb.Type{duckdb.TYPE_VARCHAR, duckdb.TYPE_VARCHAR, duckdb.TYPE_UBIGINT, duckdb.TYPE_UBIGINT} {
		ti, err := duckdb.NewTypeInfo(t)
		if err != nil {
			return err
		}
		types = append(types, ti)
	}
	return conn.Raw(func(dc any) error {
		app, err := duckdb.NewQueryAppender(dc.(driver.Conn), insertSQL(), "batch_events", types,
			[]string{"doc", "eventJson", "key_hi", "key_lo"})
		if err != nil {
			return err
		}
		var doc []byte
		for _, k := range b.keys {
			if k.stored {
				continue
			}
			ev := &b.files[k.file].Events[k.event]
			doc = appendDoc(doc[:0], ev)
			if err := app.AppendRow(string(doc), string(ev.JSON), k.hi, k.lo); err != nil {
				app.Close()
				return fmt.Errorf("%s: record %d: %w", b.files[k.file].Source, k.event, err)
			}
		}
		return app.Close()
	})
}

// insertSQL turns appended documents into event_store rows.
func insertSQL() string {
	return `INSERT INTO event_store BY NAME
SELECT unnest(json_transform(doc, ` + quoteString(strconv.Quote("STRUCT("+decodedColumnsDDL+")")) + `)),
	eventJson, key_hi, key_lo
FROM batch_events`
}

// eventKey is the dedupe key: a 128-bit hash of eventID, eventTime,
// eventSource, eventName and recipientAccountId. CloudTrail may deliver an
// event twice; public fixtures reuse eventIDs for different events, hence
// the other fields. A record with no eventID is keyed by its bytes.
func eventKey(ev *cloudtrail.Event) (hi, lo uint64) {
	if !ev.EventID.OK {
		h := xxh3.Hash128(ev.JSON)
		return h.Hi, h.Lo
	}
	var b [512]byte
	k := b[:0]
	k = append(k, ev.EventID.V...)
	k = append(k, 0)
	k = ev.EventTime.AppendFormat(k, time.RFC3339Nano)
	k = append(k, 0)
	k = append(k, ev.EventSource.V...)
	k = append(k, 0)
	k = append(k, ev.EventName...)
	k = append(k, 0)
	k = append(k, ev.RecipientAccountID.V...)
	h := xxh3.Hash128(k)
	return h.Hi, h.Lo
}

// appendDoc writes ev as a JSON object shaped like the Lake columns other
// than eventJson and eventJsonChecksum, omitting what is NULL.
func appendDoc(s []byte, ev *cloudtrail.Event) []byte {
	w := docWriter{s: append(s, '{')}
	w.text("eventVersion", ev.EventVersion)
	if u := &ev.UserIdentity; u.Present {
		w.open("userIdentity")
		w.text("type", u.Type)
		w.text("principalId", u.PrincipalID)
		w.text("arn", u.ARN)
		w.text("accountId", u.AccountID)
		w.text("accessKeyId", u.AccessKeyID)
		w.text("userName", u.UserName)
		w.text("invokedBy", u.InvokedBy)
		w.text("identityProvider", u.IdentityProvider)
		w.text("credentialId", u.CredentialID)
		if sc := &u.SessionContext; sc.Present {
			w.open("sessionContext")
			w.open("attributes")
			if sc.CreationDate.OK {
				w.str("creationDate", sc.CreationDate.V.Format(time.RFC3339Nano))
			}
			w.text("mfaAuthenticated", sc.MFAAuthenticated)
			w.close()
			if si := sc.SessionIssuer; si != nil {
				w.open("sessionIssuer")
				w.text("type", si.Type)
				w.text("principalId", si.PrincipalID)
				w.text("arn", si.ARN)
				w.text("accountId", si.AccountID)
				w.text("userName", si.UserName)
				w.close()
			}
			if wf := sc.WebIDFederationData; wf != nil {
				w.open("webIdFederationData")
				w.text("federatedProvider", wf.FederatedProvider)
				w.mapping("attributes", wf.Attributes)
				w.close()
			}
			w.text("sourceIdentity", sc.SourceIdentity)
			w.text("ec2RoleDelivery", sc.EC2RoleDelivery)
			w.text("ec2IssuedInVPC", sc.EC2IssuedInVPC)
			w.close()
		}
		if o := u.OnBehalfOf; o != nil {
			w.open("onBehalfOf")
			w.text("userId", o.UserID)
			w.text("identityStoreArn", o.IdentityStoreARN)
			w.close()
		}
		w.close()
	}
	w.str("eventTime", ev.EventTime.Format(time.RFC3339Nano))
	w.text("eventSource", ev.EventSource)
	w.str("eventName", ev.EventName)
	w.text("awsRegion", ev.AWSRegion)
	w.text("sourceIPAddress", ev.SourceIPAddress)
	w.text("userAgent", ev.UserAgent)
	w.text("errorCode", ev.ErrorCode)
	w.text("errorMessage", ev.ErrorMessage)
	w.mapping("requestParameters", ev.RequestParameters)
	w.mapping("responseElements", ev.ResponseElements)
	w.mapping("additionalEventData", ev.AdditionalEventData)
	w.text("requestID", ev.RequestID)
	w.text("eventID", ev.EventID)
	w.boolean("readOnly", ev.ReadOnly)
	if ev.Resources != nil {
		w.key("resources")
		w.s = append(w.s, '[')
		for i := range ev.Resources {
			r := &ev.Resources[i]
			if i > 0 {
				w.s = append(w.s, ',')
			}
			w.s = append(w.s, '{')
			w.text("accountId", r.AccountID)
			w.text("type", r.Type)
			w.text("arn", r.ARN)
			w.text("arnPrefix", r.ARNPrefix)
			w.s = append(w.s, '}')
		}
		w.s = append(w.s, ']')
	}
	w.text("eventType", ev.EventType)
	w.text("apiVersion", ev.APIVersion)
	w.boolean("managementEvent", ev.ManagementEvent)
	w.text("recipientAccountId", ev.RecipientAccountID)
	w.text("sharedEventID", ev.SharedEventID)
	w.text("annotation", ev.Annotation)
	w.text("vpcEndpointId", ev.VPCEndpointID)
	w.mapping("serviceEventDetails", ev.ServiceEventDetails)
	w.mapping("addendum", ev.Addendum)
	w.mapping("edgeDeviceDetails", ev.EdgeDeviceDetails)
	w.mapping("insightDetails", ev.InsightDetails)
	w.text("eventCategory", ev.EventCategory)
	if t := &ev.TLSDetails; t.Present {
		w.open("tlsDetails")
		w.text("tlsVersion", t.TLSVersion)
		w.text("cipherSuite", t.CipherSuite)
		w.text("clientProvidedHostHeader", t.ClientProvidedHostHeader)
		w.close()
	}
	w.text("sessionCredentialFromConsole", ev.SessionCredentialFromConsole)
	return append(w.s, '}')
}

// docWriter appends JSON object members, tracking the comma.
type docWriter struct {
	s []byte
}

func (w *docWriter) key(k string) {
	if len(w.s) > 0 && w.s[len(w.s)-1] != '{' {
		w.s = append(w.s, ',')
	}
	w.s = append(w.s, '"')
	w.s = append(w.s, k...)
	w.s = append(w.s, '"', ':')
}

func (w *docWriter) open(k string) { w.key(k); w.s = append(w.s, '{') }
func (w *docWriter) close()        { w.s = append(w.s, '}') }

func (w *docWriter) str(k, v string) {
	w.key(k)
	w.s = appendJSONString(w.s, v)
}

func (w *docWriter) text(k string, v cloudtrail.Text) {
	if v.OK {
		w.str(k, v.V)
	}
}

func (w *docWriter) boolean(k string, v cloudtrail.Bool) {
	if !v.OK {
		return
	}
	w.key(k)
	w.s = strconv.AppendBool(w.s, v.V)
}

// mapping writes m as an object that the transform turns into
// MAP(VARCHAR, VARCHAR): string members come back unquoted, the rest as the
// JSON text they were.
func (w *docWriter) mapping(k string, m cloudtrail.Map) {
	if m == nil {
		return
	}
	w.key(k)
	w.s = appendMapJSON(w.s, m)
}

func appendMapJSON(s []byte, m cloudtrail.Map) []byte {
	s = append(s, '{')
	for i, p := range m {
		if i > 0 {
			s = append(s, ',')
		}
		s = appendJSONString(s, p.Key)
		s = append(s, ':')
		switch {
		case !p.Value.OK:
			s = append(s, "null"...)
		default:
			// Non-string members are already JSON text; a string member
			// is re-quoted. The cast turns both back into VARCHAR.
			s = appendJSONString(s, p.Value.V)
		}
	}
	return append(s, '}')
}

func appendJSONString(s []byte, v string) []byte {
	s = append(s, '"')
	for i := 0; i < len(v); {
		c := v[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			s = append(s, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				s = append(s, '\\', c)
			case '\n':
				s = append(s, '\\', 'n')
			case '\r':
				s = append(s, '\\', 'r')
			case '\t':
				s = append(s, '\\', 't')
			default:
				s = append(s, `\u00`...)
				s = append(s, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && size == 1 {
			s = append(s, `\ufffd`...)
		} else {
			s = append(s, v[i:i+size]...)
		}
		i += size
	}
	return append(s, '"')
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}
