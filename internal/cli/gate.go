package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/gate"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/store"
)

// waitForStore is how long gate commands wait for another process to
// close the store: ten pipelines checking at once take turns.
const waitForStore = time.Minute

func newGateCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gate",
		Short: "Ask, override, reopen and list opt-out gates",
		Long: `Gates are YAML definitions in the runbook folder (a file whose top level has
the key gate): checks over recent events that decide whether a pipeline may
proceed, should skip a step, or must halt. Runbooks close them too. See
docs/gates.md.

gate check exit codes, stable forever: 0 proceed, 1 halt, 3 skip, 2 error
(the check could not be made and the gate is fail-closed, or bad usage).`,
	}
	cmd.AddCommand(newGateCheckCmd(env), newGateListCmd(env), newGateOverrideCmd(env), newGateReopenCmd(env))
	return cmd
}

type gateParams struct {
	db, dir, format, by, reason, decision, until string
	params                                       []string
	noCache                                      bool
}

func gateFlags(cmd *cobra.Command, p *gateParams, env Env) {
	dbFlag(cmd, &p.db)
	cmd.Flags().StringVar(&p.dir, "dir", "", "the folder holding the gate definitions (default $TRAILBOOK_RUNBOOKS, else runbooks)")
	cmd.PreRunE = chainPreRun(cmd.PreRunE, func() error {
		if p.dir == "" {
			p.dir = cmp.Or(env.Getenv("TRAILBOOK_RUNBOOKS"), defaultRunbooks)
		}
		return nil
	})
}

// chainPreRun runs then after first.
func chainPreRun(first func(*cobra.Command, []string) error, then func() error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if first != nil {
			if err := first(cmd, args); err != nil {
				return err
			}
		}
		return then()
	}
}

// gateSession is what every gate command opens: the definitions, the
// store, the audit log and a checker over them.
type gateSession struct {
	set     *runbook.Set
	st      *store.Store
	log     *audit.Log
	checker *gate.Checker
	close   func()
}

func openGates(ctx context.Context, p gateParams, env Env) (*gateSession, error) {
	set, err := loadRunbooks(ctx, p.dir)
	if err != nil {
		return nil, err
	}
	return openGateStore(ctx, set, p, env)
}

func openGateStore(ctx context.Context, set *runbook.Set, p gateParams, env Env) (*gateSession, error) {
	db := store.ResolvePath(p.db, env.Getenv)
	if _, err := os.Stat(db); err != nil {
		return nil, fmt.Errorf("store %s: %w (run `trailbook ingest` or `trailbook demo` first)", db, err)
	}
	st, err := store.Open(ctx, db, store.Options{WaitLock: waitForStore})
	if err != nil {
		return nil, err
	}
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	for _, stmt := range query.Prelude() {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			conn.Close()
			st.Close()
			return nil, fmt.Errorf("prepare queries: %w", err)
		}
	}
	log, err := audit.Open(audit.DefaultPath(db), audit.Options{Mirror: st})
	if err != nil {
		conn.Close()
		st.Close()
		return nil, err
	}
	s := &gateSession{set: set, st: st, log: log,
		checker: &gate.Checker{Store: st, Query: engine.StoreSnapshot{Conn: conn}, Audit: log}}
	s.close = func() {
		log.Close()
		conn.Close()
		st.Close()
	}
	return s, nil
}

func (s *gateSession) gate(name, dir string) (*runbook.Gate, error) {
	if g := s.set.Gate(name); g != nil {
		return g, nil
	}
	return nil, noGate(s.set, name, dir)
}

func noGate(set *runbook.Set, name, dir string) error {
	var names []string
	for _, g := range set.Gates {
		names = append(names, g.Name)
	}
	if len(names) == 0 {
		return fmt.Errorf("no gate %s: %s defines no gates", name, dir)
	}
	return fmt.Errorf("no gate %s in %s; it defines %s", name, dir, strings.Join(names, ", "))
}

