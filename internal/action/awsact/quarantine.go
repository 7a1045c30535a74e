package awsact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/trailbook/trailbook/internal/action"
)

// Tags a quarantine with Tag set puts on the resource, and a release
// removes.
const (
	TagQuarantine   = "quarantine"        // "true"
	TagQuarantineBy = "quarantined-by"    // "trailbook"
	TagReason       = "quarantine-reason" // the action's reason
)

// maxTagValue is AWS's limit on a tag value, in Unicode characters.
const maxTagValue = 256

// denyAllPolicy is the inline policy a quarantine puts on an IAM role or
// user.
const denyAllPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"TrailbookQuarantine","Effect":"Deny","Action":"*","Resource":"*"}]}`

// instanceUndo is the Undo of an EC2 instance quarantine.
type instanceUndo struct {
	Groups []string `json:"groups"`
}

// principalUndo is the Undo of an IAM role or user quarantine. Previous
// is the inline policy of that name the quarantine replaced, JSON null when
// there was none.
type principalUndo struct {
	PolicyName string          `json:"policy_name"`
	Previous   json.RawMessage `json:"previous"`
}

// bucketUndo is the Undo of an S3 bucket quarantine. Policy is the bucket
// policy the quarantine replaced, JSON null when there was none.
type bucketUndo struct {
	Policy json.RawMessage `json:"policy"`
}

// quarantineTags are the tags a quarantine with Tag set puts, in key
// order.
func quarantineTags(reason string) map[string]string {
	return map[string]string{
		TagQuarantine:   "true",
		TagQuarantineBy: UserAgentProduct,
		TagReason:       tagValue(reason),
	}
}

// tagValue makes s a tag value every tagging API accepts: characters
// outside letters, digits, spaces and _ . : / = + - @ (IAM's rule) become
// spaces, runs of spaces one space, and the result at most 256 characters.
func tagValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsNumber(r) || strings.ContainsRune("_.:/=+-@", r) {
			return r
		}
		return ' '
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxTagValue {
		s = strings.TrimSpace(string(r[:maxTagValue]))
	}
	return s
}

// quarantinePlan returns the calls that quarantine q.ARN.
func (e *Executor) quarantinePlan(q action.Quarantine, reason string) (plan, error) {
	r, err := parseARN(q.ARN)
	if err != nil {
		return plan{}, err
	}
	r.regionHint = q.Region
	var p plan
	switch {
	case r.route == routeEC2 && r.typ == "instance":
		p, err = e.quarantineInstance(r, q.IsolationGroup)
	case r.route == routeRole || r.route == routeUser:
		p = e.quarantinePrincipal(r)
	case r.route == routeBucket:
		p, err = e.quarantineBucket(r, q.BreakGlass)
	default:
		return plan{}, fmt.Errorf("cannot quarantine %s: only ec2 instances, iam roles and users, and s3 buckets can be", q.ARN)
	}
	if err != nil {
		return plan{}, err
	}
	if q.Tag {
		tags, err := e.tagSteps(r, quarantineTags(reason), nil)
		if err != nil {
			return plan{}, err
		}
		p.steps = append(p.steps, tags...)
	}
	return p, nil
}

func (e *Executor) quarantineInstance(r resource, isolation string) (plan, error) {
	if isolation == "" {
		return plan{}, fmt.Errorf("cannot quarantine %s: no isolation group given", r.raw)
	}
	region, err := e.region(r)
	if err != nil {
		return plan{}, err
	}
	var undo *instanceUndo
	var groups []string
	on := "instance " + r.id + " in " + region
	return plan{
		steps: []step{{
			desc: "ec2:DescribeInstances on " + on,
			run: func(ctx context.Context) (string, error) {
				out, err := e.ec2(region).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{r.id}})
				if err != nil {
					return "", err
				}
				for _, res := range out.Reservations {
					for _, in := range res.Instances {
						if aws.ToString(in.InstanceId) != r.id {
							continue
						}
						groups = []string{}
						for _, g := range in.SecurityGroups {
							groups = append(groups, aws.ToString(g.GroupId))
						}
					}
				}
				if groups == nil {
					return "", fmt.Errorf("instance %s not found", r.id)
				}
				return "groups were " + strings.Join(groups, ", "), nil
			},
		}, {
			desc: "ec2:ModifyInstanceAttribute on " + on + " with groups " + isolation,
			run: func(ctx context.Context) (string, error) {
				_, err := e.ec2(region).ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
					InstanceId: aws.String(r.id), Groups: []string{isolation},
				})
				if err != nil {
					return "", err
				}
				undo = &instanceUndo{Groups: groups}
				return "", nil
			},
		}},
		undo: func() json.RawMessage {
			if undo == nil {
				return nil
			}
			return mustJSON(undo)
		},
	}, nil
}

func (e *Executor) quarantinePrincipal(r resource) plan {
	var undo *principalUndo
	var previous json.RawMessage
	name, policy := aws.String(r.id), aws.String(e.policyName)
	role := r.route == routeRole
	get, put := "iam:GetUserPolicy", "iam:PutUserPolicy"
	if role {
		get, put = "iam:GetRolePolicy", "iam:PutRolePolicy"
	}
	on := fmt.Sprintf("%s %s, policy %s", r.typ, r.id, e.policyName)
	return plan{
		steps: []step{{
			desc: get + " on " + on,
			run: func(ctx context.Context) (string, error) {
				var doc *string
				var err error
				if role {
					var out *iam.GetRolePolicyOutput
					if out, err = e.iam().GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: name, PolicyName: policy}); err == nil {
						doc = out.PolicyDocument
					}
				} else {
					var out *iam.GetUserPolicyOutput
					if out, err = e.iam().GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: name, PolicyName: policy}); err == nil {
						doc = out.PolicyDocument
					}
				}
				if isCode(err, "NoSuchEntity") {
					previous = json.RawMessage("null")
					return "none existed", nil
				}
				if err != nil {
					return "", err
				}
				previous, err = policyJSON(aws.ToString(doc), true)
				if err != nil {
					return "", err
				}
				return "kept the existing one for release", nil
			},
		}, {
			desc: put + " on " + on + " with " + denyAllPolicy,
			run: func(ctx context.Context) (string, error) {
				var err error
				if role {
					_, err = e.iam().PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: policy, PolicyDocument: aws.String(denyAllPolicy)})
				} else {
					_, err = e.iam().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: name, PolicyName: policy, PolicyDocument: aws.String(denyAllPolicy)})
				}
				if err != nil {
					return "", err
				}
				undo = &principalUndo{PolicyName: e.policyName, Previous: previous}
				return "", nil
			},
		}},
		undo: func() json.RawMessage {
			if undo == nil {
				return nil
			}
			return mustJSON(undo)
		},
	}
}

// bucketPolicy is the policy a quarantine puts on bucket r: deny s3:* on
// the bucket and its objects to everyone but the breakGlass principals.
func bucketPolicy(r resource, breakGlass []string) string {
	type statement struct {
		Sid       string
		Effect    string
		Principal string
		Action    string
		Resource  []string
		Condition map[string]map[string][]string `json:",omitempty"`
	}
	bucket := "arn:" + r.arn.Partition + ":s3:::" + r.id
	st := statement{
		Sid:       "TrailbookQuarantine",
		Effect:    "Deny",
		Principal: "*",
		Action:    "s3:*",
		Resource:  []string{bucket, bucket + "/*"},
	}
	spared := slices.DeleteFunc(slices.Clone(breakGlass), func(s string) bool { return s == "" })
	slices.Sort(spared)
	spared = slices.Compact(spared)
	if len(spared) > 0 {
		st.Condition = map[string]map[string][]string{"ArnNotLike": {"aws:PrincipalArn": spared}}
	}
	return string(mustJSON(struct {
		Version   string
		Statement []statement
	}{"2012-10-17", []statement{st}}))
}

func (e *Executor) quarantineBucket(r resource, breakGlass []string) (plan, error) {
	region, err := e.region(r)
	if err != nil {
		return plan{}, err
	}
	var undo *bucketUndo
	var previous json.RawMessage
	doc := bucketPolicy(r, breakGlass)
	bucket := aws.String(r.id)
	on := "bucket " + r.id + " in " + region
	return plan{
		steps: []step{{
			desc: "s3:GetBucketPolicy on " + on,
			run: func(ctx context.Context) (string, error) {
				out, err := e.s3(region).GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
				if isCode(err, "NoSuchBucketPolicy") {
					previous = json.RawMessage("null")
					return "none existed", nil
				}
				if err != nil {
					return "", err
				}
				previous, err = policyJSON(aws.ToString(out.Policy), false)
				if err != nil {
					return "", err
				}
				return "kept the existing one for release", nil
			},
		}, {
			desc: "s3:PutBucketPolicy on " + on + " with " + doc,
			run: func(ctx context.Context) (string, error) {
				_, err := e.s3(region).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(doc)})
				if err != nil {
					return "", err
				}
				undo = &bucketUndo{Policy: previous}
				return "", nil
			},
		}},
		undo: func() json.RawMessage {
			if undo == nil {
				return nil
			}
			return mustJSON(undo)
		},
	}, nil
}

// Release undoes a quarantine of q.ARN: it restores what undo, the
// quarantine's Outcome.Undo, recorded (an instance's security groups; the
// inline policy of that name the role or user had, or deletes the
// quarantine's; the bucket policy the bucket had, or deletes the
// quarantine's), then, when q.Tag is set, removes the quarantine tags.
// It stops at the first call that fails. Release is not planned: it
// always makes its calls.
func (e *Executor) Release(ctx context.Context, q action.Quarantine, undo json.RawMessage) error {
	steps, err := e.releaseSteps(q, undo)
	if err != nil {
		return fmt.Errorf("release %s: %w", q.ARN, err)
	}
	if _, err := (plan{steps: steps}).run(ctx); err != nil {
		return fmt.Errorf("release %s: %w", q.ARN, err)
	}
	return nil
}

func (e *Executor) releaseSteps(q action.Quarantine, undo json.RawMessage) ([]step, error) {
	r, err := parseARN(q.ARN)
	if err != nil {
		return nil, err
	}
	r.regionHint = q.Region
	if len(undo) == 0 {
		return nil, errors.New("no undo given")
	}
	var steps []step
	switch {
	case r.route == routeEC2 && r.typ == "instance":
		var u instanceUndo
		if err := json.Unmarshal(undo, &u); err != nil {
			return nil, fmt.Errorf("decode undo: %w", err)
		}
		if len(u.Groups) == 0 {
			return nil, errors.New("undo has no security groups")
		}
		region, err := e.region(r)
		if err != nil {
			return nil, err
		}
		steps = append(steps, step{
			desc: "ec2:ModifyInstanceAttribute on instance " + r.id + " in " + region + " with groups " + strings.Join(u.Groups, ", "),
			run: func(ctx context.Context) (string, error) {
				_, err := e.ec2(region).ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
					InstanceId: aws.String(r.id), Groups: u.Groups,
				})
				return "", err
			},
		})
	case r.route == routeRole || r.route == routeUser:
		var u principalUndo
		if err := json.Unmarshal(undo, &u); err != nil {
			return nil, fmt.Errorf("decode undo: %w", err)
		}
		if u.PolicyName == "" {
			return nil, errors.New("undo has no policy name")
		}
		s, err := e.restorePrincipal(r, u)
		if err != nil {
			return nil, err
		}
		steps = append(steps, s)
	case r.route == routeBucket:
		var u bucketUndo
		if err := json.Unmarshal(undo, &u); err != nil {
			return nil, fmt.Errorf("decode undo: %w", err)
		}
		s, err := e.restoreBucket(r, u)
		if err != nil {
			return nil, err
		}
		steps = append(steps, s)
	default:
		return nil, fmt.Errorf("cannot release %s: only ec2 instances, iam roles and users, and s3 buckets are quarantined", q.ARN)
	}
	if q.Tag {
		tags, err := e.tagSteps(r, nil, []string{TagQuarantine, TagQuarantineBy, TagReason})
		if err != nil {
			return nil, err
		}
		steps = append(steps, tags...)
	}
	return steps, nil
}

func (e *Executor) restorePrincipal(r resource, u principalUndo) (step, error) {
	name, policy := aws.String(r.id), aws.String(u.PolicyName)
	role := r.route == routeRole
	on := fmt.Sprintf("%s %s, policy %s", r.typ, r.id, u.PolicyName)
	doc, present, err := undoDocument(u.Previous)
	if err != nil {
		return step{}, err
	}
	if !present {
		api := "iam:DeleteUserPolicy"
		if role {
			api = "iam:DeleteRolePolicy"
		}
		return step{
			desc: api + " on " + on,
			run: func(ctx context.Context) (string, error) {
				var err error
				if role {
					_, err = e.iam().DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: policy})
				} else {
					_, err = e.iam().DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: name, PolicyName: policy})
				}
				if isCode(err, "NoSuchEntity") {
					return "it was gone already", nil
				}
				return "", err
			},
		}, nil
	}
	api := "iam:PutUserPolicy"
	if role {
		api = "iam:PutRolePolicy"
	}
	return step{
		desc: api + " on " + on + " with the previous document",
		run: func(ctx context.Context) (string, error) {
			var err error
			if role {
				_, err = e.iam().PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: policy, PolicyDocument: aws.String(doc)})
			} else {
				_, err = e.iam().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: name, PolicyName: policy, PolicyDocument: aws.String(doc)})
			}
			return "", err
		},
	}, nil
}

func (e *Executor) restoreBucket(r resource, u bucketUndo) (step, error) {
	region, err := e.region(r)
	if err != nil {
		return step{}, err
	}
	bucket := aws.String(r.id)
	doc, present, err := undoDocument(u.Policy)
	if err != nil {
		return step{}, err
	}
	on := "bucket " + r.id + " in " + region
	if !present {
		return step{
			desc: "s3:DeleteBucketPolicy on " + on,
			run: func(ctx context.Context) (string, error) {
				_, err := e.s3(region).DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: bucket})
				return "", err
			},
		}, nil
	}
	return step{
		desc: "s3:PutBucketPolicy on " + on + " with the previous document",
		run: func(ctx context.Context) (string, error) {
			_, err := e.s3(region).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(doc)})
			return "", err
		},
	}, nil
}

// policyJSON returns a policy document as it goes in an Undo: the JSON
// itself, or a JSON string when it is not valid JSON. IAM returns
// documents URL-encoded (RFC 3986); urlEncoded decodes them.
func policyJSON(doc string, urlEncoded bool) (json.RawMessage, error) {
	if urlEncoded {
		d, err := url.PathUnescape(doc)
		if err != nil {
			return nil, fmt.Errorf("decode policy document: %w", err)
		}
		doc = d
	}
	if json.Valid([]byte(doc)) {
		return json.RawMessage(doc), nil
	}
	return mustJSON(doc), nil
}

// undoDocument returns the policy document an Undo recorded, and false
// for JSON null (there was none).
func undoDocument(raw json.RawMessage) (string, bool, error) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", false, nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, fmt.Errorf("decode undo policy: %w", err)
		}
		return s, true, nil
	case raw[0] == '{':
		return string(raw), true, nil
	default:
		return "", false, fmt.Errorf("undo policy is neither a document nor null: %.40s", raw)
	}
}

// isCode reports whether err is an AWS API error with that code.
func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// mustJSON marshals values that cannot fail to marshal (strings, and
// RawMessages checked valid), without escaping <, > and &, so that policy
// documents keep their text.
func mustJSON(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("awsact: marshal %T: %v", v, err))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
