package runbook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"
)

// Gate decisions, best first. A check gives one of them; a gate's
// decision is the worst its checks and its state give.
const (
	GateProceed = "proceed"
	// GateHalt and GateSkip are also the states a runbook's gate action sets.
	GateHalt = "halt"
	GateSkip = "skip"
)

// GateDecisions are the decisions of a gate, best first.
func GateDecisions() []string { return []string{GateProceed, GateSkip, GateHalt} }

// How a gate combines its checks' decisions.
const (
	// CombineWorst: any halt halts, else any skip skips, else proceed.
	CombineWorst = "worst"
	// CombineFirst: the first check, in order, that does not proceed
	// decides.
	CombineFirst = "first"
)

// Defaults of a gate definition.
const (
	DefaultGateWindow = 24 * time.Hour
	DefaultGateCache  = time.Minute
	// MaxGateCache bounds cache: a result older than this is never reused,
	// as events leave the window with time even when none arrive.
	MaxGateCache = time.Hour
)

// Gate is one opt-out gate's definition: checks over recent events that
// decide whether a pipeline may proceed, should skip, or must halt.
type Gate struct {
	File        string
	Pos         Pos
	Name        string
	Description string
	// Owners may override the gate; none means anyone may.
	Owners []string
	// Window is how far back the checks look: their :window_start is
	// now - Window (or the gate's last reopening, when later).
	Window time.Duration
	// OnError is the decision when a check fails: GateHalt (fail-closed,
	// the default) or GateProceed (fail-open).
	OnError string
	// Combine is CombineWorst or CombineFirst.
	Combine string
	// Cache is how long a check's result may be reused while the store
	// holds the same events.
	Cache  time.Duration
	Params []GateParam
	Checks []Check
	Tests  []GateTest
	// Digest is the SHA-256 of the definition as written: a cached result
	// is reused only by the same definition.
	Digest string
}

// GateParam is a value a check is given (trailbook gate check --param
// NAME=VALUE), with its default; Required ones have none.
type GateParam struct {
	Name     string
	Default  string
	Required bool
}

// Check is one of a gate's checks: a query over the window and a
// condition over its rows; when the condition holds the check gives
// Decision, else proceed.
type Check struct {
	Name     string
	Pos      Pos
	Query    string
	QueryPos Pos
	// QuerySQL is Query translated, its placeholders (:name) in
	// QueryParams order as positional ones.
	QuerySQL    string
	QueryParams []string
	// Condition decides; nil means the query returned rows.
	Condition *Expr
	Decision  string // GateHalt or GateSkip
	// Reason explains a decision other than proceed: a template over
	// .rows, .params, .now and .gate.
	Reason *template.Template
}

// GateTest is one case of a gate's tests: events stored, gate states set,
// the clock and params of the check, and the decision it must give.
type GateTest struct {
	Name   string
	Pos    Pos
	Given  []json.RawMessage
	States []TestState
	Now    time.Time // zero: the time of the last given event
	Params map[string]string
	Expect GateExpect
}

// TestState is a state set on the gate before a test's check: a
// runbook's closure, an override or a reopening.
type TestState struct {
	State  string // halt, skip, proceed or open
	Reason string
	At     time.Time
	Until  time.Time // zero: until reopened
	By     string
	// Override marks a person's override rather than a runbook's action.
	Override bool
}

// GateExpect is what a gate test requires.
type GateExpect struct {
	Decision string
	// Error says a check is to fail (the gate's on-error deciding); a
	// test that does not say so fails when one does, so that a broken
	// query cannot pass for a finding.
	Error bool
	// Checks are the decisions of named checks; unnamed ones are not
	// checked.
	Checks map[string]string
}

// GatePlaceholders are the query placeholders every gate check may use
// besides its params: the clock and the start of the window.
func GatePlaceholders() []string { return []string{"now", "window_start"} }

// gateKeys are the keys of a gate definition, in documentation order.
func gateKeys() []string {
	return []string{"gate", "description", "owners", "window", "on-error", "combine", "cache", "params", "checks", "tests"}
}

// Gate is the gate named name, or nil.
func (s *Set) Gate(name string) *Gate {
	i, found := slices.BinarySearchFunc(s.Gates, name, func(g *Gate, name string) int { return strings.Compare(g.Name, name) })
	if !found {
		return nil
	}
	return s.Gates[i]
}

