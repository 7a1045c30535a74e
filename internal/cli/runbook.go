package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"github.com/spf13/cobra"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/runbooktest"
	"github.com/trailbook/trailbook/internal/runner"
	"github.com/trailbook/trailbook/internal/store"
)

// defaultRunbooks is the folder runbook commands read when given none.
const defaultRunbooks = "runbooks"

func newRunbookCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runbook",
		Short: "Check, test, explain and run runbooks",
		Long: `Runbooks are YAML files in a folder (runbooks/ by default): a trigger, a
query, a condition and actions, with tests. See docs/runbooks.md.`,
	}
	cmd.AddCommand(newRunbookLintCmd(env), newRunbookTestCmd(env), newRunbookExplainCmd(env), newRunbookRunCmd(env))
	return cmd
}

// loadRunbooks loads dir with an in-memory DuckDB for translating queries.
func loadRunbooks(ctx context.Context, dir string) (*runbook.Set, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return runbook.LoadDir(ctx, dir, runbook.Options{Conn: db})
}

// runbookDir is the folder argument, or the default.
func runbookDir(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return defaultRunbooks
}

func newRunbookLintCmd(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "lint [DIR]",
		Short: "Check every runbook in DIR and report every problem with its position",
		Long: `Lint loads every runbook of DIR (default runbooks/) as the engine would:
YAML, trigger patterns, SQL, CEL, templates, actions, channels and tests.
Each problem is printed as FILE:LINE:COL: CODE: message.

Exit codes: 0 no problems, 1 problems found, 2 error (DIR unreadable).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := loadRunbooks(cmd.Context(), runbookDir(args))
			var list runbook.ErrorList
			if errors.As(err, &list) {
				for _, e := range list {
					fmt.Fprintln(env.Stdout, e.Error())
				}
				fmt.Fprintf(env.Stderr, "%d problems\n", len(list))
				return &exitError{code: ExitFindings}
			}
			if err != nil {
				return err
			}
			tests := 0
			for _, rb := range set.Runbooks {
				tests += len(rb.Tests)
			}
			for _, g := range set.Gates {
				tests += len(g.Tests)
			}
			fmt.Fprintf(env.Stdout, "%d runbooks, %d gates, %d tests: no problems\n", len(set.Runbooks), len(set.Gates), tests)
			return nil
		},
	}
}

func newRunbookTestCmd(env Env) *cobra.Command {
	var verbose bool
	cmd := &cobra.Command{
		Use:   "test [DIR]",
		Short: "Run every runbook's tests",
		Long: `Test runs the tests of every runbook in DIR (default runbooks/): for each,
a fresh store holding the test's given events and its event, and the plan
the engine makes for the event, compared with what the test expects. A
failing test prints what it expected and what it got.

Exit codes: 0 every test passed, 1 a test failed, 2 error (the runbooks do
not load).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRunbookTests(cmd.Context(), runbookDir(args), verbose, env.Stdout, env.Stderr)
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print every test, and the plans of failing ones")
	return cmd
}

func runRunbookTests(ctx context.Context, dir string, verbose bool, stdout, stderr io.Writer) error {
	set, err := loadRunbooks(ctx, dir)
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "trailbook-runbook-test")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	start := time.Now()
	results, err := runbooktest.Run(ctx, set, scratch, engine.Options{})
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		if !testLine(stdout, verbose, r.Runbook, r.Test, r.Pos, r.Pass, r.Diff, "run", r.Run, r.Err) {
			failed++
		}
	}
	gates, err := runbooktest.RunGates(ctx, set, scratch)
	if err != nil {
		return err
	}
	for _, r := range gates {
		if !testLine(stdout, verbose, "gate "+r.Gate, r.Test, r.Pos, r.Pass, r.Diff, "decision", r.Decision, r.Err) {
			failed++
		}
	}
	fmt.Fprintf(stdout, "%d runbooks, %d gates, %d tests, %d failed (%s)\n", len(set.Runbooks), len(set.Gates), len(results)+len(gates), failed, time.Since(start).Round(time.Millisecond))
	if failed > 0 {
		return &exitError{code: ExitFindings}
	}
	return nil
}

