package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"github.com/zeebo/xxh3"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/jsontext"
	"github.com/trailbook/trailbook/internal/tags"
)

// inventory is a Writer's copy of the tag history: every stored change,
// and the changes added since the last Commit, replayed per resource. It
// lets the Writer give each event's resources their tags at the event's
// time when it commits them, and tells it which already stored events a
// change that arrived late makes stale.
//
// It holds every tag change of the store in memory, and the latest time
// each resource ARN (but S3 objects) was named in resources[]: tagging
// calls are a small share of CloudTrail (about 3% of the generated
// events), and resources a much smaller number than events.
type inventory struct {
	entries  map[string][]tags.Entry   // by ARN
	versions map[string][]tags.Version // by ARN, replayed from entries
	ivs      map[string][]tags.Interval
	replayed map[string]bool // ARNs whose versions match entries
	keys     map[rowKey]struct{}
	// seen is, per ARN, the latest eventTime of a stored event with the
	// ARN among its resources: a change at or before it makes those
	// events' tags stale.
	seen  map[string]time.Time
	dirty map[string]bool      // ARNs with changes added since the last Commit
	stale map[string]time.Time // ARN -> earliest late change since the last Commit
	added []tagRow             // changes added since the last Commit
	// retag is set while tag_retag_pending may hold notes: after a
	// Commit that noted stale events, or at load after a crash.
	retag bool

	// The events staged since the last Commit, by index in the Writer's
	// keys, and by the ARNs they name: once stored, they are the latest
	// use of those resources.
	staged map[int32]time.Time
	uses   map[string][]int32
}

// rowKey identifies a stored change: the event (or import) that made it
// and its place in it. A change is stored once however often its event
// is ingested.
type rowKey struct {
	hi, lo   uint64
	arn, seq string
}

// tagRow is one tag change and the key of the event or import behind it.
type tagRow struct {
	tags.Entry
	hi, lo uint64
}

// tagRowColumns are the columns of tag_changes that scanTagRow reads.
const tagRowColumns = `arn, changed_at, seq, kind, CAST(to_json(set_tags) AS VARCHAR), CAST(to_json(removed) AS VARCHAR),
	origin, coalesce(event_id, ''), coalesce(event_name, ''), coalesce(event_source, ''), coalesce(actor, ''), key_hi, key_lo`

// scanTagRow reads the row of tag_changes at rows, selected as
// tagRowColumns.
func scanTagRow(rows *sql.Rows) (tagRow, error) {
	var r tagRow
	var kind, set, removed string
	if err := rows.Scan(&r.ARN, &r.At, &r.Seq, &kind, &set, &removed, &r.By.Origin, &r.By.EventID,
		&r.By.EventName, &r.By.EventSource, &r.By.Actor, &r.hi, &r.lo); err != nil {
		return r, err
	}
	r.At = r.At.UTC()
	r.Kind, _ = tags.ParseKind(kind)
	if err := decodeTagLists(set, removed, &r.Entry); err != nil {
		return r, fmt.Errorf("%s: %w", r.ARN, err)
	}
	return r, nil
}

// newInventory is an empty inventory.
func newInventory() *inventory {
	return &inventory{
		entries: map[string][]tags.Entry{}, versions: map[string][]tags.Version{},
		ivs: map[string][]tags.Interval{}, replayed: map[string]bool{},
		keys: map[rowKey]struct{}{}, seen: map[string]time.Time{},
		dirty: map[string]bool{}, stale: map[string]time.Time{},
		staged: map[int32]time.Time{}, uses: map[string][]int32{},
	}
}

