package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/render"
	"github.com/trailbook/trailbook/internal/store"
	"github.com/trailbook/trailbook/internal/tags"
	"github.com/trailbook/trailbook/internal/tags/schema"
)

func newTagsCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tags",
		Short: "The tag inventory: history, snapshots and schema checks",
		Long: `Trailbook rebuilds every resource's tags over time from the tagging calls in
its events (see docs/tags.md). These commands read and extend that inventory.`,
	}
	cmd.AddCommand(newTagsHistoryCmd(env), newTagsImportCmd(env), newTagsCheckCmd(env))
	return cmd
}

// parseTime reads --at: RFC 3339, or a date.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want RFC 3339 (2024-05-01T12:00:00Z) or a date (2024-05-01)", s)
}

type tagsHistoryParams struct {
	db, arn, format string
	fmt             render.Format
}

func newTagsHistoryCmd(env Env) *cobra.Command {
	var p tagsHistoryParams
	cmd := &cobra.Command{
		Use:   "history [--db PATH] [--format table|csv|json|jsonl] ARN",
		Short: "Show every value each tag of a resource had, when, and who set it",
		Long: `History prints one row per value a tag key of the resource held: from, to
(empty while it holds), the call and principal that set it and the ones that
ended it.

Exit codes: 0 history printed, 1 no tag history known for ARN, 2 error.`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			p.db = store.ResolvePath(p.db, env.Getenv)
			p.arn = args[0]
			f, err := render.ParseFormat(p.format)
			if err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			p.fmt = f
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTagsHistory(cmd.Context(), p, env.Stdout, env.Stderr)
		},
	}
	dbFlag(cmd, &p.db)
	cmd.Flags().StringVar(&p.format, "format", "table", "output format: table, csv, json or jsonl")
	return cmd
}

func runTagsHistory(ctx context.Context, p tagsHistoryParams, stdout, stderr io.Writer) error {
	r, err := query.Open(ctx, p.db, "")
	if err != nil {
		return err
	}
	defer r.Close()
	rows, err := r.QueryContext(ctx, `SELECT "key", "value", valid_from AS "from", valid_to AS "to",
		set_event_name AS set_by_call, set_by, set_event_id,
		ended_event_name AS ended_by_call, ended_by, ended_event_id
		FROM resource_tags WHERE arn = ? ORDER BY valid_from, "key"`, p.arn)
	if err != nil {
		return err
	}
	defer rows.Close()
	n, err := render.Write(stdout, p.fmt, rows)
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintf(stderr, "no tag history for %s\n", p.arn)
		return &exitError{code: ExitFindings}
	}
	return nil
}

type tagsImportParams struct {
	db, file, at string
	when         time.Time
}

func newTagsImportCmd(env Env) *cobra.Command {
	var p tagsImportParams
	cmd := &cobra.Command{
		Use:   "import [--db PATH] [--at TIME] FILE",
		Short: "Load a snapshot of current tags from `aws resourcegroupstaggingapi get-resources` output",
		Long: `Import records the tags in a get-resources export as every listed resource's
whole tag set, known true at --at (default now). Resources tagged before the
CloudTrail data in the store starts are then known too; later tagging events
change them as usual. Importing the same file at the same time twice adds
nothing. FILE may hold one page, several pages one after another, or a JSON
array of pages; - reads stdin.

Exit codes: 0 imported, 2 error.`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			p.db = store.ResolvePath(p.db, env.Getenv)
			p.file = args[0]
			p.when = time.Now().UTC().Truncate(time.Second)
			if p.at != "" {
				t, err := parseTime(p.at)
				if err != nil {
					return fmt.Errorf("--at: %w", err)
				}
				p.when = t
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTagsImport(cmd.Context(), p, env)
		},
	}
	dbFlag(cmd, &p.db)
	cmd.Flags().StringVar(&p.at, "at", "", "time the snapshot was taken (RFC 3339 or a date; default now)")
	return cmd
}

