package schema

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailbook/trailbook/internal/tags"
)

// Violation codes.
const (
	Untagged        = "untagged"          // the resource has no tags of its own
	MissingKey      = "missing-key"       // a required key is absent
	ValueNotAllowed = "value-not-allowed" // a key has a value its rule does not allow
	WrongKeyCase    = "wrong-key-case"    // a key is spelled in another case than its rule spells it
)

// Resource is what a check needs to know about one resource at one time.
type Resource struct {
	ARN  string
	Type string // "service:type"; tags.TypeOf(ARN) when empty
	// Account and Region come from the ARN when empty. S3 bucket and IAM
	// ARNs have neither: set them to scope such resources by account or
	// region.
	Account, Region string
	Tags            []tags.Tag // its tags at the time checked
}

// Violation is one way a resource fails a schema.
type Violation struct {
	ARN  string
	Code string // Untagged, MissingKey, ValueNotAllowed or WrongKeyCase
	// Key is the key as the rule spells it. Value is the offending value
	// for ValueNotAllowed, and the key as the resource spells it for
	// WrongKeyCase.
	Key, Value string
	// Rule is "<file>:<line>: <rule name>" for Trailbook rules and
	// "<file>:<line>: <policy key>" for AWS tag policies, where the line is
	// that of the setting the resource fails (tag_key, tag_value or
	// report_required_tag_for of the policy that last set it).
	Rule    string
	Message string // one sentence
	// Enforced is set when an AWS policy's enforced_for covers the
	// resource's type: AWS refuses tagging calls that break the rule, so
	// the tag was set some other way or before the policy.
	Enforced bool
	// Grace is how long after its creation a resource may fail the rule
	// before it counts (the YAML rule's grace; 0 for AWS policies).
	Grace time.Duration
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s: %s (%s)", v.ARN, v.Code, v.Message, v.Rule)
}

// rule is one compiled rule: a Trailbook YAML rule, or one policy key of
// the effective AWS tag policy.
type rule struct {
	id     string // "<file>:<line>: <name>"
	scope  scope
	tagged bool // the resource must have at least one tag of its own
	fold   bool // keys match in any case; no WrongKeyCase
	keys   []keyRule
	grace  time.Duration
}

// maxGrace bounds a rule's grace: a week is already longer than an
// unlabelled resource should go unnoticed.
const maxGrace = 7 * 24 * time.Hour

// keyRule is what a rule says about one tag key.
type keyRule struct {
	key      string
	ascii    bool      // key is ASCII
	values   *valueSet // nil: any value
	required typeSet   // the resource types that must have the key
	enforced typeSet   // AWS enforced_for
	// The rule ids reported for each kind of violation; they differ for
	// AWS policies, whose settings may come from different files.
	caseID, valueID, requiredID string
}

// scope is which resources a rule applies to. Empty include sets match
// everything; empty exclude sets match nothing.
type scope struct {
	resources, notResources resourceSet
	accounts, notAccounts   map[string]bool
	regions, notRegions     globSet
}

func (s *scope) match(arn, typ, account, region string) bool {
	if !s.resources.empty() && !s.resources.match(arn, typ) {
		return false
	}
	if len(s.accounts) > 0 && !s.accounts[account] {
		return false
	}
	if !s.regions.empty() && !s.regions.match(regionName(region)) {
		return false
	}
	if s.notResources.match(arn, typ) || s.notAccounts[account] || s.notRegions.match(regionName(region)) {
		return false
	}
	return true
}

// regionName is the name region patterns see: "global" for resources
// whose ARN has no region (IAM, S3 buckets).
func regionName(r string) string {
	if r == "" {
		return "global"
	}
	return r
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// ownTag reports whether tags has a tag other than the aws: ones AWS
// sets itself (aws:cloudformation:stack-name, ...).
func ownTag(ts []tags.Tag) bool {
	for _, t := range ts {
		if len(t.Key) < 4 || !strings.EqualFold(t.Key[:4], "aws:") {
			return true
		}
	}
	return false
}

// Check returns every violation of r, sorted by code, key, rule and
// value; nil when there is none. A resource no rule applies to has none.
// Check only reads s: it is safe to call from several goroutines.
func (s *Schema) Check(r Resource) []Violation {
	typ, account, region := r.Type, r.Account, r.Region
	if typ == "" || account == "" || region == "" {
		if a, ok := tags.ParseARN(r.ARN); ok {
			if typ == "" {
				typ = a.Service + ":" + a.Type() // tags.TypeOf, without parsing again
			}
			account = cmp.Or(account, a.Account)
			region = cmp.Or(region, a.Region)
		}
	}
	// ascii has bit j set when the key of tag j is ASCII: two ASCII keys of
	// different lengths cannot be equal in any case, which spares most
	// strings.EqualFold calls.
	var ascii uint64
	for j, t := range r.Tags[:min(len(r.Tags), 64)] {
		if isASCII(t.Key) {
			ascii |= 1 << j
		}
	}
	var out []Violation
	for _, ru := range s.rules {
		if !ru.scope.match(r.ARN, typ, account, region) {
			continue
		}
		first := len(out)
		if ru.tagged && !ownTag(r.Tags) {
			out = append(out, Violation{ARN: r.ARN, Code: Untagged, Rule: ru.id,
				Message: "the resource has no tags"})
		}
		for i := range ru.keys {
			out = ru.keys[i].check(out, ru.fold, r, typ, ascii)
		}
		for i := first; i < len(out); i++ {
			out[i].Grace = ru.grace
		}
	}
	slices.SortFunc(out, func(a, b Violation) int {
		return cmp.Or(
			cmp.Compare(a.Code, b.Code),
			cmp.Compare(a.Key, b.Key),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Value, b.Value),
			cmp.Compare(a.Message, b.Message),
		)
	})
	return out
}

// check appends the violations of kr by r to out. Every tag whose key
// equals kr.key in any case has its value checked; unless fold is set,
// those spelled otherwise are also WrongKeyCase. A key present only in
// another case is not missing.
func (kr *keyRule) check(out []Violation, fold bool, r Resource, typ string, ascii uint64) []Violation {
	found := false
	for j, t := range r.Tags {
		if t.Key != kr.key {
			if len(t.Key) != len(kr.key) && kr.ascii && j < 64 && ascii&(1<<j) != 0 || !strings.EqualFold(t.Key, kr.key) {
				continue
			}
			if !fold {
				out = append(out, Violation{ARN: r.ARN, Code: WrongKeyCase, Key: kr.key, Value: t.Key,
					Rule: kr.caseID, Enforced: kr.enforced.match(typ),
					Message: fmt.Sprintf("key %s should be spelled %s", t.Key, kr.key)})
			}
		}
		found = true
		if kr.values != nil && !kr.values.allows(t.Value) {
			out = append(out, Violation{ARN: r.ARN, Code: ValueNotAllowed, Key: kr.key, Value: t.Value,
				Rule: kr.valueID, Enforced: kr.enforced.match(typ),
				Message: kr.values.refusal(t.Key, t.Value)})
		}
	}
	if !found && kr.required.match(typ) {
		out = append(out, Violation{ARN: r.ARN, Code: MissingKey, Key: kr.key, Rule: kr.requiredID,
			Message: fmt.Sprintf("required key %s is missing", kr.key)})
	}
	return out
}