// loadInventory reads the store's tag changes and, for the ARNs that have
// any, the latest event that names them in resources[].
func loadInventory(ctx context.Context, q querier) (*inventory, error) {
	inv := newInventory()
	rows, err := q.QueryContext(ctx, `SELECT `+tagRowColumns+` FROM tag_changes`)
	if err != nil {
		return nil, fmt.Errorf("load tag changes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanTagRow(rows)
		if err != nil {
			return nil, fmt.Errorf("load tag changes: %w", err)
		}
		inv.entries[r.ARN] = append(inv.entries[r.ARN], r.Entry)
		inv.keys[rowKey{r.hi, r.lo, r.ARN, r.Seq}] = struct{}{}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load tag changes: %w", err)
	}
	rows.Close()
	seen, err := q.QueryContext(ctx, `SELECT r.arn, max(eventTime) FROM event_store, unnest(resources) AS u(r)
		WHERE r.arn IS NOT NULL AND NOT (r.arn LIKE 'arn:%:s3:::%/%') GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("load tagged resources: %w", err)
	}
	defer seen.Close()
	for seen.Next() {
		var arn string
		var t time.Time
		if err := seen.Scan(&arn, &t); err != nil {
			return nil, fmt.Errorf("load tagged resources: %w", err)
		}
		inv.seen[arn] = t.UTC()
	}
	if err := seen.Err(); err != nil {
		return nil, err
	}
	seen.Close()
	pending, err := q.QueryContext(ctx, `SELECT count(*) > 0 FROM tag_retag_pending`)
	if err != nil {
		return nil, fmt.Errorf("load tag inventory: %w", err)
	}
	defer pending.Close()
	if pending.Next() {
		if err := pending.Scan(&inv.retag); err != nil {
			return nil, fmt.Errorf("load tag inventory: %w", err)
		}
	}
	return inv, pending.Err()
}

// querier is the part of *sql.DB, *sql.Conn and *sql.Tx the inventory
// reads through.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func decodeTagLists(set, removed string, e *tags.Entry) error {
	var s []struct{ Key, Value string }
	if set != "" && set != "null" {
		if err := json.Unmarshal([]byte(set), &s); err != nil {
			return err
		}
	}
	for _, t := range s {
		e.Set = append(e.Set, tags.Tag{Key: t.Key, Value: t.Value})
	}
	var r []struct {
		Key, Value string
		HasValue   bool `json:"has_value"`
	}
	if removed != "" && removed != "null" {
		if err := json.Unmarshal([]byte(removed), &r); err != nil {
			return err
		}
	}
	for _, x := range r {
		e.Remove = append(e.Remove, tags.Removal{Key: x.Key, Value: x.Value, HasValue: x.HasValue})
	}
	return nil
}

// add records one change unless it is already stored. It reports whether
// the change was new.
func (inv *inventory) add(r tagRow) bool {
	k := rowKey{r.hi, r.lo, r.ARN, r.Seq}
	if _, ok := inv.keys[k]; ok {
		return false
	}
	inv.keys[k] = struct{}{}
	inv.entries[r.ARN] = append(inv.entries[r.ARN], r.Entry)
	inv.replayed[r.ARN] = false
	inv.dirty[r.ARN] = true
	if last, ok := inv.seen[r.ARN]; ok && !r.At.After(last) {
		if s, ok := inv.stale[r.ARN]; !ok || r.At.Before(s) {
			inv.stale[r.ARN] = r.At
		}
	}
	inv.added = append(inv.added, r)
	return true
}

// history replays arn's changes when they changed since the last replay.
func (inv *inventory) history(arn string) ([]tags.Version, []tags.Interval) {
	if !inv.replayed[arn] {
		es := inv.entries[arn]
		if len(es) == 0 {
			return nil, nil
		}
		ivs, vs := tags.Replay(es)
		if _, ok := inv.versions[arn]; !ok {
			// A new key: arn may point into an event's file buffer.
			arn = strings.Clone(arn)
		}
		inv.versions[arn], inv.ivs[arn] = vs, ivs
		inv.replayed[arn] = true
	}
	return inv.versions[arn], inv.ivs[arn]
}

// tagsAt returns arn's tags at t, and whether they are known.
func (inv *inventory) tagsAt(arn string, t time.Time) ([]tags.Tag, bool) {
	vs, _ := inv.history(arn)
	return tags.At(vs, t)
}

// noteStaged records that the event the Writer keeps at index i, at time
// t, is staged with resources named by arns.
func (inv *inventory) noteStaged(i int32, t time.Time, arns []string) {
	tracked := false
	for _, a := range arns {
		if a != "" && !isS3Object(a) {
			inv.uses[a] = append(inv.uses[a], i)
			tracked = true
		}
	}
	if tracked {
		inv.staged[i] = t
	}
}

// isS3Object reports whether arn names an S3 object. Objects are not
// tracked in seen: there are too many of them and no covered call tags one.
func isS3Object(arn string) bool {
	return strings.HasPrefix(arn, "arn:") && strings.Contains(arn, ":s3:::") && strings.Contains(arn, "/")
}

// committed forgets what was added since the last Commit, which is now
// stored.
func (inv *inventory) committed() {
	for a, is := range inv.uses {
		for _, i := range is {
			if t := inv.staged[i]; t.After(inv.seen[a]) {
				inv.seen[a] = t
			}
		}
	}
	clear(inv.dirty)
	clear(inv.stale)
	clear(inv.staged)
	clear(inv.uses)
	inv.added = inv.added[:0]
}

// rowsFor turns an event's changes into rows keyed by the event. The rows
// share no memory with ev or changes: the inventory keeps them for the
// life of the Writer, and the event's strings may point into the buffer of
// the whole file it came from.
func rowsFor(ev *cloudtrail.Event, hi, lo uint64, changes []tags.Change) []tagRow {
	if len(changes) == 0 {
		return nil
	}
	out := make([]tagRow, 0, len(changes))
	by := tags.Provenance{Origin: "cloudtrail", EventID: strings.Clone(ev.EventID.V), EventName: strings.Clone(ev.EventName),
		EventSource: strings.Clone(ev.EventSource.V), Actor: strings.Clone(ev.UserIdentity.ARN.V)}
	for i, c := range changes {
		out = append(out, tagRow{hi: hi, lo: lo, Entry: tags.Entry{
			Change: c.Clone(),
			At:     ev.EventTime,
			Seq:    by.EventID + "/" + strconv.Itoa(1000 + i)[1:],
			By:     by,
		}})
	}
	return out
}

// importKey keys the changes of one import: importing the same snapshot
// at the same time twice stores it once.
func importKey(name string, at time.Time) (uint64, uint64) {
	h := xxh3.Hash128([]byte("import\x00" + name + "\x00" + at.Format(time.RFC3339Nano)))
	return h.Hi, h.Lo
}

// tagRowsJSON writes rows as the JSON array insertTagChanges reads.
func tagRowsJSON(rows []tagRow) []byte {
	b := []byte{'['}
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"arn":`...)
		b = jsontext.AppendString(b, r.ARN)
		b = append(b, `,"changed_at":`...)
		b = jsontext.AppendString(b, r.At.Format(time.RFC3339Nano))
		b = append(b, `,"seq":`...)
		b = jsontext.AppendString(b, r.Seq)
		b = append(b, `,"kind":`...)
		b = jsontext.AppendString(b, r.Kind.String())
		b = append(b, `,"set_tags":`...)
		b = appendTagList(b, r.Set)
		b = append(b, `,"removed":[`...)
		for j, x := range r.Remove {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"key":`...)
			b = jsontext.AppendString(b, x.Key)
			b = append(b, `,"value":`...)
			if x.HasValue {
				b = jsontext.AppendString(b, x.Value)
			} else {
				b = append(b, "null"...)
			}
			b = append(b, `,"has_value":`...)
			b = strconv.AppendBool(b, x.HasValue)
			b = append(b, '}')
		}
		b = append(b, `],"origin":`...)
		b = jsontext.AppendString(b, r.By.Origin)
		b = appendOptional(b, "event_id", r.By.EventID)
		b = appendOptional(b, "event_name", r.By.EventName)
		b = appendOptional(b, "event_source", r.By.EventSource)
		b = appendOptional(b, "actor", r.By.Actor)
		b = append(b, `,"key_hi":`...)
		b = strconv.AppendUint(b, r.hi, 10)
		b = append(b, `,"key_lo":`...)
		b = strconv.AppendUint(b, r.lo, 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendTagList(b []byte, ts []tags.Tag) []byte {
	b = append(b, '[')
	for j, t := range ts {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"key":`...)
		b = jsontext.AppendString(b, t.Key)
		b = append(b, `,"value":`...)
		b = jsontext.AppendString(b, t.Value)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendTagMap writes tags as a JSON object, which DuckDB's transform
// turns into MAP(VARCHAR, VARCHAR).
func appendTagMap(b []byte, ts []tags.Tag) []byte {
	b = append(b, '{')
	for j, t := range ts {
		if j > 0 {
			b = append(b, ',')
		}
		b = jsontext.AppendString(b, t.Key)
		b = append(b, ':')
		b = jsontext.AppendString(b, t.Value)
	}
	return append(b, '}')
}

func appendOptional(b []byte, k, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, k...)
	b = append(b, '"', ':')
	if v == "" {
		return append(b, "null"...)
	}
	return jsontext.AppendString(b, v)
}

