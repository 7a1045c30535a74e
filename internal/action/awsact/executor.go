package awsact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailbook/trailbook/internal/action"
)

// DefaultPolicyName names the inline policy a quarantine puts on an IAM
// role or user when Options.PolicyName is empty.
const DefaultPolicyName = "trailbook-quarantine"

// Options configure an Executor. The zero value means the defaults.
type Options struct {
	// PolicyName names the deny-all inline policy a quarantine puts on an
	// IAM role or user; empty means DefaultPolicyName.
	PolicyName string
}

// Executor carries out revert-tags, tag and quarantine actions against
// AWS, and releases quarantines and publishes SNS messages. It is safe for
// concurrent use; it holds no state between calls but its configuration.
type Executor struct {
	cfg        aws.Config
	policyName string
}

var _ action.Executor = (*Executor)(nil)

// New returns an Executor that makes its requests with cfg, normally from
// LoadConfig. Every request carries the Trailbook user agent, whether or
// not cfg came from LoadConfig. Requests go to the region of the ARN they
// act on; for ARNs without one (S3 buckets), to the action's Region, the
// region of the event it answers, or else cfg's. IAM is global.
func New(cfg aws.Config, opts Options) *Executor {
	e := &Executor{cfg: cfg, policyName: opts.PolicyName}
	if e.policyName == "" {
		e.policyName = DefaultPolicyName
	}
	return e
}

// Execute carries out a (KindRevertTags, KindTag or KindQuarantine).
//
// With a.Enforce false it makes no request: the Outcome is planned and its
// Detail lists the calls it would make, in order. A tag change with
// nothing to set or remove is skipped in either mode. Otherwise it makes them
// in that order and stops at the first that fails. The Outcome's Detail
// lists the calls made; a quarantine's Undo records the state it replaced,
// for Release, and is set as soon as that state was changed, even when a
// later call failed.
//
// The error is nil exactly when the Outcome is not failed; a failed
// Outcome's Error is the error's text. Actions of other kinds, without
// their kind's field, on ARNs that do not parse, or on resources of a
// type the kind does not handle fail in either mode, without a request.
func (e *Executor) Execute(ctx context.Context, a action.Action) (action.Outcome, error) {
	out := action.Outcome{Key: a.Key}
	p, err := e.plan(a)
	if err != nil {
		return failed(out, "", fmt.Errorf("%s action %s: %w", a.Kind, a.Key, err))
	}
	if len(p.steps) == 0 {
		out.Status = action.StatusSkipped
		out.Detail = "nothing to change"
		return out, nil
	}
	if !a.Enforce {
		out.Status = action.StatusPlanned
		out.Detail = "dry run; would call " + describe(p.steps)
		return out, nil
	}
	done, err := p.run(ctx)
	if p.undo != nil {
		out.Undo = p.undo()
	}
	detail := ""
	if len(done) > 0 {
		detail = "called " + strings.Join(done, "; then ")
	}
	if err != nil {
		return failed(out, detail, fmt.Errorf("%s action %s: %w", a.Kind, a.Key, err))
	}
	out.Status = action.StatusApplied
	out.Detail = detail
	return out, nil
}

func failed(out action.Outcome, detail string, err error) (action.Outcome, error) {
	out.Status = action.StatusFailed
	out.Detail = detail
	out.Error = err.Error()
	return out, err
}

// plan returns the calls a carries out, without making any.
func (e *Executor) plan(a action.Action) (plan, error) {
	switch a.Kind {
	case action.KindRevertTags, action.KindTag:
		if a.Tags == nil {
			return plan{}, errors.New("no tag change given")
		}
		r, err := parseARN(a.Tags.ARN)
		if err != nil {
			return plan{}, err
		}
		r.regionHint = a.Tags.Region
		return e.tagPlan(r, a.Tags.Set, a.Tags.Remove)
	case action.KindQuarantine:
		if a.Quarantine == nil {
			return plan{}, errors.New("no quarantine given")
		}
		return e.quarantinePlan(*a.Quarantine, a.Reason)
	default:
		return plan{}, fmt.Errorf("kind %q is not an aws action", a.Kind)
	}
}

// step is one AWS call, described before it is made.
type step struct {
	desc string
	// run makes the call; note, when not empty, is what it found, for the
	// Detail ("groups were sg-1").
	run func(ctx context.Context) (note string, err error)
}

// plan is the calls of one action, in order, and how to read the Undo
// they leave.
type plan struct {
	steps []step
	// undo returns the Undo document once run changed something, else
	// nil; nil for actions without one.
	undo func() json.RawMessage
}

// run makes the calls in order, up to the first that fails, and returns
// the descriptions of those it made.
func (p plan) run(ctx context.Context) ([]string, error) {
	var done []string
	for _, s := range p.steps {
		note, err := s.run(ctx)
		if err != nil {
			return done, fmt.Errorf("%s: %w", s.desc, err)
		}
		if note != "" {
			done = append(done, s.desc+" ("+note+")")
		} else {
			done = append(done, s.desc)
		}
	}
	return done, nil
}

func describe(steps []step) string {
	d := make([]string, len(steps))
	for i, s := range steps {
		d[i] = s.desc
	}
	return strings.Join(d, "; then ")
}

// region is the region of requests about r: its ARN's, or for ARNs
// without one the action's hint, or the config's.
func (e *Executor) region(r resource) (string, error) {
	switch {
	case r.arn.Region != "":
		return r.arn.Region, nil
	case r.regionHint != "":
		return r.regionHint, nil
	case e.cfg.Region == "":
		return "", fmt.Errorf("arn %s has no region and none is configured", r.raw)
	}
	return e.cfg.Region, nil
}

// Clients, one per call: building one costs little next to a request, and
// each carries the Trailbook user agent and the request's region.

func (e *Executor) ec2(region string) *ec2.Client {
	return ec2.NewFromConfig(e.cfg, func(o *ec2.Options) {
		o.Region = region
		o.APIOptions = append(slices.Clip(o.APIOptions), addUserAgent)
	})
}

func (e *Executor) iam() *iam.Client {
	return iam.NewFromConfig(e.cfg, func(o *iam.Options) {
		o.APIOptions = append(slices.Clip(o.APIOptions), addUserAgent)
	})
}

func (e *Executor) s3(region string) *s3.Client {
	return s3.NewFromConfig(e.cfg, func(o *s3.Options) {
		o.Region = region
		o.UsePathStyle = o.UsePathStyle || e.cfg.BaseEndpoint != nil
		o.APIOptions = append(slices.Clip(o.APIOptions), addUserAgent)
	})
}

func (e *Executor) tagging(region string) *resourcegroupstaggingapi.Client {
	return resourcegroupstaggingapi.NewFromConfig(e.cfg, func(o *resourcegroupstaggingapi.Options) {
		o.Region = region
		o.APIOptions = append(slices.Clip(o.APIOptions), addUserAgent)
	})
}

func (e *Executor) sns(region string) *sns.Client {
	return sns.NewFromConfig(e.cfg, func(o *sns.Options) {
		o.Region = region
		o.APIOptions = append(slices.Clip(o.APIOptions), addUserAgent)
	})
}
