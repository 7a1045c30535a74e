package store

// eventColumnsDDL is the column list of the CloudTrail Lake event data store
// schema, in Lake's order and with CloudTrail's camelCase names. DuckDB
// matches identifiers and struct fields case-insensitively, as Lake does.
const eventColumnsDDL = decodedColumnsDDL + rawColumnsDDL

// decodedColumnsDDL are the Lake columns decoded from the record.
const decodedColumnsDDL = `
	eventVersion VARCHAR,
	userIdentity STRUCT(
		"type" VARCHAR,
		principalId VARCHAR,
		arn VARCHAR,
		accountId VARCHAR,
		accessKeyId VARCHAR,
		userName VARCHAR,
		invokedBy VARCHAR,
		identityProvider VARCHAR,
		credentialId VARCHAR,
		sessionContext STRUCT(
			attributes STRUCT(creationDate TIMESTAMP, mfaAuthenticated VARCHAR),
			sessionIssuer STRUCT("type" VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, userName VARCHAR),
			webIdFederationData STRUCT(federatedProvider VARCHAR, attributes MAP(VARCHAR, VARCHAR)),
			sourceIdentity VARCHAR,
			ec2RoleDelivery VARCHAR,
			ec2IssuedInVPC VARCHAR
		),
		onBehalfOf STRUCT(userId VARCHAR, identityStoreArn VARCHAR)
	),
	eventTime TIMESTAMP,
	eventSource VARCHAR,
	eventName VARCHAR,
	awsRegion VARCHAR,
	sourceIPAddress VARCHAR,
	userAgent VARCHAR,
	errorCode VARCHAR,
	errorMessage VARCHAR,
	requestParameters MAP(VARCHAR, VARCHAR),
	responseElements MAP(VARCHAR, VARCHAR),
	additionalEventData MAP(VARCHAR, VARCHAR),
	requestID VARCHAR,
	eventID VARCHAR,
	readOnly BOOLEAN,
	resources STRUCT(accountId VARCHAR, "type" VARCHAR, arn VARCHAR, arnPrefix VARCHAR)[],
	eventType VARCHAR,
	apiVersion VARCHAR,
	managementEvent BOOLEAN,
	recipientAccountId VARCHAR,
	sharedEventID VARCHAR,
	annotation VARCHAR,
	vpcEndpointId VARCHAR,
	vpcEndpointAccountId VARCHAR,
	serviceEventDetails MAP(VARCHAR, VARCHAR),
	addendum MAP(VARCHAR, VARCHAR),
	edgeDeviceDetails MAP(VARCHAR, VARCHAR),
	insightDetails MAP(VARCHAR, VARCHAR),
	eventCategory VARCHAR,
	tlsDetails STRUCT(tlsVersion VARCHAR, cipherSuite VARCHAR, clientProvidedHostHeader VARCHAR),
	sessionCredentialFromConsole VARCHAR`

// rawColumnsDDL are the Lake columns that hold the original record rather
// than a field decoded from it.
const rawColumnsDDL = `,
	eventJson VARCHAR,
	eventJsonChecksum VARCHAR`

// EventsDDL creates an empty events table with exactly the Lake columns. The
// query translator's tests and fuzzers use it to stand up a schema-only store.
const EventsDDL = `CREATE TABLE events (` + eventColumnsDDL + `
)`

// Tables are the store's own tables that user SQL may read by name besides
// events; every other table name in a Lake query means events.
func Tables() []string { return []string{"rejects", "ingested_files"} }
