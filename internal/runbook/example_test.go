package runbook_test

import (
	"context"
	"database/sql"
	"fmt"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/trailbook/trailbook/internal/runbook"
)

// Load reports every problem of a folder at once, each at its place.
func ExampleLoad() {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	src := `name: root-login
description: the root user signed in
owner: security
trigger:
  pattern:
    userIdentity: {type: [Root]}
    eventName: [ConsoleLogin]
query: SELECT count(*) FROM events WHERE userIdentity.arn = :actor
condition: size(rows) > 0 &&
actions:
  - alert: {to: [pager]}
tests:
  - name: root signs in
    event: {file: testdata/root-login.json}
    expect: {decision: act}
`
	_, err = runbook.Load(context.Background(), []runbook.File{{Name: "runbooks/root-login.yaml", Data: []byte(src)}},
		runbook.Options{Conn: db, ReadFile: func(string) ([]byte, error) {
			return []byte(`{"eventTime": "2024-05-01T12:00:00Z", "eventName": "ConsoleLogin", "userIdentity": {"type": "Root"}}`), nil
		}})
	fmt.Println(err)
	// Output:
	// runbooks/root-login.yaml:8:61: bad-sql: unknown placeholder actor; want a param or event_time, event_id or now
	// runbooks/root-login.yaml:9:29: bad-cel: condition: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
	// runbooks/root-login.yaml:11:18: unknown-channel: no channel is named pager; define it in channels.yaml, or use stdout or log
}
