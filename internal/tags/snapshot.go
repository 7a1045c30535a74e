package tags

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// getResourcesPage is one page of `aws resourcegroupstaggingapi
// get-resources` output.
type getResourcesPage struct {
	ResourceTagMappingList *[]struct {
		ResourceARN string
		Tags        []struct{ Key, Value string }
	}
	PaginationToken string
}

// ParseSnapshot reads the output of `aws resourcegroupstaggingapi
// get-resources` (one page, several pages one after another, or a JSON
// array of pages) and returns each resource's whole tag set as a Replace
// change, in ARN order. A resource listed twice keeps its last listing.
// Errors name the byte offset, line and column of the problem.
func ParseSnapshot(data []byte) ([]Change, error) {
	byARN := map[string]Change{}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		off := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("%s: invalid JSON: %w", position(data, int(off)), err)
		}
		var pages []getResourcesPage
		if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
			if err := json.Unmarshal(raw, &pages); err != nil {
				return nil, fmt.Errorf("%s: not get-resources output: %w", position(data, int(off)), err)
			}
		} else {
			var p getResourcesPage
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, fmt.Errorf("%s: not get-resources output: %w", position(data, int(off)), err)
			}
			pages = []getResourcesPage{p}
		}
		for _, p := range pages {
			if p.ResourceTagMappingList == nil {
				return nil, fmt.Errorf("%s: not get-resources output: no ResourceTagMappingList", position(data, int(off)))
			}
			for i, m := range *p.ResourceTagMappingList {
				if _, ok := ParseARN(m.ResourceARN); !ok {
					return nil, fmt.Errorf("%s: resource %d: ResourceARN %q is not an ARN", position(data, int(off)), i, m.ResourceARN)
				}
				c := Change{ARN: m.ResourceARN, Kind: Replace}
				for _, t := range m.Tags {
					c.Set = append(c.Set, Tag{Key: t.Key, Value: t.Value})
				}
				byARN[m.ResourceARN] = c
			}
		}
	}
	if len(byARN) == 0 {
		return nil, fmt.Errorf("no resources in the snapshot")
	}
	out := make([]Change, 0, len(byARN))
	for _, c := range byARN {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Change) int {
		if a.ARN < b.ARN {
			return -1
		}
		if a.ARN > b.ARN {
			return 1
		}
		return 0
	})
	return out, nil
}

// position is "line L, column C (byte B)" of offset off in data.
func position(data []byte, off int) string {
	off = min(max(off, 0), len(data))
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("line %d, column %d (byte %d)", line, col, off)
}
