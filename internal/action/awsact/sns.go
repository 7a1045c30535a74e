package awsact

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// maxSubject is SNS's limit on a subject: fewer than 100 characters.
const maxSubject = 99

// Publish publishes message to the SNS topic topicARN, in the topic's
// region, with subject (which email subscribers see) made acceptable to
// SNS: control characters and runs of white space become one space, and it
// is cut to 99 characters; an empty subject is left out. It makes one
// request, however Actions are enforced: alerts are sent in dry runs too.
// Its signature is the alert package's SNS publisher.
func (e *Executor) Publish(ctx context.Context, topicARN, subject, message string) error {
	r, err := parseARN(topicARN)
	if err != nil {
		return fmt.Errorf("sns publish: %w", err)
	}
	if r.arn.Service != "sns" {
		return fmt.Errorf("sns publish: %s is not an sns topic arn", topicARN)
	}
	if message == "" {
		return errors.New("sns publish: empty message")
	}
	region, err := e.region(r)
	if err != nil {
		return fmt.Errorf("sns publish: %w", err)
	}
	in := &sns.PublishInput{TopicArn: aws.String(topicARN), Message: aws.String(message)}
	if s := snsSubject(subject); s != "" {
		in.Subject = aws.String(s)
	}
	if _, err := e.sns(region).Publish(ctx, in); err != nil {
		return fmt.Errorf("sns publish to %s: %w", topicARN, err)
	}
	return nil
}

// snsSubject makes s a subject SNS accepts.
func snsSubject(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxSubject {
		s = strings.TrimSpace(string(r[:maxSubject]))
	}
	return s
}
