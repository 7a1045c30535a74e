package cloudtrail

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// field names a top-level member the decoder knows: first the members of a
// CloudTrail record, then (from fRecords on) the members that reveal a
// container, an envelope or a non-event.
type field uint8

const (
	fUnknown field = iota
	fEventVersion
	fUserIdentity
	fEventTime
	fEventSource
	fEventName
	fAWSRegion
	fSourceIPAddress
	fUserAgent
	fErrorCode
	fErrorMessage
	fRequestParameters
	fResponseElements
	fAdditionalEventData
	fServiceEventDetails
	fAddendum
	fEdgeDeviceDetails
	fInsightDetails
	fRequestID
	fEventID
	fReadOnly
	fResources
	fEventType
	fAPIVersion
	fManagementEvent
	fRecipientAccountID
	fSharedEventID
	fAnnotation
	fVPCEndpointID
	fVPCEndpointAccountID
	fEventCategory
	fTLSDetails
	fSessionCredentialFromConsole
	fTimestamp

	fRecords
	fEvents
	fAuditEvents
	fQueryResultRows
	fEmbedded
	fEventData
	fDetailType
	fDetail
	fType
	fMessage
	fBody
	fSns
	fTopicARN
	fDigest
	fS3
	fS3ObjectKey
	fService
	fEvent
	fConfigRule
)

// topField maps a lower-cased member name of a record-level object.
func topField(k []byte) field {
	switch string(k) {
	case "eventversion":
		return fEventVersion
	case "useridentity":
		return fUserIdentity
	case "eventtime":
		return fEventTime
	case "eventsource":
		return fEventSource
	case "eventname":
		return fEventName
	case "awsregion":
		return fAWSRegion
	case "sourceipaddress":
		return fSourceIPAddress
	case "useragent":
		return fUserAgent
	case "errorcode":
		return fErrorCode
	case "errormessage":
		return fErrorMessage
	case "requestparameters":
		return fRequestParameters
	case "responseelements":
		return fResponseElements
	case "additionaleventdata":
		return fAdditionalEventData
	case "serviceeventdetails":
		return fServiceEventDetails
	case "addendum":
		return fAddendum
	case "edgedevicedetails":
		return fEdgeDeviceDetails
	case "insightdetails":
		return fInsightDetails
	case "requestid":
		return fRequestID
	case "eventid":
		return fEventID
	case "readonly":
		return fReadOnly
	case "resources":
		return fResources
	case "eventtype":
		return fEventType
	case "apiversion":
		return fAPIVersion
	case "managementevent":
		return fManagementEvent
	case "recipientaccountid":
		return fRecipientAccountID
	case "sharedeventid":
		return fSharedEventID
	case "annotation":
		return fAnnotation
	case "vpcendpointid":
		return fVPCEndpointID
	case "vpcendpointaccountid":
		return fVPCEndpointAccountID
	case "eventcategory":
		return fEventCategory
	case "tlsdetails":
		return fTLSDetails
	case "sessioncredentialfromconsole":
		return fSessionCredentialFromConsole
	case "@timestamp":
		return fTimestamp
	case "records":
		return fRecords
	case "events":
		return fEvents
	case "auditevents":
		return fAuditEvents
	case "queryresultrows", "queryresults":
		return fQueryResultRows
	case "cloudtrailevent", "eventjson":
		return fEmbedded
	case "eventdata":
		return fEventData
	case "detail-type":
		return fDetailType
	case "detail":
		return fDetail
	case "type":
		return fType
	case "message":
		return fMessage
	case "body":
		return fBody
	case "sns":
		return fSns
	case "topicarn":
		return fTopicARN
	case "digeststarttime", "digestendtime", "digests3object", "digestpublickeyfingerprint":
		return fDigest
	case "s3":
		return fS3
	case "s3objectkey":
		return fS3ObjectKey
	case "service":
		return fService
	case "event":
		return fEvent
	case "invokingevent":
		return fConfigRule
	}
	return fUnknown
}

