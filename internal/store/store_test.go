package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/cloudtrail"
)

func tx(s string) cloudtrail.Text { return cloudtrail.Text{V: s, OK: true} }

// sampleEvent is an AssumedRole event with every nested shape filled in.
func sampleEvent(id string, at time.Time) cloudtrail.Event {
	return cloudtrail.Event{
		EventVersion: tx("1.09"),
		UserIdentity: cloudtrail.UserIdentity{
			Present: true, Type: tx("AssumedRole"), PrincipalID: tx("AROA:alice"),
			ARN: tx("arn:aws:sts::111122223333:assumed-role/Admin/alice"), AccountID: tx("111122223333"),
			SessionContext: cloudtrail.SessionContext{
				Present:          true,
				CreationDate:     cloudtrail.Time{V: at.Add(-time.Hour), OK: true},
				MFAAuthenticated: tx("false"),
				SessionIssuer:    &cloudtrail.SessionIssuer{Type: tx("Role"), ARN: tx("arn:aws:iam::111122223333:role/Admin"), UserName: tx("Admin")},
			},
		},
		EventTime:   at,
		EventSource: tx("s3.amazonaws.com"),
		EventName:   "PutBucketTagging",
		AWSRegion:   tx("us-east-1"),
		RequestParameters: cloudtrail.Map{
			{Key: "bucketName", Value: tx("prod-logs")},
			{Key: "Tagging", Value: tx(`{"TagSet":{"Tag":[{"Key":"Environment","Value":"Production"}]}}`)},
			{Key: "quote\"d", Value: tx("a\"b\\c\n")},
			{Key: "gone", Value: cloudtrail.Text{}},
		},
		EventID:            tx(id),
		ReadOnly:           cloudtrail.Bool{V: false, OK: true},
		ManagementEvent:    cloudtrail.Bool{V: true, OK: true},
		RecipientAccountID: tx("111122223333"),
		Resources:          []cloudtrail.Resource{{ARN: tx("arn:aws:s3:::prod-logs"), Type: tx("AWS::S3::Bucket")}},
		TLSDetails:         cloudtrail.TLSDetails{Present: true, TLSVersion: tx("TLSv1.3")},
		JSON:               []byte(`{"eventID":"` + id + `"}`),
	}
}

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newWriter opens s's Writer, closed when tb ends if not before.
func newWriter(tb testing.TB, s *Store) *Writer {
	tb.Helper()
	w, err := s.NewWriter(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close() })
	return w
}

