package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/audit"
)

// TestRunbooksAndRuns lists the runbooks, then the runs the engine and
// the runner recorded, with their actions.
func TestRunbooksAndRuns(t *testing.T) {
	f := newFixture(t)
	var rbs struct {
		Runbooks []runbookInfo `json:"runbooks"`
	}
	f.do("GET", "/v1/runbooks", "reader", nil).ok(t, &rbs)
	if len(rbs.Runbooks) != 1 {
		t.Fatalf("runbooks: %+v", rbs)
	}
	rb := rbs.Runbooks[0]
	if rb.Name != "root-activity" || rb.Severity != "high" || rb.Mode != "dry-run" || rb.Owner != "security" ||
		string(rb.Trigger.Pattern) != `{"userIdentity":{"type":["Root"]}}` || strings.Join(rb.Actions, ",") != "alert" || rb.Tests != 1 {
		t.Errorf("root-activity: %+v, pattern %s", rb, rb.Trigger.Pattern)
	}

	var runs struct {
		Runs []run `json:"runs"`
	}
	f.do("GET", "/v1/runs", "reader", nil).ok(t, &runs)
	if len(runs.Runs) != 0 {
		t.Fatalf("runs before any evaluation: %+v", runs)
	}
	// The root call, twice (a redelivery), and one more.
	evs := f.addEvents(`{"eventVersion":"1.09","eventTime":"` + f.now.Add(-time.Minute).Format(time.RFC3339) + `","eventSource":"iam.amazonaws.com","eventName":"GetAccountSummary","eventType":"AwsApiCall","awsRegion":"us-east-1","eventID":"root-3","recipientAccountId":"111122223333","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"}}`)
	all := f.addEvents(f.events()...)
	f.evaluate(all[:1])
	f.evaluate(all[:1])
	f.evaluate(evs)

	f.do("GET", "/v1/runs", "reader", nil).ok(t, &runs)
	if len(runs.Runs) != 3 {
		t.Fatalf("runs: %+v", runs)
	}
	latest := runs.Runs[0]
	if latest.Runbook != "root-activity" || latest.EventID != "root-3" || latest.Decision != "act" || latest.Mode != "dry-run" ||
		len(latest.Actions) != 1 || latest.Actions[0].Kind != "alert" || latest.Actions[0].Status != "planned" || latest.Actions[0].Enforce {
		t.Errorf("latest run: %+v", latest)
	}
	// Each evaluation of root-1 has its own action entry: the second was
	// skipped, as the first holds the key.
	first, second := runs.Runs[2], runs.Runs[1]
	if first.EventID != "root-1" || second.EventID != "root-1" || len(first.Actions) != 1 || len(second.Actions) != 1 ||
		first.Actions[0].Status != "planned" || second.Actions[0].Status != "skipped" || first.Actions[0].Key != second.Actions[0].Key {
		t.Errorf("the two runs of root-1: %+v\n%+v", first, second)
	}
	f.do("GET", "/v1/runs?limit=1", "reader", nil).ok(t, &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].EventID != "root-3" || len(runs.Runs[0].Actions) != 1 {
		t.Errorf("limit=1: %+v", runs)
	}
	f.do("GET", "/v1/runs?runbook=other", "reader", nil).ok(t, &runs)
	if len(runs.Runs) != 0 {
		t.Errorf("runbook=other: %+v", runs)
	}
	f.do("GET", "/v1/runs?since=1h&runbook=root-activity", "reader", nil).ok(t, &runs)
	if len(runs.Runs) != 3 {
		t.Errorf("since=1h: %d runs", len(runs.Runs))
	}
	f.do("GET", "/v1/runs?since="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "reader", nil).ok(t, &runs)
	if len(runs.Runs) != 0 {
		t.Errorf("since an hour ahead: %d runs", len(runs.Runs))
	}
	f.do("GET", "/v1/runs?limit=0", "reader", nil).apiError(t, 400, CodeBadRequest)
	f.do("GET", "/v1/runs?since=yesterday", "reader", nil).apiError(t, 400, CodeBadRequest)
	f.do("GET", "/v1/runs?limit=1&limit=2", "reader", nil).apiError(t, 400, CodeBadRequest)
}

