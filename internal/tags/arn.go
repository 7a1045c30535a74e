package tags

import "strings"

// ARN is an Amazon Resource Name split into its parts:
// arn:Partition:Service:Region:Account:Resource.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits s. It reports false when s does not have the six parts
// of an ARN.
func ParseARN(s string) (ARN, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return ARN{}, false
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, true
}

// bareName are the services whose ARNs name a resource of one type with
// no type prefix (arn:aws:sqs:us-east-1:123456789012:queue-name).
var bareName = map[string]string{
	"sqs": "queue",
	"sns": "topic",
}

// TypeOf is the resource type of an ARN in the "service:type" form that
// AWS Organizations tag policies use in enforced_for (ec2:instance,
// s3:bucket, secretsmanager:secret, rds:db, ...). It is "" for a string
// that is not an ARN.
func TypeOf(arn string) string {
	a, ok := ParseARN(arn)
	if !ok {
		return ""
	}
	return a.Service + ":" + a.Type()
}

// Type is the resource type named by the ARN's resource part: the text
// before the first '/' or ':' (role in role/name, function in
// function:name), or the service's only type for the services that have
// none (an S3 bucket, an SQS queue, an SNS topic).
func (a ARN) Type() string {
	switch a.Service {
	case "s3":
		if strings.Contains(a.Resource, "/") {
			return "object"
		}
		if a.Region == "" && a.Account == "" {
			return "bucket"
		}
	}
	if t, ok := bareName[a.Service]; ok && !strings.ContainsAny(a.Resource, "/") {
		if i := strings.IndexByte(a.Resource, ':'); i < 0 || a.Service == "sns" {
			return t
		}
	}
	if i := strings.IndexAny(a.Resource, "/:"); i >= 0 {
		return a.Resource[:i]
	}
	return a.Resource
}