func appendTime(b []byte, k string, t time.Time) []byte {
	b = append(b, ',', '"')
	b = append(b, k...)
	b = append(b, '"', ':')
	if t.IsZero() {
		return append(b, "null"...)
	}
	return jsontext.AppendString(b, t.Format(time.RFC3339Nano))
}

// historyJSON writes the intervals and versions of arns as the two JSON
// arrays writeHistory reads.
func (inv *inventory) historyJSON(arns []string) (intervals, versions []byte) {
	intervals, versions = []byte{'['}, []byte{'['}
	for _, arn := range arns {
		vs, ivs := inv.history(arn)
		for _, iv := range ivs {
			if len(intervals) > 1 {
				intervals = append(intervals, ',')
			}
			intervals = append(intervals, `{"arn":`...)
			intervals = jsontext.AppendString(intervals, iv.ARN)
			intervals = append(intervals, `,"key":`...)
			intervals = jsontext.AppendString(intervals, iv.Key)
			intervals = append(intervals, `,"value":`...)
			intervals = jsontext.AppendString(intervals, iv.Value)
			intervals = appendTime(intervals, "valid_from", iv.From)
			intervals = appendTime(intervals, "valid_to", iv.To)
			intervals = appendProvenance(intervals, "set", &iv.SetBy)
			intervals = appendProvenance(intervals, "ended", iv.EndedBy)
			intervals = append(intervals, '}')
		}
		for _, v := range vs {
			if len(versions) > 1 {
				versions = append(versions, ',')
			}
			versions = append(versions, `{"arn":`...)
			versions = jsontext.AppendString(versions, v.ARN)
			versions = appendTime(versions, "valid_from", v.From)
			versions = appendTime(versions, "valid_to", v.To)
			versions = append(versions, `,"tags":`...)
			versions = appendTagMap(versions, v.Tags)
			versions = appendProvenance(versions, "set", &v.By)
			versions = append(versions, '}')
		}
	}
	return append(intervals, ']'), append(versions, ']')
}