func queryString(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	var v sql.NullString
	if err := db.QueryRow(q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if !v.Valid {
		return "NULL"
	}
	return v.String
}

// writePaths are the two ways a Writer stores events, by the stageAt
// that selects them: staged first into the staging table (big commits,
// as ingest makes them), or straight from the decoded files at Commit
// (commits under stageEvery events, as serve makes them).
// The third is the second with RememberRecent, as serve runs it.
var writePaths = []struct {
	name    string
	stageAt int
	recent  bool
}{{"staged", 1, false}, {"direct", stageEvery, false}, {"recent", stageEvery, true}}

// appendWith is Store.Append with a Writer that stages at stageAt and,
// with recent, remembers recent keys.
func appendWith(ctx context.Context, s *Store, stageAt int, recent bool, files []File) (Counts, error) {
	w, err := s.NewWriter(ctx)
	if err != nil {
		return Counts{}, err
	}
	defer w.Close()
	w.stageAt = stageAt
	if recent {
		w.RememberRecent()
	}
	for i := range files {
		if err := w.Add(ctx, &files[i]); err != nil {
			return Counts{}, err
		}
	}
	return w.Commit(ctx)
}

func TestAppendShapesAndDedupe(t *testing.T) {
	for _, p := range writePaths {
		t.Run(p.name, func(t *testing.T) { testAppendShapesAndDedupe(t, p.stageAt, p.recent) })
	}
}

func testAppendShapesAndDedupe(t *testing.T, stageAt int, recent bool) {
	ctx := context.Background()
	s := openTemp(t)
	t0 := time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)
	a, b := sampleEvent("a", t0), sampleEvent("b", t0.Add(time.Minute))
	got, err := appendWith(ctx, s, stageAt, recent, []File{{Source: "one.json", Records: 4, Events: []cloudtrail.Event{a, b, a}, Skipped: 1}})
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Files: 1, Records: 4, Stored: 2, Duplicates: 1, Skipped: 1}
	if got != want {
		t.Fatalf("first append: got %+v want %+v", got, want)
	}
	// The same events again, and one that differs only in eventName
	// (a reused eventID): only the latter is new.
	c := sampleEvent("a", t0)
	c.EventName = "DeleteBucketTagging"
	got, err = appendWith(ctx, s, stageAt, recent, []File{{Source: "two.json", Records: 3, Events: []cloudtrail.Event{b, a, c}}})
	if err != nil {
		t.Fatal(err)
	}
	want = Counts{Files: 1, Records: 3, Stored: 1, Duplicates: 2}
	if got != want {
		t.Fatalf("second append: got %+v want %+v", got, want)
	}

	db := s.DB()
	checks := []struct{ q, want string }{
		{`SELECT count(*) FROM events`, "3"},
		{`SELECT userIdentity.sessioncontext.sessionissuer.arn FROM events LIMIT 1`, "arn:aws:iam::111122223333:role/Admin"},
		{`SELECT userIdentity.sessionContext.attributes.creationDate FROM events WHERE eventID='a' LIMIT 1`, "2024-05-02T09:00:00Z"},
		{`SELECT requestParameters['bucketName'] FROM events LIMIT 1`, "prod-logs"},
		{`SELECT requestParameters['Tagging'] FROM events LIMIT 1`, `{"TagSet":{"Tag":[{"Key":"Environment","Value":"Production"}]}}`},
		{`SELECT requestParameters['quote"d'] FROM events LIMIT 1`, "a\"b\\c\n"},
		{`SELECT coalesce(requestParameters['gone'], 'null') FROM events LIMIT 1`, "null"},
		{`SELECT array_to_string(map_keys(requestParameters), ',') FROM events LIMIT 1`, `bucketName,Tagging,quote"d,gone`},
		{`SELECT resources[1].arn FROM events LIMIT 1`, "arn:aws:s3:::prod-logs"},
		{`SELECT tlsDetails.tlsVersion FROM events LIMIT 1`, "TLSv1.3"},
		{`SELECT CAST(userIdentity.onBehalfOf IS NULL AS VARCHAR) FROM events LIMIT 1`, "true"},
		{`SELECT CAST(responseElements IS NULL AS VARCHAR) FROM events LIMIT 1`, "true"},
		{`SELECT string_agg(source || ':' || stored || '/' || duplicates, ' ' ORDER BY source) FROM ingested_files`, "one.json:2/1 two.json:1/2"},
	}
	for _, c := range checks {
		if got := queryString(t, db, c.q); got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.q, got, c.want)
		}
	}
}

func TestAppendRecordsRejectsWithoutLosingEvents(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	t0 := time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)
	files := []File{{
		Source:  "bad.json",
		Records: 3,
		Events:  []cloudtrail.Event{sampleEvent("ok", t0)},
		Rejects: []Reject{
			{Index: 1, Line: 7, Offset: 120, Reason: "record has no eventTime", Record: []byte(`{"eventName":"X"}`)},
			{Index: 2, Offset: 300, Reason: "invalid UTF-8", Record: []byte{0xff, 0xfe, '{'}},
		},
	}}
	got, err := s.Append(ctx, files)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Files: 1, Records: 3, Stored: 1, Rejected: 2}); got != want {
		t.Fatalf("got %+v want %+v", got, want)
	}
	if got := queryString(t, s.DB(), `SELECT string_agg(record_index || ':' || coalesce(line, 0) || ':' || reason, '|' ORDER BY record_index) FROM rejects`); got != "1:7:record has no eventTime|2:0:invalid UTF-8" {
		t.Fatalf("rejects: %s", got)
	}
	if got := queryString(t, s.DB(), `SELECT octet_length(record) FROM rejects WHERE record_index = 2`); got != "3" {
		t.Fatalf("reject bytes: %s", got)
	}
}

func TestReaderIsLockedDown(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.duckdb")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, []File{{Source: "x", Records: 1, Events: []cloudtrail.Event{sampleEvent("a", time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC))}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	r, err := OpenReader(ctx, path, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, q := range []string{
		`SELECT * FROM read_text('/etc/passwd')`,
		`COPY (SELECT 1) TO '/tmp/trailbook-should-not-exist.csv'`,
		`SET enable_external_access = true`,
		`DELETE FROM event_store`,
		`ATTACH ':memory:' AS other`,
	} {
		if _, err := r.ExecContext(ctx, q); err == nil {
			t.Errorf("%s: succeeded on a locked reader", q)
		}
	}
	var n int
	if err := r.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("count after refusals: %d, %v", n, err)
	}
}

func TestOpenReaderMissingStore(t *testing.T) {
	_, err := OpenReader(context.Background(), filepath.Join(t.TempDir(), "none.duckdb"), ReaderOptions{})
	if err == nil {
		t.Fatal("no error for a missing store")
	}
	if got := fmt.Sprint(err); !strings.Contains(got, "trailbook ingest") {
		t.Fatalf("error does not say what to do: %v", err)
	}
}