// TestAudit pages through the audit log and verifies it, then finds an
// edit to the file.
func TestAudit(t *testing.T) {
	f := newFixture(t)
	var v verifyReport
	f.do("GET", "/v1/audit/verify", "reader", nil).ok(t, &v)
	if !v.Intact || v.Entries != 0 || v.LastHash != audit.Genesis {
		t.Errorf("empty log: %+v", v)
	}
	for range 5 {
		f.check("/v1/gates/deploy?no_cache=true", "reader")
	}
	type page struct {
		Entries      []audit.Entry `json:"entries"`
		NextSinceSeq int64         `json:"next_since_seq"`
		More         bool          `json:"more"`
	}
	var seqs []int64
	since := int64(0)
	for {
		var p page
		f.do("GET", "/v1/audit?limit=2&since_seq="+itoa(since), "reader", nil).ok(t, &p)
		for _, e := range p.Entries {
			seqs = append(seqs, e.Seq)
		}
		since = p.NextSinceSeq
		if !p.More {
			break
		}
	}
	if got := len(seqs); got != 5 || seqs[0] != 1 || seqs[4] != 5 || since != 5 {
		t.Fatalf("pages gave seqs %v, next %d", seqs, since)
	}
	// An entry as the API gives it is its line in the file, byte for byte.
	var p page
	f.do("GET", "/v1/audit?since_seq=2&limit=1", "reader", nil).ok(t, &p)
	line, err := p.Entries[0].MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(audit.DefaultPath(f.db))
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Split(file, []byte("\n")); !bytes.Equal(lines[2], line) {
		t.Errorf("entry 3:\napi  %s\nfile %s", line, lines[2])
	}
	f.do("GET", "/v1/audit?since_seq=-1", "reader", nil).apiError(t, 400, CodeBadRequest)

	f.do("GET", "/v1/audit/verify", "reader", nil).ok(t, &v)
	if !v.Intact || v.Entries != 5 || v.StoreSeq != 5 {
		t.Errorf("verify: %+v", v)
	}
	// Edit the third line's decision: verify says where, and what.
	lines := bytes.Split(file, []byte("\n"))
	lines[2] = bytes.Replace(lines[2], []byte(`"decision":"halt"`), []byte(`"decision":"proceed"`), 1)
	edited := bytes.Join(lines, []byte("\n"))
	if bytes.Equal(edited, file) {
		t.Fatal("no decision to edit")
	}
	if err := os.WriteFile(audit.DefaultPath(f.db), edited, 0o600); err != nil {
		t.Fatal(err)
	}
	f.do("GET", "/v1/audit/verify", "reader", nil).ok(t, &v)
	if v.Intact || len(v.Problems) == 0 || v.Problems[0].Line != 3 || v.Problems[0].Kind != audit.Edited {
		t.Errorf("verify after an edit: %+v", v)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestTags answers a resource's tags now and their history.
func TestTags(t *testing.T) {
	f := newFixture(t)
	var res struct {
		ARN     string            `json:"arn"`
		Tags    map[string]string `json:"tags"`
		History []tagValue        `json:"history"`
	}
	arn := "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"
	f.do("GET", "/v1/tags/"+arn, "reader", nil).ok(t, &res)
	if res.ARN != arn || len(res.Tags) != 1 || res.Tags["Owner"] != "alice" || len(res.History) != 2 {
		t.Fatalf("tags: %+v", res)
	}
	env := res.History[0]
	if env.Key != "Env" || env.Value != "prod" || env.To == nil || env.SetBy == "" || env.EndedByCall != "DeleteTags" || env.SetEventID != "tag-1" {
		t.Errorf("Env's history: %+v", env)
	}
	if !env.From.Equal(f.now.Add(-3*time.Hour)) || !env.To.Equal(f.now.Add(-150*time.Minute)) {
		t.Errorf("Env held from %s to %s", env.From, env.To)
	}
	// Slashes may be escaped.
	f.do("GET", "/v1/tags/"+strings.ReplaceAll(arn, "/", "%2F"), "reader", nil).ok(t, &res)
	if res.ARN != arn {
		t.Errorf("escaped: %s", res.ARN)
	}
	f.do("GET", "/v1/tags/arn:aws:ec2:us-east-1:111122223333:instance/i-none", "reader", nil).apiError(t, 404, CodeNotFound)
	f.do("GET", "/v1/tags/", "reader", nil).apiError(t, 404, CodeNotFound)
}

// TestEvents pushes events: stored through Deps.Ingest, refused over
// the size limit whether or not the length is announced.
func TestEvents(t *testing.T) {
	f := newFixture(t, func(d *Deps) {
		d.MaxBody = 4096
		next := d.Ingest
		d.Ingest = func(ctx context.Context, body []byte) (any, error) {
			if bytes.Contains(body, []byte("while busy")) {
				return nil, &Error{Status: http.StatusServiceUnavailable, Code: CodeBusy, Message: "the pipeline is full"}
			}
			return next(ctx, body)
		}
	})
	rec := `{"eventVersion":"1.09","eventTime":"` + f.now.Format(time.RFC3339) + `","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventID":"push-1","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob"}}`
	var res map[string]int
	f.do("POST", "/v1/events", "eventbridge", `{"Records":[`+rec+`]}`).ok(t, &res)
	if res["stored"] != 1 || f.count("SELECT count(*) FROM events WHERE eventID = 'push-1'") != 1 {
		t.Errorf("push: %v", res)
	}
	// Ingest's own refusal keeps its status and code.
	f.do("POST", "/v1/events", "eventbridge", `not json`).apiError(t, 400, "not-cloudtrail")
	f.do("POST", "/v1/events", "eventbridge", ``).apiError(t, 400, CodeBadRequest)
	r := f.do("POST", "/v1/events", "eventbridge", `{"Records":[], "note": "while busy"}`)
	r.apiError(t, http.StatusServiceUnavailable, CodeBusy)
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("busy: Retry-After %q", r.header.Get("Retry-After"))
	}

	big := `{"Records":[` + strings.Repeat(rec+",", 30) + rec + `]}`
	f.do("POST", "/v1/events", "eventbridge", big).apiError(t, http.StatusRequestEntityTooLarge, CodeTooLarge)
	// Chunked, with no length: cut at the limit all the same.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(big))
		pw.Close()
	}()
	f.do("POST", "/v1/events", "eventbridge", pr).apiError(t, http.StatusRequestEntityTooLarge, CodeTooLarge)
	if f.ingested != 1 {
		t.Errorf("Ingest stored %d events, want 1", f.ingested)
	}
}

