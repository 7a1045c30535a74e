package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/config"
	"github.com/trailbook/trailbook/internal/daemon"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/gate"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/server"
	"github.com/trailbook/trailbook/internal/store"
)

type serveParams struct {
	config, db, dir, listen string
}

func newServeCmd(env Env) *cobra.Command {
	var p serveParams
	cmd := &cobra.Command{
		Use:   "serve [--config FILE] [--db PATH] [--dir DIR] [--listen ADDR]",
		Short: "Run the always-on service: live sources, runbooks on every event, the HTTP API",
		Long: `Serve runs Trailbook as a service. Events arrive from the configured sources
(a watched folder, POST /v1/events; see docs/config.md), are stored once,
and every runbook whose trigger matches is evaluated and carried out, each
step audited. The HTTP API (docs/api.md) answers Lake SQL, gates, tags,
runs and the audit log; /metrics serves Prometheus metrics.

With no config (no --config and no ./trailbook.yaml), it serves the store
./trailbook.duckdb, the runbooks of ./runbooks in dry run, the folder
./cloudtrail and the API on 127.0.0.1:8080. With no tokens configured it
makes an admin token, writes it to the file beside the store
(trailbook.token, mode 0600) and says where; it never logs a token.

The runbook folder is reloaded when it changes, or on SIGHUP; a folder that
does not load keeps the runbooks in force. SIGINT and SIGTERM stop intake,
finish what is in flight and exit.

Exit codes: 0 stopped cleanly, 2 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd.Context(), p, env)
		},
	}
	cmd.Flags().StringVar(&p.config, "config", "", "config file (default ./trailbook.yaml when it exists)")
	cmd.Flags().StringVar(&p.db, "db", "", "store file, over the config's")
	cmd.Flags().StringVar(&p.dir, "dir", "", "runbook folder, over the config's")
	cmd.Flags().StringVar(&p.listen, "listen", "", "API address, over the config's")
	return cmd
}

// loadServeConfig reads the config serve runs with: --config, else
// ./trailbook.yaml when it exists, else the defaults; flags over it.
func loadServeConfig(p serveParams, env Env) (*config.Config, string, error) {
	name := p.config
	if name == "" {
		if _, err := os.Stat(defaultConfig); err == nil {
			name = defaultConfig
		}
	}
	cfg := config.Default()
	if name != "" {
		var err error
		if cfg, err = config.LoadFile(name); err != nil {
			return nil, "", err
		}
	}
	if p.db != "" {
		cfg.Store.Path = p.db
	} else if v := env.Getenv(store.EnvPath); v != "" && name == "" {
		cfg.Store.Path = v
	}
	if p.dir != "" {
		cfg.Runbooks.Dir = p.dir
	}
	if p.listen != "" {
		cfg.Server.Listen = p.listen
	}
	return cfg, name, nil
}

func runServe(ctx context.Context, p serveParams, env Env) error {
	cfg, cfgName, err := loadServeConfig(p, env)
	if err != nil {
		return err
	}
	logger := newLogger(env.Stderr, cfg.Log)
	tokens, err := serveTokens(cfg, logger)
	if err != nil {
		return err
	}
	var folders []daemon.Folder
	for _, f := range cfg.Sources.Folders {
		folders = append(folders, daemon.Folder{Name: f.Name, Path: f.Path, Poll: f.Poll})
	}
	// Sources read their checkpoints from the daemon, opened below.
	var d *daemon.Daemon
	ingested := func(ctx context.Context, source string) (bool, error) { return d.Ingested(ctx, source) }
	var sources []daemon.Source
	for _, s := range cfg.Sources.S3 {
		sources = append(sources, daemon.NewS3Source(daemon.S3Config{Name: s.Name, Bucket: s.Bucket, Prefix: s.Prefix, Region: s.Region,
			Endpoint: s.Endpoint, Poll: s.Poll, Logger: logger,
			Taken: d.Taken}, ingested))
	}
	for _, s := range cfg.Sources.SQS {
		wait := s.Wait
		if wait == 0 {
			wait = -1 // the config's 0s is short polling; the source's zero is its default
		}
		sources = append(sources, daemon.NewSQSSource(daemon.SQSConfig{Name: s.Name, QueueURL: s.QueueURL, Region: s.Region,
			Endpoint: s.Endpoint, Wait: wait, MaxMessages: s.MaxMessages, Logger: logger}, ingested))
	}
	reloadPoll := time.Duration(0)
	if !cfg.Runbooks.Reload {
		reloadPoll = -1
	}
	d, err = daemon.Open(ctx, daemon.Options{
		DB: cfg.Store.Path, MemoryLimit: int64(cfg.Store.MemoryLimit), CheckpointWAL: int64(cfg.Store.CheckpointWAL), Threads: cfg.Store.Threads, RunbookDir: cfg.Runbooks.Dir, Enforce: cfg.Runbooks.Enforce, Alerts: cfg.Runbooks.Alerts,
		Region: cfg.AWS.Region, Endpoint: cfg.AWS.Endpoint,
		Identity:     engine.Identity{UserAgent: cfg.Engine.Identity.UserAgent, SessionName: cfg.Engine.Identity.SessionName, Principals: cfg.Engine.Identity.Principals},
		EvidenceRows: cfg.Engine.EvidenceRows, CacheTTL: cfg.Engine.CacheTTL, Folders: folders, Sources: sources,
		BatchEvents: cfg.Pipeline.BatchEvents, BatchWait: cfg.Pipeline.BatchWait, Queue: cfg.Pipeline.Queue, RecordInterval: cfg.Pipeline.RecordInterval,
		ReloadPoll: reloadPoll, Stdout: env.Stdout, Getenv: env.Getenv, Logger: logger,
	})
	if err != nil {
		return err
	}
	defer d.Close()

	// Gate checks from the API get their own prepared connection: the
	// daemon's is the evaluator's.
	gconn, err := d.Store().DB().Conn(ctx)
	if err != nil {
		return err
	}
	defer gconn.Close()
	for _, stmt := range query.Prelude() {
		if _, err := gconn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("prepare queries: %w", err)
		}
	}
	checker := &gate.Checker{Store: d.Store(), Query: &lockedQuerier{q: engine.StoreSnapshot{Conn: gconn}}, Audit: d.Audit()}
	deps := server.Deps{
		Store: d.Store(), Runbooks: d.Runbooks, Checker: checker, AuditPath: audit.DefaultPath(cfg.Store.Path), Tokens: tokens,
		Reload: func(ctx context.Context) (any, error) {
			if err := d.Reload(ctx); err != nil {
				return nil, &server.Error{Status: http.StatusUnprocessableEntity, Code: "runbooks-refused", Message: err.Error()}
			}
			set := d.Runbooks()
			return map[string]any{"runbooks": len(set.Runbooks), "gates": len(set.Gates)}, nil
		},
		Metrics:      promhttp.HandlerFor(d.Metrics(), promhttp.HandlerOpts{}),
		Ready:        d.Ready,
		QueryTimeout: cfg.Server.Query.Timeout, MaxRows: cfg.Server.Query.MaxRows, MaxBody: int64(cfg.Server.MaxBody),
		Logger: logger,
	}
	if cfg.Sources.HTTP.Enabled {
		deps.Ingest = func(ctx context.Context, body []byte) (any, error) {
			p, err := d.Push(ctx, "http", body)
			if errors.As(err, new(daemon.Busy)) {
				return nil, &server.Error{Status: http.StatusServiceUnavailable, Code: server.CodeBusy, Message: err.Error()}
			}
			if err != nil {
				return nil, err
			}
			c := p.Counts
			// Why each record was refused, and where (at most 20; all are
			// in the rejects table).
			rejects := []map[string]any{}
			for _, r := range p.Rejects[:min(len(p.Rejects), 20)] {
				rejects = append(rejects, map[string]any{"index": r.Index, "line": r.Line, "reason": r.Reason})
			}
			return map[string]any{"records": c.Records, "stored": c.Stored, "duplicates": c.Duplicates, "skipped": c.Skipped,
				"rejected": c.Rejected, "rejects": rejects}, nil
		}
	}
	api, err := server.New(deps)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(runCtx) }()
	httpErr := make(chan error, 1)
	go func() {
		var err error
		if cfg.Server.TLS.Cert != "" {
			err = srv.ServeTLS(ln, cfg.Server.TLS.Cert, cfg.Server.TLS.Key)
		} else {
			err = srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		httpErr <- err
	}()
	logger.Info("listening", "addr", ln.Addr().String(), "config", cfgName, "tls", cfg.Server.TLS.Cert != "")

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var failure error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-hup:
			if err := d.Reload(ctx); err != nil {
				logger.Error("SIGHUP: the runbooks do not load; keeping the set in force", "err", err)
			}
		case err := <-httpErr:
			failure = err
			break loop
		case err := <-runErr:
			failure = err
			if failure == nil {
				failure = errors.New("the pipeline stopped")
			}
			break loop
		}
	}
	// Stop taking requests (pushes in flight finish), then let the
	// pipeline drain: commit what is queued, evaluate what is stored.
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && failure == nil {
		failure = err
	}
	stopRun()
	if err := <-runErr; err != nil && failure == nil {
		failure = err
	}
	return failure
}

// lockedQuerier lets several requests share one connection, one query at
// a time.
type lockedQuerier struct {
	mu sync.Mutex
	q  gate.Querier
}

func (l *lockedQuerier) Query(ctx context.Context, sql string, args []any) ([]map[string]any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.q.Query(ctx, sql, args)
}

// serveTokens are the API's tokens: the config's, or, with none, an admin
// token made now and written beside the store for the local user.
func serveTokens(cfg *config.Config, logger *slog.Logger) ([]server.Token, error) {
	var out []server.Token
	for _, t := range cfg.Auth.Tokens {
		role, err := server.ParseRole(string(t.Role))
		if err != nil {
			return nil, err
		}
		out = append(out, server.Token{Name: t.Name, Role: role, SHA256: t.SHA256, Rate: t.Rate, Burst: t.Burst})
	}
	if len(out) > 0 {
		return out, nil
	}
	host, _, _ := net.SplitHostPort(cfg.Server.Listen)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("serve: no tokens are configured and %s is not a loopback address; add auth.tokens (trailbook config hash-token)", cfg.Server.Listen)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	tok := hex.EncodeToString(b)
	path := strings.TrimSuffix(cfg.Store.Path, ".duckdb") + ".token"
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("serve: write the admin token: %w", err)
	}
	logger.Warn("no tokens configured: an admin token for this run was written to a file", "file", path)
	return []server.Token{{Name: "local-admin", Role: server.Admin, SHA256: config.HashToken(tok)}}, nil
}

// newLogger is the service's slog logger, as the config says.
func newLogger(w io.Writer, l config.Log) *slog.Logger {
	opts := &slog.HandlerOptions{Level: l.Level}
	if l.Format == config.FormatText {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
