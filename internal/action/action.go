// Package action holds what a runbook's plan asks to be done, resolved to
// the last detail, and what doing it gave. The engine produces Actions
// without side effects; executors (alert, AWS, gate) carry them out.
//
// Every Action has an idempotency key, Key: the runbook, the triggering
// event and the action's index in the runbook. An executor is given an
// Action at most once per key by the Ledger, so retries and restarts never
// apply one twice.
package action

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Kinds of action a runbook may list.
const (
	KindAlert      = "alert"
	KindRevertTags = "revert-tags"
	KindTag        = "tag"
	KindQuarantine = "quarantine"
	KindGate       = "gate"
)

// Action is one action of a plan, with every value resolved from the event,
// the query rows and the tag inventory. Exactly one of the kind-specific
// fields is set, the one Kind names.
type Action struct {
	Key     string `json:"key"` // idempotency key: "runbook/eventKey/index"
	Runbook string `json:"runbook"`
	Index   int    `json:"index"` // in the runbook's actions list, from 0
	Kind    string `json:"kind"`
	// Enforce is true only when the runbook's mode is enforce and the run
	// allows it; otherwise the action is planned and recorded, and no
	// executor touches anything.
	Enforce bool   `json:"enforce"`
	Reason  string `json:"reason,omitempty"` // why it is planned, for people

	Alert      *Alert      `json:"alert,omitempty"`
	Tags       *TagChange  `json:"tags,omitempty"` // revert-tags and tag
	Quarantine *Quarantine `json:"quarantine,omitempty"`
	Gate       *GateChange `json:"gate,omitempty"`
}

// Alert is a message to send. Alerts are sent in dry-run mode too: telling
// people is what a dry run is for. Only the channels differ by mode in
// that Enforce plays no part.
type Alert struct {
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Text     string `json:"text"` // rendered from the runbook's template
	// To names the channels, as configured: "stdout", "log", or the name
	// of a webhook, Slack or SNS channel.
	To []string `json:"to"`
	// Fields are structured facts for machine receivers (the webhook's
	// JSON body): the runbook, event, principal, resources, evidence rows.
	Fields map[string]any `json:"fields,omitempty"`
}

// TagChange sets and removes tags on one resource.
type TagChange struct {
	ARN    string            `json:"arn"`
	Set    map[string]string `json:"set,omitempty"`
	Remove []string          `json:"remove,omitempty"` // keys, sorted
	// Region is where to call for a resource whose ARN names no region
	// (an S3 bucket's): the awsRegion of the event the action answers.
	// Empty: the executor's configured region. An ARN's own region wins.
	Region string `json:"region,omitempty"`
}

// Quarantine isolates one resource, by its type: an EC2 instance gets
// IsolationGroup as its only security group; an IAM user or role gets a
// deny-all inline policy; an S3 bucket gets a deny-all policy that spares
// the BreakGlass principals. What was there before is returned in the
// Outcome's Undo, so that a release can restore it.
type Quarantine struct {
	ARN            string   `json:"arn"`
	IsolationGroup string   `json:"isolation_group,omitempty"` // sg-..., for EC2 instances
	BreakGlass     []string `json:"break_glass,omitempty"`     // principal ARNs, for S3 buckets
	Tag            bool     `json:"tag"`                       // also tag it quarantine=true, with who and why
	// Region is as TagChange's: where to call for an ARN without one.
	Region string `json:"region,omitempty"`
}

// GateChange sets an opt-out gate's state until Until.
type GateChange struct {
	Name   string    `json:"name"`
	State  string    `json:"state"` // halt or skip
	Reason string    `json:"reason"`
	Until  time.Time `json:"until"`
}

// Statuses of an Outcome.
const (
	StatusPlanned = "planned" // dry run: recorded, nothing touched
	StatusApplied = "applied" // done
	StatusSkipped = "skipped" // already done under the same key, or nothing to do
	StatusFailed  = "failed"  // tried and failed; Error says why
)

// Outcome is what carrying out an Action gave.
type Outcome struct {
	Key    string `json:"key"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"` // what was done, for people
	Error  string `json:"error,omitempty"`
	// Undo is the state the action replaced (security groups, a bucket
	// policy), as JSON, for a later release.
	Undo json.RawMessage `json:"undo,omitempty"`
}

// Executor carries out the actions of the kinds it handles. Execute is
// called only for enforced actions (and for alerts, which are sent in
// either mode), at most once per Key when done through a Ledger.
type Executor interface {
	Execute(ctx context.Context, a Action) (Outcome, error)
}

// Func is an Executor from a function.
type Func func(ctx context.Context, a Action) (Outcome, error)

func (f Func) Execute(ctx context.Context, a Action) (Outcome, error) { return f(ctx, a) }

// Key is the idempotency key of the index-th action of runbook for the
// event with key event.
func Key(runbook, event string, index int) string {
	return fmt.Sprintf("%s/%s/%d", runbook, event, index)
}
