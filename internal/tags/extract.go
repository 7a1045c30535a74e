package tags

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/trailbook/trailbook/internal/cloudtrail"
)

// Of returns what ev means for the tag inventory: the resources it
// touched and, when the call succeeded, the tag changes it made. The
// calls it understands and the request shapes it reads are listed in
// docs/tags.md; any other event only touches its resources.
//
// ARNs are built in the event's partition (that of its first resources[]
// ARN, else the one its region belongs to), region and recipient account,
// so a parameter naming a resource of another account is taken to be in
// the event's. Every ARN Of returns passes ParseARN; a parameter it
// cannot make sense of yields nothing rather than an error. Of only reads
// ev and is safe for concurrent use; the slices it returns are new.
func Of(ev *cloudtrail.Event) Effect {
	if ev == nil {
		return Effect{}
	}
	c := call{ev: ev}
	for i := range ev.Resources {
		if r := &ev.Resources[i]; r.ARN.OK {
			c.touch(r.ARN.V)
		}
	}
	c.svc = serviceOf(ev.EventSource.V)
	for _, p := range ev.RequestParameters {
		if p.Value.OK && p.Value.V != "" && !c.param(p.Key, p.Value.V) {
			c.genericParam(p.Key, p.Value.V)
		}
	}
	if !c.change(ev.EventName) {
		c.genericChange(ev.EventName)
	}
	return c.effect()
}

// eventService is an event source Of has a reader for.
type eventService uint8

const (
	otherService eventService = iota
	svcEC2
	svcS3
	svcIAM
	svcLambda
	svcKMS
	svcSQS
	svcSNS
	svcDynamoDB
	svcSecrets
	svcSSM
	svcRDS
	svcELB
	svcCloudFormation
	svcECS
	svcEKS
	svcLogs
	svcCloudTrail
	svcTagging
)

// serviceOf is the service of an eventSource.
func serviceOf(src string) eventService {
	switch src {
	case "ec2.amazonaws.com":
		return svcEC2
	case "s3.amazonaws.com":
		return svcS3
	case "iam.amazonaws.com":
		return svcIAM
	case "lambda.amazonaws.com":
		return svcLambda
	case "kms.amazonaws.com":
		return svcKMS
	case "sqs.amazonaws.com":
		return svcSQS
	case "sns.amazonaws.com":
		return svcSNS
	case "dynamodb.amazonaws.com":
		return svcDynamoDB
	case "secretsmanager.amazonaws.com":
		return svcSecrets
	case "ssm.amazonaws.com":
		return svcSSM
	case "rds.amazonaws.com":
		return svcRDS
	case "elasticloadbalancing.amazonaws.com":
		return svcELB
	case "cloudformation.amazonaws.com":
		return svcCloudFormation
	case "ecs.amazonaws.com":
		return svcECS
	case "eks.amazonaws.com":
		return svcEKS
	case "logs.amazonaws.com":
		return svcLogs
	case "cloudtrail.amazonaws.com":
		return svcCloudTrail
	case "tagging.amazonaws.com":
		return svcTagging
	}
	return otherService
}

// param looks at one top-level request parameter with the reader of the
// event's service and reports whether it consumed it.
func (c *call) param(key, val string) bool {
	switch c.svc {
	case svcEC2:
		return ec2Param(c, key, val)
	case svcS3:
		return s3Param(c, key, val)
	case svcIAM:
		return iamParam(c, key, val)
	case svcLambda:
		return lambdaParam(c, key, val)
	case svcKMS:
		return kmsParam(c, key, val)
	case svcSQS:
		return sqsParam(c, key, val)
	case svcSNS:
		return snsParam(c, key, val)
	case svcDynamoDB:
		return dynamoParam(c, key, val)
	case svcSecrets:
		return secretParam(c, key, val)
	case svcSSM:
		return ssmParam(c, key, val)
	case svcRDS:
		return rdsParam(c, key, val)
	case svcELB:
		return elbParam(c, key, val)
	case svcCloudFormation:
		return stackParam(c, key, val)
	case svcECS:
		return ecsParam(c, key, val)
	case svcEKS:
		return eksParam(c, key, val)
	case svcLogs:
		return logsParam(c, key, val)
	case svcCloudTrail:
		return trailParam(c, key, val)
	}
	return false
}

