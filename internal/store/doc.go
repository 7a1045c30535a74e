package store

import (
	"strconv"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/jsontext"
	"github.com/trailbook/trailbook/internal/tags"
)

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
//
// x adds what the store derives: each resource's tags at the event's time,
// and the ARNs the event touched.
func appendDoc(s []byte, ev *cloudtrail.Event, x docExtra) []byte {
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
			if x.tagsAt != nil && r.ARN.OK {
				if ts, ok := x.tagsAt(r.ARN.V, ev.EventTime); ok {
					w.key("tags")
					w.s = appendTagMap(w.s, ts)
				}
			}
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
	w.text("vpcEndpointAccountId", ev.VPCEndpointAccountID)
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
	if len(x.touched) > 0 {
		w.key("touchedArns")
		w.s = append(w.s, '[')
		for i, a := range x.touched {
			if i > 0 {
				w.s = append(w.s, ',')
			}
			w.s = jsontext.AppendString(w.s, a)
		}
		w.s = append(w.s, ']')
	}
	return append(w.s, '}')
}

// docExtra is what appendDoc adds to the record's own fields. The zero
// value adds nothing.
type docExtra struct {
	touched []string
	tagsAt  func(arn string, t time.Time) ([]tags.Tag, bool)
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
	w.s = jsontext.AppendString(w.s, v)
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
		s = jsontext.AppendString(s, p.Key)
		s = append(s, ':')
		switch {
		case !p.Value.OK:
			s = append(s, "null"...)
		default:
			// Non-string members are already JSON text; a string member
			// is re-quoted. The cast turns both back into VARCHAR.
			s = jsontext.AppendString(s, p.Value.V)
		}
	}
	return append(s, '}')
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}
