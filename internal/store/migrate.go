package store

import (
	"context"
	"database/sql"
	"fmt"
)

// schemaVersion is the version of the schema this build writes.
const schemaVersion = 8

// migrations returns the schema steps; entry i moves version i to i+1.
func migrations() []string {
	return []string{
		// 0 -> 1: events, rejects, ingested files.
		`CREATE TABLE event_store (` + decodedColumnsDDL + `,
		-- zstd: the cheapest codec to write for long JSON text (FSST cost
		-- ingest 40%), and it compresses it well; it needs a storage
		-- version of 1.2 or newer, which Open asks for.
		eventJson VARCHAR USING COMPRESSION zstd,
		-- dedupe key: 128-bit hash of eventID, eventTime, eventSource,
		-- eventName and recipientAccountId (of the record's bytes when it
		-- has no eventID)
		key_hi UBIGINT NOT NULL,
		key_lo UBIGINT NOT NULL
	);
	-- eventJsonChecksum is computed when read: no query filters on it,
	-- and storing 64 incompressible characters per event costs ingest
	-- time and space.
	CREATE VIEW events AS SELECT * EXCLUDE (key_hi, key_lo), sha256(eventJson) AS eventJsonChecksum FROM event_store;
	CREATE TABLE rejects (
		source VARCHAR NOT NULL,      -- file path, or "-" for stdin
		record_index INTEGER NOT NULL, -- 0-based index of the record in its file
		line INTEGER,                  -- 1-based line the record starts on, when known
		byte_offset BIGINT,            -- offset in the decompressed file
		reason VARCHAR NOT NULL,
		record BLOB,                   -- at most the first 4 KiB of the record
		rejected_at TIMESTAMP NOT NULL
	);
	CREATE TABLE ingested_files (
		source VARCHAR NOT NULL,
		bytes BIGINT NOT NULL,
		sha256 VARCHAR NOT NULL,
		records INTEGER NOT NULL,
		stored INTEGER NOT NULL,
		duplicates INTEGER NOT NULL,
		skipped INTEGER NOT NULL,
		rejected INTEGER NOT NULL,
		ingested_at TIMESTAMP NOT NULL
	);`,
		// 1 -> 2: the tag inventory. Events gain the ARNs they touched and
		// their resources' tags; stores written by version 1 are
		// backfilled from eventJson by Open.
		`ALTER TABLE event_store ALTER resources SET DATA TYPE
		STRUCT(accountId VARCHAR, "type" VARCHAR, arn VARCHAR, arnPrefix VARCHAR, tags MAP(VARCHAR, VARCHAR))[];
	ALTER TABLE event_store ADD COLUMN touchedArns VARCHAR[];
	CREATE OR REPLACE VIEW events AS SELECT * EXCLUDE (key_hi, key_lo, touchedArns), sha256(eventJson) AS eventJsonChecksum FROM event_store;
	CREATE TABLE tag_changes (
		arn VARCHAR NOT NULL,
		changed_at TIMESTAMP NOT NULL,       -- the event's eventTime, or the time an import is known true
		seq VARCHAR NOT NULL,         -- orders changes of one resource and time: eventID/index
		kind VARCHAR NOT NULL,        -- merge, replace, create, delete
		set_tags STRUCT("key" VARCHAR, "value" VARCHAR)[],
		removed STRUCT("key" VARCHAR, "value" VARCHAR, has_value BOOLEAN)[],
		origin VARCHAR NOT NULL,      -- cloudtrail or import
		event_id VARCHAR, event_name VARCHAR, event_source VARCHAR, actor VARCHAR,
		key_hi UBIGINT NOT NULL, key_lo UBIGINT NOT NULL
	);
	CREATE TABLE resource_tags (
		arn VARCHAR NOT NULL, "key" VARCHAR NOT NULL, "value" VARCHAR NOT NULL,
		valid_from TIMESTAMP NOT NULL, valid_to TIMESTAMP,
		set_origin VARCHAR, set_event_id VARCHAR, set_event_name VARCHAR, set_by VARCHAR,
		ended_origin VARCHAR, ended_event_id VARCHAR, ended_event_name VARCHAR, ended_by VARCHAR
	);
	CREATE TABLE tag_sets (
		arn VARCHAR NOT NULL, valid_from TIMESTAMP NOT NULL, valid_to TIMESTAMP,
		tags MAP(VARCHAR, VARCHAR) NOT NULL,
		set_origin VARCHAR, set_event_id VARCHAR, set_event_name VARCHAR, set_by VARCHAR
	);
	-- resources whose stored events need their resources[].tags
	-- recomputed from this time on (see retagPending)
	CREATE TABLE tag_retag_pending (arn VARCHAR NOT NULL, since TIMESTAMP NOT NULL);
	CREATE VIEW current_tags AS
		SELECT arn, "key", "value", valid_from AS since, set_event_id, set_event_name, set_by
		FROM resource_tags WHERE valid_to IS NULL;`,
		// 2 -> 3: runbooks. The audit log's copy, the ledger that makes
		// actions idempotent, opt-out gate states, and a watermark every
		// Commit moves, so cached query results know when to expire.
		//
		// resourceTagsFix holds, as JSON, the resources' tags of an event
		// a later transaction's change made stale (see retag): rewriting
		// the resources list would rewrite the table at the next
		// checkpoint; a string updates in place.
		`ALTER TABLE event_store ADD COLUMN resourceTagsFix VARCHAR;
	CREATE OR REPLACE VIEW events AS ` + eventsViewSelect + `;
	ALTER TABLE trailbook_meta ADD COLUMN watermark BIGINT DEFAULT 0;
	UPDATE trailbook_meta SET watermark = 0;
	CREATE TABLE audit (
		seq BIGINT NOT NULL,           -- 1-based, no gaps
		logged_at TIMESTAMP NOT NULL,
		kind VARCHAR NOT NULL,         -- evaluation, action, gate-decision, gate-override, gate-reopen, ...
		runbook VARCHAR, gate VARCHAR, event_id VARCHAR, action_key VARCHAR,
		decision VARCHAR,              -- what was decided: act, no-action, skipped, proceed, halt, ...
		data JSON,                     -- the entry's own detail
		prev VARCHAR NOT NULL,         -- hex SHA-256 of the previous entry
		hash VARCHAR NOT NULL          -- hex SHA-256 of this entry
	);
	CREATE TABLE action_runs (
		"key" VARCHAR PRIMARY KEY,     -- runbook/event/index
		runbook VARCHAR NOT NULL, event_id VARCHAR, idx INTEGER NOT NULL, kind VARCHAR NOT NULL,
		enforce BOOLEAN NOT NULL,
		status VARCHAR NOT NULL,       -- claimed, planned, applied, skipped, failed
		detail VARCHAR, error VARCHAR,
		undo JSON,                     -- what the action replaced, for a release
		attempts INTEGER NOT NULL,
		first_at TIMESTAMP NOT NULL, done_at TIMESTAMP
	);
	CREATE TABLE gate_states (
		gate VARCHAR NOT NULL,
		state VARCHAR NOT NULL,        -- halt, skip, proceed (an override), open (reopened)
		reason VARCHAR NOT NULL,
		set_at TIMESTAMP NOT NULL,
		until TIMESTAMP,               -- NULL: until reopened
		set_by VARCHAR NOT NULL,       -- runbook name, or the person who overrode
		runbook VARCHAR, event_id VARCHAR, action_key VARCHAR
	);
	CREATE TABLE runbook_cooldowns (
		runbook VARCHAR NOT NULL, dedup VARCHAR NOT NULL, until TIMESTAMP NOT NULL
	);`,
		// 3 -> 4: evaluations deferred to the end of a schema's grace.
		`CREATE TABLE deferred_runs (
		runbook VARCHAR NOT NULL,
		event_key VARCHAR NOT NULL,    -- EventKey of the triggering event
		event_id VARCHAR,
		record JSON NOT NULL,          -- the triggering record, to evaluate again
		recheck_at TIMESTAMP NOT NULL,
		done_at TIMESTAMP,             -- NULL until evaluated again
		PRIMARY KEY (runbook, event_key)
	);`,
		// 4 -> 5: opt-out gates' check results, reused while the store
		// holds the same events (see gate.Checker).
		`CREATE TABLE gate_check_cache (
		gate VARCHAR NOT NULL,
		"key" VARCHAR NOT NULL,        -- SHA-256 of the definition, params and the last reopening
		watermark BIGINT NOT NULL,     -- the store's when the checks ran
		checked_at TIMESTAMP NOT NULL,
		result JSON NOT NULL,
		PRIMARY KEY (gate, "key")
	);`,
		// 5 -> 6: the daemon's queue of stored events not yet evaluated,
		// written in the transaction that stores them, so that a crash
		// between storing and evaluating loses no evaluation.
		`CREATE TABLE pending_evaluations (
		key_hi UBIGINT NOT NULL, key_lo UBIGINT NOT NULL,
		queued_at TIMESTAMP NOT NULL,
		PRIMARY KEY (key_hi, key_lo)
	);`,
		// 6 -> 7: live sources ask whether a file was taken, one name at
		// a time, and a gate action whether its state is set. The evaluation queue carries each record and its place
		// in arrival order, so that the evaluator reads the queue alone,
		// not the events table (whose eventJson it would decompress).
		`CREATE INDEX ingested_files_source ON ingested_files (source);
	CREATE INDEX gate_states_action_key ON gate_states (action_key);
	CREATE SEQUENCE pending_evaluations_seq;
	CREATE TABLE pending_evaluations_7 (
		seq BIGINT NOT NULL,
		key_hi UBIGINT NOT NULL, key_lo UBIGINT NOT NULL,
		queued_at TIMESTAMP NOT NULL,
		record VARCHAR NOT NULL,       -- the CloudTrail record, as eventJson
		PRIMARY KEY (key_hi, key_lo)
	);
	INSERT INTO pending_evaluations_7
		SELECT nextval('pending_evaluations_seq'), p.key_hi, p.key_lo, p.queued_at, e.eventJson
		FROM pending_evaluations p JOIN event_store e USING (key_hi, key_lo) ORDER BY p.queued_at, e.eventTime, e.eventID;
	DROP TABLE pending_evaluations;
	ALTER TABLE pending_evaluations_7 RENAME TO pending_evaluations;`,
		// 7 -> 8: the daemon hands each commit's events to its evaluator
		// in memory, so the queue is read only after a crash (joined to
		// the events then) and need not copy each record; its place in
		// arrival order is given by the Writer, and the evaluator takes
		// events off in that order (DELETE ... WHERE seq <= ?), so no key
		// index is kept up to date on every commit.
		`CREATE TABLE pending_evaluations_8 (
		seq BIGINT NOT NULL,
		key_hi UBIGINT NOT NULL, key_lo UBIGINT NOT NULL
	);
	INSERT INTO pending_evaluations_8 SELECT row_number() OVER (ORDER BY seq), key_hi, key_lo FROM pending_evaluations;
	DROP TABLE pending_evaluations;
	DROP SEQUENCE pending_evaluations_seq;
	ALTER TABLE pending_evaluations_8 RENAME TO pending_evaluations;`,
	}
}

// migrate creates the schema in a new database and upgrades an old one, in
// one transaction. A database written by a newer build is refused.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS trailbook_meta (schema_version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var version int
	err := db.QueryRowContext(ctx, `SELECT schema_version FROM trailbook_meta`).Scan(&version)
	switch {
	case err == sql.ErrNoRows:
		if _, err := db.ExecContext(ctx, `INSERT INTO trailbook_meta VALUES (0)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	case err != nil:
		return fmt.Errorf("migrate: %w", err)
	}
	if version > schemaVersion {
		return fmt.Errorf("migrate: database schema version %d is newer than this build's %d", version, schemaVersion)
	}
	if version == schemaVersion {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	steps := migrations()
	for v := version; v < schemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, steps[v]); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE trailbook_meta SET schema_version = ?`, schemaVersion); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	backfill := version >= 1 && version < 2
	if backfill {
		if err := backfillTags(ctx, tx); err != nil {
			return fmt.Errorf("migrate to version 2: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if backfill {
		if err := retagPending(ctx, db); err != nil {
			return fmt.Errorf("migrate to version 2: tag stored events: %w", err)
		}
	}
	return nil
}