// change reads the event with the reader of its service, adding the
// resources and changes it finds, and reports whether it knew the event.
func (c *call) change(name string) bool {
	switch c.svc {
	case svcEC2:
		return ec2Change(c, name)
	case svcS3:
		return s3Change(c, name)
	case svcIAM:
		return iamChange(c, name)
	case svcLambda:
		return lambdaChange(c, name)
	case svcKMS:
		return kmsChange(c, name)
	case svcSQS:
		return sqsChange(c, name)
	case svcSNS:
		return snsChange(c, name)
	case svcDynamoDB:
		return dynamoChange(c, name)
	case svcSecrets:
		return secretChange(c, name)
	case svcSSM:
		return ssmChange(c, name)
	case svcRDS:
		return rdsChange(c, name)
	case svcELB:
		return elbChange(c, name)
	case svcCloudFormation:
		return stackChange(c, name)
	case svcECS:
		return ecsChange(c, name)
	case svcEKS:
		return eksChange(c, name)
	case svcLogs:
		return logsChange(c, name)
	case svcCloudTrail:
		return trailChange(c, name)
	case svcTagging:
		return taggingChange(c, name)
	}
	return false
}

// call gathers the effect of one event while Of reads it.
type call struct {
	ev                 *cloudtrail.Event
	svc                eventService
	part, region, acct string
	touched            []string
	changes            []Change
	reqv, respv        map[string]any
	parsedReq, parsedR bool
	located            bool
}

// locate finds the partition, region and account the event's ARNs live
// in, on first use: events whose ARNs all come from resources[] never
// need them.
func (c *call) locate() {
	if c.located {
		return
	}
	c.located = true
	ev := c.ev
	if okRegion(ev.AWSRegion.V) {
		c.region = ev.AWSRegion.V
	}
	switch {
	case okAccount(ev.RecipientAccountID.V):
		c.acct = ev.RecipientAccountID.V
	case okAccount(ev.UserIdentity.AccountID.V):
		c.acct = ev.UserIdentity.AccountID.V
	}
	for i := range ev.Resources {
		if rest, ok := strings.CutPrefix(ev.Resources[i].ARN.V, "arn:"); ok {
			if p, _, ok := strings.Cut(rest, ":"); ok && okWord(p) {
				c.part = p
				return
			}
		}
	}
	c.part = partitionOf(c.region)
}

// partitionOf is the partition a region belongs to.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "aws-iso-e"
	case strings.HasPrefix(region, "us-isof-"):
		return "aws-iso-f"
	}
	return "aws"
}

func (c *call) failed() bool { return c.ev.ErrorCode.OK && c.ev.ErrorCode.V != "" }

// req is the request parameters as a JSON object, parsed on first use.
func (c *call) req() map[string]any {
	if !c.parsedReq {
		c.reqv, c.parsedReq = parseObject(c.ev.RequestParameters), true
	}
	return c.reqv
}

// resp is the response elements as a JSON object, parsed on first use.
func (c *call) resp() map[string]any {
	if !c.parsedR {
		c.respv, c.parsedR = parseObject(c.ev.ResponseElements), true
	}
	return c.respv
}

// reqStr is a top-level string request parameter, read without parsing.
func (c *call) reqStr(key string) string { return memberOf(c.ev.RequestParameters, key).V }

// touch records arn as touched when it is well formed.
func (c *call) touch(arn string) {
	if c.wellFormed(arn) {
		c.touched = append(c.touched, arn)
	}
}

// add records a change, and its resource as touched, when its ARN is well
// formed. The slices of ch are cloned, so changes never share them.
func (c *call) add(ch Change) {
	if !c.wellFormed(ch.ARN) {
		return
	}
	c.touched = append(c.touched, ch.ARN)
	ch.Set = slices.Clone(ch.Set)
	ch.Remove = slices.Clone(ch.Remove)
	c.changes = append(c.changes, ch)
}

