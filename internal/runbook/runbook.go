// Package runbook is the runbook format: YAML files in a folder, each one
// runbook (or one gate's definition, later) with its trigger, query,
// condition, actions and tests. Load parses and checks a folder's files
// and reports every problem at once with file:line:col and a stable code;
// it does not evaluate anything. The engine package evaluates.
package runbook

import (
	"encoding/json"
	"text/template"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/trailbook/trailbook/internal/action/alert"
	"github.com/trailbook/trailbook/internal/tags/schema"
)

// Modes of a runbook.
const (
	DryRun  = "dry-run" // the default: plan and record, touch nothing
	Enforce = "enforce"
)

// Severities, lowest first.
var severities = []string{"info", "low", "medium", "high", "critical"}

// Set is every runbook of a folder, sorted by name, and the alert channels
// its channels file defines. A Set is read-only once loaded and safe to
// share between goroutines.
type Set struct {
	Runbooks []*Runbook
	// Gates are the opt-out gates the folder defines, sorted by name.
	Gates    []*Gate
	Channels []alert.Channel
	// Env is the CEL environment the programs were compiled in (NewEnv),
	// for programs made later to see the same variables.
	Env *cel.Env
}

// Runbook is one parsed, checked runbook. Programs are compiled, templates
// parsed and the query translated, so evaluating it cannot fail for a
// reason Load could have found.
type Runbook struct {
	File        string // as given to Load
	Pos         Pos    // of the document
	Name        string
	Description string
	Owner       string
	Severity    string
	Mode        string // DryRun or Enforce

	Trigger Trigger

	// Params are evaluated in order over the event; each may use the ones
	// before it.
	Params []Param

	// Schema, when set, is the tag schema the resources the event touched
	// are checked against (the violations variable), loaded from
	// SchemaFiles (as written, relative to File).
	Schema      *schema.Schema
	SchemaFiles []string

	// Query is the Lake SQL, or "" for none. QuerySQL is the same query
	// translated for DuckDB with its named parameters (:name) in
	// QueryParams order as positional ones.
	Query       string
	QueryPos    Pos
	QuerySQL    string
	QueryParams []string

	// Condition decides whether to act. Nil means: when there is a query,
	// it returned rows; otherwise, always.
	Condition *Expr

	Actions []Action

	// Cooldown, when set, keeps the runbook from acting again for the same
	// Dedup value (or at all, with no Dedup) until it has passed.
	Cooldown time.Duration
	Dedup    *Expr

	Tests []Test
}

// Trigger says when a runbook is evaluated: for each event its Pattern
// matches, or every Schedule. Exactly one is set.
type Trigger struct {
	// Pattern is the EventBridge event pattern as canonical JSON. When
	// Envelope is true it is written against EventBridge's envelope
	// (source, detail-type, detail, ...), and the CloudTrail record is
	// matched wrapped in one; otherwise it is matched against the record.
	Pattern  string
	Envelope bool
	Pos      Pos
	Schedule time.Duration
}

// Param is a named value computed from the triggering event.
type Param struct {
	Name string
	Expr *Expr
}

// Expr is a compiled CEL expression and its source. The variables in
// scope are event (the CloudTrail record, as JSON decodes it), params,
// rows (the query's rows, each a map by column name), now (a timestamp),
// and runbook (name, severity, mode, owner).
type Expr struct {
	Source  string
	Pos     Pos
	Program cel.Program
}

// Action is one entry of a runbook's actions list. Kind is one of the
// action package's kinds; the field of that kind is set.
type Action struct {
	Kind string
	Pos  Pos
	When *Expr // nil: always

	Alert      *AlertSpec
	RevertTags *RevertTagsSpec
	Tag        *TagSpec
	Quarantine *QuarantineSpec
	Gate       *GateSpec
}

// AlertSpec is an alert's channels and text. Title and Text are Go
// templates over .event, .params, .rows and .runbook.
type AlertSpec struct {
	To    []string
	Title *template.Template
	Text  *template.Template
}

// RevertTagsSpec undoes the tag changes the triggering event made, from the
// tag inventory's state just before it. Keys, when set, limits the revert
// to those tag keys.
type RevertTagsSpec struct {
	// ARNs, when set, limits the revert to those of the event's changed
	// resources it names (a CEL expression, as for TagSpec), e.g. only
	// the production ones the query found.
	ARNs *Expr
	Keys []string
}

// TagSpec sets and removes tags on the resources ARNs gives (a CEL
// expression giving a string or a list of strings; nil means every
// resource the event touched). Set values are templates.
type TagSpec struct {
	ARNs   *Expr
	Set    map[string]*template.Template
	Remove []string
}

// QuarantineSpec isolates the resources ARNs gives (as for TagSpec).
type QuarantineSpec struct {
	ARNs           *Expr
	IsolationGroup string
	BreakGlass     []string
	Tag            bool
}

// GateSpec closes an opt-out gate for TTL. Reason is a template.
type GateSpec struct {
	Name   string
	State  string // halt or skip
	Reason *template.Template
	TTL    time.Duration
}

// Test is one case of a runbook's tests: events stored first (Given), the
// triggering event, and what the plan must hold.
type Test struct {
	Name  string
	Pos   Pos
	Given []json.RawMessage // CloudTrail records, stored before Event
	Event json.RawMessage
	// Now is the clock for the evaluation; zero means the event's time.
	Now    time.Time
	Expect Expect
}

// Expect is what a test requires of the runbook's run on the event.
type Expect struct {
	// Decision is no-match (the trigger did not match), act, no-action
	// (matched, condition false) or skipped (loop protection, cooldown).
	Decision string
	// Actions are the kinds of the planned actions, in order, when
	// Decision is act. Nil means not checked.
	Actions []string
	// Rows, when set, is the number of rows the query must return.
	Rows *int
}

// Pos is a place in a file: 1-based line and column.
type Pos struct {
	File      string
	Line, Col int
}
