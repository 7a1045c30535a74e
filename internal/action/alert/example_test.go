package alert_test

import (
	"context"
	"fmt"
	"os"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/action/alert"
)

func ExampleSender_Execute() {
	s, err := alert.New(nil, alert.Options{Stdout: os.Stdout})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := s.Execute(context.Background(), action.Action{
		Key:     action.Key("root-login", "evt-42", 0),
		Runbook: "root-login",
		Kind:    action.KindAlert,
		Alert: &action.Alert{
			Severity: "critical",
			Title:    "Root user signed in",
			Text:     "From 203.0.113.7\nwithout MFA.",
			To:       []string{"stdout"},
		},
	})
	fmt.Println(out.Status, out.Detail, err)
	// Output:
	// ALERT [critical] root-login: Root user signed in: From 203.0.113.7 without MFA.
	// applied delivered to stdout <nil>
}

func ExampleValidate() {
	for _, err := range alert.Validate([]alert.Channel{
		{Name: "secops", Type: "webhook"},
		{Name: "pager", Type: "sns", Topic: "arn:aws:sns:us-east-1:123456789012:alerts"},
		{Name: "secops", Type: "email"},
	}) {
		fmt.Println(err)
	}
	// Output:
	// channels[0] "secops": url: a webhook channel needs url or url_env
	// channels[2] "secops": name: name already used by channels[0]
	// channels[2] "secops": type: unknown type "email": want stdout, log, webhook, slack or sns
}
