package store

import (
	"context"
	"fmt"
	"time"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/jsontext"
	"github.com/trailbook/trailbook/internal/tags"
)

// backfillTags builds the tag inventory of a store written before it
// existed, from the eventJson of every stored event, in tx.
func backfillTags(ctx context.Context, tx execer) error {
	inv := newInventory()
	rows, err := tx.QueryContext(ctx, `SELECT key_hi, key_lo, eventJson FROM event_store`)
	if err != nil {
		return err
	}
	defer rows.Close()
	touched := []byte{'['}
	for rows.Next() {
		var hi, lo uint64
		var doc []byte
		if err := rows.Scan(&hi, &lo, &doc); err != nil {
			return err
		}
		res := cloudtrail.Decode(doc, cloudtrail.Options{})
		if len(res.Events) != 1 {
			continue
		}
		ev := &res.Events[0]
		eff := tags.Of(ev)
		for _, r := range rowsFor(ev, hi, lo, eff.Changes) {
			if inv.add(r) {
				inv.stale[r.ARN] = time.Time{}
			}
		}
		if len(eff.Touched) > 0 {
			if len(touched) > 1 {
				touched = append(touched, ',')
			}
			touched = fmt.Appendf(touched, `{"key_hi":%d,"key_lo":%d,"arns":[`, hi, lo)
			for i, a := range eff.Touched {
				if i > 0 {
					touched = append(touched, ',')
				}
				touched = jsontext.AppendString(touched, a)
			}
			touched = append(touched, "]}"...)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	touched = append(touched, ']')
	stmts := []string{
		`CREATE OR REPLACE TEMP TABLE backfill AS SELECT unnest(r) FROM (SELECT unnest(json_transform(?::JSON, '[{"key_hi":"UBIGINT","key_lo":"UBIGINT","arns":["VARCHAR"]}]')) AS r)`,
		`UPDATE event_store SET touchedArns = b.arns FROM temp.backfill b WHERE event_store.key_hi = b.key_hi AND event_store.key_lo = b.key_lo`,
		`DROP TABLE temp.backfill`,
	}
	for i, st := range stmts {
		var args []any
		if i == 0 {
			args = []any{string(touched)}
		}
		if _, err := tx.ExecContext(ctx, st, args...); err != nil {
			return fmt.Errorf("backfill touched resources: %w", err)
		}
	}
	// Every event with resources is retagged once tx commits.
	return inv.write(ctx, tx)
}
