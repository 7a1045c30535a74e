package cloudtrail

import (
	"bytes"
	"strconv"
	"strings"
)

// Options tunes Decode. The zero value means defaults.
type Options struct {
	// MaxRecordBytes rejects any single record larger than this many bytes
	// (as it appears in the data). Zero or less means 1 MiB.
	MaxRecordBytes int
	// MaxInflatedBytes stops inflating gzip data at this many bytes, so that
	// a small hostile file cannot exhaust memory: what was inflated is
	// decoded and the rest rejected. Zero or less means 1 GiB.
	MaxInflatedBytes int
}

// DefaultMaxRecordBytes is the record size limit used when
// Options.MaxRecordBytes is zero. CloudTrail itself caps events at 256 KB.
const DefaultMaxRecordBytes = 1 << 20

// DefaultMaxInflatedBytes is the inflated size limit used when
// Options.MaxInflatedBytes is zero.
const DefaultMaxInflatedBytes = 1 << 30

// maxRejectBytes bounds Reject.Record.
const maxRejectBytes = 4 << 10

// maxShapeDepth bounds how deeply containers may wrap records: an SQS body
// holding an SNS notification holding an EventBridge envelope is four.
const maxShapeDepth = 8

// Result is everything Decode found in one file. Records counts every record
// it saw, so Records == len(Events) + len(Rejects) + the sum of Skipped.
type Result struct {
	Events []Event
	// Rejects lists the records that could not be decoded, in file order.
	Rejects []Reject
	// Skipped counts records that are recognisably not CloudTrail events, by
	// kind: "digest", "s3-notification", "sns-notification",
	// "config-rule-invocation", "lake-query-row" and
	// "eventbridge:<detail-type>". Nil when nothing was skipped.
	Skipped map[string]int
	Records int
}

// Reject is one record Decode could not turn into an Event.
type Reject struct {
	// Index is the 0-based position of the record among all records of the
	// file (events, rejects and skipped alike).
	Index int
	// Line is the 1-based line of the (decompressed) data where the record
	// starts, or 0 when unknown.
	Line int
	// Offset is the byte offset in the decompressed data where the record
	// starts. For a record carried inside a JSON string it is the offset of
	// that string.
	Offset int64
	// Reason says what is wrong and, for invalid JSON, where.
	Reason string
	// Record holds at most the first 4 KiB of the record as it appeared.
	Record []byte
}

// Decode decodes one whole file (or stdin) of CloudTrail records. Gzip is
// recognised by its magic bytes; the container shape is recognised from the
// content, value by value, so files may mix shapes:
//
//   - S3 delivery files {"Records":[...]}, compact or pretty;
//   - bare arrays of events, JSON lines, single or concatenated objects;
//   - EventBridge envelopes: those whose detail-type ends in "via CloudTrail"
//     ("AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail",
//     ...) yield their detail; the others are skipped by detail-type;
//   - LookupEvents output {"Events":[{"CloudTrailEvent":"<json>",...}]},
//     CloudTrail Lake GetQueryResults rows with an eventJson column, Lake
//     PutAuditEvents input {"auditEvents":[{"eventData":"<json>"}]}, and any
//     object whose CloudTrailEvent or eventJson member holds the record;
//   - SNS notifications and SQS messages (including Lambda's Records
//     batches), whose Message or body is decoded in turn;
//   - digest files, S3 event notifications, CloudTrail's own SNS delivery
//     notices and Config rule invocations, which are counted in Skipped.
//
// Member names match case-insensitively; unknown members are ignored. Field
// values are taken as written where CloudTrail's own spelling varies:
// booleans may be strings ("true"), eventTime may be RFC 3339 with or without
// zone, a Lake-style "2006-01-02 15:04:05" or an epoch number (see
// parseTime). Logstash exports that replaced eventTime with "@timestamp" are
// accepted: @timestamp is the event time when eventTime is missing or null.
// A CloudTrail Insights record, which has no eventName of its own, takes
// insightDetails.eventName.
//
// A record is rejected, with its position and a reason, when it is not valid
// JSON or not UTF-8, is larger than Options.MaxRecordBytes, or lacks a valid
// eventTime or eventName. A bad record never stops decoding: after invalid
// JSON, decoding resumes at the next line or array element that looks like a
// record; a gzip error, or reaching Options.MaxInflatedBytes, keeps
// everything inflated before it and adds a reject for the rest.
//
// Decode does not retain data and is safe to call concurrently. The Events
// share memory with one Decode-owned copy of the inflated data: Event.JSON,
// Reject.Record and every string are views into it, so a caller that keeps a
// few strings of a large file for long should clone them, and must not write
// into Event.JSON.
func Decode(data []byte, opts Options) Result {
	limit := opts.MaxRecordBytes
	if limit <= 0 {
		limit = DefaultMaxRecordBytes
	}
	var buf []byte
	var gzErr error
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		inflated := opts.MaxInflatedBytes
		if inflated <= 0 {
			inflated = DefaultMaxInflatedBytes
		}
		buf, gzErr = gunzip(data, inflated)
	} else {
		buf = bytes.Clone(data)
	}
	st := &state{max: limit, root: buf, line: 1, eofReject: -1, resyncBudget: 4*len(buf) + 1<<20}
	// Typical records take about 1.1 KB, as much as an Event; for more than
	// a few MB slot grows Events as the records show their real size.
	st.res.Events = make([]Event, 0, min(len(buf)/1100+16, 4096))
	d := decoder{scanner: scanner{b: buf, bad: -1}, st: st, base: -1}
	start := 0
	if bytes.HasPrefix(buf, []byte("\xef\xbb\xbf")) {
		start = 3
	}
	d.stream(start, 0)
	if gzErr != nil {
		st.gzipFailed(gzErr)
	}
	if evs := st.res.Events; cap(evs) > 2*len(evs)+64 {
		st.res.Events = append([]Event(nil), evs...)
	}
	return st.res
}

