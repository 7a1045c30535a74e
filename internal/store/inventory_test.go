package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/trailbook/trailbook/internal/cloudtrail"
)

// bucketEvent is a successful S3 call on bucket b at time at (RFC 3339),
// with extra request parameters in JSON.
func bucketEvent(id, name, at, b, params string) string {
	return fmt.Sprintf(`{"eventVersion":"1.09","eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":%q,"awsRegion":"us-east-1",`+
		`"requestParameters":{"bucketName":%q%s},"eventID":%q,"recipientAccountId":"111122223333",`+
		`"resources":[{"accountId":"111122223333","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::%s"}]}`, at, name, b, params, id, b)
}

// decodeFile decodes JSON lines into a File named source.
func decodeFile(t *testing.T, source string, lines ...string) *File {
	t.Helper()
	var data []byte
	for _, l := range lines {
		data = append(append(data, l...), '\n')
	}
	res := cloudtrail.Decode(data, cloudtrail.Options{})
	if len(res.Rejects) > 0 || len(res.Events) != len(lines) {
		t.Fatalf("%s: %d events, rejects %v", source, len(res.Events), res.Rejects)
	}
	return &File{Source: source, Records: len(lines), Events: res.Events}
}

// TestTagsOfStagedEventsFollowLaterChanges checks the tags an event's
// resources carry when the change that sets them arrives after the event
// was staged, in the same transaction (the event is given its tags again
// before it is stored) and in a later one (the stored event is retagged).
//
// Staged at once (stageAt 1), an event gets its tags again before it is
// stored; stored straight from its file, it gets them when its Commit
// starts, after every Add.
func TestTagsOfStagedEventsFollowLaterChanges(t *testing.T) {
	for _, p := range writePaths {
		t.Run(p.name, func(t *testing.T) { testTagsFollowLaterChanges(t, p.stageAt, p.recent) })
	}
}

func testTagsFollowLaterChanges(t *testing.T, stageAt int, recent bool) {
	ctx := context.Background()
	s := openTemp(t)
	w := newWriter(t, s)
	w.stageAt = stageAt
	if recent {
		w.RememberRecent()
	}

	tagging := `,"Tagging":{"TagSet":{"Tag":[{"Key":"Environment","Value":"Production"}]}}`
	steps := []struct {
		files []*File
		want  map[string]string // eventID -> resources[1].tags
	}{{
		files: []*File{
			decodeFile(t, "reads.json",
				bucketEvent("read-0800", "GetBucketAcl", "2024-06-01T08:00:00Z", "b", ""),
				bucketEvent("read-1000", "GetBucketAcl", "2024-06-01T10:00:00Z", "b", "")),
			decodeFile(t, "tag.json", bucketEvent("tag-0900", "PutBucketTagging", "2024-06-01T09:00:00Z", "b", tagging)),
		},
		want: map[string]string{"read-0800": "NULL", "tag-0900": "{Environment=Production}", "read-1000": "{Environment=Production}"},
	}, {
		files: []*File{decodeFile(t, "untag.json", bucketEvent("untag-0930", "DeleteBucketTagging", "2024-06-01T09:30:00Z", "b", ""))},
		want:  map[string]string{"read-0800": "NULL", "tag-0900": "{Environment=Production}", "untag-0930": "{}", "read-1000": "{}"},
	}}
	for i, st := range steps {
		for _, f := range st.files {
			if err := w.Add(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Commit(ctx); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		for id, want := range st.want {
			got := queryString(t, s.DB(), `SELECT CAST(resources[1].tags AS VARCHAR) FROM events WHERE eventID = '`+id+`'`)
			if got != want {
				t.Errorf("step %d: %s: tags %s, want %s", i, id, got, want)
			}
		}
	}
	if n := queryString(t, s.DB(), `SELECT count(*) FROM tag_retag_pending`); n != "0" {
		t.Errorf("%s retag notes left", n)
	}
}

// TestMigrationBuildsTheInventory opens a store written before the tag
// inventory existed (schema version 1) and checks that Open builds the
// inventory from the stored records and tags the stored events.
func TestMigrationBuildsTheInventory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.duckdb")
	db, err := openDB(path)
	if err != nil {
		t.Fatal(err)
	}
	tagging := `,"Tagging":{"TagSet":{"Tag":[{"Key":"Environment","Value":"Production"}]}}`
	records := [][2]string{
		{"2024-06-01 09:00:00", bucketEvent("tag-0900", "PutBucketTagging", "2024-06-01T09:00:00Z", "b", tagging)},
		{"2024-06-01 10:00:00", bucketEvent("read-1000", "GetBucketAcl", "2024-06-01T10:00:00Z", "b", "")},
	}
	stmts := []string{`CREATE TABLE trailbook_meta (schema_version INTEGER NOT NULL)`, `INSERT INTO trailbook_meta VALUES (1)`, migrations()[0]}
	for i, r := range records {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO event_store BY NAME SELECT TIMESTAMP '%s' AS eventTime, 's3.amazonaws.com' AS eventSource,
			json_extract_string('%s', '$.eventName') AS eventName, json_extract_string('%[2]s', '$.eventID') AS eventID,
			[{'accountId': '111122223333', 'type': 'AWS::S3::Bucket', 'arn': 'arn:aws:s3:::b', 'arnPrefix': NULL, 'tags': NULL}] AS resources,
			'%[2]s' AS eventJson, %d::UBIGINT AS key_hi, 0::UBIGINT AS key_lo`, r[0], r[1], i))
	}
	for _, st := range stmts {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	db.Close()

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for q, want := range map[string]string{
		`SELECT schema_version FROM trailbook_meta`:                                         "8",
		`SELECT string_agg(arn || ' ' || key || '=' || value) FROM current_tags`:            "arn:aws:s3:::b Environment=Production",
		`SELECT CAST(resources[1].tags AS VARCHAR) FROM events WHERE eventID = 'read-1000'`: "{Environment=Production}",
		`SELECT count(*) FROM tag_retag_pending`:                                            "0",
	} {
		if got := queryString(t, s.DB(), q); got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
}

// TestHistoryReplacedPerResource tags the same buckets twice, in two
// commits, and checks that each bucket's history is replaced, not added
// to: with a few buckets (looked up in a list) and with many (joined).
func TestHistoryReplacedPerResource(t *testing.T) {
	for _, n := range []int{3, 70} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ctx := context.Background()
			s := openTemp(t)
			for step, value := range []string{"A", "B"} {
				var lines []string
				for i := range n {
					lines = append(lines, bucketEvent(fmt.Sprintf("tag-%s-%d", value, i), "PutBucketTagging",
						fmt.Sprintf("2024-06-01T0%d:00:00Z", 8+step), fmt.Sprint("b", i),
						`,"Tagging":{"TagSet":{"Tag":[{"Key":"Environment","Value":"`+value+`"}]}}`))
				}
				if _, err := s.Append(ctx, []File{*decodeFile(t, value, lines...)}); err != nil {
					t.Fatal(err)
				}
			}
			for q, want := range map[string]string{
				`SELECT count(*) FROM resource_tags`:                        fmt.Sprint(2 * n),
				`SELECT count(*) FROM resource_tags WHERE valid_to IS NULL`: fmt.Sprint(n),
				`SELECT count(*) FROM tag_sets`:                             fmt.Sprint(2 * n),
				`SELECT count(*) FROM current_tags WHERE value = 'B'`:       fmt.Sprint(n),
			} {
				if got := queryString(t, s.DB(), q); got != want {
					t.Errorf("%s: %s, want %s", q, got, want)
				}
			}
		})
	}
}