func appendProvenance(b []byte, prefix string, p *tags.Provenance) []byte {
	var q tags.Provenance
	if p != nil {
		q = *p
	}
	b = appendOptional(b, prefix+"_origin", q.Origin)
	b = appendOptional(b, prefix+"_event_id", q.EventID)
	b = appendOptional(b, prefix+"_event_name", q.EventName)
	b = appendOptional(b, prefix+"_by", q.Actor)
	return b
}

// tagChangeType, intervalType and versionType are the JSON shapes write
// passes to DuckDB, as json_transform types.
const (
	tagChangeType = `[{"arn":"VARCHAR","changed_at":"TIMESTAMP","seq":"VARCHAR","kind":"VARCHAR",` +
		`"set_tags":[{"key":"VARCHAR","value":"VARCHAR"}],` +
		`"removed":[{"key":"VARCHAR","value":"VARCHAR","has_value":"BOOLEAN"}],` +
		`"origin":"VARCHAR","event_id":"VARCHAR","event_name":"VARCHAR","event_source":"VARCHAR","actor":"VARCHAR",` +
		`"key_hi":"UBIGINT","key_lo":"UBIGINT"}]`
	provenanceType = `"_origin":"VARCHAR","_event_id":"VARCHAR","_event_name":"VARCHAR","_by":"VARCHAR"`
	intervalType   = `[{"arn":"VARCHAR","key":"VARCHAR","value":"VARCHAR","valid_from":"TIMESTAMP","valid_to":"TIMESTAMP",` +
		`"set_origin":"VARCHAR","set_event_id":"VARCHAR","set_event_name":"VARCHAR","set_by":"VARCHAR",` +
		`"ended_origin":"VARCHAR","ended_event_id":"VARCHAR","ended_event_name":"VARCHAR","ended_by":"VARCHAR"}]`
	versionType = `[{"arn":"VARCHAR","valid_from":"TIMESTAMP","valid_to":"TIMESTAMP","tags":"MAP(VARCHAR, VARCHAR)",` +
		`"set_origin":"VARCHAR","set_event_id":"VARCHAR","set_event_name":"VARCHAR","set_by":"VARCHAR"}]`
)

