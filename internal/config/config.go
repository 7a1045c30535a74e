// Package config is the configuration of `trailbook serve`: a strict YAML
// file laid over the defaults. Load decodes a file and checks it,
// reporting every problem at once with file:line:col and a stable code;
// Default is the configuration of serve without a file. Neither reads
// anything but its arguments: paths in a Config are used as written, so a
// relative one is relative to the working directory of serve, not to the
// file.
//
// A Config is plain data. It is safe to share once loaded, as long as no
// one changes it.
package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is everything serve is configured with. The zero value is not
// useful; start from Default or Load.
type Config struct {
	Store    Store    `yaml:"store"`
	Runbooks Runbooks `yaml:"runbooks"`
	Server   Server   `yaml:"server"`
	Auth     Auth     `yaml:"auth"`
	Sources  Sources  `yaml:"sources"`
	Engine   Engine   `yaml:"engine"`
	AWS      AWS      `yaml:"aws"`
	Log      Log      `yaml:"log"`
	Pipeline Pipeline `yaml:"pipeline"`

	// src is where Load found each value, for Validate to place its
	// problems; nil for a Config that did not come from a file.
	src *source
}

// Store is the embedded DuckDB store.
type Store struct {
	// Path is the database file; default "trailbook.duckdb".
	Path string `yaml:"path"`
	// MemoryLimit caps the memory DuckDB uses, in bytes; default 1GB
	// (10^9 bytes).
	MemoryLimit Size `yaml:"memory_limit"`
	// CheckpointWAL is how large the write-ahead log grows before it is
	// checkpointed into the file; default 256MB. A checkpoint stalls the
	// pipeline for a moment (half a second with 100k events in the
	// table's last row group), so serve, committing many times a second,
	// checkpoints rarely; a larger log takes longer to replay after a
	// crash (about 1 s per 100MB here).
	CheckpointWAL Size `yaml:"checkpoint_wal"`
	// Threads is how many threads DuckDB works with; default 1. Serve
	// commits and queries in many small statements, which one thread
	// runs with less contention; more speed up large deliveries (an S3
	// backfill).
	Threads int `yaml:"threads"`
}

// Runbooks is the runbook folder serve runs, and how.
type Runbooks struct {
	// Dir is the folder of runbooks; default "runbooks".
	Dir string `yaml:"dir"`
	// Enforce lets runbooks in enforce mode carry out their actions;
	// default false: every action is planned and recorded as a dry run.
	Enforce bool `yaml:"enforce"`
	// Alerts sends the alerts of dry-run runbooks all the same; default
	// true.
	Alerts bool `yaml:"alerts"`
	// Reload loads the folder again when a file in it changes (and on
	// SIGHUP in any case); default true.
	Reload bool `yaml:"reload"`
}