// merge adds a Merge change; one that neither sets nor removes anything
// only touches arn.
func (c *call) merge(arn string, set []Tag, remove []Removal) {
	if len(set) == 0 && len(remove) == 0 {
		c.touch(arn)
		return
	}
	c.add(Change{ARN: arn, Kind: Merge, Set: set, Remove: remove})
}

func (c *call) replace(arn string, set []Tag) { c.add(Change{ARN: arn, Kind: Replace, Set: set}) }
func (c *call) create(arn string, set []Tag)  { c.add(Change{ARN: arn, Kind: Create, Set: set}) }
func (c *call) remove(arn string)             { c.add(Change{ARN: arn, Kind: Delete}) }

// tag merges set into arn, or removes keys from it: the two halves of a
// TagResource/UntagResource pair.
func (c *call) tag(arn string, set []Tag, keys []string) { c.merge(arn, set, removals(keys)) }

// effect is the Effect gathered so far.
func (c *call) effect() Effect {
	var e Effect
	if len(c.touched) > 0 {
		slices.Sort(c.touched)
		e.Touched = slices.Clip(slices.Compact(c.touched))
	}
	if !c.failed() && len(c.changes) > 0 {
		e.Changes = c.changes
	}
	return e
}

// regional is the ARN of resource in the event's region and account, or
// "" when either is unknown or resource is empty.
func (c *call) regional(service, resource string) string {
	c.locate()
	if c.region == "" || c.acct == "" || resource == "" {
		return ""
	}
	return "arn:" + c.part + ":" + service + ":" + c.region + ":" + c.acct + ":" + resource
}

// global is the ARN of resource in the event's account and no region
// (IAM, CloudFront), or "" when the account is unknown.
func (c *call) global(service, resource string) string {
	c.locate()
	if c.acct == "" || resource == "" {
		return ""
	}
	return "arn:" + c.part + ":" + service + "::" + c.acct + ":" + resource
}

// named is the ARN whose resource is prefix+name, or name itself when it
// is already an ARN; "" for a name that cannot be part of one.
func (c *call) named(service, prefix, name string) string {
	if isARN(name) {
		return name
	}
	if !okName(name) {
		return ""
	}
	return c.regional(service, prefix+name)
}

// isResourceKey reports whether a request parameter holds the ARN (or a
// list of ARNs) of the resource a call acts on, whatever the service.
func isResourceKey(key string) bool {
	switch key {
	case "resourceArn", "resourceARN", "ResourceArn", "ResourceARN",
		"resource", "Resource", "arn", "Arn", "ARN",
		"resourceArns", "ResourceArns", "resourceARNList", "ResourceARNList",
		"resourceArnList", "resourceId", "resourceName":
		return true
	}
	return false
}

// genericParam touches the ARNs held by the parameters every service
// uses for its target.
func (c *call) genericParam(key, val string) {
	if isResourceKey(key) {
		eachElement(val, c.touchARN)
	}
}

// touchARN touches s when it is an ARN; other strings are ignored.
func (c *call) touchARN(s string) {
	if isARN(s) {
		c.touch(s)
	}
}

// genericNames are the tagging calls every service spells the same way.
var genericNames = map[string]bool{
	"TagResource": true, "UntagResource": true, "TagResources": true, "UntagResources": true,
	"AddTagsToResource": true, "RemoveTagsFromResource": true, "AddTags": true, "RemoveTags": true,
}