// isGate reports whether the document's root is a gate definition: a
// mapping with the key gate.
func isGate(root *yaml.Node) bool {
	if root == nil || root.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Kind == yaml.ScalarNode && root.Content[i].Value == "gate" {
			return true
		}
	}
	return false
}

// gateDef decodes the file's root as a gate definition.
func (d *decoder) gateDef(root *yaml.Node) *Gate {
	sum := sha256.Sum256(d.data)
	g := &Gate{File: d.file, Pos: d.pos(root), Window: DefaultGateWindow, OnError: GateHalt, Combine: CombineWorst,
		Cache: DefaultGateCache, Digest: hex.EncodeToString(sum[:])}
	got := map[string]*yaml.Node{}
	if !d.fields(root, "a gate", gateKeys(), func(key string, k, v *yaml.Node) { got[key] = v }) {
		return nil
	}
	if v := got["gate"]; v != nil {
		g.Name = d.definedName(v, "gate", "gate name", "gate", d.l.gates)
	}
	if v := got["description"]; v != nil {
		g.Description, _ = d.nonEmpty(v, "description")
	} else {
		d.errorf(root, CodeMissingField, "the gate has no description")
	}
	if v := got["owners"]; v != nil {
		g.Owners, _ = d.strList(v, "owners")
	}
	if v := got["window"]; v != nil {
		g.Window, _ = d.duration(v, "window", time.Minute)
	}
	if v := got["on-error"]; v != nil {
		if s, ok := d.str(v, "on-error"); ok {
			if s != GateHalt && s != GateProceed {
				d.errorf(v, CodeBadValue, "on-error %q is not %s (fail-closed, the default) or %s (fail-open)", s, GateHalt, GateProceed)
			} else {
				g.OnError = s
			}
		}
	}
	if v := got["combine"]; v != nil {
		if s, ok := d.str(v, "combine"); ok {
			if s != CombineWorst && s != CombineFirst {
				d.errorf(v, CodeBadValue, "combine %q is not %s (any halt halts, the default) or %s (the first check that does not proceed decides)", s, CombineWorst, CombineFirst)
			} else {
				g.Combine = s
			}
		}
	}
	if v := got["cache"]; v != nil {
		if c, ok := d.duration(v, "cache", time.Second); ok {
			if c > MaxGateCache {
				d.errorf(v, CodeBadValue, "cache is %s; the most is %s, as events leave the window with time", c, MaxGateCache)
			} else {
				g.Cache = c
			}
		}
	}
	var params []string
	if v := got["params"]; v != nil {
		g.Params, params = d.gateParams(v)
	}
	if v := got["checks"]; v != nil {
		d.checks(v, g, params)
	} else {
		d.errorf(root, CodeMissingField, "the gate has no checks")
	}
	if v := got["tests"]; v != nil {
		d.gateTests(v, g)
	} else {
		d.errorf(root, CodeMissingTests, "the gate has no tests; give at least one that shows it halting")
	}
	return g
}

// gateParams decodes params: each name maps to its default (a string),
// or to null when the check must be given it.
func (d *decoder) gateParams(n *yaml.Node) ([]GateParam, []string) {
	var out []GateParam
	var names []string
	d.pairs(n, "params", func(k, v *yaml.Node) {
		name := k.Value
		if !d.paramName(k, append(GatePlaceholders(), reservedParams()...)) {
			return
		}
		p := GateParam{Name: name}
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
			p.Required = true
		} else if s, ok := d.str(v, "the default of param "+name); ok {
			p.Default = s
		} else {
			return
		}
		out = append(out, p)
		names = append(names, name)
	})
	return out, names
}

func (d *decoder) checks(n *yaml.Node, g *Gate, params []string) {
	if n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		d.errorf(n, CodeMissingField, "checks is empty; give the gate at least one")
		return
	}
	names := map[string]*yaml.Node{}
	d.list(n, "checks", func(_ int, e *yaml.Node) {
		if c, ok := d.check(e, g, params, names); ok {
			g.Checks = append(g.Checks, c)
		}
	})
}