// testLine prints one test's result, ok (verbose only) or FAIL with what
// it expected and got, and, verbose, what the engine made of it (as
// label); it reports pass.
func testLine(w io.Writer, verbose bool, subject, test string, pos runbook.Pos, pass bool, diff, label string, detail any, err error) bool {
	if pass {
		if verbose {
			fmt.Fprintf(w, "ok    %s: %s\n", subject, test)
		}
		return true
	}
	fmt.Fprintf(w, "FAIL  %s: %s (%s:%d)\n", subject, test, pos.File, pos.Line)
	for _, l := range strings.Split(diff, "\n") {
		fmt.Fprintf(w, "      %s\n", l)
	}
	if verbose && err == nil {
		b, _ := json.MarshalIndent(detail, "      ", "  ")
		fmt.Fprintf(w, "      %s: %s\n", label, b)
	}
	return false
}

type runbookExplainParams struct {
	dir, db, event, now, format string
}

func newRunbookExplainCmd(env Env) *cobra.Command {
	var p runbookExplainParams
	cmd := &cobra.Command{
		Use:   "explain NAME --event FILE [--dir DIR] [--db PATH] [--now TIME]",
		Short: "Show why a runbook acts, or does not, on an event",
		Long: `Explain evaluates one runbook on the CloudTrail record in FILE and prints
each step: whether the trigger matches, the parameters, the query and its
rows, the condition, and the actions it would plan. The query runs against
the store (--db) as it is; the event need not be stored. Nothing is carried
out.

Exit codes: 0 the runbook would act, 1 it would not (no match, no action,
skipped), 2 error.`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			p.db = store.ResolvePath(p.db, env.Getenv)
			if p.event == "" {
				return errors.New("--event is required")
			}
			if p.format != "text" && p.format != "json" {
				return fmt.Errorf("--format: %q is not text or json", p.format)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRunbookExplain(cmd.Context(), args[0], p, env)
		},
	}
	dbFlag(cmd, &p.db)
	cmd.Flags().StringVar(&p.dir, "dir", defaultRunbooks, "runbook folder")
	cmd.Flags().StringVar(&p.event, "event", "", "file holding one CloudTrail record (- for stdin)")
	cmd.Flags().StringVar(&p.now, "now", "", "the clock (RFC 3339); default the event's time")
	cmd.Flags().StringVar(&p.format, "format", "text", "output format: text or json")
	return cmd
}

