package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/config"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/gate"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/runner"
	"github.com/trailbook/trailbook/internal/store"
)

// fixture is a real store with events, the test runbooks and gates, a
// real audit log, and the API on a real HTTP server on 127.0.0.1.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	db      string
	st      *store.Store
	log     *audit.Log
	checker *gate.Checker
	set     *runbook.Set
	api     *Server
	srv     *httptest.Server
	logs    *syncBuffer
	now     time.Time
	// secrets are the bearer tokens by token name.
	secrets map[string]string
	// ingested counts the events POST /v1/events stored.
	ingested int
}

// The tokens every fixture accepts, by name.
var fixtureRoles = map[string]Role{
	"reader":      Reader,
	"ops":         Operator, // an owner of gate deploy
	"intern":      Operator, // not one
	"admin":       Admin,
	"eventbridge": Ingest,
}

// tweak changes the Deps a fixture serves from before New.
type tweak func(*Deps)

func newFixture(t *testing.T, tweaks ...tweak) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, ctx: ctx, db: filepath.Join(t.TempDir(), "trailbook.duckdb"), logs: &syncBuffer{},
		now: time.Now().UTC().Truncate(time.Second), secrets: map[string]string{}}
	st, err := store.Open(ctx, f.db, store.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.st = st
	t.Cleanup(func() { st.Close() })
	f.addEvents(f.events()...)

	set, err := runbook.LoadDir(ctx, "testdata/runbooks", runbook.Options{Conn: st.DB()})
	if err != nil {
		t.Fatal(err)
	}
	f.set = set
	// The checker's own connection, prepared as the CLI prepares one.
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for _, stmt := range query.Prelude() {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	log, err := audit.Open(audit.DefaultPath(f.db), audit.Options{Mirror: st})
	if err != nil {
		t.Fatal(err)
	}
	f.log = log
	t.Cleanup(func() { log.Close() })
	f.checker = &gate.Checker{Store: st, Query: engine.StoreSnapshot{Conn: conn}, Audit: log}

	var tokens []Token
	for name, role := range fixtureRoles {
		secret := randomToken(t)
		f.secrets[name] = secret
		tokens = append(tokens, Token{Name: name, Role: role, SHA256: config.HashToken(secret)})
	}
	d := Deps{
		Store:     st,
		Runbooks:  func() *runbook.Set { return f.set },
		Checker:   f.checker,
		AuditPath: audit.DefaultPath(f.db),
		Tokens:    tokens,
		Ingest:    f.ingest,
		Reload: func(ctx context.Context) (any, error) {
			return map[string]int{"runbooks": len(f.set.Runbooks), "gates": len(f.set.Gates)}, nil
		},
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			fmt.Fprintln(w, "trailbook_events_stored_total 3")
		}),
		Logger: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, tw := range tweaks {
		tw(&d)
	}
	api, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	f.api = api
	f.srv = httptest.NewServer(api)
	t.Cleanup(f.srv.Close)
	return f
}

func randomToken(t *testing.T) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "tb_" + hex.EncodeToString(b)
}

// events are the fixture's CloudTrail records, in the hours before now:
// a root call, an access denied, and an instance tagged, retagged and
// untagged.
func (f *fixture) events() []string {
	at := func(ago time.Duration) string { return f.now.Add(-ago).Format(time.RFC3339) }
	return []string{
		`{"eventVersion":"1.09","eventTime":"` + at(time.Hour) + `","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventType":"AwsApiCall","awsRegion":"us-east-1","eventID":"root-1","recipientAccountId":"111122223333","sourceIPAddress":"203.0.113.7","userAgent":"console.amazonaws.com","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"}}`,
		`{"eventVersion":"1.09","eventTime":"` + at(2*time.Hour) + `","eventSource":"s3.amazonaws.com","eventName":"PutObject","eventType":"AwsApiCall","awsRegion":"us-east-1","eventID":"denied-1","recipientAccountId":"444455556666","errorCode":"AccessDenied","requestParameters":{"bucketName":"logs","key":"b.txt"},"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::444455556666:user/bob","accountId":"444455556666","userName":"bob"}}`,
		`{"eventVersion":"1.09","eventTime":"` + at(3*time.Hour) + `","eventSource":"ec2.amazonaws.com","eventName":"CreateTags","eventType":"AwsApiCall","awsRegion":"us-east-1","eventID":"tag-1","recipientAccountId":"111122223333","requestParameters":{"resourcesSet":{"items":[{"resourceId":"i-0abc"}]},"tagSet":{"items":[{"key":"Owner","value":"alice"},{"key":"Env","value":"prod"}]}},"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"}}`,
		`{"eventVersion":"1.09","eventTime":"` + at(150*time.Minute) + `","eventSource":"ec2.amazonaws.com","eventName":"DeleteTags","eventType":"AwsApiCall","awsRegion":"us-east-1","eventID":"tag-2","recipientAccountId":"111122223333","requestParameters":{"resourcesSet":{"items":[{"resourceId":"i-0abc"}]},"tagSet":{"items":[{"key":"Env"}]}},"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","accountId":"111122223333","userName":"bob"}}`,
	}
}