func (d *decoder) check(n *yaml.Node, g *Gate, params []string, names map[string]*yaml.Node) (Check, bool) {
	c := Check{Pos: d.pos(n), Decision: GateHalt}
	var nameNode, queryNode *yaml.Node
	sc := scope{params: params, gate: true}
	ok := d.fields(n, "a check", []string{"name", "query", "condition", "decision", "reason"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			nameNode = v
			name, ok := d.nonEmpty(v, "the check's name")
			if !ok {
				return
			}
			if !namePattern().MatchString(name) {
				d.errorf(v, CodeBadValue, "check name %q may hold only lowercase letters, digits and '-', and starts with a letter or digit", name)
				return
			}
			if prev, dup := names[name]; dup {
				d.errorf(v, CodeDuplicate, "check %q repeats the one at line %d", name, prev.Line)
				return
			}
			names[name] = v
			c.Name = name
		case "query":
			queryNode = v
			c.Query, c.QueryPos, c.QuerySQL, c.QueryParams = d.translate(v, params, GatePlaceholders())
		case "condition":
			c.Condition = d.expr(v, "condition", boolResult, sc)
		case "decision":
			if s, ok := d.str(v, "decision"); ok {
				if s != GateHalt && s != GateSkip {
					d.errorf(v, CodeBadValue, "decision %q is not %s or %s: what the check gives when its condition holds (proceed otherwise)", s, GateHalt, GateSkip)
					return
				}
				c.Decision = s
			}
		case "reason":
			c.Reason = d.gateTemplate(v, "reason", params)
		}
	})
	if !ok {
		return c, false
	}
	if nameNode == nil {
		d.errorf(n, CodeMissingField, "the check has no name")
	}
	if queryNode == nil {
		d.errorf(n, CodeMissingField, "the check has no query")
	}
	if c.Reason == nil {
		c.Reason = literalTemplate("reason", fmt.Sprintf("check %s: the query found what it looks for", c.Name))
	}
	return c, true
}

// gateTemplate is template for a gate's reason: its keys are .rows,
// .params, .now and .gate.
func (d *decoder) gateTemplate(n *yaml.Node, name string, params []string) *template.Template {
	d.gateDoc = true
	defer func() { d.gateDoc = false }()
	return d.template(n, name, name, params)
}

// GateTemplateKeys are the keys of a gate reason's data: .rows, .params,
// .now (a time.Time) and .gate (its name).
func GateTemplateKeys() []string { return []string{"rows", "params", "now", "gate"} }

func (d *decoder) gateTests(n *yaml.Node, g *Gate) {
	if n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		d.errorf(n, CodeMissingTests, "tests is empty; give the gate at least one test")
		return
	}
	names := map[string]*yaml.Node{}
	d.list(n, "tests", func(_ int, e *yaml.Node) {
		if t, ok := d.gateTest(e, g, names); ok {
			g.Tests = append(g.Tests, t)
		}
	})
}

func (d *decoder) gateTest(n *yaml.Node, g *Gate, names map[string]*yaml.Node) (GateTest, bool) {
	t := GateTest{Pos: d.pos(n)}
	var nameNode, nowNode, expectNode *yaml.Node
	ok := d.fields(n, "a gate test", []string{"name", "given", "states", "now", "params", "expect"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			nameNode = v
			t.Name = d.testName(v, names)
		case "given":
			t.Given = d.given(v)
		case "states":
			d.list(v, "states", func(_ int, e *yaml.Node) {
				if s, ok := d.testState(e); ok {
					t.States = append(t.States, s)
				}
			})
		case "now":
			nowNode = v
			t.Now, _ = d.time(v, "now")
		case "params":
			t.Params = map[string]string{}
			d.pairs(v, "params", func(k, v *yaml.Node) {
				if !slices.ContainsFunc(g.Params, func(p GateParam) bool { return p.Name == k.Value }) {
					d.errorf(k, CodeBadTest, "the gate has no param %s", k.Value)
					return
				}
				if s, ok := d.str(v, "param "+k.Value); ok {
					t.Params[k.Value] = s
				}
			})
		case "expect":
			expectNode = v
			t.Expect = d.gateExpect(v, g)
		}
	})
	if !ok {
		return t, false
	}
	if nameNode == nil {
		d.errorf(n, CodeMissingField, "the test has no name")
	}
	if nowNode == nil && len(t.Given) == 0 {
		d.errorf(n, CodeBadTest, "the test has no now and no given events to take it from")
	}
	if expectNode == nil {
		d.errorf(n, CodeBadTest, "the test has no expect; say at least the decision: %s", oneOf(GateDecisions()))
	}
	for _, p := range g.Params {
		if _, given := t.Params[p.Name]; p.Required && !given && nameNode != nil {
			d.errorf(n, CodeBadTest, "the test does not give param %s, which has no default", p.Name)
		}
	}
	return t, true
}