// strongField reports whether a member is distinctive enough of a record or
// container for resync to resume at an object holding it. Generic names
// such as "type" or "arn" also occur in a record's nested objects.
func strongField(f field) bool {
	switch f {
	case fEventVersion, fUserIdentity, fEventTime, fEventSource, fEventName, fEventID,
		fTimestamp, fRecords, fEvents, fAuditEvents, fQueryResultRows, fEmbedded,
		fDetailType, fTopicARN, fDigest, fS3ObjectKey, fConfigRule:
		return true
	}
	return false
}

// members calls member for each member of the object at b[i], which must
// be '{', with the member's folded key (see name) and the index of its
// value; member returns the index past the value. members returns the
// index past the object, or the first error.
func (d *decoder) members(i int, member func(k []byte, i int) (int, error)) (int, error) {
	i, more, err := d.open(i)
	for more {
		var k []byte
		if k, i, err = d.name(i); err != nil {
			return i, err
		}
		if i, err = member(k, i); err != nil {
			return i, err
		}
		if i, more, err = d.next(i); err != nil {
			return i, err
		}
	}
	return i, nil
}

// open starts the object at b[i], which must be '{'. It returns the index of
// the first member's key, or more == false and the index past an empty
// object.
func (d *decoder) open(i int) (int, bool, error) {
	j := d.ws(i + 1)
	if j < len(d.b) && d.b[j] == '}' {
		return j + 1, false, nil
	}
	return j, true, nil
}

// next moves past the member whose value ended at i: more == true and the
// index of the next key, or more == false and the index past '}'.
func (d *decoder) next(i int) (int, bool, error) {
	j := d.ws(i)
	if j < len(d.b) {
		switch d.b[j] {
		case ',':
			return d.ws(j + 1), true, nil
		case '}':
			return j + 1, false, nil
		}
	}
	return j, false, d.errAt(j, "expected ',' or '}' after object member")
}