// genericChange reads a tagging call of a service Of has no handler for,
// or one its handler does not know: the target ARNs from the parameters
// of isResourceKey,
// the tags from "tags" (or "Tags", "tagList", "tagsList", also one level
// down in an "...Input" object, as API Gateway writes them) and the keys
// from "tagKeys" (or "TagKeys", "keys").
func (c *call) genericChange(name string) {
	if !genericNames[name] {
		return
	}
	req := c.req()
	var arns []string
	for _, k := range sortedResourceKeys {
		for _, s := range strs(req[k]) {
			if isARN(s) && !slices.Contains(arns, s) {
				arns = append(arns, s)
			}
		}
	}
	src := any(req)
	if fieldOf(req, "tags", "Tags", "tagList", "TagList", "tagsList", "tagKeys", "TagKeys", "keys", "Keys") == nil {
		keys := make([]string, 0, len(req))
		for k := range req {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if strings.HasSuffix(k, "Input") && fieldOf(req[k], "tags", "Tags", "tagKeys", "TagKeys") != nil {
				src = req[k]
				break
			}
		}
	}
	untag := strings.HasPrefix(name, "Untag") || strings.HasPrefix(name, "Remove")
	for _, arn := range arns {
		if untag {
			keys := keysOf(fieldOf(src, "tagKeys", "TagKeys", "keys", "Keys"))
			if keys == nil {
				keys = keysOf(fieldOf(src, "tags", "Tags", "tagList", "tagsList"))
			}
			c.tag(arn, nil, keys)
		} else {
			c.tag(arn, tagsOf(fieldOf(src, "tags", "Tags", "tagList", "TagList", "tagsList")), nil)
		}
	}
}

// sortedResourceKeys lists the keys of isResourceKey in a fixed order, so that
// genericChange names its targets deterministically.
var sortedResourceKeys = []string{
	"ARN", "Arn", "Resource", "ResourceARN", "ResourceARNList", "ResourceArn", "ResourceArns",
	"arn", "resource", "resourceARN", "resourceARNList", "resourceArn", "resourceArnList",
	"resourceArns", "resourceId", "resourceName",
}

// wellFormed reports whether s is an ARN Of may return: ParseARN accepts
// it, its partition, service, region and account are plain words, and
// its resource is at most 2048 bytes of valid UTF-8 without control
// characters.
func wellFormed(s string) bool {
	var c call
	return c.wellFormed(s)
}

// wellFormed is the function wellFormed, without checking again the
// partition, region and account c has already checked (once located).
func (c *call) wellFormed(s string) bool {
	a, ok := splitARN(s)
	if !ok || len(s) > 2048 ||
		a.Partition != c.part && !okWord(a.Partition) || !okWord(a.Service) ||
		a.Region != c.region && a.Region != "" && !okRegion(a.Region) ||
		a.Account != c.acct && a.Account != "" && !okAccount(a.Account) {
		return false
	}
	if !utf8.ValidString(a.Resource) {
		return false
	}
	for i := 0; i < len(a.Resource); i++ {
		if b := a.Resource[i]; b < 0x20 || b == 0x7f {
			return false
		}
	}
	return true
}

// splitARN is ParseARN without allocating: it accepts the same strings.
func splitARN(s string) (ARN, bool) {
	var part [6]string
	rest := s
	for i := range 5 {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return ARN{}, false
		}
		part[i], rest = rest[:j], rest[j+1:]
	}
	part[5] = rest
	if part[0] != "arn" || part[1] == "" || part[2] == "" || part[5] == "" {
		return ARN{}, false
	}
	return ARN{Partition: part[1], Service: part[2], Region: part[3], Account: part[4], Resource: part[5]}, true
}

// isARN reports whether s looks like an ARN; wellFormed decides.
func isARN(s string) bool { return strings.HasPrefix(s, "arn:") }

// okWord reports whether s is a non-empty run of lower-case letters,
// digits, '-' and '.'.
func okWord(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '.') {
			return false
		}
	}
	return true
}

// okRegion reports whether s can be a region: lower-case letters, digits
// and '-'.
func okRegion(s string) bool { return okWord(s) && !strings.Contains(s, ".") }

// okAccount reports whether s can be the account part of an ARN: letters,
// digits and '-' ("aws" for AWS managed IAM policies; the AWS docs use
// accounts such as "0123456789ab").
func okAccount(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-') {
			return false
		}
	}
	return true
}

// okName reports whether s can name a resource inside an ARN: 1 to 1024
// bytes without spaces, control characters or ':'. Names that can hold
// '/' (SSM parameters, log groups) keep it.
func okName(s string) bool {
	if s == "" || len(s) > 1024 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b <= ' ' || b == 0x7f || b == ':' {
			return false
		}
	}
	return true
}

// okSegment is okName without '/': a name that is one segment of an ARN's
// resource (role/NAME, a bucket).
func okSegment(s string) bool { return okName(s) && !strings.Contains(s, "/") }