// time decodes an RFC 3339 time.
func (d *decoder) time(n *yaml.Node, what string) (time.Time, bool) {
	s, ok := d.str(n, what)
	if !ok {
		return time.Time{}, false
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d.errorf(n, CodeBadValue, "%s %q is not an RFC 3339 time such as 2024-05-01T12:00:00Z", what, s)
		return time.Time{}, false
	}
	return tm.UTC(), true
}

func (d *decoder) testState(n *yaml.Node) (TestState, bool) {
	var s TestState
	var state, at *yaml.Node
	var ttl time.Duration
	ok := d.fields(n, "a state", []string{"state", "reason", "at", "ttl", "by", "override"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "state":
			state = v
			if st, ok := d.str(v, "state"); ok {
				if !slices.Contains([]string{GateHalt, GateSkip, GateProceed, "open"}, st) {
					d.errorf(v, CodeBadValue, "state %q is not halt, skip, proceed or open", st)
					return
				}
				s.State = st
			}
		case "reason":
			s.Reason, _ = d.str(v, "reason")
		case "at":
			at = v
			s.At, _ = d.time(v, "at")
		case "ttl":
			ttl, _ = d.duration(v, "ttl", 1)
		case "by":
			s.By, _ = d.nonEmpty(v, "by")
		case "override":
			s.Override, _ = d.boolean(v, "override")
		}
	})
	if !ok {
		return s, false
	}
	if state == nil {
		d.errorf(n, CodeMissingField, "the state has no state: halt, skip, proceed or open")
	}
	if at == nil {
		d.errorf(n, CodeMissingField, "the state has no at: when it was set")
	}
	if ttl > 0 {
		s.Until = s.At.Add(ttl)
	}
	if s.State == GateProceed && !s.Override {
		d.errorf(n, CodeBadValue, "only an override (override: true) sets a gate to proceed")
	}
	if s.By == "" {
		s.By = "test"
	}
	return s, true
}

func (d *decoder) gateExpect(n *yaml.Node, g *Gate) GateExpect {
	var e GateExpect
	var decision *yaml.Node
	d.fields(n, "expect", []string{"decision", "checks", "error"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "error":
			e.Error, _ = d.boolean(v, "error")
		case "decision":
			decision = v
			if s, ok := d.str(v, "decision"); ok {
				if !slices.Contains(GateDecisions(), s) {
					d.errorf(v, CodeBadTest, "decision %q is not %s", s, oneOf(GateDecisions()))
					return
				}
				e.Decision = s
			}
		case "checks":
			e.Checks = map[string]string{}
			d.pairs(v, "checks", func(k, v *yaml.Node) {
				if !slices.ContainsFunc(g.Checks, func(c Check) bool { return c.Name == k.Value }) {
					d.errorf(k, CodeBadTest, "the gate has no check %s", k.Value)
					return
				}
				s, ok := d.str(v, "the decision of check "+k.Value)
				if !ok {
					return
				}
				if !slices.Contains(GateDecisions(), s) {
					d.errorf(v, CodeBadTest, "decision %q is not %s", s, oneOf(GateDecisions()))
					return
				}
				e.Checks[k.Value] = s
			})
		}
	})
	if decision == nil && n.Kind == yaml.MappingNode {
		d.errorf(n, CodeBadTest, "expect has no decision; want %s", oneOf(GateDecisions()))
	}
	return e
}

// translate translates the Lake SQL of n, checking its placeholders
// against params and builtins, for runbook queries and gate checks.
func (d *decoder) translate(n *yaml.Node, params, builtins []string) (src string, pos Pos, sql string, names []string) {
	src, ok := d.nonEmpty(n, "query")
	if !ok {
		return "", Pos{}, "", nil
	}
	line, col := d.valuePos(n, 0)
	pos = Pos{File: d.file, Line: line, Col: col}
	q, ok := d.translateSQL(n, src)
	if !ok {
		return src, pos, "", nil
	}
	known := append(slices.Clone(params), builtins...)
	for _, name := range q.Params {
		if !slices.Contains(known, name) {
			d.errorIn(n, placeholderOffset(q, name), CodeBadSQL, "unknown placeholder %s; want a param or %s", name, oneOf(builtins))
		}
	}
	for _, f := range unstable(src) {
		d.errorIn(n, f.off, CodeNondeterministic, "%s", f.msg)
	}
	return src, pos, q.SQL, slices.Clone(q.Params)
}