// name reads the member key at b[i] and the colon after it. It returns the
// key folded to ASCII lower case (empty when too long to be one the decoder
// knows; valid until the next call) and the index of the member's value.
func (d *decoder) name(i int) ([]byte, int, error) {
	b := d.b
	if i >= len(b) || b[i] != '"' {
		return nil, i, d.errAt(i, "expected a string for the object key")
	}
	// Fast path: a short ASCII key without escapes, scanned and folded eight
	// bytes at a time (the word scan of str, plus an add that sets 0x20 in
	// each upper-case letter).
	kb := d.st.kb[:]
	n := 0
	j := i + 1
	for j+8 <= len(b) && n <= maxKey {
		x := binary.LittleEndian.Uint64(b[j:])
		q := x ^ (ones * '"')
		bs := x ^ (ones * '\\')
		m := (((x - ones*0x20) &^ x) | ((q - ones) &^ q) | ((bs - ones) &^ bs) | x) & highs
		upper := ((x + ones*(0x80-'A')) &^ (x + ones*(0x80-'Z'-1))) & highs
		binary.LittleEndian.PutUint64(kb[n:], x|upper>>2)
		if m == 0 {
			n += 8
			j += 8
			continue
		}
		k := bits.TrailingZeros64(m) >> 3
		if b[j+k] != '"' {
			return d.nameSlow(i)
		}
		n += k
		j += k
		err := d.colon(&j)
		return kb[:n], j, err
	}
	for ; j < len(b) && n <= maxKey; j++ {
		c := b[j]
		if c == '"' {
			err := d.colon(&j)
			return kb[:n], j, err
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		kb[n] = c
		n++
	}
	return d.nameSlow(i)
}

// maxKey is the longest key name folds; longer keys are none the decoder
// knows.
const maxKey = 40

// colon moves *j from a key's closing quote past the colon and whitespace
// to the member's value.
func (d *decoder) colon(j *int) error {
	b := d.b
	k := *j + 1
	if k < len(b) && b[k] == ':' {
		k++
	} else {
		k = d.ws(k)
		if k >= len(b) || b[k] != ':' {
			*j = k
			return d.errAt(k, "expected ':' after object key")
		}
		k++
	}
	if k < len(b) && b[k] == '"' {
		*j = k
		return nil
	}
	k = d.ws(k)
	*j = k
	if k >= len(b) {
		return d.errAt(k, "")
	}
	return nil
}

// nameSlow is name for keys with escapes, non-ASCII bytes or errors.
func (d *decoder) nameSlow(i int) ([]byte, int, error) {
	b := d.b
	end, esc, err := d.str(i)
	if err != nil {
		return nil, end, err
	}
	raw := b[i+1 : end-1]
	if esc {
		d.st.tmp = appendUnescaped(d.st.tmp[:0], raw)
		raw = d.st.tmp
	}
	kb := d.st.kb[:0]
	if len(raw) <= maxKey {
		for _, c := range raw {
			if c-'A' < 26 {
				c += 'a' - 'A'
			}
			kb = append(kb, c)
		}
	}
	j := end - 1
	err = d.colon(&j)
	return kb, j, err
}

// strBytes returns the content of the string at b[i], unescaped: a view into
// b when it holds no escapes, else into the arena.
func (d *decoder) strBytes(i int) ([]byte, int, error) {
	end, esc, err := d.str(i)
	if err != nil {
		return nil, end, err
	}
	raw := d.b[i+1 : end-1 : end-1]
	if !esc {
		return raw, end, nil
	}
	a := &d.st.arena
	mark := a.reserve(len(raw)) // unescaping never lengthens
	a.buf = appendUnescaped(a.buf, raw)
	return a.buf[mark:len(a.buf):len(a.buf)], end, nil
}

func (d *decoder) strValue(i int) (string, int, error) {
	p, end, err := d.strBytes(i)
	return view(p), end, err
}

// appendUnescaped appends the unescaped form of raw, the validated content of
// a JSON string, to dst. Lone surrogates become U+FFFD.
func appendUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i+2:])
			i += 6
			if r >= 0xd800 && r < 0xdc00 && i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
				if r2 := hex4(raw[i+2:]); r2 >= 0xdc00 && r2 < 0xe000 {
					r = (r-0xd800)<<10 | (r2 - 0xdc00) + 0x10000
					i += 6
				}
			}
			if r >= 0xd800 && r < 0xe000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(p []byte) rune {
	return rune(unhex(p[0])<<12 | unhex(p[1])<<8 | unhex(p[2])<<4 | unhex(p[3]))
}

// text decodes any value as a Text: strings unquoted, null as not OK, other
// scalars as written and objects or arrays as compact JSON.
func (d *decoder) text(i int) (Text, int, error) {
	b := d.b
	switch c := b[i]; {
	case c == '"':
		s, end, err := d.strValue(i)
		return Text{V: s, OK: true}, end, err
	case c == 'n':
		end, err := d.lit(i)
		return Text{}, end, err
	case c == 't' || c == 'f':
		end, err := d.lit(i)
		return Text{V: view(b[i:end]), OK: true}, end, err
	case c == '{' || c == '[':
		end, spaced, err := d.skip(i)
		if err != nil {
			return Text{}, end, err
		}
		return Text{V: d.compact(i, end, spaced), OK: true}, end, nil
	case c == '-' || c >= '0' && c <= '9':
		end, err := d.num(i)
		return Text{V: view(b[i:end]), OK: true}, end, err
	}
	return Text{}, i, d.errAt(i, "invalid character, expected a value")
}

// compact returns b[i:end], a valid value, as compact JSON text.
func (d *decoder) compact(i, end int, spaced bool) string {
	if !spaced {
		return view(d.b[i:end])
	}
	a := &d.st.arena
	mark := a.reserve(end - i)
	src := d.b[i:end]
	for k := 0; k < len(src); {
		c := src[k]
		switch {
		case c == '"':
			j := k + 1
			for src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			a.buf = append(a.buf, src[k:j+1]...)
			k = j + 1
		case isSpace(c):
			k++
		default:
			j := k + 1
			for j < len(src) && src[j] != '"' && !isSpace(src[j]) {
				j++
			}
			a.buf = append(a.buf, src[k:j]...)
			k = j
		}
	}
	return a.done(mark)
}