// addEvents stores records, each a CloudTrail record's JSON, in one
// transaction, and returns them decoded.
func (f *fixture) addEvents(records ...string) []cloudtrail.Event {
	f.t.Helper()
	evs, err := f.store([]byte(`{"Records":[` + strings.Join(records, ",") + `]}`))
	if err != nil {
		f.t.Fatal(err)
	}
	return evs
}

// store decodes body and stores its events with a Writer.
func (f *fixture) store(body []byte) ([]cloudtrail.Event, error) {
	res := cloudtrail.Decode(body, cloudtrail.Options{})
	if len(res.Rejects) > 0 {
		return nil, fmt.Errorf("not CloudTrail: %s", res.Rejects[0].Reason)
	}
	w, err := f.st.NewWriter(f.ctx)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	if err := w.Add(f.ctx, &store.File{Source: "server test", Records: len(res.Events), Events: res.Events}); err != nil {
		return nil, err
	}
	if _, err := w.Commit(f.ctx); err != nil {
		return nil, err
	}
	return res.Events, nil
}

// ingest is the fixture's Deps.Ingest: decode and store.
func (f *fixture) ingest(ctx context.Context, body []byte) (any, error) {
	evs, err := f.store(body)
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Code: "not-cloudtrail", Message: err.Error()}
	}
	f.ingested += len(evs)
	return map[string]int{"stored": len(evs)}, nil
}

// evaluate runs the engine and the runner over evs, as the daemon's
// pipeline does: evaluations and actions go to the audit log.
func (f *fixture) evaluate(evs []cloudtrail.Event) {
	f.t.Helper()
	eng, err := engine.New(f.set, engine.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	conn, err := f.st.DB().Conn(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	defer conn.Close()
	for _, stmt := range query.Prelude() {
		if _, err := conn.ExecContext(f.ctx, stmt); err != nil {
			f.t.Fatal(err)
		}
	}
	rn := &runner.Runner{Store: f.st, Audit: f.log}
	for i := range evs {
		p, err := eng.Evaluate(f.ctx, &evs[i], store.EventKey(&evs[i]), engine.StoreSnapshot{Conn: conn}, f.now)
		if err != nil {
			f.t.Fatal(err)
		}
		if _, err := rn.Apply(f.ctx, p); err != nil {
			f.t.Fatal(err)
		}
	}
}

// response is what a request got.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request as the token named who ("" for none). body, when
// not nil, is sent as JSON unless it is a string or []byte.
func (f *fixture) do(method, path, who string, body any) response {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if who != "" {
		secret, ok := f.secrets[who]
		if !ok {
			secret = who // a token the server does not know
		}
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// ok checks the response is a 200 with JSON and decodes it into v.
func (r response) ok(t *testing.T, v any) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// apiError checks the response is an error in the one shape with status
// and code, and returns it.
func (r response) apiError(t *testing.T, status int, code string) errorDetail {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var b struct {
		Error *errorDetail `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil || b.Error == nil || b.Error.Message == "" {
		t.Fatalf("not the error shape (%v): %s", err, r.body)
	}
	if b.Error.Code != code {
		t.Errorf("code %s, want %s: %s", b.Error.Code, code, b.Error.Message)
	}
	return *b.Error
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// count runs a query of the test's own on the store.
func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.st.DB().QueryRowContext(f.ctx, q, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}
