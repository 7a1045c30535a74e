package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/cloudtrail"
	tbconfig "github.com/trailbook/trailbook/internal/config"
	"github.com/trailbook/trailbook/internal/daemon"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/gate"
	"github.com/trailbook/trailbook/internal/gen"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/server"
)

// probeRunbook alerts a webhook on every probe event: the action whose
// arrival the latency is measured to.
const probeRunbook = `name: latency-probe
description: alerts the benchmark's receiver on every probe
owner: benchmark
trigger:
  pattern: {eventName: [TrailbookLatencyProbe]}
actions:
  - alert: {to: [receiver], title: "{{.event.eventID}}"}
tests:
  - name: a probe alerts
    event: {"eventVersion": "1.09", "eventTime": "2024-05-01T12:00:00Z", "eventSource": "benchmark.example.com", "eventName": "TrailbookLatencyProbe", "awsRegion": "us-east-1", "eventID": "p", "recipientAccountId": "111122223333", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/bench"}}
    expect: {decision: act, actions: [alert]}
`

const probeChannels = `channels:
  - name: receiver
    type: webhook
    url_env: BENCH_RECEIVER_URL
    retries: 3
    backoff: 10ms
    timeout: 5s
`

// latencyStep is one rate's measurement.
type latencyStep struct {
	rate        int // events/s offered
	seconds     int
	sent, acked int     // requests sent, and answered 200
	achieved    float64 // events acknowledged per second
	probes      int
	lost        int // probes whose alert never came
	p50, p99    time.Duration
	max         time.Duration
	stages      string // the mean time in each pipeline stage over the step
}

// serveBench is what serveSteps measured.
type serveBench struct {
	runbooks int
	history  int
	steps    []latencyStep
	main     latencyStep
}