// boolean decodes true, false, "true" and "false" (any case); anything else
// is not OK.
func (d *decoder) boolean(i int) (Bool, int, error) {
	switch d.b[i] {
	case 't':
		end, err := d.lit(i)
		return Bool{V: true, OK: true}, end, err
	case 'f':
		end, err := d.lit(i)
		return Bool{OK: true}, end, err
	case '"':
		s, end, err := d.strValue(i)
		switch {
		case strings.EqualFold(s, "true"):
			return Bool{V: true, OK: true}, end, err
		case strings.EqualFold(s, "false"):
			return Bool{OK: true}, end, err
		}
		return Bool{}, end, err
	}
	end, _, err := d.skip(i)
	return Bool{}, end, err
}

// timeField decodes eventTime or @timestamp: a string parseTime accepts or
// an epoch number.
func (d *decoder) timeField(i int) (timeField, int, error) {
	b := d.b
	switch c := b[i]; {
	case c == '"':
		s, end, err := d.strValue(i)
		if t, ok := parseTime(s); ok {
			return timeField{t: Time{V: t, OK: true}, state: timeOK}, end, err
		}
		return timeField{state: timeBad, raw: s}, end, err
	case c == 'n':
		end, err := d.lit(i)
		return timeField{}, end, err
	case c == '-' || c >= '0' && c <= '9':
		end, err := d.num(i)
		if err != nil {
			return timeField{}, end, err
		}
		s := view(b[i:end])
		if t, ok := parseTime(s); ok {
			return timeField{t: Time{V: t, OK: true}, state: timeOK}, end, nil
		}
		return timeField{state: timeBad, raw: s}, end, nil
	}
	end, spaced, err := d.skip(i)
	if err != nil {
		return timeField{}, end, err
	}
	return timeField{state: timeBad, raw: d.compact(i, end, spaced)}, end, nil
}

// timeValue decodes a nested timestamp such as creationDate; anything
// unparseable is simply not OK.
func (d *decoder) timeValue(i int) (Time, int, error) {
	tf, end, err := d.timeField(i)
	return tf.t, end, err
}

// mapOf decodes an object into a Map of its top-level members. A string
// holding a JSON object is decoded as that object; null and any other value
// give a nil Map.
func (d *decoder) mapOf(i int) (Map, int, error) {
	switch d.b[i] {
	case '{':
	case '"':
		var m Map
		end, err := d.inString(i, func(c *decoder, j int) (int, error) {
			var err error
			m, j, err = c.mapOf(j)
			return j, err
		})
		return m, end, err
	default:
		end, _, err := d.skip(i)
		return nil, end, err
	}
	pairs := d.st.pairs[:0]
	i, more, err := d.open(i)
	for more {
		if i >= len(d.b) || d.b[i] != '"' {
			return nil, i, d.errAt(i, "expected a string for the object key")
		}
		var k string
		k, i, err = d.strValue(i)
		if err != nil {
			return nil, i, err
		}
		i = d.ws(i)
		if i >= len(d.b) || d.b[i] != ':' {
			return nil, i, d.errAt(i, "expected ':' after object key")
		}
		if i = d.ws(i + 1); i >= len(d.b) {
			return nil, i, d.errAt(i, "")
		}
		var v Text
		if v, i, err = d.text(i); err != nil {
			return nil, i, err
		}
		pairs = append(pairs, Pair{Key: k, Value: v})
		if i, more, err = d.next(i); err != nil {
			return nil, i, err
		}
	}
	d.st.pairs = pairs[:0]
	if len(pairs) == 0 {
		return Map{}, i, nil
	}
	m := d.st.pairSlab.take(len(pairs))
	copy(m, pairs)
	return m, i, nil
}

