package gen

// Inventory returns the tags every resource the generator created ends
// the span with, keyed by ARN; a resource created without tags, or whose
// tags were all removed, maps to an empty set. It comes from the
// generator's own model of the world, not from the records it writes, so
// a tag inventory rebuilt from the records can be checked against it.
func Inventory(opts Options) (map[string]map[string]string, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	if o.Events == 0 {
		return out, nil
	}
	w := newWorld(o)
	for _, s := range w.streams {
		for k := range numKinds {
			for _, res := range s.pool[k] {
				if res.created == notCreated {
					continue
				}
				tags := map[string]string{}
				for _, t := range res.tags {
					tags[t.key] = t.value
				}
				out[res.arn] = tags
			}
		}
	}
	return out, nil
}