func runRunbookExplain(ctx context.Context, name string, p runbookExplainParams, env Env) error {
	set, err := loadRunbooks(ctx, p.dir)
	if err != nil {
		return err
	}
	var data []byte
	if p.event == "-" {
		data, err = io.ReadAll(env.Stdin)
	} else {
		data, err = os.ReadFile(p.event)
	}
	if err != nil {
		return err
	}
	rec, err := runbooktest.DecodeRecord(data)
	if err != nil {
		return fmt.Errorf("%s: %w", p.event, err)
	}
	ev := &rec
	now := ev.EventTime
	if p.now != "" {
		if now, err = parseTime(p.now); err != nil {
			return fmt.Errorf("--now: %w", err)
		}
	}
	eng, err := engine.New(set, engine.Options{})
	if err != nil {
		return err
	}
	snap, closeSnap, err := explainSnapshot(ctx, p.db)
	if err != nil {
		return err
	}
	defer closeSnap()
	plan, err := eng.EvaluateRunbook(ctx, name, ev, store.EventKey(ev), snap, now)
	if err != nil {
		return err
	}
	run := plan.Runs[0]
	if p.format == "json" {
		b, err := json.MarshalIndent(plan, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s\n", b)
	} else {
		writeExplanation(env.Stdout, plan, run)
	}
	if run.Decision != engine.Act {
		return &exitError{code: ExitFindings}
	}
	return nil
}

// explainSnapshot reads the store at db, or an empty store when there is
// none yet.
func explainSnapshot(ctx context.Context, db string) (engine.Snapshot, func(), error) {
	if _, err := os.Stat(db); err != nil {
		dir, err := os.MkdirTemp("", "trailbook-explain")
		if err != nil {
			return nil, nil, err
		}
		db = filepath.Join(dir, "empty.duckdb")
		if err := runbooktest.Store(ctx, db, nil); err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		r, err := query.Open(ctx, db, "")
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return engine.StoreSnapshot{Conn: r}, func() { r.Close(); os.RemoveAll(dir) }, nil
	}
	r, err := query.Open(ctx, db, "")
	if err != nil {
		return nil, nil, err
	}
	return engine.StoreSnapshot{Conn: r}, func() { r.Close() }, nil
}

func writeExplanation(w io.Writer, plan engine.Plan, run engine.Run) {
	fmt.Fprintf(w, "runbook:   %s (%s)\n", run.Runbook, run.Mode)
	fmt.Fprintf(w, "event:     %s %s %s at %s by %s\n", plan.Event.ID, plan.Event.Source, plan.Event.Name, plan.Event.Time.Format(time.RFC3339), plan.Event.Actor)
	fmt.Fprintf(w, "decision:  %s: %s\n", run.Decision, run.Reason)
	if len(run.Params) > 0 {
		b, _ := json.Marshal(run.Params)
		fmt.Fprintf(w, "params:    %s\n", b)
	}
	if run.Query != "" {
		fmt.Fprintf(w, "query:\n")
		for _, l := range strings.Split(strings.TrimRight(run.Query, "\n"), "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
		b, _ := json.Marshal(run.Args)
		fmt.Fprintf(w, "args:      %s\n", b)
		fmt.Fprintf(w, "rows:      %d\n", run.RowCount)
		for _, r := range run.Rows {
			b, _ := json.Marshal(r)
			fmt.Fprintf(w, "    %s\n", b)
		}
	}
	for _, a := range run.Actions {
		mode := "dry-run"
		if a.Enforce {
			mode = "enforce"
		}
		b, _ := json.Marshal(a)
		fmt.Fprintf(w, "action:    %s (%s) %s\n", a.Kind, mode, b)
	}
}

type runbookRunParams struct {
	dir, db, since, name, endpoint, region string
	enforce, alerts                        bool
	from                                   time.Time
}

func newRunbookRunCmd(env Env) *cobra.Command {
	var p runbookRunParams
	cmd := &cobra.Command{
		Use:   "run [--db PATH] [--dir DIR] [--since TIME] [--runbook NAME] [--enforce]",
		Short: "Evaluate the runbooks over stored events (a backfill) and carry out their plans",
		Long: `Run evaluates the runbooks of --dir on every stored event since --since (all
by default), oldest first, as if each had just arrived: the plans go to the
audit log (beside the store, see docs/audit.md) and every action to the
ledger, so running again does nothing twice.

Without --enforce nothing is changed anywhere: every action is planned and
recorded. With it, runbooks in enforce mode carry out their actions (AWS
calls through the standard credential chain, --aws-endpoint to override),
and alerts are sent. --alerts sends alerts in a dry run too.

Exit codes: 0 done, 1 an action failed, 2 error.`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			p.db = store.ResolvePath(p.db, env.Getenv)
			if p.since != "" {
				t, err := parseTime(p.since)
				if err != nil {
					return fmt.Errorf("--since: %w", err)
				}
				p.from = t
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRunbookRun(cmd.Context(), p, env)
		},
	}
	dbFlag(cmd, &p.db)
	cmd.Flags().StringVar(&p.dir, "dir", defaultRunbooks, "runbook folder")
	cmd.Flags().StringVar(&p.since, "since", "", "evaluate events from this time on (RFC 3339 or a date)")
	cmd.Flags().StringVar(&p.name, "runbook", "", "evaluate only this runbook")
	cmd.Flags().BoolVar(&p.enforce, "enforce", false, "carry out the actions of runbooks in enforce mode")
	cmd.Flags().BoolVar(&p.alerts, "alerts", false, "send alerts in a dry run too")
	cmd.Flags().StringVar(&p.endpoint, "aws-endpoint", "", "AWS endpoint override (for local testing)")
	cmd.Flags().StringVar(&p.region, "aws-region", "us-east-1", "default AWS region")
	return cmd
}

func runRunbookRun(ctx context.Context, p runbookRunParams, env Env) error {
	set, err := loadRunbooks(ctx, p.dir)
	if err != nil {
		return err
	}
	if p.name != "" {
		var keep []*runbook.Runbook
		for _, rb := range set.Runbooks {
			if rb.Name == p.name {
				keep = append(keep, rb)
			}
		}
		if keep == nil {
			return fmt.Errorf("no runbook %s in %s", p.name, p.dir)
		}
		set = &runbook.Set{Runbooks: keep, Channels: set.Channels}
	}
	st, err := store.Open(ctx, p.db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, stmt := range query.Prelude() {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("prepare queries: %w", err)
		}
	}
	log, err := audit.Open(audit.DefaultPath(p.db), audit.Options{Mirror: st})
	if err != nil {
		return err
	}
	defer log.Close()
	eng, err := engine.New(set, engine.Options{Enforce: p.enforce, Cache: engine.NewCache(time.Minute, nil)})
	if err != nil {
		return err
	}
	execs, err := runner.Executors(ctx, set, st, runner.ExecutorOptions{Enforce: p.enforce, Region: p.region, Endpoint: p.endpoint, Stdout: env.Stdout, Getenv: env.Getenv})
	if err != nil {
		return err
	}
	run := &runner.Runner{Store: st, Audit: log, Executors: execs, Alerts: p.alerts || p.enforce}

	// The events to evaluate are read first, so that what the runbooks
	// record does not change what is read.
	rows, err := conn.QueryContext(ctx, `SELECT eventJson FROM events WHERE eventTime >= ? ORDER BY eventTime, eventID`, p.from)
	if err != nil {
		return err
	}
	var records [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return err
		}
		records = append(records, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	snap := engine.StoreSnapshot{Conn: conn}
	counts := map[string]int{}
	failed := 0
	apply := func(plan engine.Plan) error {
		outs, err := run.Apply(ctx, plan)
		if err != nil {
			return err
		}
		for _, r := range plan.Runs {
			counts[r.Runbook+" "+r.Decision]++
		}
		for _, o := range outs {
			counts["actions "+o.Status]++
			if o.Status == action.StatusFailed {
				failed++
				fmt.Fprintf(env.Stderr, "action %s failed: %s\n", o.Key, o.Error)
			}
		}
		return nil
	}
	// Evaluations deferred to the end of a schema's grace are taken up
	// when the history (or, at the end, today) reaches their time, each
	// with the clock at that time.
	var nextDue time.Time
	names := map[string]bool{}
	for _, rb := range set.Runbooks {
		names[rb.Name] = true
	}
	pending := func() error {
		firsts, err := st.PendingDeferred(ctx)
		if err != nil {
			return err
		}
		nextDue = time.Time{}
		for name, at := range firsts {
			if names[name] && (nextDue.IsZero() || at.Before(nextDue)) {
				nextDue = at
			}
		}
		return nil
	}
	takeDue := func(until time.Time) error {
		if nextDue.IsZero() || until.Before(nextDue) {
			return nil
		}
		due, err := st.DueDeferred(ctx, until)
		if err != nil {
			return err
		}
		for _, d := range due {
			if !names[d.Runbook] {
				continue // another runbook's (--runbook), or one no longer in the folder
			}
			res := cloudtrail.Decode(d.Record, cloudtrail.Options{})
			if len(res.Events) != 1 {
				return fmt.Errorf("deferred %s: the stored record does not decode", d.Runbook)
			}
			plan, err := eng.EvaluateRunbook(ctx, d.Runbook, &res.Events[0], d.EventKey, snap, d.RecheckAt)
			if err != nil {
				return err
			}
			if err := apply(plan); err != nil {
				return err
			}
			if err := st.FinishDeferred(ctx, d.Runbook, d.EventKey, d.RecheckAt); err != nil {
				return err
			}
		}
		// What is left, deferred before this run or by it, comes later.
		return pending()
	}
	if err := pending(); err != nil {
		return err
	}
	// Records are decoded and matched a chunk at a time, on every core;
	// they are planned and applied one by one, in order.
	for chunk := range slices.Chunk(records, 1024) {
		evs := make([]cloudtrail.Event, 0, len(chunk))
		for _, rec := range chunk {
			if res := cloudtrail.Decode(rec, cloudtrail.Options{}); len(res.Events) == 1 {
				evs = append(evs, res.Events[0])
			}
		}
		matched, err := eng.MatchBatch(evs)
		if err != nil {
			return err
		}
		for i := range evs {
			ev := &evs[i]
			if err := takeDue(ev.EventTime); err != nil {
				return err
			}
			// The clock is the event's time, as a live daemon's would have
			// been: cooldowns and TTLs run along the history, not from today.
			plan, err := eng.EvaluateMatched(ctx, ev, store.EventKey(ev), matched[i], snap, ev.EventTime)
			if err != nil {
				return err
			}
			if len(plan.Runs) == 0 {
				continue
			}
			if err := apply(plan); err != nil {
				return err
			}
			if slices.ContainsFunc(plan.Runs, func(r engine.Run) bool { return r.Decision == engine.Deferred }) {
				if err := pending(); err != nil {
					return err
				}
			}
		}
	}
	if err := takeDue(time.Now().UTC()); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%d events evaluated\n", len(records))
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(env.Stdout, "  %-50s %d\n", k, counts[k])
	}
	if failed > 0 {
		return &exitError{code: ExitFindings}
	}
	return nil
}