// get returns the value of the last member named key, matched
// case-insensitively (the last, as for record members); not OK when absent
// or null.
func (m Map) get(key string) Text {
	var v Text
	for _, p := range m {
		if strings.EqualFold(p.Key, key) {
			v = p.Value
		}
	}
	return v
}

// inString decodes the JSON object carried by the string at b[i] with fn,
// for exporters that write nested objects as JSON text. Content that is not
// one valid object is ignored.
func (d *decoder) inString(i int, fn func(c *decoder, j int) (int, error)) (int, error) {
	p, end, err := d.strBytes(i)
	if err != nil {
		return end, err
	}
	c := d.child(p, i)
	j := c.ws(0)
	if j >= len(p) || p[j] != '{' {
		return end, nil
	}
	if _, _, err := c.skip(j); err != nil {
		return end, nil
	}
	_, _ = fn(c, j)
	return end, nil
}

// identity decodes userIdentity into u; null or a non-object leaves u absent.
func (d *decoder) identity(i int, u *UserIdentity) (int, error) {
	switch d.b[i] {
	case '{':
	case '"':
		return d.inString(i, func(c *decoder, j int) (int, error) { return c.identity(j, u) })
	default:
		end, _, err := d.skip(i)
		return end, err
	}
	u.Present = true
	return d.members(i, func(k []byte, i int) (int, error) {
		var err error
		switch string(k) {
		case "type":
			u.Type, i, err = d.text(i)
		case "principalid":
			u.PrincipalID, i, err = d.text(i)
		case "arn":
			u.ARN, i, err = d.text(i)
		case "accountid":
			u.AccountID, i, err = d.text(i)
		case "accesskeyid":
			u.AccessKeyID, i, err = d.text(i)
		case "username":
			u.UserName, i, err = d.text(i)
		case "invokedby":
			u.InvokedBy, i, err = d.text(i)
		case "identityprovider":
			u.IdentityProvider, i, err = d.text(i)
		case "credentialid":
			u.CredentialID, i, err = d.text(i)
		case "sessioncontext":
			i, err = d.session(i, &u.SessionContext)
		case "onbehalfof":
			if d.b[i] == '{' {
				u.OnBehalfOf = d.st.behalfs.one()
				i, err = d.onBehalfOf(i, u.OnBehalfOf)
			} else {
				i, _, err = d.skip(i)
			}
		default:
			i, _, err = d.skip(i)
		}
		return i, err
	})
}

func (d *decoder) session(i int, s *SessionContext) (int, error) {
	if d.b[i] != '{' {
		end, _, err := d.skip(i)
		return end, err
	}
	s.Present = true
	return d.members(i, func(k []byte, i int) (int, error) {
		var err error
		switch string(k) {
		case "attributes":
			i, err = d.attributes(i, s)
		case "sessionissuer":
			if d.b[i] == '{' {
				s.SessionIssuer = d.st.issuers.one()
				i, err = d.issuer(i, s.SessionIssuer)
			} else {
				i, _, err = d.skip(i)
			}
		case "webidfederationdata":
			if d.b[i] == '{' {
				s.WebIDFederationData = d.st.webIDs.one()
				i, err = d.webID(i, s.WebIDFederationData)
			} else {
				i, _, err = d.skip(i)
			}
		case "sourceidentity":
			s.SourceIdentity, i, err = d.text(i)
		case "ec2roledelivery":
			s.EC2RoleDelivery, i, err = d.text(i)
		case "ec2issuedinvpc":
			s.EC2IssuedInVPC, i, err = d.text(i)
		default:
			i, _, err = d.skip(i)
		}
		return i, err
	})
}

func (d *decoder) attributes(i int, s *SessionContext) (int, error) {
	if d.b[i] != '{' {
		end, _, err := d.skip(i)
		return end, err
	}
	return d.members(i, func(k []byte, i int) (int, error) {
		var err error
		switch string(k) {
		case "creationdate":
			s.CreationDate, i, err = d.timeValue(i)
		case "mfaauthenticated":
			s.MFAAuthenticated, i, err = d.text(i)
		default:
			i, _, err = d.skip(i)
		}
		return i, err
	})
}

