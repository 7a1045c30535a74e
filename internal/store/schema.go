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
	resources STRUCT(accountId VARCHAR, "type" VARCHAR, arn VARCHAR, arnPrefix VARCHAR, tags MAP(VARCHAR, VARCHAR))[],
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
func Tables() []string {
	return []string{"rejects", "ingested_files", "resource_tags", "current_tags", "tag_changes", "tag_sets", "audit", "action_runs", "gate_states"}
}

// TaggedEventsSQL is the query translator's template for Lake's
// resources.tag conditions (lakesql.Options.TaggedEvents): the events
// that touched a resource which, at the event's time, had a tag meeting
// the condition in place of trailbook_tag_condition.
const TaggedEventsSQL = `SELECT * FROM (
	` + eventsViewSelect + `
	WHERE (key_hi, key_lo) IN (
		SELECT u.key_hi, u.key_lo
		FROM (SELECT key_hi, key_lo, eventTime, unnest(touchedArns) AS arn FROM event_store) AS u
		JOIN resource_tags AS trailbook_tag
		ON trailbook_tag.arn = u.arn AND u.eventTime >= trailbook_tag.valid_from
			AND u.eventTime < coalesce(trailbook_tag.valid_to, 'infinity'::TIMESTAMP)
		WHERE trailbook_tag_condition)) AS tagged_events`

// eventsViewSelect is the events view: the stored events with the Lake
// columns only, the checksum computed when read, and the resources' tags
// from resourceTagsFix where a late change made the stored ones stale.
const eventsViewSelect = `SELECT * EXCLUDE (key_hi, key_lo, touchedArns, resourceTagsFix) REPLACE (
	CASE WHEN resourceTagsFix IS NULL THEN resources ELSE list_transform(resources, (r, i) -> {
		'accountId': r.accountId, 'type': r."type", 'arn': r.arn, 'arnPrefix': r.arnPrefix,
		'tags': json_transform(resourceTagsFix, '["MAP(VARCHAR, VARCHAR)"]')[i]}) END AS resources),
	sha256(eventJson) AS eventJsonChecksum FROM event_store`

// Prelude returns the store's temporary macros for user SQL, to run on
// each query connection before it is locked (with lakesql.Prelude):
//   - tag_at(arn, key, ts): the value of tag key on arn at time ts, NULL
//     when it had none or its tags were not known then;
//   - tags_at(arn, ts): all its tags then, as MAP(VARCHAR, VARCHAR).
func Prelude() []string {
	return []string{
		`CREATE OR REPLACE TEMP MACRO tag_at(a, k, ts) AS (
			SELECT any_value(t."value") FROM resource_tags t
			WHERE t.arn = a AND t."key" = k AND t.valid_from <= CAST(ts AS TIMESTAMP)
			AND (t.valid_to IS NULL OR CAST(ts AS TIMESTAMP) < t.valid_to))`,
		`CREATE OR REPLACE TEMP MACRO tags_at(a, ts) AS (
			SELECT any_value(s.tags) FROM tag_sets s
			WHERE s.arn = a AND s.valid_from <= CAST(ts AS TIMESTAMP)
			AND (s.valid_to IS NULL OR CAST(ts AS TIMESTAMP) < s.valid_to))`,
	}
}
