package daemon

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the daemon's Prometheus series, in its own registry.
type metrics struct {
	reg         *prometheus.Registry
	received    *prometheus.CounterVec // events offered, by source kind
	stored      prometheus.Counter
	duplicates  prometheus.Counter
	rejected    prometheus.Counter
	skipped     prometheus.Counter
	lag         *prometheus.GaugeVec // now - the newest event's time, by source kind
	commitDur   prometheus.Histogram
	matches     *prometheus.CounterVec // by runbook
	evaluations *prometheus.CounterVec // by runbook and decision
	evalDur     prometheus.Histogram   // one event's planning and actions
	actions     *prometheus.CounterVec // by kind and status
	actionDur   *prometheus.HistogramVec
	reloads     *prometheus.CounterVec   // by result
	stage       *prometheus.HistogramVec // the pipeline's stages, by stage
}

func newMetrics(d *Daemon) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.received = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trailbook_events_received_total", Help: "CloudTrail events offered to the store, duplicates included, by source kind."}, []string{"source"})
	m.stored = prometheus.NewCounter(prometheus.CounterOpts{Name: "trailbook_events_stored_total", Help: "Events stored (first seen)."})
	m.duplicates = prometheus.NewCounter(prometheus.CounterOpts{Name: "trailbook_events_duplicate_total", Help: "Events offered again and not stored."})
	m.rejected = prometheus.NewCounter(prometheus.CounterOpts{Name: "trailbook_records_rejected_total", Help: "Records that are not valid CloudTrail events, kept in rejects."})
	m.skipped = prometheus.NewCounter(prometheus.CounterOpts{Name: "trailbook_records_skipped_total", Help: "Records recognised as not events (digests, notifications)."})
	m.lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "trailbook_source_lag_seconds", Help: "Seconds between the newest event a source delivered and its commit, by source kind."}, []string{"source"})
	m.commitDur = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "trailbook_commit_duration_seconds", Help: "Time to commit one batch of deliveries.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)})
	m.matches = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trailbook_trigger_matches_total", Help: "Events a runbook's trigger matched, by runbook."}, []string{"runbook"})
	m.evaluations = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trailbook_evaluations_total", Help: "Runbook evaluations, by runbook and decision."}, []string{"runbook", "decision"})
	m.evalDur = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "trailbook_evaluation_duration_seconds", Help: "Time to plan and carry out one matched event.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)})
	m.actions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trailbook_actions_total", Help: "Actions by kind and outcome (applied, planned, skipped, failed)."}, []string{"kind", "status"})
	m.actionDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trailbook_action_duration_seconds", Help: "Time to carry out one action, by kind.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"kind"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trailbook_runbook_reloads_total", Help: "Runbook folder reloads, by result (ok, error)."}, []string{"result"})
	m.stage = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trailbook_pipeline_stage_seconds",
		Help:    "Time spent in each stage of the pipeline: queue (a delivery waiting for its commit to start), commit, handoff (committed events waiting for their evaluation pass) and pass (one evaluation pass, its actions carried out and recorded).",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"stage"})
	for _, c := range []prometheus.Collector{m.received, m.stored, m.duplicates, m.rejected, m.skipped, m.lag, m.commitDur, m.matches,
		m.evaluations, m.evalDur, m.actions, m.actionDur, m.reloads, m.stage} {
		f(c)
	}
	f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "trailbook_query_cache_hits_total", Help: "Runbook query results reused from the cache."}, func() float64 {
		h, _ := d.cacheStats()
		return float64(h)
	}))
	f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "trailbook_query_cache_misses_total", Help: "Runbook queries run against the store."}, func() float64 {
		_, mi := d.cacheStats()
		return float64(mi)
	}))
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "trailbook_intake_queue", Help: "Deliveries waiting for the writer (bounded: senders wait beyond it)."}, func() float64 {
		return float64(len(d.intake))
	}))
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "trailbook_runbooks", Help: "Runbooks loaded."}, func() float64 {
		if s := d.state.Load(); s != nil {
			return float64(len(s.set.Runbooks))
		}
		return 0
	}))
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Metrics is the daemon's registry, for /metrics.
func (d *Daemon) Metrics() *prometheus.Registry { return d.metrics.reg }

// cacheStats adds up the query cache's hits and misses over the runbook
// sets loaded so far.
func (d *Daemon) cacheStats() (hits, misses int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	hits, misses = d.oldHits, d.oldMisses
	if s := d.state.Load(); s != nil && s.cache != nil {
		h, m := s.cache.Stats()
		hits, misses = hits+h, misses+m
	}
	return hits, misses
}
