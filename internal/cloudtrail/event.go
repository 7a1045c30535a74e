// Package cloudtrail decodes CloudTrail records from every container shape
// they are delivered in and normalises them to the CloudTrail Lake schema.
// It makes no AWS calls and keeps no state between calls.
package cloudtrail

import "time"

// Text is a nullable string: OK is false for a field that was missing or
// JSON null, so that "" and NULL stay distinct in the store.
type Text struct {
	V  string
	OK bool
}

// Bool is a nullable boolean. CloudTrail writes some booleans as the strings
// "true" and "false"; both spellings decode to the same Bool.
type Bool struct {
	V  bool
	OK bool
}

// Time is a nullable timestamp, always in UTC.
type Time struct {
	V  time.Time
	OK bool
}

// Pair is one top-level member of a JSON object held in a Map column.
// Value holds a string member unquoted and any other member (number, bool,
// object, array) as compact JSON text; a JSON null has Value.OK false.
type Pair struct {
	Key   string
	Value Text
}

// Map is a JSON object flattened to its top-level members, in the order they
// appear in the record, as CloudTrail Lake stores requestParameters and its
// siblings (MAP(VARCHAR, VARCHAR)). A nil Map is SQL NULL; an empty non-nil
// Map is the empty object.
type Map []Pair

// SessionIssuer is userIdentity.sessionContext.sessionIssuer.
type SessionIssuer struct {
	Type, PrincipalID, ARN, AccountID, UserName Text
}

// WebIDFederationData is userIdentity.sessionContext.webIdFederationData.
type WebIDFederationData struct {
	FederatedProvider Text
	Attributes        Map
}

// SessionContext is userIdentity.sessionContext. Present is false when the
// record had no sessionContext object.
type SessionContext struct {
	Present             bool
	CreationDate        Time // attributes.creationDate
	MFAAuthenticated    Text // attributes.mfaAuthenticated, as written ("true"/"false")
	SessionIssuer       *SessionIssuer
	WebIDFederationData *WebIDFederationData
	SourceIdentity      Text
	EC2RoleDelivery     Text
	EC2IssuedInVPC      Text
}

// OnBehalfOf is userIdentity.onBehalfOf (IAM Identity Center).
type OnBehalfOf struct {
	UserID, IdentityStoreARN Text
}

// UserIdentity is the record's userIdentity. Present is false when the record
// had none.
type UserIdentity struct {
	Present                                                  bool
	Type, PrincipalID, ARN, AccountID, AccessKeyID, UserName Text
	InvokedBy, IdentityProvider, CredentialID                Text
	SessionContext                                           SessionContext
	OnBehalfOf                                               *OnBehalfOf
}

// Resource is one entry of the record's resources list.
type Resource struct {
	AccountID, Type, ARN, ARNPrefix Text
}

// TLSDetails is the record's tlsDetails. Present is false when absent.
type TLSDetails struct {
	Present                                           bool
	TLSVersion, CipherSuite, ClientProvidedHostHeader Text
}

// Event is one CloudTrail record normalised to the CloudTrail Lake event data
// store schema. JSON is the original record, byte for byte as it appeared in
// its container (for a record carried as a JSON string, the unescaped string).
// Event values are plain data: safe to copy, not safe to mutate concurrently.
type Event struct {
	EventVersion                 Text
	UserIdentity                 UserIdentity
	EventTime                    time.Time // UTC; always set on a decoded Event
	EventSource                  Text
	EventName                    string // always set on a decoded Event
	AWSRegion                    Text
	SourceIPAddress              Text
	UserAgent                    Text
	ErrorCode                    Text
	ErrorMessage                 Text
	RequestParameters            Map
	ResponseElements             Map
	AdditionalEventData          Map
	ServiceEventDetails          Map
	Addendum                     Map
	EdgeDeviceDetails            Map
	InsightDetails               Map
	RequestID                    Text
	EventID                      Text
	ReadOnly                     Bool
	Resources                    []Resource // nil when the record had none
	EventType                    Text
	APIVersion                   Text
	ManagementEvent              Bool
	RecipientAccountID           Text
	SharedEventID                Text
	Annotation                   Text
	VPCEndpointID                Text
	VPCEndpointAccountID         Text // network activity events
	EventCategory                Text
	TLSDetails                   TLSDetails
	SessionCredentialFromConsole Text
	JSON                         []byte
}
