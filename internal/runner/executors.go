package runner

import (
	"context"
	"io"
	"time"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/action/alert"
	"github.com/trailbook/trailbook/internal/action/awsact"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/store"
)

// ExecutorOptions are what Executors needs besides the runbooks and store.
type ExecutorOptions struct {
	// Enforce builds the AWS executors (revert-tags, tag, quarantine, SNS
	// alerts), with credentials from the standard chain; without it only
	// alerts and gates have executors, and enforced AWS actions fail.
	Enforce          bool
	Region, Endpoint string // Endpoint overrides AWS's, for local testing
	Stdout           io.Writer
	Getenv           func(string) string
}

// Executors builds the executors a run needs, by action kind: alerts
// through set's channels, gates in st, and AWS actions when enforcing.
func Executors(ctx context.Context, set *runbook.Set, st *store.Store, o ExecutorOptions) (map[string]action.Executor, error) {
	now := func() time.Time { return time.Now().UTC() }
	out := map[string]action.Executor{action.KindGate: GateExecutor(st, now)}
	var publish alert.PublishFunc
	if o.Enforce {
		cfg, err := awsact.LoadConfig(ctx, o.Region, o.Endpoint)
		if err != nil {
			return nil, err
		}
		aws := awsact.New(cfg, awsact.Options{})
		for _, k := range []string{action.KindRevertTags, action.KindTag, action.KindQuarantine} {
			out[k] = aws
		}
		publish = aws.Publish
	}
	sender, err := alert.New(set.Channels, alert.Options{Stdout: o.Stdout, Getenv: o.Getenv, Publish: publish})
	if err != nil {
		return nil, err
	}
	out[action.KindAlert] = sender
	return out, nil
}
