package awsact

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	rgtatypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"
)

// tagPlan is the plan of a tag change on r: setting set, then removing
// remove, each skipped when empty.
func (e *Executor) tagPlan(r resource, set map[string]string, remove []string) (plan, error) {
	steps, err := e.tagSteps(r, set, remove)
	return plan{steps: steps}, err
}

// tagSteps returns the calls that set, then remove, tags on r through its
// route's API.
func (e *Executor) tagSteps(r resource, set map[string]string, remove []string) ([]step, error) {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	remove = slices.Compact(slices.Sorted(slices.Values(remove)))

	var steps []step
	switch r.route {
	case routeEC2:
		region, err := e.region(r)
		if err != nil {
			return nil, err
		}
		on := fmt.Sprintf("%s %s in %s", r.typ, r.id, region)
		if len(keys) > 0 {
			tags := make([]ec2types.Tag, len(keys))
			for i, k := range keys {
				tags[i] = ec2types.Tag{Key: aws.String(k), Value: aws.String(set[k])}
			}
			steps = append(steps, step{
				desc: "ec2:CreateTags on " + on + " with " + describeTags(keys, set),
				run: func(ctx context.Context) (string, error) {
					_, err := e.ec2(region).CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{r.id}, Tags: tags})
					return "", err
				},
			})
		}
		if len(remove) > 0 {
			tags := make([]ec2types.Tag, len(remove))
			for i, k := range remove {
				tags[i] = ec2types.Tag{Key: aws.String(k)}
			}
			steps = append(steps, step{
				desc: "ec2:DeleteTags on " + on + " for keys " + describeKeys(remove),
				run: func(ctx context.Context) (string, error) {
					_, err := e.ec2(region).DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{r.id}, Tags: tags})
					return "", err
				},
			})
		}
	case routeRole, routeUser:
		steps = e.iamTagSteps(r, keys, set, remove)
	default:
		region, err := e.region(r)
		if err != nil {
			return nil, err
		}
		on := r.raw + " in " + region
		if len(keys) > 0 {
			steps = append(steps, step{
				desc: "tag:TagResources on " + on + " with " + describeTags(keys, set),
				run: func(ctx context.Context) (string, error) {
					out, err := e.tagging(region).TagResources(ctx, &resourcegroupstaggingapi.TagResourcesInput{
						ResourceARNList: []string{r.raw}, Tags: set,
					})
					if err != nil {
						return "", err
					}
					return "", taggingFailures(out.FailedResourcesMap)
				},
			})
		}
		if len(remove) > 0 {
			steps = append(steps, step{
				desc: "tag:UntagResources on " + on + " for keys " + describeKeys(remove),
				run: func(ctx context.Context) (string, error) {
					out, err := e.tagging(region).UntagResources(ctx, &resourcegroupstaggingapi.UntagResourcesInput{
						ResourceARNList: []string{r.raw}, TagKeys: remove,
					})
					if err != nil {
						return "", err
					}
					return "", taggingFailures(out.FailedResourcesMap)
				},
			})
		}
	}
	return steps, nil
}

// iamTagSteps returns TagRole/UntagRole or TagUser/UntagUser calls.
func (e *Executor) iamTagSteps(r resource, keys []string, set map[string]string, remove []string) []step {
	var steps []step
	name := aws.String(r.id)
	on := r.typ + " " + r.id
	role := r.route == routeRole
	if len(keys) > 0 {
		tags := make([]iamtypes.Tag, len(keys))
		for i, k := range keys {
			tags[i] = iamtypes.Tag{Key: aws.String(k), Value: aws.String(set[k])}
		}
		api := "iam:TagUser"
		if role {
			api = "iam:TagRole"
		}
		steps = append(steps, step{
			desc: api + " on " + on + " with " + describeTags(keys, set),
			run: func(ctx context.Context) (string, error) {
				var err error
				if role {
					_, err = e.iam().TagRole(ctx, &iam.TagRoleInput{RoleName: name, Tags: tags})
				} else {
					_, err = e.iam().TagUser(ctx, &iam.TagUserInput{UserName: name, Tags: tags})
				}
				return "", err
			},
		})
	}
	if len(remove) > 0 {
		api := "iam:UntagUser"
		if role {
			api = "iam:UntagRole"
		}
		steps = append(steps, step{
			desc: api + " on " + on + " for keys " + describeKeys(remove),
			run: func(ctx context.Context) (string, error) {
				var err error
				if role {
					_, err = e.iam().UntagRole(ctx, &iam.UntagRoleInput{RoleName: name, TagKeys: remove})
				} else {
					_, err = e.iam().UntagUser(ctx, &iam.UntagUserInput{UserName: name, TagKeys: remove})
				}
				return "", err
			},
		})
	}
	return steps
}

// taggingFailures turns a FailedResourcesMap into an error naming each
// ARN with AWS's error code and message, in ARN order; nil when empty.
func taggingFailures(m map[string]rgtatypes.FailureInfo) error {
	if len(m) == 0 {
		return nil
	}
	arns := make([]string, 0, len(m))
	for a := range m {
		arns = append(arns, a)
	}
	sort.Strings(arns)
	msgs := make([]string, len(arns))
	for i, a := range arns {
		f := m[a]
		msgs[i] = fmt.Sprintf("%s: %s: %s", a, f.ErrorCode, aws.ToString(f.ErrorMessage))
	}
	return fmt.Errorf("tagging api failed for %s", strings.Join(msgs, "; "))
}

// describeTags renders tags as key="value" pairs in keys' order.
func describeTags(keys []string, tags map[string]string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(tags[k])
	}
	return strings.Join(parts, ", ")
}

// describeKeys renders tag keys quoted.
func describeKeys(keys []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = strconv.Quote(k)
	}
	return strings.Join(parts, ", ")
}