func runTagsImport(ctx context.Context, p tagsImportParams, env Env) error {
	var data []byte
	var err error
	name := p.file
	if p.file == "-" {
		data, err = io.ReadAll(env.Stdin)
	} else {
		data, err = os.ReadFile(p.file)
		if abs, aerr := filepath.Abs(p.file); aerr == nil {
			name = abs
		}
	}
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	changes, err := tags.ParseSnapshot(data)
	if err != nil {
		return fmt.Errorf("%s: %w", p.file, err)
	}
	st, err := store.Open(ctx, p.db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.ImportTags(ctx, name, p.when, changes)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "imported %d resources from %s as of %s (%d already known from this snapshot)\n",
		n, p.file, p.when.Format(time.RFC3339), len(changes)-n)
	return nil
}

type tagsCheckParams struct {
	db, at, format string
	schemas        []string
	when           time.Time
}

func newTagsCheckCmd(env Env) *cobra.Command {
	var p tagsCheckParams
	cmd := &cobra.Command{
		Use:   "check [--db PATH] --schema FILE... [--at TIME] [--format text|json]",
		Short: "Check every known resource's tags against tag schemas and AWS tag policies",
		Long: `Check evaluates every resource the inventory knows at --at (default now)
against the schemas: Trailbook YAML tag schemas and AWS Organizations tag
policy JSON (several policies are merged in the order given, parent first).
It prints each non-compliant resource with the reason (untagged, missing-key,
value-not-allowed, wrong-key-case) and the call that made it so: who, when,
which call.

Exit codes: 0 all comply, 1 some resource does not, 2 error.`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			p.db = store.ResolvePath(p.db, env.Getenv)
			if len(p.schemas) == 0 {
				return errors.New("give at least one --schema FILE")
			}
			if p.format != "text" && p.format != "json" {
				return fmt.Errorf("--format: %q is not text or json", p.format)
			}
			p.when = time.Now().UTC()
			if p.at != "" {
				t, err := parseTime(p.at)
				if err != nil {
					return fmt.Errorf("--at: %w", err)
				}
				p.when = t
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTagsCheck(cmd.Context(), p, env.Stdout)
		},
	}
	dbFlag(cmd, &p.db)
	cmd.Flags().StringArrayVar(&p.schemas, "schema", nil, "schema file: Trailbook YAML or AWS tag policy JSON (repeat; policies parent first)")
	cmd.Flags().StringVar(&p.at, "at", "", "check the tags as they were at this time (RFC 3339 or a date; default now)")
	cmd.Flags().StringVar(&p.format, "format", "text", "output format: text or json")
	return cmd
}

// finding is one violation with the call that caused it.
type finding struct {
	schema.Violation
	Call  string    `json:"call,omitempty"`
	Actor string    `json:"actor,omitempty"`
	When  time.Time `json:"when,omitzero"`
	Event string    `json:"eventId,omitempty"`
}

