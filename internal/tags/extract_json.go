package tags

import (
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-json"
	"github.com/trailbook/trailbook/internal/cloudtrail"
)

// maxDepth bounds how deeply nested a parameter value may be before Of
// gives up on it: AWS never nests tag parameters more than a few levels.
const maxDepth = 32

// maxWalk bounds how deep walks for resource ids descend into a parsed
// value.
const maxWalk = 8

// parseValue returns the JSON value a Map member holds: the parsed object or
// array for text that starts with '{' or '[', else the text itself as a
// string. Numbers are json.Number, so tag values keep their digits. A
// value nested deeper than maxDepth is nil; text that starts like JSON but
// does not parse is returned as a string, since a string member is held
// unquoted and may start with a bracket.
func parseValue(s string) any {
	if s == "" || s[0] != '{' && s[0] != '[' {
		return s
	}
	if !shallow(s) {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return s
	}
	return v
}

// shallow reports whether the JSON text s nests at most maxDepth levels.
func shallow(s string) bool {
	depth, inStr := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > maxDepth {
				return false
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return true
}

// parseObject turns a flattened Map back into a JSON object, parsing every
// member. A Map whose only member is an object named "...Request" or
// "...Response" (EC2's newer query shapes wrap their parameters so:
// {"CreateNatGatewayRequest":{...}}) is unwrapped.
func parseObject(m cloudtrail.Map) map[string]any {
	out := make(map[string]any, len(m))
	for _, p := range m {
		if p.Value.OK {
			out[p.Key] = parseValue(p.Value.V)
		} else {
			out[p.Key] = nil
		}
	}
	if len(m) == 1 && (strings.HasSuffix(m[0].Key, "Request") || strings.HasSuffix(m[0].Key, "Response")) {
		if inner, ok := out[m[0].Key].(map[string]any); ok {
			return inner
		}
	}
	return out
}

// memberOf returns the member key of m, or a zero Text.
func memberOf(m cloudtrail.Map, key string) cloudtrail.Text {
	for _, p := range m {
		if p.Key == key {
			return p.Value
		}
	}
	return cloudtrail.Text{}
}

// fieldOf returns the first of names present in v, when v is an object.
func fieldOf(v any, names ...string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	for _, n := range names {
		if x, ok := m[n]; ok && x != nil {
			return x
		}
	}
	return nil
}

// pathOf follows keys through nested objects.
func pathOf(v any, keys ...string) any {
	for _, k := range keys {
		v = fieldOf(v, k)
	}
	return v
}

// strOf returns v when it is a string, else "".
func strOf(v any) string {
	s, _ := v.(string)
	return s
}

// scalar returns the text of a string, number or boolean. CloudTrail
// turns some XML bodies into JSON with typed values, so S3 records a tag
// value "true" as the boolean true.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// wrapperKeys are the members AWS wraps lists in: EC2's {"items":[...]},
// the XML-derived {"item":...}, {"Tag":...} and {"member":...}.
var wrapperKeys = []string{"items", "item", "Items", "Item", "Tag", "tag", "member", "Member"}

// unwrap returns the list or object v wraps, or nil when v is no wrapper.
// A wrapper is an object with one of wrapperKeys holding an array or an
// object; a scalar under such a key (EC2 writes "tag":1 as an XML index)
// does not count.
func unwrap(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	for _, k := range wrapperKeys {
		switch x := m[k].(type) {
		case []any, map[string]any:
			return x
		}
	}
	return nil
}

// listOf returns the elements of a list in any of the shapes AWS writes
// one: an array, a wrapper of one, or a single element standing for a
// list of one (CloudTrail's XML conversion writes a one-tag S3 TagSet as
// an object). An empty wrapper {} is the empty list.
func listOf(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	case map[string]any:
		if w := unwrap(x); w != nil {
			return listOf(w)
		}
		if len(x) == 0 {
			return nil
		}
	case string:
		if x == "" {
			return nil
		}
	}
	return []any{v}
}

// keyNames and valueNames are the spellings of a tag's key and value in
// tag lists: {key,value} (most services), {Key,Value} (S3, the query
// APIs), {tagKey,tagValue} (KMS).
var (
	keyNames   = []string{"key", "Key", "tagKey", "TagKey"}
	valueNames = []string{"value", "Value", "tagValue", "TagValue"}
)