// Server is the HTTP API.
type Server struct {
	// Listen is the host:port the API listens on; default
	// "127.0.0.1:8080". An empty host is every interface; port 0 picks a
	// free port.
	Listen string `yaml:"listen"`
	// TLS, when both of its files are set, serves HTTPS.
	TLS TLS `yaml:"tls"`
	// MaxBody caps a request body, in bytes; default 10MB (10^7 bytes).
	MaxBody Size `yaml:"max_body"`
	// Query bounds POST /v1/query.
	Query QueryLimits `yaml:"query"`
	// ShutdownTimeout is how long a graceful shutdown waits for in-flight
	// work; default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// TLS is a certificate and its key, PEM files. Both are set, or neither.
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Enabled reports whether t asks for HTTPS: whether its certificate is set.
// (Validate refuses one file without the other.)
func (t TLS) Enabled() bool { return t.Cert != "" }

// QueryLimits bound one query of the API.
type QueryLimits struct {
	// Timeout ends a query that runs longer; default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxRows is the most rows a query returns; default 10000.
	MaxRows int `yaml:"max_rows"`
}

// Auth is who may call the API. Validate requires an admin token when
// the API listens beyond loopback.
type Auth struct {
	// Tokens are the bearer tokens the API accepts, by the SHA-256 of the
	// token: a Config never holds a token itself. Default none.
	Tokens []Token `yaml:"tokens"`
}

// Enabled reports whether any token is configured.
func (a Auth) Enabled() bool { return len(a.Tokens) > 0 }

// Sources are where events come from. A file without the sources key keeps
// the default: a folder source named "local" at ./cloudtrail and the HTTP
// push endpoint. A file with it lists its sources in full (http keeps its
// defaults unless given).
type Sources struct {
	Folders []FolderSource `yaml:"folders"`
	S3      []S3Source     `yaml:"s3"`
	SQS     []SQSSource    `yaml:"sqs"`
	HTTP    HTTPSource     `yaml:"http"`
}

// FolderSource is a folder watched for new CloudTrail files (the AWSLogs
// tree layout included).
type FolderSource struct {
	// Name names the source in checkpoints, metrics and logs; unique
	// among all sources. Required.
	Name string `yaml:"name"`
	// Path is the folder. Required.
	Path string `yaml:"path"`
	// Poll is how often the folder is scanned; default 5s, at least
	// 100ms.
	Poll time.Duration `yaml:"poll"`
}

// S3Source is an S3 bucket and prefix polled for new CloudTrail log files.
type S3Source struct {
	// Name is as FolderSource.Name. Required.
	Name string `yaml:"name"`
	// Bucket is the bucket's name. Required.
	Bucket string `yaml:"bucket"`
	// Prefix is the key prefix read, such as "AWSLogs/"; default "" (the
	// whole bucket).
	Prefix string `yaml:"prefix"`
	// Region is the bucket's region; empty in the file means aws.region,
	// which Load fills in.
	Region string `yaml:"region"`
	// Endpoint is the S3 endpoint URL; empty in the file means
	// aws.endpoint, which Load fills in ("" there: AWS's own).
	Endpoint string `yaml:"endpoint"`
	// Poll is how often the bucket is listed; default 1m, at least 1s.
	Poll time.Duration `yaml:"poll"`
}

// SQSSource is an SQS queue of S3 ObjectCreated notifications (direct or
// through SNS) or EventBridge events.
type SQSSource struct {
	// Name is as FolderSource.Name. Required.
	Name string `yaml:"name"`
	// QueueURL is the queue's URL. Required.
	QueueURL string `yaml:"queue_url"`
	// Region and Endpoint are as in S3Source.
	Region   string `yaml:"region"`
	Endpoint string `yaml:"endpoint"`
	// Wait is the long-poll wait of one receive, whole seconds from 0 to
	// 20; default 20s.
	Wait time.Duration `yaml:"wait"`
	// MaxMessages is the most messages one receive asks for, 1 to 10;
	// default 10.
	MaxMessages int `yaml:"max_messages"`
}

// HTTPSource is the push endpoint, POST /v1/events, served by the API.
type HTTPSource struct {
	// Enabled serves the endpoint; default true.
	Enabled bool `yaml:"enabled"`
	// MaxBatchEvents is the most events one request may carry; default
	// 10000. (server.max_body bounds its bytes.)
	MaxBatchEvents int `yaml:"max_batch_events"`
}

// Engine tunes runbook evaluation.
type Engine struct {
	// Identity is how Trailbook knows the events its own actions caused,
	// which trigger no runbook.
	Identity Identity `yaml:"identity"`
	// EvidenceRows caps the query rows a run keeps as evidence; default
	// 20.
	EvidenceRows int `yaml:"evidence_rows"`
	// CacheTTL is how long a query result is reused between evaluations;
	// default 1m, 0 for no cache.
	CacheTTL time.Duration `yaml:"cache_ttl"`
}

// Identity is Trailbook's own identity in CloudTrail (loop protection).
type Identity struct {
	// UserAgent is a substring of the user agent of Trailbook's AWS
	// calls; default "trailbook/".
	UserAgent string `yaml:"user_agent"`
	// SessionName is the role session name of Trailbook's credentials;
	// default "trailbook".
	SessionName string `yaml:"session_name"`
	// Principals are the ARNs of Trailbook's own roles and users; default
	// none.
	Principals []string `yaml:"principals"`
}

// AWS is what AWS calls use unless a source says otherwise.
type AWS struct {
	// Region is the default region; default "us-east-1".
	Region string `yaml:"region"`
	// Endpoint is an endpoint URL for every AWS service, for S3- and
	// SQS-compatible servers; default "": AWS's own.
	Endpoint string `yaml:"endpoint"`
}

// Log is serve's structured log, written to stderr.
type Log struct {
	// Level is the least level logged: debug, info, warn or error in the
	// file; default info.
	Level slog.Level `yaml:"level"`
	// Format is FormatJSON (the default) or FormatText.
	Format string `yaml:"format"`
}

// Log formats.
const (
	FormatJSON = "json"
	FormatText = "text"
)

// MarshalYAML writes the level as the file spells it.
func (l Log) MarshalYAML() (any, error) {
	return struct {
		Level  string `yaml:"level"`
		Format string `yaml:"format"`
	}{strings.ToLower(l.Level.String()), l.Format}, nil
}

// Pipeline is the path from sources to the store and the engine.
type Pipeline struct {
	// BatchEvents is the most events stored in one transaction; default
	// 1000.
	BatchEvents int `yaml:"batch_events"`
	// BatchWait is how long a batch that is not full waits for more
	// events before it is stored; default 2ms. Whatever arrives while a
	// commit is under way goes into the next, so batches grow with the
	// load without a longer wait.
	BatchWait time.Duration `yaml:"batch_wait"`
	// Queue is the most deliveries waiting to be stored, decoded: a push,
	// a file or an SQS message's files each; default 10000. Sources wait
	// when it is full (backpressure). Each sender waits for its own
	// delivery to be stored, so the queue holds at most one delivery a
	// sender (an S3 source's workers, a pushing client).
	Queue int `yaml:"queue"`
	// RecordInterval is the least time between two records of the
	// actions claimed and carried out (and the evaluations done) in the
	// store; default 100ms. Each record is one transaction for every
	// evaluation pass since the last; claims are synced to the journal
	// file before an action is carried out, so a crash loses none.
	RecordInterval time.Duration `yaml:"record_interval"`
}

// Default is the configuration of serve without a file: the store
// trailbook.duckdb, the runbooks folder in dry run, the API on
// 127.0.0.1:8080 without tokens, a folder source named "local" at
// ./cloudtrail and the HTTP push endpoint. Each call returns a new Config.
func Default() *Config {
	return &Config{
		Store:    Store{Path: "trailbook.duckdb", MemoryLimit: 1 * GB, CheckpointWAL: 256 * MB, Threads: 1},
		Runbooks: Runbooks{Dir: "runbooks", Enforce: false, Alerts: true, Reload: true},
		Server: Server{
			Listen:          "127.0.0.1:8080",
			MaxBody:         10 * MB,
			Query:           QueryLimits{Timeout: 10 * time.Second, MaxRows: 10000},
			ShutdownTimeout: 30 * time.Second,
		},
		Sources: Sources{
			Folders: []FolderSource{{Name: "local", Path: "./cloudtrail", Poll: defaultFolder().Poll}},
			HTTP:    HTTPSource{Enabled: true, MaxBatchEvents: 10000},
		},
		Engine: Engine{
			Identity:     Identity{UserAgent: "trailbook/", SessionName: "trailbook"},
			EvidenceRows: 20,
			CacheTTL:     time.Minute,
		},
		AWS:      AWS{Region: "us-east-1"},
		Log:      Log{Level: slog.LevelInfo, Format: FormatJSON},
		Pipeline: Pipeline{BatchEvents: 1000, BatchWait: 2 * time.Millisecond, Queue: 10000, RecordInterval: 100 * time.Millisecond},
	}
}

// The defaults of a source's optional keys, which each entry of a file
// starts from.
func defaultFolder() FolderSource { return FolderSource{Poll: 5 * time.Second} }
func defaultS3() S3Source         { return S3Source{Poll: time.Minute} }
func defaultSQS() SQSSource       { return SQSSource{Wait: 20 * time.Second, MaxMessages: 10} }

// YAML is c as a configuration file, every key written out: what serve
// runs with. Loading it gives c again. It holds token hashes, never
// tokens.
func (c *Config) YAML() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	return b.Bytes(), nil
}
