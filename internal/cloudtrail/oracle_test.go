package cloudtrail

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestAgainstEncodingJSON decodes every corpus event's JSON again with
// encoding/json and checks that the Event agrees with it, field by field.
func TestAgainstEncodingJSON(t *testing.T) {
	table, err := os.ReadFile("testdata/corpus.tsv")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(table), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "\t")
		for i, ev := range Decode(readInput(t, name), Options{}).Events {
			var o obj
			dec := json.NewDecoder(bytes.NewReader(ev.JSON))
			dec.UseNumber()
			if err := dec.Decode(&o); err != nil {
				t.Fatalf("%s event %d: %v", name, i, err)
			}
			if problems := compareEvent(ev, o); len(problems) > 0 {
				t.Errorf("%s event %d (%s):\n\t%s", name, i, ev.EventID.V, strings.Join(problems, "\n\t"))
			}
			n++
		}
	}
	if n < 3900 {
		t.Errorf("compared only %d events", n)
	}
}

type obj = map[string]any

// get looks key up case-insensitively.
func get(o obj, key string) (any, bool) {
	for k, v := range o {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func sub(o obj, key string) obj {
	v, _ := get(o, key)
	m, _ := v.(obj)
	return m
}

// sameText reports whether t holds what encoding/json decoded as v.
func sameText(t Text, v any, present bool) bool {
	if !present || v == nil {
		return !t.OK
	}
	if s, ok := v.(string); ok {
		return t.OK && t.V == s
	}
	if !t.OK {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(t.V))
	dec.UseNumber()
	var w any
	if err := dec.Decode(&w); err != nil {
		return false
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(t.V)); err != nil || compact.String() != t.V {
		return false
	}
	return reflect.DeepEqual(w, v)
}

func compareEvent(ev Event, o obj) []string {
	var bad []string
	text := func(what string, t Text, o obj, key string) {
		v, ok := get(o, key)
		if !sameText(t, v, ok) {
			bad = append(bad, what+": got "+strings.TrimSpace(pretty(t))+", encoding/json has "+pretty(v))
		}
	}
	text("eventVersion", ev.EventVersion, o, "eventVersion")
	text("eventSource", ev.EventSource, o, "eventSource")
	text("awsRegion", ev.AWSRegion, o, "awsRegion")
	text("sourceIPAddress", ev.SourceIPAddress, o, "sourceIPAddress")
	text("userAgent", ev.UserAgent, o, "userAgent")
	text("errorCode", ev.ErrorCode, o, "errorCode")
	text("errorMessage", ev.ErrorMessage, o, "errorMessage")
	text("requestID", ev.RequestID, o, "requestID")
	text("eventID", ev.EventID, o, "eventID")
	text("eventType", ev.EventType, o, "eventType")
	text("recipientAccountId", ev.RecipientAccountID, o, "recipientAccountId")
	text("vpcEndpointId", ev.VPCEndpointID, o, "vpcEndpointId")
	text("vpcEndpointAccountId", ev.VPCEndpointAccountID, o, "vpcEndpointAccountId")
	text("sessionCredentialFromConsole", ev.SessionCredentialFromConsole, o, "sessionCredentialFromConsole")
	if name, ok := get(o, "eventName"); ok {
		if name != ev.EventName {
			bad = append(bad, "eventName: got "+ev.EventName)
		}
	} else if name, _ := get(sub(o, "insightDetails"), "eventName"); name != ev.EventName {
		bad = append(bad, "insight eventName: got "+ev.EventName)
	}
	if s, ok := get(o, "eventTime"); ok {
		if str, ok := s.(string); ok {
			if want, err := time.Parse(time.RFC3339Nano, str); err == nil && !want.Equal(ev.EventTime) {
				bad = append(bad, "eventTime: got "+ev.EventTime.String())
			}
		}
	}
	for _, m := range []struct {
		name string
		got  Map
	}{
		{"requestParameters", ev.RequestParameters}, {"responseElements", ev.ResponseElements},
		{"additionalEventData", ev.AdditionalEventData}, {"serviceEventDetails", ev.ServiceEventDetails},
		{"addendum", ev.Addendum}, {"edgeDeviceDetails", ev.EdgeDeviceDetails}, {"insightDetails", ev.InsightDetails},
	} {
		v, ok := get(o, m.name)
		want, isObj := v.(obj)
		switch {
		case !ok || v == nil:
			if m.got != nil {
				bad = append(bad, m.name+": want nil Map")
			}
		case isObj:
			if m.got == nil || len(m.got) != len(want) {
				bad = append(bad, m.name+": member count differs")
				continue
			}
			for _, p := range m.got {
				w, present := want[p.Key]
				if !sameText(p.Value, w, present) {
					bad = append(bad, m.name+"["+p.Key+"]: got "+pretty(p.Value)+", encoding/json has "+pretty(w))
				}
			}
		}
	}
	for _, b := range []struct {
		name string
		got  Bool
	}{{"readOnly", ev.ReadOnly}, {"managementEvent", ev.ManagementEvent}} {
		v, _ := get(o, b.name)
		want := Bool{}
		switch x := v.(type) {
		case bool:
			want = Bool{V: x, OK: true}
		case string:
			if strings.EqualFold(x, "true") || strings.EqualFold(x, "false") {
				want = Bool{V: strings.EqualFold(x, "true"), OK: true}
			}
		}
		if want != b.got {
			bad = append(bad, b.name+" differs")
		}
	}
	u := sub(o, "userIdentity")
	if (u != nil) != ev.UserIdentity.Present {
		bad = append(bad, "userIdentity presence differs")
	}
	if u != nil {
		text("userIdentity.type", ev.UserIdentity.Type, u, "type")
		text("userIdentity.arn", ev.UserIdentity.ARN, u, "arn")
		text("userIdentity.principalId", ev.UserIdentity.PrincipalID, u, "principalId")
		text("userIdentity.accountId", ev.UserIdentity.AccountID, u, "accountId")
		text("userIdentity.accessKeyId", ev.UserIdentity.AccessKeyID, u, "accessKeyId")
		text("userIdentity.userName", ev.UserIdentity.UserName, u, "userName")
		text("userIdentity.invokedBy", ev.UserIdentity.InvokedBy, u, "invokedBy")
		sc := sub(u, "sessionContext")
		if (sc != nil) != ev.UserIdentity.SessionContext.Present {
			bad = append(bad, "sessionContext presence differs")
		}
		text("mfaAuthenticated", ev.UserIdentity.SessionContext.MFAAuthenticated, sub(sc, "attributes"), "mfaAuthenticated")
		if si := sub(sc, "sessionIssuer"); si != nil {
			if ev.UserIdentity.SessionContext.SessionIssuer == nil {
				bad = append(bad, "sessionIssuer missing")
			} else {
				text("sessionIssuer.arn", ev.UserIdentity.SessionContext.SessionIssuer.ARN, si, "arn")
				text("sessionIssuer.userName", ev.UserIdentity.SessionContext.SessionIssuer.UserName, si, "userName")
			}
		}
	}
	if rs, ok := get(o, "resources"); ok && rs != nil {
		var list []obj // elements that are not objects are skipped
		all, _ := rs.([]any)
		for _, r := range all {
			if r, ok := r.(obj); ok {
				list = append(list, r)
			}
		}
		if len(list) != len(ev.Resources) || ev.Resources == nil {
			bad = append(bad, "resources count differs")
		} else {
			for i, r := range list {
				text("resources.ARN", ev.Resources[i].ARN, r, "ARN")
				text("resources.type", ev.Resources[i].Type, r, "type")
				text("resources.accountId", ev.Resources[i].AccountID, r, "accountId")
			}
		}
	} else if ev.Resources != nil {
		bad = append(bad, "resources: want nil")
	}
	return bad
}

func pretty(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