func runTagsCheck(ctx context.Context, p tagsCheckParams, stdout io.Writer) error {
	var files []schema.File
	for _, name := range p.schemas {
		data, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read schema: %w", err)
		}
		files = append(files, schema.File{Name: name, Data: data})
	}
	sch, err := schema.Load(files)
	if err != nil {
		return err
	}
	r, err := query.Open(ctx, p.db, "")
	if err != nil {
		return err
	}
	defer r.Close()
	resources, err := loadTagState(ctx, r, p.when)
	if err != nil {
		return err
	}
	var out []finding
	for _, res := range resources {
		for _, v := range sch.Check(schema.Resource{ARN: res.arn, Tags: res.tags}) {
			if v.Grace > 0 && !res.created.IsZero() && p.when.Before(res.created.Add(v.Grace)) {
				continue // created recently: its rule's grace has not run out
			}
			f := finding{Violation: v}
			cause := res.set
			if iv, ok := res.cause(v); ok {
				cause = iv
			}
			f.Call, f.Actor, f.When, f.Event = cause.call, cause.actor, cause.at, cause.event
			out = append(out, f)
		}
	}
	if p.format == "json" {
		if out == nil {
			out = []finding{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		for _, f := range out {
			fmt.Fprintf(stdout, "%s\t%s\t%s", f.ARN, f.Code, f.Message)
			if f.Call != "" {
				fmt.Fprintf(stdout, "\t(%s by %s at %s)", f.Call, orUnknown(f.Actor), f.When.Format(time.RFC3339))
			}
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%d resources checked, %d findings\n", len(resources), len(out))
	}
	if len(out) > 0 {
		return &exitError{code: ExitFindings}
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown principal"
	}
	return s
}

// cause is the call behind a resource's state.
type cause struct {
	call, actor, event string
	at                 time.Time
}

// tagState is one resource's tags at the checked time and their history
// up to it.
type tagState struct {
	arn     string
	tags    []tags.Tag
	set     cause            // the call that made the current tag set
	current map[string]cause // key -> the call that set its current value
	ended   map[string]cause // key -> the last call that removed it
	created time.Time        // its last creation, zero when not seen
}

// cause returns the call that explains v: the one that set the offending
// value, or the one that removed the missing key.
func (s *tagState) cause(v schema.Violation) (cause, bool) {
	for k, c := range s.current {
		if strings.EqualFold(k, v.Key) && (v.Code == "value-not-allowed" || v.Code == "wrong-key-case") {
			return c, true
		}
	}
	if v.Code == "missing-key" {
		c, ok := s.ended[v.Key]
		return c, ok
	}
	return cause{}, false
}

// loadTagState reads every resource whose tags are known at t (and not
// deleted by then), in ARN order.
func loadTagState(ctx context.Context, r *store.Reader, t time.Time) ([]*tagState, error) {
	rows, err := r.QueryContext(ctx, `SELECT arn, CAST(to_json(tags) AS VARCHAR), coalesce(set_event_name, ''), coalesce(set_by, ''), coalesce(set_event_id, ''), valid_from
		FROM tag_sets WHERE valid_from <= ? AND (valid_to IS NULL OR ? < valid_to) ORDER BY arn`, t, t)
	if err != nil {
		return nil, fmt.Errorf("read tag inventory: %w", err)
	}
	defer rows.Close()
	byARN := map[string]*tagState{}
	var out []*tagState
	for rows.Next() {
		s := &tagState{current: map[string]cause{}, ended: map[string]cause{}}
		var m string
		if err := rows.Scan(&s.arn, &m, &s.set.call, &s.set.actor, &s.set.event, &s.set.at); err != nil {
			return nil, fmt.Errorf("read tag inventory: %w", err)
		}
		var kv map[string]string
		if err := json.Unmarshal([]byte(m), &kv); err != nil {
			return nil, fmt.Errorf("read tag inventory: %s: %w", s.arn, err)
		}
		for k, v := range kv {
			s.tags = append(s.tags, tags.Tag{Key: k, Value: v})
		}
		sort.Slice(s.tags, func(i, j int) bool { return s.tags[i].Key < s.tags[j].Key })
		out = append(out, s)
		byARN[s.arn] = s
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	created, err := r.QueryContext(ctx, `SELECT arn, max(changed_at) FROM tag_changes
		WHERE kind = 'create' AND changed_at <= ? GROUP BY arn`, t)
	if err != nil {
		return nil, fmt.Errorf("read tag inventory: %w", err)
	}
	defer created.Close()
	for created.Next() {
		var arn string
		var at time.Time
		if err := created.Scan(&arn, &at); err != nil {
			return nil, fmt.Errorf("read tag inventory: %w", err)
		}
		if s := byARN[arn]; s != nil {
			s.created = at
		}
	}
	if err := created.Err(); err != nil {
		return nil, err
	}
	created.Close()
	ivs, err := r.QueryContext(ctx, `SELECT arn, "key", valid_from, valid_to,
		coalesce(set_event_name, ''), coalesce(set_by, ''), coalesce(set_event_id, ''),
		coalesce(ended_event_name, ''), coalesce(ended_by, ''), coalesce(ended_event_id, '')
		FROM resource_tags WHERE valid_from <= ? ORDER BY arn, valid_from`, t)
	if err != nil {
		return nil, fmt.Errorf("read tag history: %w", err)
	}
	defer ivs.Close()
	for ivs.Next() {
		var arn, key string
		var from time.Time
		var to sql.NullTime
		var set, end cause
		if err := ivs.Scan(&arn, &key, &from, &to, &set.call, &set.actor, &set.event, &end.call, &end.actor, &end.event); err != nil {
			return nil, fmt.Errorf("read tag history: %w", err)
		}
		s := byARN[arn]
		if s == nil {
			continue
		}
		set.at = from
		if !to.Valid || t.Before(to.Time) {
			s.current[key] = set
		} else {
			end.at = to.Time
			s.ended[key] = end
		}
	}
	return out, ivs.Err()
}