// insertJSON inserts the rows of a JSON array of objects into table, by
// column name.
func insertJSON(ctx context.Context, tx execer, table, typ string, data []byte) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO `+table+` BY NAME SELECT unnest(r) FROM (SELECT unnest(json_transform(?::JSON, `+quoteString(typ)+`)) AS r)`, string(data))
	return err
}

// execer is the part of *sql.Tx that writing the inventory needs.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// write stores, in tx, the changes added since the last Commit, the new
// history of every resource they changed, and the tags of stored events
// that a late change made stale.
func (inv *inventory) write(ctx context.Context, tx execer) error {
	if len(inv.added) > 0 {
		if err := insertJSON(ctx, tx, "tag_changes", tagChangeType, tagRowsJSON(inv.added)); err != nil {
			return fmt.Errorf("store changes: %w", err)
		}
	}
	if len(inv.dirty) == 0 {
		return nil
	}
	arns := slices.Sorted(maps.Keys(inv.dirty))
	// A few ARNs (serve's commits) are looked up in the list, half the
	// time of a join; many (ingest's) are joined.
	match := `arn IN (SELECT unnest(?::VARCHAR[]))`
	if len(arns) <= 64 {
		match = `list_contains(?::VARCHAR[], arn)`
	}
	for _, table := range []string{"resource_tags", "tag_sets"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+match, arns); err != nil {
			return fmt.Errorf("replace history: %w", err)
		}
	}
	ivs, vs := inv.historyJSON(arns)
	if err := insertJSON(ctx, tx, "resource_tags", intervalType, ivs); err != nil {
		return fmt.Errorf("store history: %w", err)
	}
	if err := insertJSON(ctx, tx, "tag_sets", versionType, vs); err != nil {
		return fmt.Errorf("store history: %w", err)
	}
	// The events a late change made stale are noted here and retagged by
	// retagPending after this transaction commits: deleting rows inserted
	// by the same transaction crashes DuckDB 1.5.5.
	for _, arn := range slices.Sorted(maps.Keys(inv.stale)) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tag_retag_pending VALUES (?, ?)`, arn, inv.stale[arn]); err != nil {
			return fmt.Errorf("note stale event tags: %w", err)
		}
		inv.retag = true
	}
	return nil
}

// retagPending recomputes the resources[].tags of the events noted stale
// in tag_retag_pending, in a transaction of its own, and clears the note.
// A crash before it finishes leaves the note, and the next Writer to load
// the inventory does it.
func retagPending(ctx context.Context, db txBeginner) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT arn, min(since) FROM tag_retag_pending GROUP BY arn`)
	if err != nil {
		return err
	}
	stale := map[string]time.Time{}
	for rows.Next() {
		var arn string
		var t time.Time
		if err := rows.Scan(&arn, &t); err != nil {
			rows.Close()
			return err
		}
		stale[arn] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(stale) == 0 {
		return nil
	}
	if err := retag(ctx, tx, stale); err != nil {
		return fmt.Errorf("update stale event tags: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM tag_retag_pending`); err != nil {
		return err
	}
	return tx.Commit()
}

// txBeginner is the part of *sql.Conn retagPending needs.
type txBeginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// retag recomputes the resources' tags of the stored events that name one
// of the stale ARNs at or after the time it went stale, from the tag_sets
// just written, into resourceTagsFix, which the events view prefers to
// the stored list.
func retag(ctx context.Context, tx execer, stale map[string]time.Time) error {
	arns := slices.Sorted(maps.Keys(stale))
	var from time.Time
	for i, a := range arns {
		if t := stale[a]; i == 0 || t.Before(from) {
			from = t
		}
	}
	list, err := json.Marshal(arns)
	if err != nil {
		return err
	}
	stmts := []string{
		`CREATE OR REPLACE TEMP TABLE retag AS
		SELECT key_hi, key_lo, CAST(to_json(list(s.tags ORDER BY i)) AS VARCHAR) AS fix
		FROM (SELECT key_hi, key_lo, eventTime, r.arn AS rarn, i FROM (
			SELECT key_hi, key_lo, eventTime, unnest(resources) AS r, generate_subscripts(resources, 1) AS i
			FROM event_store
			WHERE eventTime >= ?::TIMESTAMP
			AND list_has_any(list_transform(resources, x -> x.arn), json_transform(?::JSON, '["VARCHAR"]')))) u
		LEFT JOIN (SELECT arn, valid_from, coalesce(valid_to, 'infinity'::TIMESTAMP) AS valid_to, tags FROM tag_sets) s
		ON s.arn = u.rarn AND u.eventTime >= s.valid_from AND u.eventTime < s.valid_to
		GROUP BY key_hi, key_lo`,
		`UPDATE event_store SET resourceTagsFix = t.fix FROM temp.retag t WHERE event_store.key_hi = t.key_hi AND event_store.key_lo = t.key_lo`,
		`DROP TABLE temp.retag`,
	}
	for i, st := range stmts {
		var args []any
		if i == 0 {
			args = []any{from, string(list)}
		}
		if _, err := tx.ExecContext(ctx, st, args...); err != nil {
			return err
		}
	}
	return nil
}
