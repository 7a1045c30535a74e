package tags

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// Less orders entries for replay: by resource, then time, then Seq. Two
// entries of the same resource, time and Seq are ordered by their content,
// so the order is total and the replay never depends on the order entries
// were stored in.
func Less(a, b *Entry) int {
	return cmp.Or(
		cmp.Compare(a.ARN, b.ARN),
		a.At.Compare(b.At),
		cmp.Compare(a.Seq, b.Seq),
		cmp.Compare(a.Kind, b.Kind),
		slices.CompareFunc(a.Set, b.Set, func(x, y Tag) int { return cmp.Or(cmp.Compare(x.Key, y.Key), cmp.Compare(x.Value, y.Value)) }),
		slices.CompareFunc(a.Remove, b.Remove, func(x, y Removal) int {
			return cmp.Or(cmp.Compare(x.Key, y.Key), cmp.Compare(x.Value, y.Value), boolCmp(x.HasValue, y.HasValue))
		}),
	)
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// Replay applies entries, of any resources and in any order, and returns
// every resource's tag history: one Interval per value a key held, and
// one Version per tag set the resource had. Both are sorted by ARN, then
// time (then key). entries is sorted in place.
//
// A resource's tags before its first entry are unknown, so its history
// starts there. A change that leaves a key's value as it was does not
// start a new interval, and a change that leaves the whole set as it was
// does not start a new version.
func Replay(entries []Entry) ([]Interval, []Version) {
	slices.SortFunc(entries, func(a, b Entry) int { return Less(&a, &b) })
	var intervals []Interval
	var versions []Version
	for start := 0; start < len(entries); {
		end := start + 1
		for end < len(entries) && entries[end].ARN == entries[start].ARN {
			end++
		}
		iv, vs := replayOne(entries[start:end])
		intervals = append(intervals, iv...)
		versions = append(versions, vs...)
		start = end
	}
	return intervals, versions
}

// replayOne replays the sorted entries of one resource.
func replayOne(entries []Entry) ([]Interval, []Version) {
	var closed []Interval
	open := map[string]*Interval{} // key -> the interval that holds now
	var versions []Version
	var cur *Version // nil while the resource is unknown or deleted
	for i := range entries {
		e := &entries[i]
		next := map[string]string{}
		if cur != nil && e.Kind == Merge {
			for _, t := range cur.Tags {
				next[t.Key] = t.Value
			}
		}
		switch e.Kind {
		case Merge, Replace, Create:
			for _, t := range e.Set {
				next[t.Key] = t.Value
			}
			for _, r := range e.Remove {
				if v, ok := next[r.Key]; ok && (!r.HasValue || v == r.Value) {
					delete(next, r.Key)
				}
			}
		}
		// End the intervals whose key went away or changed value.
		for _, k := range slices.Sorted(maps.Keys(open)) {
			iv := open[k]
			if v, ok := next[k]; ok && v == iv.Value && e.Kind != Delete {
				continue
			}
			iv.To = e.At
			by := e.By
			iv.EndedBy = &by
			closed = append(closed, *iv)
			delete(open, k)
		}
		if e.Kind == Delete {
			if cur != nil {
				cur.To = e.At
				versions = append(versions, *cur)
				cur = nil
			}
			continue
		}
		for k, v := range next {
			if _, ok := open[k]; !ok {
				open[k] = &Interval{ARN: e.ARN, Key: k, Value: v, From: e.At, SetBy: e.By}
			}
		}
		tags := make([]Tag, 0, len(next))
		for _, k := range slices.Sorted(maps.Keys(next)) {
			tags = append(tags, Tag{Key: k, Value: next[k]})
		}
		if cur != nil && slices.Equal(cur.Tags, tags) {
			continue
		}
		if cur != nil {
			cur.To = e.At
			versions = append(versions, *cur)
		}
		cur = &Version{ARN: e.ARN, From: e.At, Tags: tags, By: e.By}
	}
	for _, k := range slices.Sorted(maps.Keys(open)) {
		closed = append(closed, *open[k])
	}
	if cur != nil {
		versions = append(versions, *cur)
	}
	slices.SortStableFunc(closed, func(a, b Interval) int {
		return cmp.Or(a.From.Compare(b.From), cmp.Compare(a.Key, b.Key))
	})
	return closed, versions
}

// At returns the tags a resource had at t according to its versions
// (sorted by From, as Replay returns them), and whether they were known
// then.
func At(versions []Version, t time.Time) ([]Tag, bool) {
	i, _ := slices.BinarySearchFunc(versions, t, func(v Version, t time.Time) int {
		if v.From.After(t) {
			return 1
		}
		return -1
	})
	if i == 0 {
		return nil, false
	}
	v := versions[i-1]
	if !v.To.IsZero() && !t.Before(v.To) {
		return nil, false
	}
	return v.Tags, true
}
