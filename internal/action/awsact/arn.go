package awsact

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// route is the API a resource's tags and quarantine go through.
type route int

const (
	routeTagging route = iota // Resource Groups Tagging API
	routeEC2                  // an EC2 resource: TYPE/ID
	routeRole                 // an IAM role
	routeUser                 // an IAM user
	routeBucket               // an S3 bucket
)

// resource is an ARN resolved to the API that acts on it.
type resource struct {
	arn   arn.ARN
	raw   string // the ARN as given
	route route
	// typ is the EC2 resource type (instance, volume, security-group, ...)
	// for routeEC2, "role", "user" or "bucket" for those routes, and
	// empty for routeTagging.
	typ string
	// id is the EC2 resource ID, the IAM name without its path, or the
	// bucket name.
	id string
	// regionHint is the action's region for an ARN without one (an S3
	// bucket's), from the event it answers; may be empty.
	regionHint string
}

// parseARN resolves an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)
// to its route. EC2 ARNs must name TYPE/ID and IAM role and user ARNs a
// name; anything else that parses as an ARN goes to the tagging API.
func parseARN(s string) (resource, error) {
	a, err := arn.Parse(s)
	if err != nil {
		return resource{}, fmt.Errorf("parse arn %q: %w", s, err)
	}
	if a.Partition == "" || a.Service == "" || a.Resource == "" {
		return resource{}, fmt.Errorf("parse arn %q: %w", s, errIncomplete)
	}
	r := resource{arn: a, raw: s, route: routeTagging}
	typ, rest, hasSlash := strings.Cut(a.Resource, "/")
	switch a.Service {
	case "ec2":
		if !hasSlash || typ == "" || rest == "" || strings.Contains(rest, "/") {
			return resource{}, fmt.Errorf("parse arn %q: ec2 resource is not TYPE/ID", s)
		}
		r.route, r.typ, r.id = routeEC2, typ, rest
	case "iam":
		if typ != "role" && typ != "user" || !hasSlash {
			break
		}
		name := rest[strings.LastIndex(rest, "/")+1:]
		if name == "" {
			return resource{}, fmt.Errorf("parse arn %q: iam %s has no name", s, typ)
		}
		r.route, r.typ, r.id = routeRole, typ, name
		if typ == "user" {
			r.route = routeUser
		}
	case "s3":
		if a.Region == "" && a.AccountID == "" && !hasSlash {
			r.route, r.typ, r.id = routeBucket, "bucket", a.Resource
		}
	}
	return r, nil
}

var errIncomplete = errors.New("partition, service and resource are required")