func newGateCheckCmd(env Env) *cobra.Command {
	var p gateParams
	cmd := &cobra.Command{
		Use:   "check NAME [--param K=V]... [--format text|json] [--no-cache]",
		Short: "Decide whether a pipeline may proceed: exit 0 proceed, 1 halt, 3 skip, 2 error",
		Long: `Check decides the gate NAME now: it runs the gate's checks over the events
of its window, applies what runbooks, overrides and reopenings set on it,
prints the decision, the reason and the evidence, and appends the decision
to the audit log with the CI context (GitHub Actions, GitLab CI or Jenkins
variables: repository, job, run id, actor, commit).

The checks' results are reused while the store holds the same events and
they are younger than the gate's cache (default 1m), so ten jobs asking at
once scan once; --no-cache runs them anyway.

Exit codes, stable forever:
  0  proceed
  1  halt
  3  skip
  2  error: the gate could not be decided and is fail-closed (the default),
     or the command was misused. A fail-open gate proceeds on an error,
     with a warning.`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if p.format != "text" && p.format != "json" {
				return fmt.Errorf("--format %q: want text or json", p.format)
			}
			_, err := paramFlags(p.params)
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGateCheck(cmd.Context(), args[0], p, env)
		},
	}
	gateFlags(cmd, &p, env)
	cmd.Flags().StringArrayVar(&p.params, "param", nil, "a value for one of the gate's params, NAME=VALUE (repeatable)")
	cmd.Flags().StringVar(&p.format, "format", "text", "text or json")
	cmd.Flags().BoolVar(&p.noCache, "no-cache", false, "run the checks even when a cached result would do")
	return cmd
}

// paramFlags parses --param NAME=VALUE flags.
func paramFlags(flags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--param %q: want NAME=VALUE", f)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("--param %s given twice", k)
		}
		out[k] = v
	}
	return out, nil
}

func runGateCheck(ctx context.Context, name string, p gateParams, env Env) error {
	params, _ := paramFlags(p.params)
	set, err := loadRunbooks(ctx, p.dir)
	if err != nil {
		return err
	}
	g := set.Gate(name)
	if g == nil {
		return noGate(set, name, p.dir)
	}
	// Misuse is an error whatever the gate says.
	if _, err := gate.Params(g, params); err != nil {
		return err
	}
	// From here on an error is the gate's to decide: fail-closed gates
	// halt with exit 2, fail-open ones proceed with a warning.
	failed := func(err error) error {
		d := gate.Decision{Gate: g.Name, Decision: g.OnError, Error: err.Error(), Now: time.Now().UTC(),
			Reason: "the gate could not be decided: " + err.Error()}
		if werr := writeDecision(env.Stdout, p.format, d); werr != nil {
			return werr
		}
		if g.OnError == runbook.GateProceed {
			fmt.Fprintf(env.Stderr, "trailbook: warning: gate %s is fail-open and proceeds on: %v\n", g.Name, err)
			return nil
		}
		return &exitError{code: gate.ExitError, err: fmt.Errorf("gate %s is fail-closed: %w", g.Name, err)}
	}
	s, err := openGateStore(ctx, set, p, env)
	if err != nil {
		return failed(err)
	}
	defer s.close()
	d, err := s.checker.Check(ctx, g, gate.Request{Params: params, NoCache: p.noCache, CI: gate.CIContext(env.Getenv)})
	switch {
	case err != nil && d.Gate != "":
		// Decided, but not in the audit log: no pipeline may act on a
		// decision that left no record, fail-open or not.
		return &exitError{code: gate.ExitError, err: fmt.Errorf("gate %s decided %s, but it could not be recorded: %w", g.Name, d.Decision, err)}
	case err != nil:
		return failed(err)
	}
	if err := writeDecision(env.Stdout, p.format, d); err != nil {
		return err
	}
	if code := d.ExitCode(); code != gate.ExitProceed {
		if code == gate.ExitError {
			return &exitError{code: code, err: fmt.Errorf("gate %s is fail-closed: %s", g.Name, d.Error)}
		}
		return &exitError{code: code}
	}
	if d.Error != "" {
		fmt.Fprintf(env.Stderr, "trailbook: warning: gate %s is fail-open and proceeds on: %s\n", g.Name, d.Error)
	}
	return nil
}