// serveSteps runs the daemon and the HTTP API in this process, as serve
// does, with 50 runbooks, over a store holding history, and measures
// from a probe's POST /v1/events to its alert reaching a webhook
// receiver: at rising rates for 15 s each, then at 1,000 events/s for
// 60 s. Each request carries one event, as an EventBridge API
// destination sends them; one in ten is a probe.
func serveSteps(ctx context.Context, c config, log io.Writer) (serveBench, error) {
	var out serveBench
	dir, err := os.MkdirTemp(c.dir, "serve-")
	if err != nil {
		return out, err
	}
	defer os.RemoveAll(dir)
	rb := filepath.Join(dir, "runbooks")
	if err := copyTree(c.runbooks, rb); err != nil {
		return out, err
	}
	must := func(name, body string) error { return os.WriteFile(filepath.Join(rb, name), []byte(body), 0o644) }
	if err := must("latency-probe.yaml", probeRunbook); err != nil {
		return out, err
	}
	if err := must("channels.yaml", probeChannels); err != nil {
		return out, err
	}
	shipped, _ := filepath.Glob(filepath.Join(c.runbooks, "*.yaml"))
	runbooksHave := 1
	for _, f := range shipped {
		if !strings.HasPrefix(filepath.Base(f), "gate-") {
			runbooksHave++
		}
	}
	for _, v := range gen.RunbookVariants(50 - runbooksHave) {
		if err := must(v.Name+".yaml", v.YAML); err != nil {
			return out, err
		}
	}

	// The receiver: when each probe's alert arrived.
	var (
		recMu    sync.Mutex
		received = map[string]time.Time{}
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		at := time.Now()
		if t, ok := body["title"].(string); ok {
			recMu.Lock()
			if _, seen := received[t]; !seen {
				received[t] = at
			}
			recMu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()

	db := filepath.Join(dir, "trailbook.duckdb")
	// The pipeline as serve configures it by default.
	defaults := tbconfig.Default()
	pl := defaults.Pipeline
	d, err := daemon.Open(ctx, daemon.Options{DB: db, RunbookDir: rb, Alerts: true, ReloadPoll: -1,
		MemoryLimit: int64(defaults.Store.MemoryLimit), CheckpointWAL: int64(defaults.Store.CheckpointWAL), Threads: defaults.Store.Threads,
		BatchEvents: pl.BatchEvents, BatchWait: pl.BatchWait, Queue: pl.Queue, RecordInterval: pl.RecordInterval,
		Getenv: func(k string) string {
			if k == "BENCH_RECEIVER_URL" {
				return recv.URL + "/hook"
			}
			return ""
		}, Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return out, err
	}
	defer d.Close()
	out.runbooks = len(d.Runbooks().Runbooks)
	gconn, err := d.Store().DB().Conn(ctx)
	if err != nil {
		return out, err
	}
	defer gconn.Close()
	for _, stmt := range query.Prelude() {
		if _, err := gconn.ExecContext(ctx, stmt); err != nil {
			return out, err
		}
	}
	const token = "benchmark-token-0123456789abcdef0123456789"
	api, err := server.New(server.Deps{Store: d.Store(), Runbooks: d.Runbooks, AuditPath: audit.DefaultPath(db),
		Checker: &gate.Checker{Store: d.Store(), Query: engine.StoreSnapshot{Conn: gconn}, Audit: d.Audit()},
		Tokens:  []server.Token{{Name: "bench", Role: server.Ingest, SHA256: tbconfig.HashToken(token)}},
		Ingest: func(ctx context.Context, body []byte) (any, error) {
			p, err := d.Push(ctx, "http", body)
			return map[string]int{"stored": p.Counts.Stored}, err
		}})
	if err != nil {
		return out, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return out, err
	}
	srv := &http.Server{Handler: api}
	go srv.Serve(ln)
	defer srv.Close()
	runCtx, stop := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- d.Run(runCtx) }()
	defer func() {
		stop()
		<-runDone
	}()

	// The events: a synthetic organisation's, re-timed to now.
	fmt.Fprintf(log, "serve: generate events\n")
	records, err := benchRecords(filepath.Join(dir, "gen"), 120_000)
	if err != nil {
		return out, err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	url := "http://" + ln.Addr().String() + "/v1/events"
	next := 0
	body := func(probe bool) (string, []byte) {
		rec := records[next%len(records)]
		next++
		id := fmt.Sprintf("bench-%d", next)
		rec["eventID"] = id
		rec["eventTime"] = time.Now().UTC().Format(time.RFC3339)
		if probe {
			rec = map[string]any{"eventVersion": "1.09", "eventTime": rec["eventTime"], "eventSource": "benchmark.example.com",
				"eventName": "TrailbookLatencyProbe", "awsRegion": "us-east-1", "eventID": id, "recipientAccountId": "111122223333",
				"userIdentity": map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/bench"}}
		}
		b, _ := json.Marshal(rec)
		return id, b
	}
	// History first: 60,000 events in batches, not measured.
	fmt.Fprintf(log, "serve: store the history\n")
	for i := 0; i < 60; i++ {
		var b bytes.Buffer
		b.WriteString(`{"Records":[`)
		for j := range 1000 {
			if j > 0 {
				b.WriteByte(',')
			}
			_, rec := body(false)
			b.Write(rec)
		}
		b.WriteString(`]}`)
		if err := post(ctx, client, url, token, b.Bytes()); err != nil {
			return out, err
		}
	}
	out.history = 60000
	waitIdle(d)

	run := func(rate, seconds int) (latencyStep, error) {
		st := latencyStep{rate: rate, seconds: seconds}
		type probe struct {
			id   string
			sent time.Time
		}
		var (
			probes    []probe
			sent      atomic.Int64
			acked     atomic.Int64
			wg        sync.WaitGroup
			sem       = make(chan struct{}, 256)
			start     = time.Now()
			n         = rate * seconds
			lastAckAt atomic.Int64
			bodies    = make([][]byte, n)
			ids       = make([]string, n)
			isProbe   = make([]bool, n)
		)
		for i := range n {
			isProbe[i] = i%10 == 0
			ids[i], bodies[i] = body(isProbe[i])
		}
		before := stageTotals(d)
		start = time.Now()
		for i := range n {
			at := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
			if w := time.Until(at); w > 0 {
				time.Sleep(w)
			}
			sem <- struct{}{}
			if isProbe[i] {
				probes = append(probes, probe{ids[i], time.Now()})
			}
			sent.Add(1)
			wg.Go(func() {
				defer func() { <-sem }()
				if post(ctx, client, url, token, bodies[i]) == nil {
					acked.Add(1)
					lastAckAt.Store(time.Now().UnixNano())
				}
			})
		}
		wg.Wait()
		elapsed := time.Duration(lastAckAt.Load() - start.UnixNano())
		st.stages = stageMeans(before, stageTotals(d))
		st.sent, st.acked = int(sent.Load()), int(acked.Load())
		st.achieved = float64(st.acked) / elapsed.Seconds()
		// Every probe's alert, or 10 s more.
		deadline := time.Now().Add(10 * time.Second)
		for {
			recMu.Lock()
			got := 0
			for _, p := range probes {
				if _, ok := received[p.id]; ok {
					got++
				}
			}
			recMu.Unlock()
			if got == len(probes) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		recMu.Lock()
		var lat []time.Duration
		for _, p := range probes {
			if at, ok := received[p.id]; ok {
				lat = append(lat, at.Sub(p.sent))
			} else {
				st.lost++
			}
		}
		recMu.Unlock()
		slices.Sort(lat)
		st.probes = len(probes)
		if len(lat) > 0 {
			st.p50, st.p99, st.max = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)], lat[len(lat)-1]
		}
		waitIdle(d)
		return st, nil
	}
	var rates []int
	for _, f := range strings.Split(c.serveRates, ",") {
		var r int
		if _, err := fmt.Sscan(f, &r); err != nil || r <= 0 {
			return out, fmt.Errorf("--serve-rates: %q is not a rate", f)
		}
		rates = append(rates, r)
	}
	for _, rate := range rates {
		fmt.Fprintf(log, "serve: %d events/s for 15 s\n", rate)
		st, err := run(rate, 15)
		if err != nil {
			return out, err
		}
		out.steps = append(out.steps, st)
		fmt.Fprintf(log, "  p50 %s, p99 %s, %.0f events/s acknowledged, %d of %d probes lost; mean per stage: %s\n", st.p50, st.p99, st.achieved, st.lost, st.probes, st.stages)
	}
	fmt.Fprintf(log, "serve: 1000 events/s for 60 s\n")
	if out.main, err = run(1000, 60); err != nil {
		return out, err
	}
	return out, nil
}

// stageTotals reads the daemon's trailbook_pipeline_stage_seconds: per
// stage, the seconds and the observations so far.
func stageTotals(d *daemon.Daemon) map[string][2]float64 {
	out := map[string][2]float64{}
	mfs, _ := d.Metrics().Gather()
	for _, mf := range mfs {
		if mf.GetName() != "trailbook_pipeline_stage_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stage" {
					out[l.GetValue()] = [2]float64{m.GetHistogram().GetSampleSum(), float64(m.GetHistogram().GetSampleCount())}
				}
			}
		}
	}
	return out
}

// stageMeans is the mean time per stage between two stageTotals.
func stageMeans(before, after map[string][2]float64) string {
	var parts []string
	for _, stage := range []string{"queue", "commit", "handoff", "pass"} {
		a, b := after[stage], before[stage]
		if n := a[1] - b[1]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %.1f ms", stage, (a[0]-b[0])/n*1000))
		}
	}
	return strings.Join(parts, ", ")
}

