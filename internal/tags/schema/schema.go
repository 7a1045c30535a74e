// Package schema loads tag schemas and checks resources against them.
//
// Two formats load side by side: Trailbook's own YAML tag schema, and AWS
// Organizations tag policies in their JSON syntax, several of which merge
// into one effective policy with AWS's inheritance operators. The
// reference for both is docs/tag-schemas.md.
//
// The package is pure: Load reads bytes, Check reads a Resource, and
// neither does any I/O.
package schema

import (
	"bytes"
	"slices"
	"strings"
)

// File is one schema file: its name (for error positions) and content.
type File struct {
	Name string
	Data []byte
}

// Schema is a loaded set of rules. It is immutable once loaded, and safe
// to share between goroutines.
type Schema struct {
	rules     []*rule
	warnings  ErrorList
	effective *effective // nil without AWS policies
}

// Load parses files in order. A file whose JSON top level has "tags" is
// an AWS Organizations tag policy; several policies are merged in the
// order given, parent first, with AWS's inheritance operators, into one
// effective policy. Other files are Trailbook YAML schemas (JSON syntax
// included), each added as it is. A file named *.json must be JSON.
//
// Load returns every problem in all files at once as an ErrorList, and
// then a nil Schema. Load does not keep files or their Data.
func Load(files []File) (*Schema, error) {
	var errs ErrorList
	s := &Schema{}
	var policies []*policyDoc
	for _, f := range files {
		if doc, ok := decodePolicy(f, &errs); ok {
			if doc != nil {
				policies = append(policies, doc)
			}
			continue
		}
		s.rules = append(s.rules, decodeYAML(f, &errs)...)
	}
	if len(policies) > 0 {
		s.effective = mergePolicies(policies, &s.warnings)
		s.rules = append(s.rules, s.effective.rules()...)
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	s.warnings.Sort()
	return s, nil
}

// Empty reports whether s has no rule at all: it finds no violation.
func (s *Schema) Empty() bool { return len(s.rules) == 0 }

// Warnings are the problems that did not stop the load: the operators of
// child AWS policies that a parent did not allow, which were ignored, as
// AWS ignores them.
func (s *Schema) Warnings() ErrorList { return slices.Clone(s.warnings) }

// Rules are the ids of the rules, in the form Violation.Rule takes: one
// per Trailbook rule, one per policy key of the effective AWS policy.
func (s *Schema) Rules() []string {
	ids := make([]string, len(s.rules))
	for i, r := range s.rules {
		ids[i] = r.id
	}
	return ids
}

// isJSONName reports whether name says the file is JSON.
func isJSONName(name string) bool {
	return strings.HasSuffix(strings.ToLower(name), ".json")
}

// looksLikeJSONObject reports whether data starts, after white space and
// a byte order mark, with '{'.
func looksLikeJSONObject(data []byte) bool {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && data[0] == '{'
}