func writeDecision(w io.Writer, format string, d gate.Decision) error {
	if format == "json" {
		// The exit code too, so that a pipeline reading the JSON tells a
		// halt from an error that halts.
		b, err := json.MarshalIndent(struct {
			gate.Decision
			ExitCode int `json:"exit_code"`
		}{d, d.ExitCode()}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	fmt.Fprintf(w, "gate %s: %s\n", d.Gate, strings.ToUpper(d.Decision))
	fmt.Fprintf(w, "reason: %s\n", d.Reason)
	if d.Error != "" {
		fmt.Fprintf(w, "error: %s\n", d.Error)
	}
	if len(d.Params) > 0 {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(d.Params)) {
			kv = append(kv, k+"="+d.Params[k])
		}
		fmt.Fprintf(w, "params: %s\n", strings.Join(kv, " "))
	}
	if !d.WindowStart.IsZero() {
		how := "checked now"
		if d.Cached {
			how = "cached from " + d.CheckedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "window: %s to %s (%s)\n", d.WindowStart.Format(time.RFC3339), d.Now.Format(time.RFC3339), how)
	}
	if len(d.Checks) > 0 {
		fmt.Fprintln(w, "checks:")
		tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
		for _, c := range d.Checks {
			why := c.Reason
			if c.Error != "" {
				why = "error: " + c.Error
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d rows\t%s\n", c.Name, c.Decision, c.RowCount, oneLine(why, 200))
		}
		tw.Flush()
	}
	for _, c := range d.Checks {
		if c.Decision == runbook.GateProceed || len(c.Rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "evidence of %s (%d of %d rows):\n", c.Name, len(c.Rows), c.RowCount)
		writeRows(w, c.Rows)
	}
	return nil
}

// writeRows prints rows as an aligned table, columns in name order.
func writeRows(w io.Writer, rows []map[string]any) {
	cols := slices.Sorted(maps.Keys(rows[0]))
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s\n", strings.Join(cols, "\t"))
	for _, r := range rows {
		vals := make([]string, len(cols))
		for i, c := range cols {
			switch v := r[c].(type) {
			case nil:
				vals[i] = ""
			case string:
				vals[i] = v
			default:
				b, _ := json.Marshal(v)
				vals[i] = string(b)
			}
			if len(vals[i]) > 80 {
				vals[i] = vals[i][:77] + "..."
			}
		}
		fmt.Fprintf(tw, "  %s\n", strings.Join(vals, "\t"))
	}
	tw.Flush()
}

// who is the person an override or reopening is recorded as: --by, else
// $TRAILBOOK_USER, else the CI actor, else $USER.
func who(by string, env Env) string {
	if by != "" {
		return by
	}
	if v := env.Getenv("TRAILBOOK_USER"); v != "" {
		return v
	}
	if ci := gate.CIContext(env.Getenv); ci["actor"] != "" {
		return ci["actor"]
	}
	return env.Getenv("USER")
}

func newGateOverrideCmd(env Env) *cobra.Command {
	var p gateParams
	cmd := &cobra.Command{
		Use:   "override NAME --decision proceed|skip|halt --until T --reason TEXT [--by WHO]",
		Short: "Set a gate's decision by hand until a time, recorded in the audit log",
		Long: `Override makes gate NAME answer --decision until --until (an RFC 3339 time
or a duration from now such as 2h; at most 7 days), whatever its checks
say, unless a runbook closes it after the override. The override never
outlives --until. --reason and who (--by, else $TRAILBOOK_USER, the CI
actor or $USER; one of the gate's owners when it names any) go into the
audit log.

Exit codes: 0 done, 2 error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			until, err := untilFlag(p.until, time.Now())
			if err != nil {
				return err
			}
			s, err := openGates(cmd.Context(), p, env)
			if err != nil {
				return err
			}
			defer s.close()
			g, err := s.gate(args[0], p.dir)
			if err != nil {
				return err
			}
			st, err := s.checker.Override(cmd.Context(), g, p.decision, until, p.reason, who(p.by, env), gate.CIContext(env.Getenv))
			if err != nil {
				return fmt.Errorf("override %s: %w", g.Name, err)
			}
			fmt.Fprintf(env.Stdout, "gate %s: %s until %s, by %s: %s\n", g.Name, st.State, st.Until.Format(time.RFC3339), st.SetBy, st.Reason)
			return nil
		},
	}
	gateFlags(cmd, &p, env)
	cmd.Flags().StringVar(&p.decision, "decision", "", "proceed, skip or halt")
	cmd.Flags().StringVar(&p.until, "until", "", "when the override ends: an RFC 3339 time or a duration from now (2h)")
	cmd.Flags().StringVar(&p.reason, "reason", "", "why: goes into the audit log")
	cmd.Flags().StringVar(&p.by, "by", "", "who overrides (default $TRAILBOOK_USER, the CI actor, $USER)")
	for _, f := range []string{"decision", "until", "reason"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

// untilFlag reads --until: a time, or a duration after now.
func untilFlag(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("--until %s: must be ahead", s)
		}
		return now.Add(d).UTC(), nil
	}
	t, err := parseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--until: %w, or a duration such as 2h", err)
	}
	return t, nil
}

func newGateReopenCmd(env Env) *cobra.Command {
	var p gateParams
	cmd := &cobra.Command{
		Use:   "reopen NAME --reason TEXT [--by WHO]",
		Short: "Clear what runbooks and overrides set on a gate, and acknowledge the events so far",
		Long: `Reopen clears every state set on gate NAME so far, runbook closures and
overrides alike, and acknowledges the events so far: the gate's checks look
only at events after the reopening. --reason and who go into the audit log.

Exit codes: 0 done, 2 error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openGates(cmd.Context(), p, env)
			if err != nil {
				return err
			}
			defer s.close()
			g, err := s.gate(args[0], p.dir)
			if err != nil {
				return err
			}
			st, err := s.checker.Reopen(cmd.Context(), g, p.reason, who(p.by, env), gate.CIContext(env.Getenv))
			if err != nil {
				return fmt.Errorf("reopen %s: %w", g.Name, err)
			}
			fmt.Fprintf(env.Stdout, "gate %s: reopened at %s by %s: %s\n", g.Name, st.SetAt.Format(time.RFC3339), st.SetBy, st.Reason)
			return nil
		},
	}
	gateFlags(cmd, &p, env)
	cmd.Flags().StringVar(&p.reason, "reason", "", "why: goes into the audit log")
	cmd.Flags().StringVar(&p.by, "by", "", "who reopens (default $TRAILBOOK_USER, the CI actor, $USER)")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

func newGateListCmd(env Env) *cobra.Command {
	var p gateParams
	cmd := &cobra.Command{
		Use:   "list [--db PATH] [--dir DIR] [--format text|json]",
		Short: "Show every gate, its state now, and when and why it last changed",
		Long: `List shows every gate the folder defines, and any other a runbook has
closed: its state now (open, or the closure or override in force and until
when), when and why its state last changed, and its last checked decision
from the audit log. It runs no checks.

Exit codes: 0 done, 2 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGateList(cmd.Context(), p, env)
		},
	}
	gateFlags(cmd, &p, env)
	cmd.Flags().StringVar(&p.format, "format", "text", "text or json")
	return cmd
}

func runGateList(ctx context.Context, p gateParams, env Env) error {
	if p.format != "text" && p.format != "json" {
		return fmt.Errorf("--format %q: want text or json", p.format)
	}
	s, err := openGates(ctx, p, env)
	if err != nil {
		return err
	}
	defer s.close()
	out, err := gate.List(ctx, s.st, s.set, time.Now().UTC())
	if err != nil {
		return err
	}
	if p.format == "json" {
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s\n", b)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "GATE\tSTATE\tUNTIL\tLAST CHANGE\tBY\tWHY\tLAST CHECK")
	for _, r := range out {
		name := r.Gate
		if !r.Defined {
			name += " (not defined)"
		}
		until, changed, check := "", "", ""
		if !r.Until.IsZero() {
			until = r.Until.Format(time.RFC3339)
		} else if r.State != gate.Open {
			until = "reopened"
		}
		if !r.Changed.IsZero() {
			changed = r.Changed.Format(time.RFC3339)
		}
		if r.LastCheck != "" {
			check = r.LastCheck + " at " + r.LastChecked.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, r.State, until, changed, r.ChangedBy, oneLine(r.Why, 60), check)
	}
	return tw.Flush()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}
