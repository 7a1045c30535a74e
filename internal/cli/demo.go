package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/trailbook/trailbook/internal/gen"
	"github.com/trailbook/trailbook/internal/ingest"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/render"
	"github.com/trailbook/trailbook/internal/store"
)

type demoParams struct {
	db     string
	events int
}

// demoQuery is one question the demo asks, in Lake SQL as a user would
// paste it.
type demoQuery struct {
	title string
	sql   string
}

// demoQueries are what a newcomer sees in the first minute: the shape of
// the data, then the questions security teams ask first.
func demoQueries() []demoQuery {
	return []demoQuery{
		{"What is in the store", `SELECT count(*) AS events, count(DISTINCT recipientAccountId) AS accounts,
	count(DISTINCT awsRegion) AS regions, min(eventTime) AS first_event, max(eventTime) AS last_event
FROM events`},
		{"Top API calls", `SELECT eventSource, eventName, count(*) AS calls
FROM $EDS_ID
GROUP BY eventSource, eventName
ORDER BY calls DESC, eventName
LIMIT 10`},
		{"Who is being denied (AccessDenied and friends)", `SELECT userIdentity.arn AS principal, errorCode, count(*) AS denied
FROM <EDS ID>
WHERE errorCode IN ('AccessDenied', 'Client.UnauthorizedOperation') OR errorCode LIKE '%AccessDenied%'
GROUP BY 1, 2
ORDER BY denied DESC, principal
LIMIT 10`},
		{"Console sign-ins without MFA", `SELECT eventTime, userIdentity.arn AS principal, sourceIPAddress,
	element_at(additionalEventData, 'MFAUsed') AS mfa_used
FROM your_cloudtrail_table
WHERE eventName = 'ConsoleLogin' AND element_at(additionalEventData, 'MFAUsed') = 'No'
ORDER BY eventTime DESC
LIMIT 10`},
		{"Recent tag changes (the seed query's shape)", `SELECT eventTime, eventName, userIdentity.arn, requestParameters
FROM your_cloudtrail_table
WHERE eventName IN ('CreateTags', 'DeleteTags', 'TagResource', 'TagResources', 'UntagResource',
	'PutBucketTagging', 'DeleteBucketTagging', 'TagRole', 'UntagRole', 'TagUser')
	AND errorCode IS NULL
	AND eventTime > '2024-05-01'
ORDER BY eventTime DESC
LIMIT 50`},
	}
}

func newDemoCmd(env Env) *cobra.Command {
	var p demoParams
	cmd := &cobra.Command{
		Use:   "demo [--db PATH]",
		Short: "Generate sample CloudTrail, ingest it and answer a few Lake SQL questions",
		Long: `Demo needs no AWS account and no configuration: it generates deterministic
sample CloudTrail in a temporary folder, ingests it into the store
(./trailbook.duckdb by default) and prints the answers to a few CloudTrail
Lake queries. Running it again adds nothing: each event is stored once.

Exit codes: 0 ok, 2 error.`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			p.db = store.ResolvePath(p.db, env.Getenv)
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), p, env)
		},
	}
	dbFlag(cmd, &p.db)
	cmd.Flags().IntVar(&p.events, "events", 20000, "number of sample events")
	return cmd
}

func runDemo(ctx context.Context, p demoParams, env Env) error {
	dir, err := os.MkdirTemp("", "trailbook-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	gs, err := gen.Generate(ctx, gen.Options{Events: p.events, Seed: 1, Out: dir})
	if err != nil {
		return fmt.Errorf("generate sample data: %w", err)
	}
	fmt.Fprintf(env.Stdout, "Generated %d sample CloudTrail events in %d S3-style .json.gz files.\n", gs.Events, gs.Files)

	st, err := store.Open(ctx, p.db, store.Options{})
	if err != nil {
		return err
	}
	sum, err := ingestInto(ctx, st, []string{dir}, nil, ingest.Options{})
	st.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Ingested into %s: ", p.db)
	printSummary(env.Stdout, sum)

	r, err := query.Open(ctx, p.db, "")
	if err != nil {
		return err
	}
	defer r.Close()
	for _, q := range demoQueries() {
		fmt.Fprintf(env.Stdout, "\n== %s\n%s\n\n", q.title, q.sql)
		rows, err := query.Run(ctx, r, q.sql, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", q.title, err)
		}
		_, err = render.Write(env.Stdout, render.Table, rows)
		rows.Close()
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stdout, "\nTry your own: trailbook query --db %s \"SELECT eventName, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC\"\n", p.db)
	return nil
}
