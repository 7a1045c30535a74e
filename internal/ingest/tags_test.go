package ingest

import (
	"context"
	"database/sql"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trailbook/trailbook/internal/gen"
	"github.com/trailbook/trailbook/internal/store"
)

// TestTagInventoryDoesNotDependOnOrder ingests generated data twice, the
// files in order in one transaction and in reverse order over several, and
// checks that both stores end with the tags the generator's own model
// gives every resource, and give every event's resources the same tags,
// those their histories hold at the event's time. The reverse order puts
// most tagging calls after the events that use what they tag, in the same
// transaction and in later ones.
func TestTagInventoryDoesNotDependOnOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 40,000 events")
	}
	ctx := context.Background()
	opts := gen.Options{Events: 40000, Seed: 5, PerFile: 1000, Out: t.TempDir()}
	if _, err := gen.Generate(ctx, opts); err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.WalkDir(opts.Out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json.gz") {
			files = append(files, p)
		}
		return err
	})
	slices.Sort(files)
	reversed := slices.Clone(files)
	slices.Reverse(reversed)

	dir := t.TempDir()
	forward, backward := filepath.Join(dir, "forward.duckdb"), filepath.Join(dir, "backward.duckdb")
	run(t, forward, files, "", Options{BatchEvents: 100000})
	run(t, backward, reversed, "", Options{BatchEvents: 20000})

	want, err := gen.Inventory(opts)
	if err != nil {
		t.Fatal(err)
	}
	var resources [2]string
	for i, db := range []string{forward, backward} {
		st, err := store.Open(ctx, db, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		got := currentTags(t, st.DB())
		for arn, tags := range want {
			if g := got[arn]; len(tags) > 0 && !maps.Equal(g, tags) {
				t.Errorf("%s: %s: current tags %v, want %v", filepath.Base(db), arn, g, tags)
			}
		}
		var wrong int
		if err := st.DB().QueryRow(`WITH u AS (SELECT eventTime, unnest(resources) AS r FROM events)
			SELECT count(*) FROM u LEFT JOIN tag_sets s ON s.arn = u.r.arn AND u.eventTime >= s.valid_from AND u.eventTime < coalesce(s.valid_to, 'infinity'::TIMESTAMP)
			WHERE u.r.tags IS DISTINCT FROM s.tags AND NOT (u.r.arn LIKE 'arn:%:s3:::%/%')`).Scan(&wrong); err != nil {
			t.Fatal(err)
		}
		if wrong > 0 {
			t.Errorf("%s: %d event resources whose tags differ from their history", filepath.Base(db), wrong)
		}
		if err := st.DB().QueryRow(`SELECT string_agg(eventID || ' ' || CAST(resources AS VARCHAR), e'\n' ORDER BY eventID, eventTime, eventName)
			FROM events WHERE resources IS NOT NULL`).Scan(&resources[i]); err != nil {
			t.Fatal(err)
		}
	}
	if resources[0] != resources[1] {
		t.Error("the events' resources and their tags differ between the two orders")
	}
	if !strings.Contains(resources[0], "Environment=Production") {
		t.Error("no event touched a resource tagged Environment=Production")
	}
}

// currentTags is the current_tags view as a map by ARN.
func currentTags(t *testing.T, db *sql.DB) map[string]map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT arn, key, value FROM current_tags`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var arn, k, v string
		if err := rows.Scan(&arn, &k, &v); err != nil {
			t.Fatal(err)
		}
		if out[arn] == nil {
			out[arn] = map[string]string{}
		}
		out[arn][k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