// state is what the decoders of one Decode call share: the result, the
// allocators and the scratch space. A Decode call is single-threaded.
type state struct {
	res  Result
	max  int
	root []byte
	// line counting over root, forward only: line is the line number at
	// lineOff and lineStart the offset where that line begins.
	lineOff, line, lineStart int
	// eofReject is the index in res.Rejects of a reject caused by the root
	// data ending early, or -1.
	eofReject int
	// resyncBudget is how many more bytes resync may validate.
	resyncBudget int

	kb    [maxKey + 16]byte
	tmp   []byte
	pairs []Pair
	rsrc  []Resource
	sink  Event
	// dirty is set when the slot past the end of res.Events may hold data.
	dirty bool

	arena    arena
	pairSlab slab[Pair]
	rsrcSlab slab[Resource]
	issuers  slab[SessionIssuer]
	webIDs   slab[WebIDFederationData]
	behalfs  slab[OnBehalfOf]
}

// slot returns the zeroed Event just past the end of res.Events, for a
// record starting at root offset pos. An object decodes into it and keeps it
// by extending res.Events by one. When full, res.Events grows to what the
// rest of the data should need at the average record size seen so far, so
// that a file costs one or two copies of its Events whatever its records
// weigh.
func (st *state) slot(pos int) *Event {
	evs := st.res.Events
	if len(evs) == cap(evs) {
		n := len(evs)
		want := n + n/4 + 16
		if n > 0 && pos > 0 {
			per := max(pos/n, 1)
			left := max(len(st.root)-pos, 0) / per
			want = max(want, n+left+left/4+16)
		}
		grown := make([]Event, n, want)
		copy(grown, evs)
		st.res.Events = grown
		evs = grown
		st.dirty = false
	}
	ev := &evs[:len(evs)+1][len(evs)]
	if st.dirty {
		*ev = Event{}
	}
	st.dirty = true
	return ev
}

// lineAt returns the 1-based line and column of root offset off. It counts
// from the offset of the previous call, so a pass over the data costs one
// count of its newlines even when calls step back to a record's start.
func (st *state) lineAt(off int) (line, col int) {
	off = min(off, len(st.root))
	switch {
	case off >= st.lineOff:
		seg := st.root[st.lineOff:off]
		if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
			st.line += n
			st.lineStart = st.lineOff + bytes.LastIndexByte(seg, '\n') + 1
		}
	case off < st.lineStart:
		st.line -= bytes.Count(st.root[off:st.lineStart], []byte{'\n'})
		st.lineStart = bytes.LastIndexByte(st.root[:off], '\n') + 1
	}
	st.lineOff = off
	return st.line, off - st.lineStart + 1
}

