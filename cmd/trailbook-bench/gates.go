package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/gate"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/store"
)

// gateBench is what gateSteps measured.
type gateBench struct {
	gate             string
	checks           int
	runs             int
	now              time.Time
	decision         string
	rows             int // evidence rows, over all checks
	uncached, cached time.Duration
	// cli is `trailbook gate check` as a pipeline runs it: a process
	// that loads the definitions, opens the store and answers from the
	// cache (on the system clock, so its window is empty of the 2024
	// events).
	cli time.Duration
}

// gateSteps measures issue 5's targets on a copy of the store (checks
// write their cache and audit entries): deploy-prod checked without the
// cache, and with it, in this process, c.runs times each, alternating;
// and the CLI's cached check as a child process.
func gateSteps(ctx context.Context, db string, c config, rep *report, log io.Writer) error {
	conn, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	set, err := runbook.LoadDir(ctx, c.runbooks, runbook.Options{Conn: conn})
	conn.Close()
	if err != nil {
		return err
	}
	g := set.Gate("deploy-prod")
	if g == nil {
		return fmt.Errorf("%s has no gate deploy-prod", c.runbooks)
	}
	dir, err := os.MkdirTemp(c.dir, "gates-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	copyDB := filepath.Join(dir, "trailbook.duckdb")
	fmt.Fprintf(log, "gates: copy the store\n")
	if err := copyFile(db, copyDB); err != nil {
		return err
	}
	st, err := store.Open(ctx, copyDB, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	qc, err := st.DB().Conn(ctx)
	if err != nil {
		return err
	}
	defer qc.Close()
	for _, stmt := range query.Prelude() {
		if _, err := qc.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	log2, err := audit.Open(audit.DefaultPath(copyDB), audit.Options{Mirror: st})
	if err != nil {
		return err
	}
	defer log2.Close()
	// The clock: an hour after the last stored event, so the window holds
	// the store's last day.
	var last time.Time
	if err := qc.QueryRowContext(ctx, `SELECT max(eventTime) FROM events`).Scan(&last); err != nil {
		return err
	}
	now := last.UTC().Add(time.Hour)
	ck := &gate.Checker{Store: st, Query: engine.StoreSnapshot{Conn: qc}, Audit: log2, Now: func() time.Time { return now }}
	out := gateBench{gate: g.Name, checks: len(g.Checks), runs: c.runs, now: now}
	check := func(noCache bool) (time.Duration, gate.Decision, error) {
		start := time.Now()
		d, err := ck.Check(ctx, g, gate.Request{NoCache: noCache})
		el := time.Since(start)
		if err == nil && d.Cached == noCache {
			err = fmt.Errorf("cached is %v with no-cache %v", d.Cached, noCache)
		}
		if err == nil && d.Error != "" {
			err = fmt.Errorf("deploy-prod: %s", d.Error)
		}
		return el, d, err
	}
	// Warm up both paths, then alternate.
	if _, _, err := check(true); err != nil {
		return err
	}
	if _, _, err := check(false); err != nil {
		return err
	}
	fmt.Fprintf(log, "gates: %d checks of deploy-prod, cached and not\n", 2*c.runs)
	var unc, cac []time.Duration
	for range c.runs {
		el, d, err := check(true)
		if err != nil {
			return err
		}
		unc = append(unc, el)
		out.decision = d.Decision
		out.rows = 0
		for _, r := range d.Checks {
			out.rows += r.RowCount
		}
		if el, _, err = check(false); err != nil {
			return err
		}
		cac = append(cac, el)
	}
	out.uncached, out.cached = median(unc), median(cac)
	// The CLI, cached: the first call fills the cache for the system
	// clock's window.
	// Let the child have the store: close the connection, then the store.
	log2.Close()
	qc.Close()
	st.Close()
	var wall []time.Duration
	for i := range c.runs + 1 {
		res, err := child(ctx, "child-ingest", "gate", "check", "deploy-prod", "--db", copyDB, "--dir", c.runbooks)
		if err != nil && !strings.Contains(err.Error(), "exit status 1") && !strings.Contains(err.Error(), "exit status 3") {
			return fmt.Errorf("trailbook gate check: %w", err)
		}
		if i > 0 {
			wall = append(wall, res.wall)
		}
	}
	out.cli = median(wall)
	rep.gates = out
	return nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// gatesMarkdown is the report's gate section.
func (r report) gatesMarkdown() string {
	var b strings.Builder
	gb := r.gates
	fmt.Fprintf(&b, "\n## Gates: check latency over %d events\n\n", r.events)
	fmt.Fprintf(&b, "The shipped gate %s (%d checks) decided in-process by gate.Checker on a copy of the store, the clock an hour after the last event (%s), so its 24 h window holds the store's last day. ", gb.gate, gb.checks, gb.now.Format(time.RFC3339))
	fmt.Fprintf(&b, "Each check reads the gate's states and the store's watermark and appends its decision to the audit log (file and store); uncached runs every query, cached reuses the results the store keeps. Median of %d of each, alternating. ", gb.runs)
	fmt.Fprintf(&b, "The decision was %s, on %d evidence rows.\n\n", gb.decision, gb.rows)
	fmt.Fprintf(&b, "| check | median | target |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| cached | **%s** | under 20 ms: **%s** |\n", ms(gb.cached), status(gb.cached < 20*time.Millisecond))
	fmt.Fprintf(&b, "| uncached, deploy-prod | **%s** | under 200 ms: **%s** |\n", ms(gb.uncached), status(gb.uncached < 200*time.Millisecond))
	fmt.Fprintf(&b, "| `trailbook gate check deploy-prod`, cached, as a process (start, load the runbook folder, open the store, check, exit) | %s | — |\n\n", ms(gb.cli))
	return b.String()
}