// tagPairs reads a list of {key,value} objects in any spelling; a
// wrapper or a single object counts as a list. Elements without a key
// are skipped; a missing value is "".
func tagPairs(v any) []Tag {
	var out []Tag
	for _, it := range listOf(v) {
		k, ok := scalar(fieldOf(it, keyNames...))
		if !ok || k == "" {
			continue
		}
		val, _ := scalar(fieldOf(it, valueNames...))
		out = append(out, Tag{Key: k, Value: val})
	}
	return out
}

// tagsOf reads tags in whichever shape v has: an array or a wrapper is a
// list of {key,value} pairs (tagPairs); any other object maps keys to
// values (Lambda, SQS, EKS, the Resource Groups Tagging API) and is read
// in key order, skipping members whose value is not a scalar.
func tagsOf(v any) []Tag {
	switch x := v.(type) {
	case []any:
		return tagPairs(x)
	case map[string]any:
		if w := unwrap(x); w != nil {
			return tagPairs(w)
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var out []Tag
		for _, k := range keys {
			if val, ok := scalar(x[k]); ok && k != "" {
				out = append(out, Tag{Key: k, Value: val})
			}
		}
		return out
	}
	return nil
}

// keysOf reads a list of tag keys: plain strings, or {key} objects as
// classic ELB and CloudTrail write them, in any list shape.
func keysOf(v any) []string {
	var out []string
	for _, it := range listOf(v) {
		k, ok := scalar(it)
		if !ok {
			k, ok = scalar(fieldOf(it, keyNames...))
		}
		if ok && k != "" {
			out = append(out, k)
		}
	}
	return out
}

// removals turns keys into unconditional removals.
func removals(keys []string) []Removal {
	if len(keys) == 0 {
		return nil
	}
	out := make([]Removal, len(keys))
	for i, k := range keys {
		out[i] = Removal{Key: k}
	}
	return out
}

// strs returns the strings of a list, or of a single string.
func strs(v any) []string {
	var out []string
	for _, it := range listOf(v) {
		if s, ok := it.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// walkSkip are the members walks for resource ids do not enter: tags,
// whose values are free text, and EC2's lists of failed items.
var walkSkip = map[string]bool{
	"tagSet": true, "tagSpecificationSet": true, "TagSpecification": true, "unsuccessful": true,
}

// walkStrings calls fn with every string in v, at most maxWalk levels
// deep, outside the members walkSkip names. Object members are visited
// in key order, so the calls are deterministic.
func walkStrings(v any, fn func(string)) {
	walkValue(v, 0, fn)
}

func walkValue(v any, depth int, fn func(string)) {
	if depth > maxWalk {
		return
	}
	switch x := v.(type) {
	case string:
		fn(x)
	case []any:
		for _, it := range x {
			walkValue(it, depth+1, fn)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			if !walkSkip[k] {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			walkValue(x[k], depth+1, fn)
		}
	}
}

// eachString calls fn with the value of every string member that pat
// (`"name":"`) starts in the compact JSON text s, at any depth. It finds
// them without parsing: in compact JSON a quote followed by `":"` can
// only close a member name, so pat cannot match inside a string. Values
// with escapes are skipped; no resource id has one.
func eachString(s, pat string, fn func(string)) {
	for {
		i := strings.Index(s, pat)
		if i < 0 {
			return
		}
		s = s[i+len(pat):]
		end := strings.IndexByte(s, '"')
		if end < 0 {
			return
		}
		if v := s[:end]; strings.IndexByte(v, '\\') < 0 {
			fn(v)
		}
		s = s[end+1:]
	}
}

// eachElement calls fn with every string element of the JSON array text
// s (strings nested in inner arrays or objects are not elements), or with
// s itself when it is not an array: a Map holds a string member unquoted.
// Elements with escapes are skipped.
func eachElement(s string, fn func(string)) {
	if s == "" || s[0] != '[' {
		if s != "" {
			fn(s)
		}
		return
	}
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case '"':
			end, esc := i+1, false
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					esc = true
					end++
				}
				end++
			}
			if end >= len(s) {
				return
			}
			if depth == 1 && !esc {
				fn(s[i+1 : end])
			}
			i = end
		}
	}
}
