// Command trailbook-bench measures Trailbook against DuckDB on the same
// data, in one run: it generates N synthetic events as .json.gz files,
// ingests them with Trailbook and loads them with DuckDB's own read_json
// (each in a child process, for its peak RSS), then times five query
// shapes in-process over the store and over the raw files, measures the
// runbook engine over the store, and writes the tables to
// docs/benchmarks.md.
//
//	go run ./cmd/trailbook-bench [--events 1000000] [--dir bench-data] [--out docs/benchmarks.md]
//
// With --only runbooks it measures only the runbook engine, over the
// store a full run left in --dir, and prints its sections without
// writing the report.
package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/trailbook/trailbook/internal/cli"
	"github.com/trailbook/trailbook/internal/gen"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Child modes, re-executed by the parent so that each load has its own
	// process and peak RSS.
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "child-ingest":
			os.Exit(cli.Main(ctx, os.Args[2:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
		case "child-readjson":
			if err := readJSONLoad(ctx, os.Args[2], os.Args[3]); err != nil {
				fmt.Fprintln(os.Stderr, "trailbook-bench:", err)
				os.Exit(2)
			}
			os.Exit(0)
		case "child-copy":
			if err := copyLoad(ctx, os.Args[2], os.Args[3], os.Args[4] == "with-json"); err != nil {
				fmt.Fprintln(os.Stderr, "trailbook-bench:", err)
				os.Exit(2)
			}
			os.Exit(0)
		}
	}
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "trailbook-bench:", err)
		os.Exit(2)
	}
}

type config struct {
	cpuprofile string
	serveRates string
	events     int
	seed       int64
	dir        string
	out        string
	runs       int
	rawRuns    int
	// ingestRuns is how many times each ingest runs; the median counts.
	ingestRuns int
	// only is "" (everything) or "runbooks" (the runbook steps over the
	// existing store, printed, not written).
	only string
	// runbooks is the shipped runbook folder.
	runbooks string
	// evalEvents and evalRuns size the events/s step.
	evalEvents, evalRuns int
}