func (d *decoder) issuer(i int, s *SessionIssuer) (int, error) {
	return d.members(i, func(k []byte, i int) (int, error) {
		var err error
		switch string(k) {
		case "type":
			s.Type, i, err = d.text(i)
		case "principalid":
			s.PrincipalID, i, err = d.text(i)
		case "arn":
			s.ARN, i, err = d.text(i)
		case "accountid":
			s.AccountID, i, err = d.text(i)
		case "username":
			s.UserName, i, err = d.text(i)
		default:
			i, _, err = d.skip(i)
		}
		return i, err
	})
}

func (d *decoder) webID(i int, w *WebIDFederationData) (int, error) {
	return d.members(i, func(k []byte, i int) (int, error) {
		var err error
		switch string(k) {
		case "federatedprovider":
			w.FederatedProvider, i, err = d.text(i)
		case "attributes":
			w.Attributes, i, err = d.mapOf(i)
		default:
			i, _, err = d.skip(i)
		}
		return i, err
	})
}

func (d *decoder) onBehalfOf(i int, o *OnBehalfOf) (int, error) {
	return d.members(i, func(k []byte, i int) (int, error) {
		var err error
		switch string(k) {
		case "userid":
			o.UserID, i, err = d.text(i)
		case "identitystorearn":
			o.IdentityStoreARN, i, err = d.text(i)
		default:
			i, _, err = d.skip(i)
		}
		return i, err
	})
}

// resources decodes the resources list; elements that are not objects are
// ignored, null gives nil.
func (d *decoder) resources(i int) ([]Resource, int, error) {
	b := d.b
	if b[i] != '[' {
		end, _, err := d.skip(i)
		return nil, end, err
	}
	list := d.st.rsrc[:0]
	i = d.ws(i + 1)
	if i < len(b) && b[i] == ']' {
		return []Resource{}, i + 1, nil
	}
	for {
		if i >= len(b) {
			return nil, i, d.errAt(i, "")
		}
		var err error
		if b[i] == '{' {
			var r Resource
			if i, err = d.resource(i, &r); err != nil {
				return nil, i, err
			}
			list = append(list, r)
		} else if i, _, err = d.skip(i); err != nil {
			return nil, i, err
		}
		i = d.ws(i)
		if i < len(b) && b[i] == ',' {
			i = d.ws(i + 1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			i++
			break
		}
		return nil, i, d.errAt(i, "expected ',' or ']' after array element")
	}
	d.st.rsrc = list[:0]
	if len(list) == 0 {
		return []Resource{}, i, nil
	}
	out := d.st.rsrcSlab.take(len(list))
	copy(out, list)
	return out, i, nil
}

func (d *decoder) resource(i int, r *Resource) (int, error) {
	return d.members(i, func(k []byte, i int) (int, error) {
		var err error
		switch string(k) {
		case "accountid":
			r.AccountID, i, err = d.text(i)
		case "type":
			r.Type, i, err = d.text(i)
		case "arn":
			r.ARN, i, err = d.text(i)
		case "arnprefix":
			r.ARNPrefix, i, err = d.text(i)
		default:
			i, _, err = d.skip(i)
		}
		return i, err
	})
}

func (d *decoder) tls(i int, t *TLSDetails) (int, error) {
	if d.b[i] != '{' {
		end, _, err := d.skip(i)
		return end, err
	}
	t.Present = true
	return d.members(i, func(k []byte, i int) (int, error) {
		var err error
		switch string(k) {
		case "tlsversion":
			t.TLSVersion, i, err = d.text(i)
		case "ciphersuite":
			t.CipherSuite, i, err = d.text(i)
		case "clientprovidedhostheader":
			t.ClientProvidedHostHeader, i, err = d.text(i)
		default:
			i, _, err = d.skip(i)
		}
		return i, err
	})
}