func post(ctx context.Context, c *http.Client, url, token string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /v1/events: %s", resp.Status)
	}
	return nil
}

// waitIdle waits until the daemon has evaluated everything stored.
func waitIdle(d *daemon.Daemon) {
	for i := 0; i < 600; i++ {
		c := d.Counters()
		if c.Evaluated >= c.Stored {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// benchRecords generates n events and returns their records as maps.
func benchRecords(dir string, n int) ([]map[string]any, error) {
	if _, err := gen.Generate(context.Background(), gen.Options{Events: n, Seed: 11, Out: dir}); err != nil {
		return nil, err
	}
	var out []map[string]any
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".json.gz") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(zr)
		if err != nil {
			return err
		}
		for _, ev := range cloudtrail.Decode(data, cloudtrail.Options{}).Events {
			var m map[string]any
			if json.Unmarshal(ev.JSON, &m) == nil {
				out = append(out, m)
			}
		}
		return nil
	})
	return out, err
}

// copyTree copies the folder from to to.
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		if e.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		return copyFile(path, dst)
	})
}

// serveMarkdown is the report's latency section.
func (r report) serveMarkdown() string {
	var b strings.Builder
	s := r.serve
	fmt.Fprintf(&b, "\n## Serve: from POST /v1/events to the action\n\n")
	fmt.Fprintf(&b, "The daemon and the HTTP API in one process, as `trailbook serve` runs them with its default configuration, with %d runbooks (the shipped ones, a probe runbook and synthetic ones), over a store holding %d events first. ", s.runbooks, s.history)
	fmt.Fprintf(&b, "Each request carries one event, as an EventBridge API destination sends them, from up to 256 connections; one in ten is a probe, which a runbook alerts on to a webhook receiver on 127.0.0.1. The latency is from sending the probe's POST to its alert reaching the receiver.\n\n")
	fmt.Fprintf(&b, "| offered events/s | seconds | acknowledged events/s | probes | lost | p50 | p99 | max |\n|---|---|---|---|---|---|---|---|\n")
	row := func(st latencyStep, bold bool) {
		f := "| %d | %d | %.0f | %d | %d | %s | %s | %s |\n"
		if bold {
			f = "| **%d** | %d | %.0f | %d | %d | **%s** | **%s** | %s |\n"
		}
		fmt.Fprintf(&b, f, st.rate, st.seconds, st.achieved, st.probes, st.lost, ms(st.p50), ms(st.p99), ms(st.max))
	}
	for _, st := range s.steps {
		row(st, false)
	}
	row(s.main, true)
	m := s.main
	fmt.Fprintf(&b, "\nMean time per stage in the 60 s run (trailbook_pipeline_stage_seconds): %s. A probe waits for the commit under way, then its own, then for the evaluation pass under way, then its own up to its alert.\n", m.stages)
	fmt.Fprintf(&b, "\nTarget at 1,000 events/s for 60 s: p99 under 1 s (**%s**), p50 under 50 ms (**%s**).\n", status(m.p99 < time.Second && m.lost == 0), status(m.p50 < 50*time.Millisecond))
	return b.String()
}
