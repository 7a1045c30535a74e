package runner_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/action/awsact"
	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/awslocal"
	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/runner"
	"github.com/trailbook/trailbook/internal/store"
)

// TestEnforcedRevertReachesAWSOnce runs prod-tag-change in enforce mode on
// alice's DeleteTags of a production instance's Environment tag, with the
// real AWS SDK against a local EC2 endpoint: the revert must put the tag
// back with one CreateTags, applying the same plan again must send
// nothing, and the audit log must verify.
func TestEnforcedRevertReachesAWSOnce(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	set, err := runbook.LoadDir(ctx, "testdata", runbook.Options{Conn: db})
	if err != nil {
		t.Fatal(err)
	}
	tc := set.Runbooks[0].Tests[0]
	var evs []cloudtrail.Event
	for _, raw := range append(slices.Clone(tc.Given), tc.Event) {
		res := cloudtrail.Decode(raw, cloudtrail.Options{})
		evs = append(evs, res.Events...)
	}
	st, conn := storeWith(ctx, t, evs)

	aws := awslocal.New()
	defer aws.Close()
	aws.PutInstance(awslocal.Instance{Region: "us-east-1", ID: "i-0abc", Tags: map[string]string{"Owner": "payments"}})
	cfg, err := awsact.LoadConfig(ctx, "us-east-1", aws.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	ex := awsact.New(cfg, awsact.Options{})

	logPath := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.Open(logPath, audit.Options{Mirror: st})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	now := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 5, 0, time.UTC) }
	run := &runner.Runner{Store: st, Audit: log, Now: now, Executors: map[string]action.Executor{
		action.KindRevertTags: ex,
		action.KindAlert: action.Func(func(context.Context, action.Action) (action.Outcome, error) {
			return action.Outcome{Status: action.StatusApplied}, nil
		}),
	}}
	eng, err := engine.New(set, engine.Options{Enforce: true})
	if err != nil {
		t.Fatal(err)
	}
	ev := &evs[len(evs)-1]
	plan, err := eng.Evaluate(ctx, ev, store.EventKey(ev), engine.StoreSnapshot{Conn: conn}, now())
	if err != nil {
		t.Fatal(err)
	}
	for attempt := range 2 {
		outs, err := run.Apply(ctx, plan)
		if err != nil {
			t.Fatal(err)
		}
		want := action.StatusApplied
		if attempt == 1 {
			want = action.StatusSkipped
		}
		for _, o := range outs {
			if o.Status != want {
				t.Errorf("attempt %d: %s: %s (%s), want %s", attempt, o.Key, o.Status, o.Error, want)
			}
		}
	}
	if ops := aws.Operations(); !slices.Equal(ops, []string{"ec2:CreateTags"}) {
		t.Fatalf("AWS received %v, want one ec2:CreateTags", ops)
	}
	in, _ := aws.Instance("us-east-1", "i-0abc")
	if in.Tags["Environment"] != "Production" || in.Tags["Owner"] != "payments" {
		t.Fatalf("instance tags after the revert: %v", in.Tags)
	}
	if ua := aws.Requests()[0].UserAgent; !strings.Contains(ua, "trailbook/") {
		t.Errorf("user agent %q lacks trailbook/: loop protection would not see it", ua)
	}
	rows, err := st.AuditRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep := audit.Verify(f, logPath, rows)
	if !rep.OK() || rep.Entries != 6 {
		t.Fatalf("audit: %d entries, problems %v", rep.Entries, rep.Problems)
	}
}

// storeWith is a new store in a temporary folder holding evs, committed,
// and a connection to it with the query prelude installed, as the
// engine's snapshot reads through. Both close when t ends.
func storeWith(ctx context.Context, t *testing.T, evs []cloudtrail.Event) (*store.Store, *sql.Conn) {
	t.Helper()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w, err := st.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(ctx, &store.File{Source: "test", Records: len(evs), Events: evs}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	w.Close()
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for _, q := range query.Prelude() {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return st, conn
}
