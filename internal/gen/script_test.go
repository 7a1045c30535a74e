package gen

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
)

// tagChange is what one successful record does to the tags of the
// resources it names: replace sets the whole tag set, otherwise set adds
// or overwrites and del removes.
type tagChange struct {
	arns    []string
	set     map[string]string
	del     []string
	replace bool
}

func list(v any, path ...string) []any {
	l, _ := field(v, path...).([]any)
	return l
}

// pairs reads [{"<k>":..,"<v>":..}] tag lists.
func pairs(l []any, k, v string) map[string]string {
	out := map[string]string{}
	for _, it := range l {
		out[str(it, k)] = str(it, v)
	}
	return out
}

func object(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, x := range m {
		out[k], _ = x.(string)
	}
	return out
}

func strs(l []any) []string {
	var out []string
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// ec2ARN turns an EC2 resource id into its ARN in the record's account
// and region.
func ec2ARN(r any, id string) string {
	typ := map[string]string{"i": "instance", "vol": "volume", "sg": "security-group"}[id[:strings.IndexByte(id, '-')]]
	return "arn:aws:ec2:" + str(r, "awsRegion") + ":" + str(r, "recipientAccountId") + ":" + typ + "/" + id
}

func tagSpecOf(r any, resourceType string) map[string]string {
	for _, it := range list(r, "requestParameters", "tagSpecificationSet", "items") {
		if str(it, "resourceType") == resourceType {
			return pairs(list(it, "tags"), "key", "value")
		}
	}
	return map[string]string{}
}

// changeOf decodes a record's effect on tags, in each service's own
// shape; it is the reference the tag inventory can be checked against.
func changeOf(r map[string]any) *tagChange {
	if str(r, "errorCode") != "" {
		return nil
	}
	rp := field(r, "requestParameters")
	acct, region := str(r, "recipientAccountId"), str(r, "awsRegion")
	one := func(arn string) []string { return []string{arn} }
	src := strings.TrimSuffix(str(r, "eventSource"), ".amazonaws.com")
	switch src + "/" + str(r, "eventName") {
	case "ec2/CreateTags", "ec2/DeleteTags":
		c := &tagChange{}
		for _, it := range list(rp, "resourcesSet", "items") {
			c.arns = append(c.arns, ec2ARN(r, str(it, "resourceId")))
		}
		if str(r, "eventName") == "CreateTags" {
			c.set = pairs(list(rp, "tagSet", "items"), "key", "value")
		} else {
			for _, it := range list(rp, "tagSet", "items") {
				c.del = append(c.del, str(it, "key"))
			}
		}
		return c
	case "ec2/RunInstances":
		c := &tagChange{replace: true, set: tagSpecOf(r, "instance")}
		for _, it := range list(r, "responseElements", "instancesSet", "items") {
			c.arns = append(c.arns, ec2ARN(r, str(it, "instanceId")))
		}
		return c
	case "ec2/CreateVolume":
		return &tagChange{arns: one(ec2ARN(r, str(r, "responseElements", "volumeId"))), replace: true, set: tagSpecOf(r, "volume")}
	case "ec2/CreateSecurityGroup":
		return &tagChange{arns: one(ec2ARN(r, str(r, "responseElements", "groupId"))), replace: true, set: tagSpecOf(r, "security-group")}
	case "s3/PutBucketTagging":
		tags := field(rp, "Tagging", "TagSet", "Tag")
		l, ok := tags.([]any)
		if !ok {
			l = []any{tags} // a single tag is an object
		}
		return &tagChange{arns: one("arn:aws:s3:::" + str(rp, "bucketName")), replace: true, set: pairs(l, "Key", "Value")}
	case "s3/DeleteBucketTagging", "s3/CreateBucket":
		return &tagChange{arns: one("arn:aws:s3:::" + str(rp, "bucketName")), replace: true}
	case "iam/TagRole", "iam/UntagRole":
		return &tagChange{arns: one("arn:aws:iam::" + acct + ":role/" + str(rp, "roleName")), set: pairs(list(rp, "tags"), "key", "value"), del: strs(list(rp, "tagKeys"))}
	case "iam/TagUser", "iam/UntagUser":
		return &tagChange{arns: one("arn:aws:iam::" + acct + ":user/" + str(rp, "userName")), set: pairs(list(rp, "tags"), "key", "value"), del: strs(list(rp, "tagKeys"))}
	case "iam/CreateRole":
		return &tagChange{arns: one(str(r, "responseElements", "role", "arn")), replace: true, set: pairs(list(rp, "tags"), "key", "value")}
	case "iam/CreateUser":
		return &tagChange{arns: one(str(r, "responseElements", "user", "arn")), replace: true, set: pairs(list(rp, "tags"), "key", "value")}
	case "lambda/TagResource20170331v2", "lambda/UntagResource20170331v2":
		return &tagChange{arns: one(str(rp, "resource")), set: object(field(rp, "tags")), del: strs(list(rp, "tagKeys"))}
	case "lambda/CreateFunction20150331":
		return &tagChange{arns: one(str(r, "responseElements", "functionArn")), replace: true, set: object(field(rp, "tags"))}
	case "kms/TagResource", "kms/UntagResource":
		return &tagChange{arns: one(str(rp, "keyId")), set: pairs(list(rp, "tags"), "tagKey", "tagValue"), del: strs(list(rp, "tagKeys"))}
	case "kms/CreateKey":
		return &tagChange{arns: one(str(r, "responseElements", "keyMetadata", "arn")), replace: true, set: pairs(list(rp, "tags"), "tagKey", "tagValue")}
	case "sqs/TagQueue", "sqs/UntagQueue":
		url := str(rp, "queueUrl")
		return &tagChange{arns: one("arn:aws:sqs:" + region + ":" + acct + ":" + url[strings.LastIndexByte(url, '/')+1:]), set: object(field(rp, "tags")), del: strs(list(rp, "tagKeys"))}
	case "sqs/CreateQueue":
		return &tagChange{arns: one("arn:aws:sqs:" + region + ":" + acct + ":" + str(rp, "queueName")), replace: true, set: object(field(rp, "tags"))}
	case "sns/TagResource", "sns/UntagResource", "dynamodb/TagResource", "dynamodb/UntagResource":
		return &tagChange{arns: one(str(rp, "resourceArn")), set: pairs(list(rp, "tags"), "key", "value"), del: strs(list(rp, "tagKeys"))}
	case "sns/CreateTopic":
		return &tagChange{arns: one(str(r, "responseElements", "topicArn")), replace: true, set: pairs(list(rp, "tags"), "key", "value")}
	case "dynamodb/CreateTable":
		return &tagChange{arns: one(str(r, "responseElements", "tableDescription", "tableArn")), replace: true, set: pairs(list(rp, "tags"), "key", "value")}
	case "secretsmanager/TagResource", "secretsmanager/UntagResource":
		return &tagChange{arns: one(str(rp, "secretId")), set: pairs(list(rp, "tags"), "key", "value"), del: strs(list(rp, "tagKeys"))}
	case "secretsmanager/CreateSecret":
		return &tagChange{arns: one(str(r, "responseElements", "arn")), replace: true, set: pairs(list(rp, "tags"), "key", "value")}
	case "rds/AddTagsToResource", "rds/RemoveTagsFromResource":
		return &tagChange{arns: one(str(rp, "resourceName")), set: pairs(list(rp, "tags"), "key", "value"), del: strs(list(rp, "tagKeys"))}
	case "rds/CreateDBInstance":
		return &tagChange{arns: one(str(r, "responseElements", "dBInstanceArn")), replace: true, set: pairs(list(rp, "tags"), "key", "value")}
	case "elasticloadbalancing/AddTags", "elasticloadbalancing/RemoveTags":
		return &tagChange{arns: strs(list(rp, "resourceArns")), set: pairs(list(rp, "tags"), "key", "value"), del: strs(list(rp, "tagKeys"))}
	case "elasticloadbalancing/CreateLoadBalancer":
		c := &tagChange{replace: true, set: pairs(list(rp, "tags"), "key", "value")}
		for _, lb := range list(r, "responseElements", "loadBalancers") {
			c.arns = append(c.arns, str(lb, "loadBalancerArn"))
		}
		return c
	case "tagging/TagResources", "tagging/UntagResources":
		return &tagChange{arns: strs(list(rp, "resourceARNList")), set: object(field(rp, "tags")), del: strs(list(rp, "tagKeys"))}
	}
	return nil
}

// TestTagReplay replays every tagging record in delivery order and checks
// that the result is the tag state the script ended with, for every pool
// resource: the records alone are enough to rebuild the inventory.
func TestTagReplay(t *testing.T) {
	o := Options{Events: 40000, Seed: 11, PerFile: 800}
	dir, _ := generate(t, o)
	// Replay in event-time order; records of one second keep their
	// delivery order.
	type timed struct {
		at string
		c  *tagChange
	}
	var all []timed
	for _, f := range readLogs(t, dir) {
		for _, r := range f.records {
			if c := changeOf(r); c != nil {
				all = append(all, timed{str(r, "eventTime"), c})
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].at < all[j].at })
	state := map[string]map[string]string{}
	changes := len(all)
	for _, tc := range all {
		c := tc.c
		{
			for _, arn := range c.arns {
				if c.replace || state[arn] == nil {
					state[arn] = map[string]string{}
				}
				maps.Copy(state[arn], c.set)
				for _, k := range c.del {
					delete(state[arn], k)
				}
			}
		}
	}
	if changes < 100 {
		t.Fatalf("only %d tag changes", changes)
	}

	o, _ = o.withDefaults()
	w := newWorld(o)
	var checked, tagged, untagged, prod, retagged int
	for _, s := range w.streams {
		for k := range numKinds {
			for _, res := range s.pool[k] {
				if res.created == notCreated {
					if _, ok := state[res.arn]; ok {
						t.Errorf("%s: tagged but never created", res.arn)
					}
					continue
				}
				want := map[string]string{}
				for _, tg := range res.tags {
					want[tg.key] = tg.value
				}
				got := state[res.arn]
				if got == nil {
					got = map[string]string{}
				}
				if !maps.Equal(got, want) {
					t.Errorf("%s:\n got %v\nwant %v", res.arn, sorted(got), sorted(want))
				}
				checked++
				if len(want) > 0 {
					tagged++
				} else {
					untagged++
				}
				if want["Environment"] == "Production" {
					prod++
				}
			}
		}
	}
	for _, s := range w.streams {
		seen := map[*resource]int{}
		for _, st := range s.steps {
			if st.res != nil && st.tpl == w.cat.ops[st.res.kind].tag && !st.fail {
				for _, tg := range st.tags {
					if tg.key == "Environment" && tg.value == "Staging" {
						seen[st.res] |= 1
					}
					if tg.key == "Environment" && tg.value == "Production" && seen[st.res]&1 != 0 {
						seen[st.res] |= 2
					}
				}
			}
		}
		for _, v := range seen {
			if v == 3 {
				retagged++
			}
		}
	}
	t.Logf("%d tag changes; %d resources: %d tagged (%d Production), %d untagged; %d Production->Staging->Production",
		changes, checked, tagged, prod, untagged, retagged)
	if untagged == 0 || prod == 0 || prod == tagged || retagged == 0 {
		t.Errorf("tag mix lacks variety")
	}
}

func sorted(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return slices.Clip(out)
}