// TestUnrouted: unknown paths and methods answer in the error shape.
func TestUnrouted(t *testing.T) {
	f := newFixture(t)
	f.do("GET", "/v1/nothing", "reader", nil).apiError(t, 404, CodeNotFound)
	f.do("GET", "/", "", nil).apiError(t, 404, CodeNotFound)
	r := f.do("DELETE", "/v1/runbooks", "reader", nil)
	r.apiError(t, 405, CodeMethodNotAllowed)
	if got := r.header.Get("Allow"); !strings.Contains(got, "GET") {
		t.Errorf("405 Allow %q", got)
	}
	f.do("GET", "/v1/query", "reader", nil).apiError(t, 405, CodeMethodNotAllowed)
	f.do("GET", "/v1/runbooks?x=1", "reader", nil).apiError(t, 400, CodeBadRequest)
	// Without an optional dependency, its endpoint is not there.
	f = newFixture(t, func(d *Deps) { d.Ingest, d.Reload, d.Metrics = nil, nil, nil })
	f.do("POST", "/v1/events", "admin", "{}").apiError(t, 404, CodeNotFound)
	f.do("POST", "/v1/reload", "admin", nil).apiError(t, 404, CodeNotFound)
	f.do("GET", "/metrics", "admin", nil).apiError(t, 404, CodeNotFound)
}

// TestReady: /readyz says what Deps.Ready says.
func TestReady(t *testing.T) {
	var ready atomic.Bool
	f := newFixture(t, func(d *Deps) {
		d.Ready = func() error {
			if !ready.Load() {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
	})
	f.do("GET", "/readyz", "", nil).apiError(t, 503, CodeNotReady)
	ready.Store(true)
	f.do("GET", "/readyz", "", nil).ok(t, nil)
	f.do("GET", "/healthz", "", nil).ok(t, nil)
	f.do("HEAD", "/healthz", "", nil)
}