// decoder walks one buffer: the root data, or the unescaped content of a
// JSON string that carries records.
type decoder struct {
	scanner
	st *state
	// base is the root offset of the JSON string this buffer was unescaped
	// from, or -1 for the root buffer itself.
	base int
}

// constError is an error that can be a constant.
type constError string

func (e constError) Error() string { return string(e) }

// errStop reports that a syntax error's recovery reached the end of the
// buffer: the reject is already recorded and nothing is left to decode.
const errStop = constError("end of data reached while recovering")

func (d *decoder) child(content []byte, at int) *decoder {
	base := d.base
	if base < 0 {
		base = at
	}
	return &decoder{scanner: scanner{b: content, bad: -1}, st: d.st, base: base}
}

// stream decodes whitespace-separated values from i to the end of the buffer.
func (d *decoder) stream(i, depth int) {
	i = d.ws(i)
	for i < len(d.b) {
		end, err := d.value(i, depth)
		if err != nil {
			if err == errStop {
				return
			}
			i = d.recover(i, err)
			continue
		}
		i = d.ws(end)
	}
}

// value decodes the value at b[i] as a record or a container of records.
func (d *decoder) value(i, depth int) (int, error) {
	if i >= len(d.b) {
		return i, d.errAt(i, "")
	}
	switch d.b[i] {
	case '{':
		return d.object(i, depth, false)
	case '[':
		return d.array(i, depth, anyValues)
	case '"':
		end, _, err := d.str(i)
		if err != nil {
			return end, err
		}
		return end, d.nested(i, depth+1)
	}
	end, _, err := d.skip(i)
	if err != nil {
		return end, err
	}
	d.reject(i, end, "a JSON "+kindOf(d.b[i])+" is not a CloudTrail record")
	return end, nil
}