func run(ctx context.Context, args []string, log io.Writer) error {
	var c config
	fs := flag.NewFlagSet("trailbook-bench", flag.ContinueOnError)
	fs.IntVar(&c.events, "events", 1000000, "events to generate")
	fs.Int64Var(&c.seed, "seed", 1, "generator seed")
	fs.StringVar(&c.dir, "dir", "bench-data", "work directory (data is reused when present)")
	fs.StringVar(&c.out, "out", "docs/benchmarks.md", "markdown report to write")
	fs.IntVar(&c.runs, "runs", 21, "timed runs per query shape over the store")
	fs.IntVar(&c.rawRuns, "raw-runs", 3, "timed runs per query shape over the raw files")
	fs.IntVar(&c.ingestRuns, "ingest-runs", 3, "runs of each ingest, with and without the tag inventory")
	fs.StringVar(&c.only, "only", "", "runbooks or gates: measure only the runbook engine or the gates over the existing store and print it (the report is not written)")
	fs.StringVar(&c.runbooks, "runbooks", "runbooks", "the shipped runbook folder")
	fs.IntVar(&c.evalEvents, "eval-events", 50000, "stored events the events/s step evaluates")
	fs.IntVar(&c.evalRuns, "eval-runs", 3, "timed passes of the events/s step over its events")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "with --only serve: write a CPU profile here")
	fs.StringVar(&c.serveRates, "serve-rates", "250,500,1000,1500,2000,3000", "with serve: the rates of the 15 s steps, events/s")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.only != "" && c.only != "runbooks" && c.only != "gates" && c.only != "serve" {
		return fmt.Errorf("--only is %q; want runbooks, gates or serve", c.only)
	}
	if c.runs < 1 || c.evalRuns < 1 || c.evalEvents < 1 {
		return errors.New("--runs, --eval-runs and --eval-events must be at least 1")
	}
	if c.only == "serve" {
		if c.cpuprofile != "" {
			f, err := os.Create(c.cpuprofile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		s, err := serveSteps(ctx, c, log)
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "\nMachine: %s. Not written to %s (--only).\n", machine(), c.out)
		fmt.Fprint(log, report{serve: s}.serveMarkdown())
		return nil
	}
	if c.only != "" {
		return onlyRunbooks(ctx, c, log)
	}
	data := filepath.Join(c.dir, fmt.Sprintf("events-%d-seed-%d", c.events, c.seed))
	if _, err := os.Stat(filepath.Join(data, "DONE")); err != nil {
		fmt.Fprintf(log, "generating %d events into %s\n", c.events, data)
		os.RemoveAll(data)
		st, err := gen.Generate(ctx, gen.Options{Events: c.events, Seed: c.seed, Out: data})
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(data, "DONE"), []byte(fmt.Sprint(st.Events)), 0o644); err != nil {
			return err
		}
	}
	glob := filepath.Join(data, "AWSLogs", "**", "*.json.gz")
	var rep report
	rep.events = c.events

	// 1. Trailbook ingest, end to end, in a child process, with the tag
	// inventory and without it (to measure its cost), alternating, so that
	// the machine's drift hits both alike. The last store with the
	// inventory is the one queried below.
	db := filepath.Join(c.dir, "trailbook.duckdb")
	bare := filepath.Join(c.dir, "trailbook-notags.duckdb")
	var with, without []childResult
	for i := range c.ingestRuns {
		for _, mode := range []struct {
			path  string
			extra []string
			into  *[]childResult
		}{{db, nil, &with}, {bare, []string{"--no-tag-inventory"}, &without}} {
			os.Remove(mode.path)
			os.Remove(mode.path + ".wal")
			fmt.Fprintf(log, "ingest with trailbook %v (%d of %d)\n", mode.extra, i+1, c.ingestRuns)
			res, err := child(ctx, append(append([]string{"child-ingest", "ingest"}, mode.extra...), "--db", mode.path, data)...)
			if err != nil {
				return fmt.Errorf("trailbook ingest %v: %w", mode.extra, err)
			}
			*mode.into = append(*mode.into, res)
		}
	}
	os.Remove(bare)
	rep.ingest, rep.ingestNoTags = medianRun(with), medianRun(without)
	rep.ingestRuns = c.ingestRuns

	// 2. DuckDB's own read_json load of the same files, in a child process.
	loaded := filepath.Join(c.dir, "readjson.duckdb")
	os.Remove(loaded)
	os.Remove(loaded + ".wal")
	fmt.Fprintln(log, "load with DuckDB read_json")
	var err error
	rep.readJSON, err = child(ctx, "child-readjson", glob, loaded)
	if err != nil {
		return fmt.Errorf("read_json load: %w", err)
	}
	os.Remove(loaded)

	// 2b. DuckDB alone writing the events the ingest stored: the store's
	// own rows copied into an empty store, with eventJson and without it,
	// alternating. Nothing is decoded, deduplicated or converted, so this
	// is what the store's schema costs DuckDB to write, against which
	// read_json's whole load and the ingest can be read.
	copied := filepath.Join(c.dir, "trailbook-copy.duckdb")
	var withJSON, withoutJSON []childResult
	for i := range c.ingestRuns {
		for _, v := range []struct {
			arg  string
			into *[]childResult
		}{{"with-json", &withJSON}, {"without-json", &withoutJSON}} {
			os.Remove(copied)
			os.Remove(copied + ".wal")
			s, err := store.Open(ctx, copied, store.Options{})
			if err != nil {
				return err
			}
			if err := s.Close(); err != nil {
				return err
			}
			fmt.Fprintf(log, "copy the stored events with DuckDB, %s (%d of %d)\n", v.arg, i+1, c.ingestRuns)
			res, err := child(ctx, "child-copy", db, copied, v.arg)
			if err != nil {
				return fmt.Errorf("copy the stored events: %w", err)
			}
			*v.into = append(*v.into, res)
		}
	}
	os.Remove(copied)
	rep.copyJSON, rep.copyNoJSON = medianRun(withJSON), medianRun(withoutJSON)

	// 3. Query shapes over the store (translation included) and over the
	// raw files, in this process.
	r, err := query.Open(ctx, db, "")
	if err != nil {
		return err
	}
	defer r.Close()
	var arn string
	if err := r.QueryRowContext(ctx, `SELECT userIdentity.arn FROM events WHERE userIdentity.arn IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&arn); err != nil {
		return err
	}
	raw, err := openRaw(glob)
	if err != nil {
		return err
	}
	defer raw.Close()
	for _, s := range shapes(arn) {
		fmt.Fprintf(log, "query %s\n", s.name)
		res := shapeResult{shape: s}
		res.store, res.storeRows, err = timeRuns(c.runs, func() (int, error) {
			rows, err := query.Run(ctx, r, s.lake, nil)
			if err != nil {
				return 0, err
			}
			return drain(rows)
		})
		if err != nil {
			return fmt.Errorf("%s over the store: %w", s.name, err)
		}
		res.raw, res.rawRows, err = timeRuns(c.rawRuns, func() (int, error) {
			rows, err := raw.QueryContext(ctx, s.raw)
			if err != nil {
				return 0, err
			}
			return drain(rows)
		})
		if err != nil {
			return fmt.Errorf("%s over the raw files: %w", s.name, err)
		}
		if res.storeRows != res.rawRows {
			return fmt.Errorf("%s: the store returned %d rows, the raw files %d", s.name, res.storeRows, res.rawRows)
		}
		rep.shapes = append(rep.shapes, res)
	}
	// 4. The tag-aware seed query, verbatim.
	fmt.Fprintln(log, "query the tag seed query")
	rep.tagSeed, rep.tagSeedRows, err = timeRuns(c.runs, func() (int, error) {
		rows, err := query.Run(ctx, r, tagSeedQuery, nil)
		if err != nil {
			return 0, err
		}
		return drain(rows)
	})
	if err != nil {
		return fmt.Errorf("tag seed query: %w", err)
	}
	if err := r.QueryRowContext(ctx, `SELECT count(*) FROM tag_changes`).Scan(&rep.tagChanges); err != nil {
		return err
	}
	if err := r.QueryRowContext(ctx, `SELECT count(DISTINCT arn) FROM tag_sets`).Scan(&rep.tagResources); err != nil {
		return err
	}
	// 5. The runbook engine over the store.
	rep.queryRuns = c.runs
	if err := runbookSteps(ctx, r, c, &rep, log); err != nil {
		return err
	}
	// 6. Gates, over a copy of the store.
	if err := gateSteps(ctx, db, c, &rep, log); err != nil {
		return err
	}
	// 7. Serve: intake to action latency.
	if rep.serve, err = serveSteps(ctx, c, log); err != nil {
		return err
	}
	md := rep.markdown(machine())
	fmt.Fprint(log, md)
	if c.out != "" {
		return writeReport(c.out, md)
	}
	return nil
}

// Markers around the generated part of the report; text outside them is
// kept when the report is written again.
const (
	beginMarker = "<!-- trailbook-bench:begin -->\n"
	endMarker   = "<!-- trailbook-bench:end -->\n"
)

// writeReport replaces the generated part of the report at path, or
// writes a new report.
func writeReport(path, md string) error {
	generated := beginMarker + md + endMarker
	old, err := os.ReadFile(path)
	if err == nil {
		s := string(old)
		i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
		if i >= 0 && j > i {
			return os.WriteFile(path, []byte(s[:i]+generated+s[j+len(endMarker):]), 0o644)
		}
	}
	return os.WriteFile(path, []byte("# Benchmarks\n\n"+generated), 0o644)
}

// childResult is a child process's wall time, CPU time (user and
// system), peak RSS and output.
type childResult struct {
	wall   time.Duration
	cpu    time.Duration
	maxRSS int64 // bytes
	output string
}

// medianRun is the run of median wall time, with the highest peak RSS of
// all.
func medianRun(rs []childResult) childResult {
	sorted := slices.SortedFunc(slices.Values(rs), func(a, b childResult) int { return cmp.Compare(a.wall, b.wall) })
	m := sorted[len(sorted)/2]
	for _, r := range rs {
		m.maxRSS = max(m.maxRSS, r.maxRSS)
	}
	return m
}

func child(ctx context.Context, args ...string) (childResult, error) {
	self, err := os.Executable()
	if err != nil {
		return childResult{}, err
	}
	cmd := exec.CommandContext(ctx, self, args...)
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err = cmd.Run()
	res := childResult{wall: time.Since(start), output: out.String()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.maxRSS = ru.Maxrss * 1024
		res.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if err != nil {
		return res, fmt.Errorf("%w: %s", err, out.String())
	}
	return res, nil
}

// readJSONLoad is the baseline: DuckDB loading the files into a table of
// events with read_json's own detection, into a database file as the
// store does.
func readJSONLoad(ctx context.Context, glob, path string) error {
	db, err := openDuck(path + "?threads=2&memory_limit=4GB")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `CREATE TABLE events AS SELECT unnest(Records, recursive := false)
		FROM read_json(`+sqlString(glob)+`, maximum_object_size = 67108864)`)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `CHECKPOINT`)
	return err
}

// copyLoad inserts every row of src's event_store into dst's, an empty
// store made by store.Open, on DuckDB's settings for read_json's load,
// and checkpoints. Without withJSON, eventJson is written as NULL.
func copyLoad(ctx context.Context, src, dst string, withJSON bool) error {
	db, err := openDuck(dst + "?threads=2&memory_limit=4GB&preserve_insertion_order=false&storage_compatibility_version=latest")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `ATTACH `+sqlString(src)+` AS src (READ_ONLY)`); err != nil {
		return err
	}
	sel := `SELECT * FROM src.event_store`
	if !withJSON {
		sel = `SELECT * REPLACE (NULL::VARCHAR AS eventJson) FROM src.event_store`
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO event_store BY NAME `+sel); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `CHECKPOINT`)
	return err
}

