package store

import (
	"context"
	"maps"
	"testing"
)

// TestTagsBeforeFindsTheEventByItsKey checks that the tags before an
// event are those before that event, not before another with the same
// eventID (public fixtures reuse eventIDs), and that an event which
// changed no tags sees the changes before its own time only.
func TestTagsBeforeFindsTheEventByItsKey(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	w := newWriter(t, s)
	tagging := func(v string) string {
		return `,"Tagging":{"TagSet":{"Tag":[{"Key":"Environment","Value":"` + v + `"}]}}`
	}
	lines := []string{
		bucketEvent("same-id", "PutBucketTagging", "2024-06-01T09:00:00Z", "b", tagging("dev")),
		bucketEvent("same-id", "PutBucketTagging", "2024-06-01T10:00:00Z", "b", tagging("prod")),
		bucketEvent("read-0930", "GetBucketAcl", "2024-06-01T09:30:00Z", "b", ""),
		bucketEvent("read-1100", "GetBucketAcl", "2024-06-01T11:00:00Z", "b", ""),
		bucketEvent("read-0800", "GetBucketAcl", "2024-06-01T08:00:00Z", "b", ""),
	}
	f := decodeFile(t, "events.json", lines...)
	events := f.Events
	if err := w.Add(ctx, f); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		event int
		want  map[string]string // nil: not known
	}{
		{"the first of two events with one eventID: nothing before it", 0, nil},
		{"the second of them: the first one's tags", 1, map[string]string{"Environment": "dev"}},
		{"an event between them that changed nothing", 2, map[string]string{"Environment": "dev"}},
		{"an event after both", 3, map[string]string{"Environment": "prod"}},
		{"an event before both", 4, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, known, err := TagsBefore(ctx, s.DB(), "arn:aws:s3:::b", &events[c.event])
			if err != nil {
				t.Fatal(err)
			}
			if known != (c.want != nil) || !maps.Equal(got, c.want) {
				t.Errorf("TagsBefore = %v, known %v; want %v", got, known, c.want)
			}
		})
	}
}
