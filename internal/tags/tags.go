// Package tags rebuilds the tags of AWS resources over time from the
// CloudTrail events that set them, and checks resources against tag
// schemas: Trailbook's own YAML and AWS Organizations tag policies.
//
// The package is pure: it reads decoded events and returns values; the
// store keeps what it returns.
package tags

import (
	"strings"
	"time"
)

// Tag is one key and its value.
type Tag struct{ Key, Value string }

// Kind says how a Change applies to a resource's tag set.
type Kind uint8

const (
	// Merge adds or overwrites the Set tags and removes the Remove keys;
	// every other tag stays (EC2 CreateTags, TagResource, UntagResource).
	Merge Kind = iota + 1
	// Replace makes Set the whole tag set (S3 PutBucketTagging, an
	// imported snapshot); an empty Set removes every tag.
	Replace
	// Create is a Replace that also marks the resource as created: a
	// resource created without tags is known and untagged.
	Create
	// Delete ends the resource: it has no tags afterwards and is no longer
	// checked against schemas, until a later Create.
	Delete
)

func (k Kind) String() string {
	switch k {
	case Merge:
		return "merge"
	case Replace:
		return "replace"
	case Create:
		return "create"
	case Delete:
		return "delete"
	}
	return "unknown"
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, bool) {
	for k := Merge; k <= Delete; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// Removal is one key a Merge removes. With HasValue set the key is removed
// only while its value equals Value, as EC2 DeleteTags does when it is
// given a value.
type Removal struct {
	Key, Value string
	HasValue   bool
}

// Change is what one call did to the tags of one resource.
type Change struct {
	ARN    string
	Kind   Kind
	Set    []Tag     // Merge: tags added or overwritten; Replace, Create: the whole new set
	Remove []Removal // Merge only
}

// Clone is a copy of c that shares no memory with it. Of's changes may
// point into the buffer the event was decoded from; a change kept beyond
// that buffer's life should be cloned, or it keeps the whole buffer alive.
func (c Change) Clone() Change {
	out := Change{ARN: strings.Clone(c.ARN), Kind: c.Kind}
	if c.Set != nil {
		out.Set = make([]Tag, len(c.Set))
		for i, t := range c.Set {
			out.Set[i] = Tag{Key: strings.Clone(t.Key), Value: strings.Clone(t.Value)}
		}
	}
	if c.Remove != nil {
		out.Remove = make([]Removal, len(c.Remove))
		for i, r := range c.Remove {
			out.Remove[i] = Removal{Key: strings.Clone(r.Key), Value: strings.Clone(r.Value), HasValue: r.HasValue}
		}
	}
	return out
}

// Effect is what one event means for the inventory: the resources it
// touched, and how it changed their tags.
type Effect struct {
	// Touched are the ARNs of the resources the event acted on: its
	// resources[] entries and those named by its request and response
	// parameters. Sorted, without repeats. Failed calls touch their
	// resources too.
	Touched []string
	// Changes are the tag changes the call made, in the order it made
	// them; none when the call failed (errorCode set).
	Changes []Change
}

// Provenance says which call, or which import, made a change.
type Provenance struct {
	Origin      string // "cloudtrail" or "import"
	EventID     string // the event's eventID; for an import, its name
	EventName   string
	EventSource string
	Actor       string // userIdentity.arn of the caller, when known
}

// Entry is a Change at the time it happened. Seq orders entries of the
// same resource and time: events of one second keep eventID order, and
// the changes of one event keep their order within it.
type Entry struct {
	Change
	At  time.Time
	Seq string
	By  Provenance
}

// Interval is one value of one tag key of one resource, valid from From
// (inclusive) until To (exclusive); a zero To means it still holds.
type Interval struct {
	ARN, Key, Value string
	From, To        time.Time
	SetBy           Provenance
	EndedBy         *Provenance // nil while it holds
}

// Version is the whole tag set of a resource over [From, To); a zero To
// means it still holds. Tags is sorted by key.
type Version struct {
	ARN      string
	From, To time.Time
	Tags     []Tag
	By       Provenance
}