// openRaw opens an in-memory DuckDB with a view over the raw files, typed
// for the fields the shapes read, which is DuckDB's fastest way to query
// them in place.
func openRaw(glob string) (*sql.DB, error) {
	db, err := openDuck("?threads=2")
	if err != nil {
		return nil, err
	}
	_, err = db.Exec(`CREATE VIEW raw AS SELECT r.* FROM (
		SELECT unnest(Records) AS r FROM read_json(` + sqlString(glob) + `,
			columns = {'Records': 'STRUCT(eventTime TIMESTAMP, eventSource VARCHAR, eventName VARCHAR, errorCode VARCHAR,
				userIdentity STRUCT(arn VARCHAR), requestParameters JSON,
				resources STRUCT(accountId VARCHAR, "type" VARCHAR, "ARN" VARCHAR)[])[]'},
			maximum_object_size = 67108864))`)
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openDuck(dsn string) (*sql.DB, error) {
	c, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// shape is one query, in Lake SQL over the store and in DuckDB SQL over the
// raw files; both must return the same number of rows.
type shape struct {
	name, lake, raw string
}

func shapes(arn string) []shape {
	return []shape{
		{"count by eventName",
			`SELECT eventName, count(*) AS n FROM events GROUP BY eventName ORDER BY n DESC`,
			`SELECT eventName, count(*) AS n FROM raw GROUP BY eventName ORDER BY n DESC`},
		{"seed shape: filter, ORDER BY eventTime DESC LIMIT 50",
			`SELECT eventTime, eventName, userIdentity.arn, requestParameters FROM your_cloudtrail_table
			 WHERE eventSource = 'ec2.amazonaws.com' AND errorCode IS NULL AND eventTime > '2024-05-01'
			 ORDER BY eventTime DESC LIMIT 50`,
			`SELECT eventTime, eventName, userIdentity.arn, requestParameters FROM raw
			 WHERE eventSource = 'ec2.amazonaws.com' AND errorCode IS NULL AND eventTime > '2024-05-01'
			 ORDER BY eventTime DESC LIMIT 50`},
		{"userIdentity.arn and a time range",
			`SELECT eventTime, eventName FROM events WHERE userIdentity.arn = ` + sqlString(arn) + `
			 AND eventTime BETWEEN '2024-04-20 00:00:00' AND '2024-04-27 00:00:00' ORDER BY eventTime`,
			`SELECT eventTime, eventName FROM raw WHERE userIdentity.arn = ` + sqlString(arn) + `
			 AND eventTime BETWEEN '2024-04-20 00:00:00' AND '2024-04-27 00:00:00' ORDER BY eventTime`},
		{"UNNEST of resources",
			`SELECT r.type, count(*) AS n FROM events CROSS JOIN UNNEST(resources) AS t(r) GROUP BY 1 ORDER BY 2 DESC`,
			`SELECT r.type, count(*) AS n FROM raw CROSS JOIN UNNEST(resources) AS t(r) GROUP BY 1 ORDER BY 2 DESC`},
		{"element_at on requestParameters",
			`SELECT element_at(requestParameters, 'bucketName') AS bucket, count(*) AS n FROM events
			 WHERE eventSource = 's3.amazonaws.com' GROUP BY 1 ORDER BY 2 DESC, 1`,
			`SELECT requestParameters->>'bucketName' AS bucket, count(*) AS n FROM raw
			 WHERE eventSource = 's3.amazonaws.com' GROUP BY 1 ORDER BY 2 DESC, 1`},
	}
}

func drain(rows *sql.Rows) (int, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// timeRuns runs f once to warm up, then n timed times, and returns the
// median and the row count.
func timeRuns(n int, f func() (int, error)) (time.Duration, int, error) {
	rowsWant, err := f()
	if err != nil {
		return 0, 0, err
	}
	times := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		got, err := f()
		if err != nil {
			return 0, 0, err
		}
		times = append(times, time.Since(start))
		if got != rowsWant {
			return 0, 0, errors.New("row count changed between runs")
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[len(times)/2], rowsWant, nil
}

type shapeResult struct {
	shape
	store, raw         time.Duration
	storeRows, rawRows int
}

type report struct {
	events       int
	ingest       childResult
	ingestNoTags childResult
	ingestRuns   int
	readJSON     childResult
	copyJSON     childResult // DuckDB copying the stored events, eventJson included
	copyNoJSON   childResult // the same with eventJson NULL
	shapes       []shapeResult
	tagSeed      time.Duration
	tagSeedRows  int
	tagChanges   int
	tagResources int
	queryCosts   []queryCost
	queryRuns    int
	throughput   throughput
	gates        gateBench
	serve        serveBench
}

// tagSeedQuery is issue 3's seed query, verbatim.
const tagSeedQuery = `SELECT eventTime, eventName, userIdentity.arn, requestParameters
FROM your_cloudtrail_table
WHERE resources.tag.key = 'Environment'
AND resources.tag.value = 'Production'
AND eventTime > '2024-05-01'
ORDER BY eventTime DESC
LIMIT 50;`

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
	}
	return fmt.Sprintf("%s, %d cores%s, %s, %s/%s, DuckDB via duckdb-go v2.10505.0",
		cpu, runtime.NumCPU(), mem, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func (r report) markdown(machine string) string {
	var b strings.Builder
	ingestRate := float64(r.events) / r.ingest.wall.Seconds()
	jsonRate := float64(r.events) / r.readJSON.wall.Seconds()
	fmt.Fprintf(&b, "Written by `go run ./cmd/trailbook-bench` on %s.\n\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "Machine: %s.\n\n", machine)
	fmt.Fprintf(&b, "Data: %d synthetic events from `trailbook gen` (seed 1), ~1,000 records per .json.gz file in the S3 layout. ", r.events)
	fmt.Fprintf(&b, "Everything below was measured in the same run; the machine is shared and noisy, so query figures are medians.\n\n")
	fmt.Fprintf(&b, "## Ingest\n\n")
	fmt.Fprintf(&b, "| | wall time | events/s | CPU time | peak RSS |\n|---|---|---|---|---|\n")
	for _, row := range []struct {
		name string
		r    childResult
	}{
		{fmt.Sprintf("`trailbook ingest` (decode, dedupe, store; end to end; median of %d)", r.ingestRuns), r.ingest},
		{"DuckDB `read_json` load of the same files into a table", r.readJSON},
		{fmt.Sprintf("DuckDB alone writing the stored events: the store's rows copied into an empty store, nothing decoded (median of %d)", r.ingestRuns), r.copyJSON},
		{"the same copy with `eventJson` NULL", r.copyNoJSON},
	} {
		fmt.Fprintf(&b, "| %s | %.1f s | %.0f | %.1f s | %.0f MiB |\n", row.name, row.r.wall.Seconds(), float64(r.events)/row.r.wall.Seconds(), row.r.cpu.Seconds(), float64(row.r.maxRSS)/(1<<20))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "Ratio trailbook / read_json: **%.2fx** (target: at least 1x). Peak RSS target: under 2 GiB.\n\n", ingestRate/jsonRate)
	fmt.Fprintf(&b, "DuckDB's copy of the stored rows alone takes %.0f%% of `read_json`'s whole load, and %.0f%% without `eventJson`: what is left of `read_json`'s time is what decoding, deduplicating and converting 1M events in Go may cost for parity. Wall time on %d cores is at least CPU time / %d.\n\n", 100*r.copyJSON.wall.Seconds()/r.readJSON.wall.Seconds(), 100*r.copyNoJSON.wall.Seconds()/r.readJSON.wall.Seconds(), runtime.NumCPU(), runtime.NumCPU())
	fmt.Fprintf(&b, "## Queries over %d events\n\n", r.events)
	fmt.Fprintf(&b, "Store: Lake SQL through the translator on the locked read-only connection, in-process, median of the timed runs after one warm-up. ")
	fmt.Fprintf(&b, "Raw: DuckDB's `read_json` over the same .json.gz files with the needed columns declared (its fastest way to query them in place).\n\n")
	fmt.Fprintf(&b, "| shape | rows | store (median) | raw files (median) | speed-up |\n|---|---|---|---|---|\n")
	for _, s := range r.shapes {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %.0fx |\n", s.name, s.storeRows, ms(s.store), ms(s.raw), float64(s.raw)/float64(s.store))
	}
	fmt.Fprintf(&b, "\nTargets: every shape under 50 ms median, and at least 50x faster than DuckDB over the raw files.\n")
	noTagsRate := float64(r.events) / r.ingestNoTags.wall.Seconds()
	fmt.Fprintf(&b, "\n## Tag inventory\n\n")
	fmt.Fprintf(&b, "The inventory holds %d tag changes over %d resources.\n\n", r.tagChanges, r.tagResources)
	fmt.Fprintf(&b, "| | wall time | events/s | peak RSS |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| `trailbook ingest` with the tag inventory (as above) | %.1f s | %.0f | %.0f MiB |\n", r.ingest.wall.Seconds(), ingestRate, float64(r.ingest.maxRSS)/(1<<20))
	fmt.Fprintf(&b, "| `trailbook ingest --no-tag-inventory` (median of %d, alternating with the above) | %.1f s | %.0f | %.0f MiB |\n\n", r.ingestRuns, r.ingestNoTags.wall.Seconds(), noTagsRate, float64(r.ingestNoTags.maxRSS)/(1<<20))
	fmt.Fprintf(&b, "Cost of the inventory: **%.0f%%** of ingest throughput (target: at most 20%%).\n\n", 100*(1-ingestRate/noTagsRate))
	fmt.Fprintf(&b, "The seed query verbatim (`resources.tag.key = 'Environment' AND resources.tag.value = 'Production' AND eventTime > '2024-05-01' ORDER BY eventTime DESC LIMIT 50`): ")
	fmt.Fprintf(&b, "**%s** median, %d rows (target: under 100 ms).\n\n", ms(r.tagSeed), r.tagSeedRows)
	b.WriteString(r.runbooksMarkdown())
	b.WriteString(r.gatesMarkdown())
	b.WriteString(r.serveMarkdown())
	return b.String()
}
