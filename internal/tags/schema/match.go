package schema

import (
	"fmt"
	"regexp"
	"strings"
)

// glob is a pattern in which each '*' stands for any run of characters,
// the empty run included. A glob without '*' matches only itself.
type glob struct {
	parts []string // the text around the stars; one part when there is none
}

func newGlob(s string) glob { return glob{parts: strings.Split(s, "*")} }

func (g glob) literal() bool { return len(g.parts) == 1 }

func (g glob) match(s string) bool {
	if len(g.parts) == 1 {
		return s == g.parts[0]
	}
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	// Each middle part takes its leftmost place: a later place can only
	// leave less room for the parts after it.
	s = s[len(first) : len(s)-len(last)]
	for _, p := range g.parts[1 : len(g.parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// typeSet is a set of resource types written as "service:type",
// "service:*" (every type of the service) or "*" (every type, Trailbook
// YAML only).
type typeSet struct {
	all      bool
	types    map[string]bool
	services map[string]bool
}

func (t *typeSet) add(service, typ string) {
	if typ == "*" {
		if t.services == nil {
			t.services = map[string]bool{}
		}
		t.services[service] = true
		return
	}
	if t.types == nil {
		t.types = map[string]bool{}
	}
	t.types[service+":"+typ] = true
}

func (t *typeSet) empty() bool { return !t.all && len(t.types) == 0 && len(t.services) == 0 }

// match reports whether typ ("service:type") is in the set.
func (t *typeSet) match(typ string) bool {
	if t.all {
		return true
	}
	if t.types[typ] {
		return true
	}
	if len(t.services) > 0 {
		if i := strings.IndexByte(typ, ':'); i > 0 && t.services[typ[:i]] {
			return true
		}
	}
	return false
}

// splitType splits a "service:type" pattern. The service is lowercase
// letters, digits and '-'; the type is '*' or letters, digits and "-_.".
// AWS's "service:ALL_SUPPORTED" is returned as "service", "*" when
// allAlias is set.
func splitType(s string, allAlias bool) (service, typ string, err error) {
	service, typ, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", fmt.Errorf("%q is not service:type", s)
	}
	if service == "" || strings.Trim(service, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return "", "", fmt.Errorf("%q: the service must be lowercase letters, digits and '-'", s)
	}
	if allAlias && typ == "ALL_SUPPORTED" {
		return service, "*", nil
	}
	if typ == "*" {
		return service, typ, nil
	}
	if typ == "" || strings.Trim(typ, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" {
		return "", "", fmt.Errorf("%q: the type must be '*' or letters, digits and \"-_.\"", s)
	}
	return service, typ, nil
}

// resourceSet is what a rule's resources list matches: types, and ARNs
// by glob.
type resourceSet struct {
	typeSet
	arns []glob
}

func (r *resourceSet) empty() bool { return r.typeSet.empty() && len(r.arns) == 0 }

func (r *resourceSet) match(arn, typ string) bool {
	if r.typeSet.match(typ) {
		return true
	}
	for _, g := range r.arns {
		if g.match(arn) {
			return true
		}
	}
	return false
}

// globSet matches a string against literal strings and globs.
type globSet struct {
	exact map[string]bool
	globs []glob
}

func (g *globSet) add(s string) {
	if gl := newGlob(s); !gl.literal() {
		g.globs = append(g.globs, gl)
		return
	}
	if g.exact == nil {
		g.exact = map[string]bool{}
	}
	g.exact[s] = true
}

func (g *globSet) empty() bool { return len(g.exact) == 0 && len(g.globs) == 0 }

func (g *globSet) match(s string) bool {
	if g.exact[s] {
		return true
	}
	for _, gl := range g.globs {
		if gl.match(s) {
			return true
		}
	}
	return false
}

// valueSet is what values a tag key may take. A nil *valueSet allows
// every value.
type valueSet struct {
	list  globSet
	re    *regexp.Regexp
	none  bool   // an AWS tag_value of []: no value is allowed
	words string // the values for messages: "Production, Staging"
}

func (v *valueSet) allows(s string) bool {
	if v.none {
		return false
	}
	if v.list.match(s) {
		return true
	}
	return v.re != nil && v.re.MatchString(s)
}

// maxListed is how many allowed values a message names before it says
// how many more there are.
const maxListed = 10

func listWords(values []string) string {
	if len(values) <= maxListed {
		return strings.Join(values, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(values[:maxListed], ", "), len(values)-maxListed)
}

// refusal is the sentence that says why value was refused.
func (v *valueSet) refusal(key, value string) string {
	switch {
	case v.none:
		return fmt.Sprintf("%s=%q is not allowed: no value of %s is", key, value, key)
	case v.re == nil:
		return fmt.Sprintf("%s=%q is not one of %s", key, value, v.words)
	case v.words == "":
		return fmt.Sprintf("%s=%q does not match %s", key, value, v.re)
	}
	return fmt.Sprintf("%s=%q is not one of %s and does not match %s", key, value, v.words, v.re)
}
