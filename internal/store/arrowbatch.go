package store

import (
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/tags"
)

// The Arrow form of the rows a Writer inserts. Its fields are the columns
// of event_store, named and typed as there (decodedColumnsDDL), so that
// DuckDB's cast from it is the identity; a row is built straight from a
// decoded event, with no JSON in between.
//
// A batch is built in two parts: the event's own columns when its events
// are staged, and resources (whose tags depend on every change the Commit
// adds) at the Commit.

// Field positions in eventSchema.
const (
	colResources = 16 // resources, built at the Commit
	colCount     = 36
)

func textField(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true}
}

func mapField(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String), Nullable: true}
}

func timeField(name string) arrow.Field {
	return arrow.Field{Name: name, Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true}
}

func boolField(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.FixedWidthTypes.Boolean, Nullable: true}
}

func structField(name string, fields ...arrow.Field) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.StructOf(fields...), Nullable: true}
}

func textFields(names ...string) []arrow.Field {
	fs := make([]arrow.Field, len(names))
	for i, n := range names {
		fs[i] = textField(n)
	}
	return fs
}

// resourcesType is the Arrow type of the resources column.
func resourcesType() arrow.DataType {
	return arrow.ListOf(arrow.StructOf(append(textFields("accountId", "type", "arn", "arnPrefix"), mapField("tags"))...))
}