func kindOf(c byte) string {
	switch c {
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// arrayKind says what the elements of an array are.
type arrayKind uint8

const (
	anyValues    arrayKind = iota // records or containers
	lookupEvents                  // LookupEvents entries, carrying CloudTrailEvent
	lakeRows                      // Lake GetQueryResults rows
)

// array decodes the elements of the array at b[start]. A syntax error
// rejects the element it hit and resumes at the next element that looks like
// a record.
func (d *decoder) array(start, depth int, kind arrayKind) (int, error) {
	if depth > maxShapeDepth {
		return d.tooDeep(start)
	}
	b := d.b
	i := d.ws(start + 1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		elem := i
		var end int
		var err error
		switch {
		case kind == lakeRows:
			end, err = d.row(i, depth+1)
		case kind == lookupEvents && i < len(b) && b[i] == '{':
			end, err = d.object(i, depth+1, true)
		default:
			end, err = d.value(i, depth+1)
		}
		if err == nil {
			i = d.ws(end)
			if i < len(b) && b[i] == ',' {
				i = d.ws(i + 1)
				continue
			}
			if i < len(b) && b[i] == ']' {
				return i + 1, nil
			}
			elem = i
			err = d.errAt(i, "expected ',' or ']' after array element")
		}
		if err == errStop {
			return i, err
		}
		i = d.recover(elem, err)
		if i >= len(b) {
			return i, errStop
		}
	}
}

func (d *decoder) tooDeep(start int) (int, error) {
	end, _, err := d.skip(start)
	if err != nil {
		return end, err
	}
	d.reject(start, end, "records wrapped in more than "+strconv.Itoa(maxShapeDepth)+" containers")
	return end, nil
}

// row decodes one CloudTrail Lake GetQueryResults row: a list of
// single-column objects, one of which may be eventJson.
func (d *decoder) row(start, depth int) (int, error) {
	if start >= len(d.b) || d.b[start] != '[' {
		return d.value(start, depth)
	}
	end, _, err := d.skip(start)
	if err != nil {
		return end, err
	}
	// The row is valid JSON now, so the walk below cannot fail.
	at := -1
	i := d.ws(start + 1)
	for i < end-1 {
		if d.b[i] == '{' {
			j, more, _ := d.open(i)
			for more {
				var k []byte
				k, j, _ = d.name(j)
				if string(k) == "eventjson" && (d.b[j] == '"' || d.b[j] == '{') {
					at = j
				}
				j, _, _ = d.skip(j)
				j, more, _ = d.next(j)
			}
			i = j
		} else {
			i, _, _ = d.skip(i)
		}
		i = d.ws(i)
		if d.b[i] == ',' {
			i = d.ws(i + 1)
		}
	}
	if at < 0 {
		d.skipped("lake-query-row")
		return end, nil
	}
	return end, d.nested(at, depth+1)
}

// nested decodes the record carried by the value at b[at]: the content of a
// JSON string, or the value itself.
func (d *decoder) nested(at, depth int) error {
	if depth > maxShapeDepth {
		_, err := d.tooDeep(at)
		return err
	}
	if d.b[at] != '"' {
		_, err := d.value(at, depth)
		return err
	}
	end, esc, _ := d.str(at)
	if end-at-2 > d.st.max {
		d.reject(at, end, "embedded record is "+strconv.Itoa(end-at-2)+" bytes, over the "+strconv.Itoa(d.st.max)+"-byte limit")
		return nil
	}
	content := d.b[at+1 : end-1]
	if esc {
		content = appendUnescaped(make([]byte, 0, len(content)), content)
	}
	before := d.st.res.Records
	d.child(content, at).stream(0, depth)
	if d.st.res.Records == before {
		d.reject(at, end, "the JSON string that should carry a record is empty")
	}
	return nil
}

// reject records the record b[start:end] as rejected.
func (d *decoder) reject(start, end int, reason string) {
	st := d.st
	off := start
	if d.base >= 0 {
		off = d.base
	}
	line, _ := st.lineAt(off)
	end = min(end, start+maxRejectBytes, len(d.b))
	st.res.Rejects = append(st.res.Rejects, Reject{
		Index:  st.res.Records,
		Line:   line,
		Offset: int64(off),
		Reason: reason,
		Record: d.b[start:end:end],
	})
	st.res.Records++
}

func (d *decoder) skipped(kind string) {
	res := &d.st.res
	if res.Skipped == nil {
		res.Skipped = make(map[string]int)
	}
	res.Skipped[kind]++
	res.Records++
}

// shape collects the members of an object that say what kind of thing it
// is. Positions are indexes of member values in b, -1 when absent.
type shape struct {
	container   bool
	embedAt     int
	detailAt    int
	messageAt   int
	bodyAt      int
	snsAt       int
	detailType  Text
	snsType     Text
	service     Text
	s3Event     Text
	topicARN    bool
	digest      bool
	s3          bool
	s3ObjectKey bool
	configRule  bool
}

// timeField is a decoded eventTime or @timestamp.
type timeField struct {
	t     Time
	state uint8
	raw   string
}

const (
	timeAbsent uint8 = iota // missing or null
	timeOK
	timeBad
)

// object decodes the object at b[start]: an event, or a container or envelope
// whose records it decodes in turn. A LookupEvents entry (lookup) must carry
// its record in CloudTrailEvent: its own EventName and EventTime members do
// not make it one.
func (d *decoder) object(start, depth int, lookup bool) (int, error) {
	if depth > maxShapeDepth {
		return d.tooDeep(start)
	}
	st := d.st
	b := d.b
	// Decode straight into the slot past the end of Events: copying a
	// finished Event costs more than decoding it.
	pos := start
	if d.base >= 0 {
		pos = d.base
	}
	ev := st.slot(pos)
	sh := shape{embedAt: -1, detailAt: -1, messageAt: -1, bodyAt: -1, snsAt: -1}
	var name Text
	nameString := true
	var et, ts timeField
	outerBad := d.bad
	d.bad = -1
	oversize := false

	i, more, err := d.open(start)
	for more {
		var k []byte
		k, i, err = d.name(i)
		if err != nil {
			break
		}
		f := topField(k)
		if oversize && f < fRecords {
			f = fUnknown
		}
		switch f {
		case fEventVersion:
			ev.EventVersion, i, err = d.text(i)
		case fUserIdentity:
			ev.UserIdentity = UserIdentity{}
			i, err = d.identity(i, &ev.UserIdentity)
		case fEventTime:
			et, i, err = d.timeField(i)
		case fTimestamp:
			ts, i, err = d.timeField(i)
		case fEventSource:
			ev.EventSource, i, err = d.text(i)
		case fEventName:
			nameString = b[i] == '"' || b[i] == 'n'
			name, i, err = d.text(i)
		case fAWSRegion:
			ev.AWSRegion, i, err = d.text(i)
		case fSourceIPAddress:
			ev.SourceIPAddress, i, err = d.text(i)
		case fUserAgent:
			ev.UserAgent, i, err = d.text(i)
		case fErrorCode:
			ev.ErrorCode, i, err = d.text(i)
		case fErrorMessage:
			ev.ErrorMessage, i, err = d.text(i)
		case fRequestParameters:
			ev.RequestParameters, i, err = d.mapOf(i)
		case fResponseElements:
			ev.ResponseElements, i, err = d.mapOf(i)
		case fAdditionalEventData:
			ev.AdditionalEventData, i, err = d.mapOf(i)
		case fServiceEventDetails:
			ev.ServiceEventDetails, i, err = d.mapOf(i)
		case fAddendum:
			ev.Addendum, i, err = d.mapOf(i)
		case fEdgeDeviceDetails:
			ev.EdgeDeviceDetails, i, err = d.mapOf(i)
		case fInsightDetails:
			ev.InsightDetails, i, err = d.mapOf(i)
		case fRequestID:
			ev.RequestID, i, err = d.text(i)
		case fEventID:
			ev.EventID, i, err = d.text(i)
		case fReadOnly:
			ev.ReadOnly, i, err = d.boolean(i)
		case fResources:
			ev.Resources, i, err = d.resources(i)
		case fEventType:
			ev.EventType, i, err = d.text(i)
		case fAPIVersion:
			ev.APIVersion, i, err = d.text(i)
		case fManagementEvent:
			ev.ManagementEvent, i, err = d.boolean(i)
		case fRecipientAccountID:
			ev.RecipientAccountID, i, err = d.text(i)
		case fSharedEventID:
			ev.SharedEventID, i, err = d.text(i)
		case fAnnotation:
			ev.Annotation, i, err = d.text(i)
		case fVPCEndpointID:
			ev.VPCEndpointID, i, err = d.text(i)
		case fVPCEndpointAccountID:
			ev.VPCEndpointAccountID, i, err = d.text(i)
		case fEventCategory:
			ev.EventCategory, i, err = d.text(i)
		case fTLSDetails:
			ev.TLSDetails = TLSDetails{}
			i, err = d.tls(i, &ev.TLSDetails)
		case fSessionCredentialFromConsole:
			ev.SessionCredentialFromConsole, i, err = d.text(i)

		case fRecords, fEvents, fAuditEvents, fQueryResultRows:
			if b[i] == '[' {
				// The elements fill the slot and those after it; whatever
				// else this object holds is of no use any more.
				sh.container = true
				ev = &st.sink
				kind := anyValues
				switch f {
				case fEvents:
					kind = lookupEvents
				case fQueryResultRows:
					kind = lakeRows
				}
				i, err = d.array(i, depth, kind)
			} else {
				i, _, err = d.skip(i)
			}
		case fEmbedded:
			if b[i] == '"' || b[i] == '{' {
				sh.embedAt = i
			}
			i, _, err = d.skip(i)
		case fEventData:
			if b[i] == '"' {
				sh.embedAt = i
			}
			i, _, err = d.skip(i)
		case fDetailType:
			sh.detailType, i, err = d.text(i)
		case fDetail:
			sh.detailAt = i
			i, _, err = d.skip(i)
		case fType:
			sh.snsType, i, err = d.text(i)
		case fMessage:
			sh.messageAt = i
			i, _, err = d.skip(i)
		case fBody:
			sh.bodyAt = i
			i, _, err = d.skip(i)
		case fSns:
			sh.snsAt = i
			i, _, err = d.skip(i)
		case fTopicARN:
			sh.topicARN = true
			i, _, err = d.skip(i)
		case fDigest:
			sh.digest = true
			i, _, err = d.skip(i)
		case fS3:
			sh.s3 = b[i] == '{'
			i, _, err = d.skip(i)
		case fS3ObjectKey:
			sh.s3ObjectKey = true
			i, _, err = d.skip(i)
		case fService:
			sh.service, i, err = d.text(i)
		case fEvent:
			sh.s3Event, i, err = d.text(i)
		case fConfigRule:
			sh.configRule = true
			i, _, err = d.skip(i)
		default:
			i, _, err = d.skip(i)
		}
		if err != nil {
			break
		}
		i, more, err = d.next(i)
		if i-start > st.max {
			oversize = true
		}
	}
	bad := d.bad
	if outerBad >= 0 {
		d.bad = outerBad
	}
	if err != nil {
		return i, err
	}
	end := i

	switch {
	case sh.container:
		return end, nil
	case sh.embedAt >= 0:
		return end, d.nested(sh.embedAt, depth+1)
	case lookup:
		d.reject(start, end, "LookupEvents entry without CloudTrailEvent")
		return end, nil
	case sh.detailType.OK:
		dt := sh.detailType.V
		if !strings.HasSuffix(dt, "via CloudTrail") {
			d.skipped("eventbridge:" + dt)
			return end, nil
		}
		if sh.detailAt < 0 || b[sh.detailAt] != '{' {
			d.reject(start, end, "EventBridge event of type "+strconv.Quote(dt)+" has no detail object")
			return end, nil
		}
		_, err := d.object(sh.detailAt, depth+1, false)
		return end, err
	case isSNSType(sh.snsType) && (sh.topicARN || sh.messageAt >= 0):
		if at := sh.messageAt; at >= 0 && b[at] == '"' && d.carriesJSON(at) {
			return end, d.nested(at, depth+1)
		}
		d.skipped("sns-notification")
		return end, nil
	case sh.s3ObjectKey:
		d.skipped("sns-notification")
		return end, nil
	case sh.digest:
		d.skipped("digest")
		return end, nil
	case sh.s3 && ev.EventSource.V == "aws:s3",
		sh.service.V == "Amazon S3" && strings.HasPrefix(sh.s3Event.V, "s3:"):
		d.skipped("s3-notification")
		return end, nil
	case sh.configRule:
		d.skipped("config-rule-invocation")
		return end, nil
	case sh.bodyAt >= 0 && ev.EventSource.V == "aws:sqs":
		return end, d.nested(sh.bodyAt, depth+1)
	case sh.snsAt >= 0 && b[sh.snsAt] == '{' && strings.EqualFold(ev.EventSource.V, "aws:sns"):
		_, err := d.object(sh.snsAt, depth+1, false)
		return end, err
	}

	if !name.OK {
		// CloudTrail Insights records name the API they are about only
		// inside insightDetails.
		name = ev.InsightDetails.get("eventName")
		nameString = true
	}
	var reason string
	t := et
	if t.state == timeAbsent && ts.state == timeOK {
		t = ts
	}
	switch {
	case bad >= 0:
		reason = "invalid UTF-8 at " + d.where(bad)
	case end-start > st.max:
		reason = "record is " + strconv.Itoa(end-start) + " bytes, over the " + strconv.Itoa(st.max) + "-byte limit"
	case !name.OK && t.state == timeAbsent:
		reason = "no eventTime and no eventName: not a CloudTrail record"
	case !name.OK:
		reason = "no eventName"
	case !nameString:
		reason = "eventName is not a string"
	case name.V == "":
		reason = "eventName is empty"
	case t.state == timeAbsent:
		reason = "no eventTime"
	case t.state == timeBad:
		reason = "invalid eventTime " + clip(t.raw)
	}
	if reason != "" {
		d.reject(start, end, reason)
		return end, nil
	}
	ev.EventName = name.V
	ev.EventTime = t.t.V
	ev.JSON = b[start:end:end]
	st.res.Events = st.res.Events[:len(st.res.Events)+1]
	st.dirty = false // the next slot has never been handed out
	st.res.Records++
	return end, nil
}

func isSNSType(t Text) bool {
	switch t.V {
	case "Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation":
		return t.OK
	}
	return false
}

// carriesJSON reports whether the string at b[at] holds an object or array.
func (d *decoder) carriesJSON(at int) bool {
	p, _, err := d.strBytes(at)
	if err != nil {
		return false
	}
	for _, c := range p {
		if !isSpace(c) {
			return c == '{' || c == '['
		}
	}
	return false
}

// where describes offset off for a reject reason.
func (d *decoder) where(off int) string {
	if d.base >= 0 {
		return "offset " + strconv.Itoa(off) + " of the JSON string"
	}
	line, col := d.st.lineAt(off)
	return "line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col)
}

// clip quotes s for a reason, cut to 64 bytes.
func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}