// eventSchema is the Arrow schema of event_store's rows.
func eventSchema() *arrow.Schema {
	fs := []arrow.Field{
		textField("eventVersion"),
		structField("userIdentity", append(textFields("type", "principalId", "arn", "accountId", "accessKeyId", "userName",
			"invokedBy", "identityProvider", "credentialId"),
			structField("sessionContext",
				structField("attributes", timeField("creationDate"), textField("mfaAuthenticated")),
				structField("sessionIssuer", textFields("type", "principalId", "arn", "accountId", "userName")...),
				structField("webIdFederationData", textField("federatedProvider"), mapField("attributes")),
				textField("sourceIdentity"), textField("ec2RoleDelivery"), textField("ec2IssuedInVPC")),
			structField("onBehalfOf", textFields("userId", "identityStoreArn")...))...),
		timeField("eventTime"),
		textField("eventSource"),
		textField("eventName"),
		textField("awsRegion"),
		textField("sourceIPAddress"),
		textField("userAgent"),
		textField("errorCode"),
		textField("errorMessage"),
		mapField("requestParameters"),
		mapField("responseElements"),
		mapField("additionalEventData"),
		textField("requestID"),
		textField("eventID"),
		boolField("readOnly"),
		{Name: "resources", Type: resourcesType(), Nullable: true},
		textField("eventType"),
		textField("apiVersion"),
		boolField("managementEvent"),
		textField("recipientAccountId"),
		textField("sharedEventID"),
		textField("annotation"),
		textField("vpcEndpointId"),
		textField("vpcEndpointAccountId"),
		mapField("serviceEventDetails"),
		mapField("addendum"),
		mapField("edgeDeviceDetails"),
		mapField("insightDetails"),
		textField("eventCategory"),
		structField("tlsDetails", textFields("tlsVersion", "cipherSuite", "clientProvidedHostHeader")...),
		textField("sessionCredentialFromConsole"),
		{Name: "touchedArns", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		textField("eventJson"),
		{Name: "key_hi", Type: arrow.PrimitiveTypes.Uint64},
		{Name: "key_lo", Type: arrow.PrimitiveTypes.Uint64},
	}
	return arrow.NewSchema(fs, nil)
}

// rowsBuilder appends events to the columns of eventSchema other than
// resources.
type rowsBuilder struct {
	bs []array.Builder // by field; nil at colResources
}

func newRowsBuilder(mem memory.Allocator, schema *arrow.Schema, capacity int) *rowsBuilder {
	b := &rowsBuilder{bs: make([]array.Builder, colCount)}
	for i, f := range schema.Fields() {
		if i == colResources {
			continue
		}
		b.bs[i] = array.NewBuilder(mem, f.Type)
		b.bs[i].Reserve(capacity)
	}
	return b
}

// add appends ev, keyed hi, lo, with the ARNs it touched, to the columns
// of one half (0 or 1) of the schema: the halves can be built at once, on
// two cores, into the same rows.
func (b *rowsBuilder) add(half int, ev *cloudtrail.Event, hi, lo uint64, touched []string) {
	c := b.bs
	if half == 0 {
		appendText(c[0], ev.EventVersion)
		appendUserIdentity(c[1].(*array.StructBuilder), &ev.UserIdentity)
		c[2].(*array.TimestampBuilder).Append(arrow.Timestamp(ev.EventTime.UnixMicro()))
		appendText(c[3], ev.EventSource)
		c[4].(*array.StringBuilder).Append(ev.EventName)
		appendText(c[5], ev.AWSRegion)
		appendText(c[6], ev.SourceIPAddress)
		appendText(c[7], ev.UserAgent)
		appendText(c[8], ev.ErrorCode)
		appendText(c[9], ev.ErrorMessage)
		appendMap(c[10], ev.RequestParameters)
		appendText(c[13], ev.RequestID)
		appendText(c[14], ev.EventID)
		appendBool(c[15], ev.ReadOnly)
		return
	}
	appendMap(c[11], ev.ResponseElements)
	appendMap(c[12], ev.AdditionalEventData)
	appendText(c[17], ev.EventType)
	appendText(c[18], ev.APIVersion)
	appendBool(c[19], ev.ManagementEvent)
	appendText(c[20], ev.RecipientAccountID)
	appendText(c[21], ev.SharedEventID)
	appendText(c[22], ev.Annotation)
	appendText(c[23], ev.VPCEndpointID)
	appendText(c[24], ev.VPCEndpointAccountID)
	appendMap(c[25], ev.ServiceEventDetails)
	appendMap(c[26], ev.Addendum)
	appendMap(c[27], ev.EdgeDeviceDetails)
	appendMap(c[28], ev.InsightDetails)
	appendText(c[29], ev.EventCategory)
	tls := c[30].(*array.StructBuilder)
	if t := &ev.TLSDetails; t.Present {
		tls.Append(true)
		appendText(tls.FieldBuilder(0), t.TLSVersion)
		appendText(tls.FieldBuilder(1), t.CipherSuite)
		appendText(tls.FieldBuilder(2), t.ClientProvidedHostHeader)
	} else {
		tls.AppendNull()
	}
	appendText(c[31], ev.SessionCredentialFromConsole)
	arns := c[32].(*array.ListBuilder)
	if len(touched) == 0 {
		arns.AppendNull()
	} else {
		arns.Append(true)
		vb := arns.ValueBuilder().(*array.StringBuilder)
		for _, a := range touched {
			vb.Append(a)
		}
	}
	c[33].(*array.StringBuilder).BinaryBuilder.Append(ev.JSON)
	c[34].(*array.Uint64Builder).Append(hi)
	c[35].(*array.Uint64Builder).Append(lo)
}

// reserveAhead sizes every text column, which holds done rows, for rows
// rows in all, at the bytes per row so far and a tenth more: a builder
// left to itself doubles, and the slack of a row group's columns came to
// hundreds of megabytes.
func (b *rowsBuilder) reserveAhead(done, rows int) {
	if done == 0 || rows <= done {
		return
	}
	for _, bb := range b.bs {
		if bb != nil {
			reserveText(bb, done, rows)
		}
	}
}

func reserveText(b array.Builder, done, rows int) {
	switch b := b.(type) {
	case *array.StringBuilder:
		if have := b.DataLen(); have > 0 {
			b.ReserveData(have*(rows-done)/done*11/10 + 64)
		}
	case *array.StructBuilder:
		for i := range b.NumField() {
			reserveText(b.FieldBuilder(i), done, rows)
		}
	case *array.MapBuilder:
		reserveText(b.KeyBuilder(), done, rows)
		reserveText(b.ItemBuilder(), done, rows)
	case *array.ListBuilder:
		reserveText(b.ValueBuilder(), done, rows)
	}
}

// reserveJSON makes room for n more bytes of eventJson.
func (b *rowsBuilder) reserveJSON(n int) {
	b.bs[33].(*array.StringBuilder).ReserveData(n)
}

func appendUserIdentity(b *array.StructBuilder, u *cloudtrail.UserIdentity) {
	if !u.Present {
		b.AppendNull()
		return
	}
	b.Append(true)
	for i, t := range [...]cloudtrail.Text{u.Type, u.PrincipalID, u.ARN, u.AccountID, u.AccessKeyID, u.UserName,
		u.InvokedBy, u.IdentityProvider, u.CredentialID} {
		appendText(b.FieldBuilder(i), t)
	}
	sc := b.FieldBuilder(9).(*array.StructBuilder)
	if c := &u.SessionContext; c.Present {
		sc.Append(true)
		attrs := sc.FieldBuilder(0).(*array.StructBuilder)
		attrs.Append(true)
		if c.CreationDate.OK {
			attrs.FieldBuilder(0).(*array.TimestampBuilder).Append(arrow.Timestamp(c.CreationDate.V.UnixMicro()))
		} else {
			attrs.FieldBuilder(0).AppendNull()
		}
		appendText(attrs.FieldBuilder(1), c.MFAAuthenticated)
		si := sc.FieldBuilder(1).(*array.StructBuilder)
		if s := c.SessionIssuer; s != nil {
			si.Append(true)
			for i, t := range [...]cloudtrail.Text{s.Type, s.PrincipalID, s.ARN, s.AccountID, s.UserName} {
				appendText(si.FieldBuilder(i), t)
			}
		} else {
			si.AppendNull()
		}
		wf := sc.FieldBuilder(2).(*array.StructBuilder)
		if w := c.WebIDFederationData; w != nil {
			wf.Append(true)
			appendText(wf.FieldBuilder(0), w.FederatedProvider)
			appendMap(wf.FieldBuilder(1), w.Attributes)
		} else {
			wf.AppendNull()
		}
		appendText(sc.FieldBuilder(3), c.SourceIdentity)
		appendText(sc.FieldBuilder(4), c.EC2RoleDelivery)
		appendText(sc.FieldBuilder(5), c.EC2IssuedInVPC)
	} else {
		sc.AppendNull()
	}
	ob := b.FieldBuilder(10).(*array.StructBuilder)
	if o := u.OnBehalfOf; o != nil {
		ob.Append(true)
		appendText(ob.FieldBuilder(0), o.UserID)
		appendText(ob.FieldBuilder(1), o.IdentityStoreARN)
	} else {
		ob.AppendNull()
	}
}

func appendText(b array.Builder, t cloudtrail.Text) {
	sb := b.(*array.StringBuilder)
	if t.OK {
		sb.Append(t.V)
	} else {
		sb.AppendNull()
	}
}

func appendBool(b array.Builder, v cloudtrail.Bool) {
	bb := b.(*array.BooleanBuilder)
	if v.OK {
		bb.Append(v.V)
	} else {
		bb.AppendNull()
	}
}

// appendMap appends m as MAP(VARCHAR, VARCHAR): string members as their
// text, other members as the JSON text they were, null members as NULL.
func appendMap(b array.Builder, m cloudtrail.Map) {
	mb := b.(*array.MapBuilder)
	if m == nil {
		mb.AppendNull()
		return
	}
	mb.Append(true)
	kb := mb.KeyBuilder().(*array.StringBuilder)
	ib := mb.ItemBuilder().(*array.StringBuilder)
	for _, p := range m {
		kb.Append(p.Key)
		if p.Value.OK {
			ib.Append(p.Value.V)
		} else {
			ib.AppendNull()
		}
	}
}

// columns returns the built columns, resources left nil.
func (b *rowsBuilder) columns() []arrow.Array {
	cols := make([]arrow.Array, colCount)
	for i, bb := range b.bs {
		if bb != nil {
			cols[i] = bb.NewArray()
		}
	}
	return cols
}

func (b *rowsBuilder) release() {
	for _, bb := range b.bs {
		if bb != nil {
			bb.Release()
		}
	}
}

// stagedResources is what a staged event keeps for its resources column:
// its resources (sharing no memory with its file) and its time.
type stagedResources struct {
	at        time.Time
	resources []cloudtrail.Resource
}

// appendResources appends the resources column of one event: each
// resource with its tags at the event's time when tagsAt knows them.
func appendResources(lb *array.ListBuilder, r stagedResources, tagsAt func(string, time.Time) ([]tags.Tag, bool)) {
	if r.resources == nil {
		lb.AppendNull()
		return
	}
	lb.Append(true)
	sb := lb.ValueBuilder().(*array.StructBuilder)
	for i := range r.resources {
		res := &r.resources[i]
		sb.Append(true)
		appendText(sb.FieldBuilder(0), res.AccountID)
		appendText(sb.FieldBuilder(1), res.Type)
		appendText(sb.FieldBuilder(2), res.ARN)
		appendText(sb.FieldBuilder(3), res.ARNPrefix)
		mb := sb.FieldBuilder(4).(*array.MapBuilder)
		var ts []tags.Tag
		ok := false
		if tagsAt != nil && res.ARN.OK {
			ts, ok = tagsAt(res.ARN.V, r.at)
		}
		if !ok {
			mb.AppendNull()
			continue
		}
		mb.Append(true)
		kb := mb.KeyBuilder().(*array.StringBuilder)
		ib := mb.ItemBuilder().(*array.StringBuilder)
		for _, t := range ts {
			kb.Append(t.Key)
			ib.Append(t.Value)
		}
	}
}
