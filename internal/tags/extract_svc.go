package tags

import (
	"slices"
	"strings"
)

// This file reads the services whose tagging calls name their resource
// by one parameter; extract_ec2.go and extract_iam.go hold the two
// services with many resource types.

// --- S3 ---

// bucketARN is the ARN of a bucket name (S3 ARNs have no region or
// account), or "".
func (c *call) bucketARN(name string) string {
	if !okSegment(name) {
		return ""
	}
	c.locate()
	return "arn:" + c.part + ":s3:::" + name
}

func s3Param(c *call, key, val string) bool {
	if key != "bucketName" {
		return false
	}
	for i := range c.ev.Resources {
		// resources[] names the bucket of most S3 records already.
		if a := c.ev.Resources[i].ARN.V; strings.HasSuffix(a, val) && strings.HasSuffix(a[:len(a)-len(val)], ":s3:::") {
			return true
		}
	}
	c.touch(c.bucketARN(val))
	return true
}

// s3Change reads PutBucketTagging (Tagging.TagSet.Tag, a list or, for one
// tag, an object, of {Key,Value}), which replaces the tag set and is
// ignored when the record lacks the Tagging body; DeleteBucketTagging;
// CreateBucket, whose tags, if the record carries any, are read from
// CreateBucketConfiguration.Tags; and DeleteBucket.
func s3Change(c *call, name string) bool {
	switch name {
	case "PutBucketTagging", "DeleteBucketTagging", "CreateBucket", "DeleteBucket":
	default:
		return false
	}
	arn := c.bucketARN(c.reqStr("bucketName"))
	switch name {
	case "PutBucketTagging":
		tagging := fieldOf(c.req(), "Tagging", "tagging")
		if _, ok := tagging.(map[string]any); !ok {
			c.touch(arn)
			return true
		}
		c.replace(arn, tagPairs(fieldOf(fieldOf(tagging, "TagSet", "tagSet"), "Tag", "tag")))
	case "DeleteBucketTagging":
		c.replace(arn, nil)
	case "CreateBucket":
		conf := fieldOf(c.req(), "CreateBucketConfiguration")
		c.create(arn, tagPairs(fieldOf(conf, "Tags", "TagSet")))
	case "DeleteBucket":
		c.remove(arn)
	}
	return true
}

// --- Lambda ---

// lambdaOp strips the API version Lambda appends to its event names:
// TagResource20170331v2 is TagResource.
func lambdaOp(name string) string {
	i := strings.IndexAny(name, "0123456789")
	if i <= 0 || len(name)-i < 8 {
		return name
	}
	rest := name[i:]
	for j := 0; j < 8; j++ {
		if rest[j] < '0' || rest[j] > '9' {
			return name
		}
	}
	tail := rest[8:]
	if tail != "" && (tail[0] != 'v' || len(tail) == 1 || strings.Trim(tail[1:], "0123456789") != "") {
		return name
	}
	return name[:i]
}

// lambdaFunction is the unqualified ARN of a function given as a name, a
// partial ARN (ACCOUNT:function:NAME) or an ARN, any of them possibly
// with a version or alias qualifier; qualified reports whether it had
// one. An ARN of another Lambda resource is returned as it is.
func (c *call) lambdaFunction(s string) (arn string, qualified bool) {
	if isARN(s) {
		a, ok := splitARN(s)
		if !ok || !strings.HasPrefix(a.Resource, "function:") {
			return s, false
		}
		fn, q, qualified := strings.Cut(a.Resource[len("function:"):], ":")
		switch {
		case !okName(fn):
			return "", false
		case !qualified:
			return s, false
		}
		return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":function:" + fn, q != ""
	}
	c.locate()
	acct := c.acct
	if i := strings.Index(s, ":function:"); i >= 0 {
		acct, s = s[:i], s[i+len(":function:"):]
		if !okAccount(acct) || c.region == "" {
			return "", false
		}
	}
	fn, q, _ := strings.Cut(s, ":")
	if !okName(fn) || strings.Contains(fn, "/") || c.region == "" || acct == "" {
		return "", false
	}
	return "arn:" + c.part + ":lambda:" + c.region + ":" + acct + ":function:" + fn, q != ""
}

func lambdaParam(c *call, key, val string) bool {
	switch key {
	case "functionName", "resource", "FunctionName", "Resource":
		arn, _ := c.lambdaFunction(val)
		c.touch(arn)
		return true
	}
	return false
}

// lambdaChange reads TagResource/UntagResource (resource, tags{},
// tagKeys[]), CreateFunction (responseElements.functionArn, tags{}) and
// DeleteFunction, which ends the function only when it names no version
// or alias.
func lambdaChange(c *call, name string) bool {
	op := lambdaOp(name)
	switch op {
	case "TagResource", "UntagResource", "CreateFunction", "DeleteFunction":
	default:
		return false
	}
	req := c.req()
	switch op {
	case "TagResource":
		arn, _ := c.lambdaFunction(strOf(fieldOf(req, "resource", "Resource")))
		c.tag(arn, tagsOf(fieldOf(req, "tags", "Tags")), nil)
	case "UntagResource":
		arn, _ := c.lambdaFunction(strOf(fieldOf(req, "resource", "Resource")))
		c.tag(arn, nil, keysOf(fieldOf(req, "tagKeys", "TagKeys")))
	case "CreateFunction":
		s := strOf(c.resp()["functionArn"])
		if s == "" {
			s = strOf(fieldOf(req, "functionName", "FunctionName"))
		}
		arn, _ := c.lambdaFunction(s)
		c.create(arn, tagsOf(fieldOf(req, "tags", "Tags")))
	case "DeleteFunction":
		arn, q := c.lambdaFunction(strOf(fieldOf(req, "functionName", "FunctionName")))
		if q || strOf(fieldOf(req, "qualifier", "Qualifier")) != "" {
			c.touch(arn)
		} else {
			c.remove(arn)
		}
	default:
		return false
	}
	return true
}

// --- KMS ---

// kmsARN is the ARN of a key id, key ARN, alias name (alias/NAME) or
// alias ARN.
func (c *call) kmsARN(s string) string {
	switch {
	case isARN(s):
		return s
	case strings.HasPrefix(s, "alias/"):
		if !okName(s) {
			return ""
		}
		return c.regional("kms", s)
	case okSegment(s):
		return c.regional("kms", "key/"+s)
	}
	return ""
}

// kmsKey is kmsARN for the parameters that must name a key, not an alias.
func (c *call) kmsKey(s string) string {
	arn := c.kmsARN(s)
	if a, ok := splitARN(arn); ok && a.Service == "kms" && a.Type() == "key" {
		return arn
	}
	return ""
}

func kmsParam(c *call, key, val string) bool {
	switch key {
	case "keyId", "targetKeyId", "aliasName", "KeyId":
		c.touch(c.kmsARN(val))
		return true
	}
	return false
}

// kmsChange reads TagResource/UntagResource (keyId, tags[].{tagKey,
// tagValue}, tagKeys[]), CreateKey and ReplicateKey (the key ARN in
// keyMetadata.arn or replicaKeyMetadata.arn of the response) and DeleteKey,
// the service event KMS records when a key scheduled for deletion is
// deleted (its key is in resources[]). ScheduleKeyDeletion and
// CancelKeyDeletion change nothing: a key pending deletion keeps its tags
// and may come back.
func kmsChange(c *call, name string) bool {
	switch name {
	case "TagResource", "UntagResource", "CreateKey", "ReplicateKey", "DeleteKey", "ScheduleKeyDeletion", "CancelKeyDeletion":
	default:
		return false
	}
	req := c.req()
	switch name {
	case "TagResource":
		c.tag(c.kmsKey(strOf(fieldOf(req, "keyId", "KeyId"))), tagsOf(fieldOf(req, "tags", "Tags")), nil)
	case "UntagResource":
		c.tag(c.kmsKey(strOf(fieldOf(req, "keyId", "KeyId"))), nil, keysOf(fieldOf(req, "tagKeys", "TagKeys")))
	case "CreateKey":
		resp := c.resp()
		arn := strOf(pathOf(resp, "keyMetadata", "arn"))
		if arn == "" {
			arn = c.kmsKey(strOf(pathOf(resp, "keyMetadata", "keyId")))
		}
		c.create(arn, tagsOf(fieldOf(req, "tags", "Tags")))
	case "ReplicateKey":
		c.create(strOf(pathOf(c.resp(), "replicaKeyMetadata", "arn")), tagsOf(fieldOf(req, "tags", "Tags")))
	case "DeleteKey":
		var arns []string
		for i := range c.ev.Resources {
			if s := c.ev.Resources[i].ARN.V; c.kmsKey(s) != "" && !slices.Contains(arns, s) {
				arns = append(arns, s)
			}
		}
		if len(arns) == 0 {
			arns = append(arns, c.kmsKey(strOf(fieldOf(req, "keyId", "KeyId"))))
		}
		for _, arn := range arns {
			c.remove(arn)
		}
	case "ScheduleKeyDeletion", "CancelKeyDeletion":
	default:
		return false
	}
	return true
}

// --- SQS ---

// queueARN turns a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME,
// or the legacy https://queue.amazonaws.com/... and
// https://REGION.queue.amazonaws.com/... forms) into the queue's ARN. The
// region and partition come from the host when it names them.
func (c *call) queueARN(u string) string {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "http://"); !ok {
			return ""
		}
	}
	host, p, _ := strings.Cut(rest, "/")
	acct, name, _ := strings.Cut(strings.TrimSuffix(p, "/"), "/")
	if !okAccount(acct) || !okSegment(name) {
		return ""
	}
	c.locate()
	region, part := c.region, c.part
	isRegion := func(s string) bool { return okRegion(s) && strings.Contains(s, "-") }
	for rest := host; rest != ""; {
		var label string
		label, rest, _ = strings.Cut(rest, ".")
		if label == "sqs" { // sqs.REGION.amazonaws.com, vpce-....sqs.REGION.vpce...
			if next, _, _ := strings.Cut(rest, "."); isRegion(next) {
				region = next
			}
			break
		}
	}
	if first, after, _ := strings.Cut(host, "."); strings.HasPrefix(after, "queue.") && isRegion(first) {
		region = first // REGION.queue.amazonaws.com
	}
	if host == "queue.amazonaws.com" {
		region = "us-east-1"
	}
	if strings.HasSuffix(host, ".amazonaws.com.cn") {
		part = "aws-cn"
	}
	if region == "" {
		return ""
	}
	return "arn:" + part + ":sqs:" + region + ":" + acct + ":" + name
}

func sqsParam(c *call, key, val string) bool {
	switch key {
	case "queueUrl", "QueueUrl":
		c.touch(c.queueARN(val))
	case "queueName", "QueueName":
		if okSegment(val) {
			c.touch(c.regional("sqs", val))
		}
	default:
		return false
	}
	return true
}

// sqsChange reads TagQueue/UntagQueue (queueUrl, tags{}, tagKeys[]),
// CreateQueue (queueName or the responseElements.queueUrl, tags{}) and
// DeleteQueue.
func sqsChange(c *call, name string) bool {
	switch name {
	case "TagQueue", "UntagQueue", "CreateQueue", "DeleteQueue":
	default:
		return false
	}
	req := c.req()
	arn := c.queueARN(strOf(fieldOf(req, "queueUrl", "QueueUrl")))
	switch name {
	case "TagQueue":
		c.tag(arn, tagsOf(fieldOf(req, "tags", "Tags")), nil)
	case "UntagQueue":
		c.tag(arn, nil, keysOf(fieldOf(req, "tagKeys", "TagKeys")))
	case "CreateQueue":
		arn = c.queueARN(strOf(fieldOf(c.resp(), "queueUrl", "QueueUrl")))
		if n := strOf(fieldOf(req, "queueName", "QueueName")); arn == "" && okSegment(n) {
			arn = c.regional("sqs", n)
		}
		c.create(arn, tagsOf(fieldOf(req, "tags", "Tags")))
	case "DeleteQueue":
		c.remove(arn)
	default:
		return false
	}
	return true
}

// --- SNS ---

func snsParam(c *call, key, val string) bool {
	if key == "topicArn" || key == "TopicArn" {
		c.touchARN(val)
		return true
	}
	return false
}

// snsChange reads TagResource/UntagResource (resourceArn,
// tags[].{key,value}, tagKeys[]), CreateTopic (responseElements.topicArn,
// else the name; tags[]) and DeleteTopic.
func snsChange(c *call, name string) bool {
	switch name {
	case "TagResource", "UntagResource", "CreateTopic", "DeleteTopic":
	default:
		return false
	}
	req := c.req()
	switch name {
	case "TagResource":
		c.tag(strOf(fieldOf(req, "resourceArn", "ResourceArn")), tagsOf(fieldOf(req, "tags", "Tags")), nil)
	case "UntagResource":
		c.tag(strOf(fieldOf(req, "resourceArn", "ResourceArn")), nil, keysOf(fieldOf(req, "tagKeys", "TagKeys")))
	case "CreateTopic":
		arn := strOf(c.resp()["topicArn"])
		if n := strOf(fieldOf(req, "name", "Name")); arn == "" && okSegment(n) {
			arn = c.regional("sns", n)
		}
		c.create(arn, tagsOf(fieldOf(req, "tags", "Tags")))
	case "DeleteTopic":
		c.remove(strOf(fieldOf(req, "topicArn", "TopicArn")))
	default:
		return false
	}
	return true
}

// --- DynamoDB ---

func (c *call) tableARN(s string) string {
	if !isARN(s) && !okSegment(s) {
		return ""
	}
	return c.named("dynamodb", "table/", s)
}

func dynamoParam(c *call, key, val string) bool {
	if key == "tableName" || key == "TableName" {
		c.touch(c.tableARN(val))
		return true
	}
	return false
}

// dynamoChange reads TagResource/UntagResource (resourceArn,
// tags[].{key,value}, tagKeys[]), CreateTable (the response's
// tableDescription.tableArn, else tableName; tags[]) and DeleteTable.
func dynamoChange(c *call, name string) bool {
	switch name {
	case "TagResource", "UntagResource", "CreateTable", "DeleteTable":
	default:
		return false
	}
	req := c.req()
	switch name {
	case "TagResource":
		c.tag(strOf(fieldOf(req, "resourceArn", "ResourceArn")), tagsOf(fieldOf(req, "tags", "Tags")), nil)
	case "UntagResource":
		c.tag(strOf(fieldOf(req, "resourceArn", "ResourceArn")), nil, keysOf(fieldOf(req, "tagKeys", "TagKeys")))
	case "CreateTable", "DeleteTable":
		arn := strOf(pathOf(c.resp(), "tableDescription", "tableArn"))
		if arn == "" {
			arn = c.tableARN(strOf(fieldOf(req, "tableName", "TableName")))
		}
		if name == "CreateTable" {
			c.create(arn, tagsOf(fieldOf(req, "tags", "Tags")))
		} else {
			c.remove(arn)
		}
	default:
		return false
	}
	return true
}

// --- Secrets Manager ---

// A secret's ARN ends in six random characters its name does not give,
// so a secret named by name only cannot be keyed: those calls touch
// nothing and change nothing.

func secretParam(c *call, key, val string) bool {
	if key == "secretId" || key == "SecretId" {
		c.touchARN(val)
		return true
	}
	return false
}

// secretChange reads TagResource/UntagResource (secretId when it is an
// ARN, tags[].{key,value} or {Key,Value}, tagKeys[]), CreateSecret (the
// response's arn, spelled aRN before 2024; tags[]) and DeleteSecret,
// which ends the secret only with forceDeleteWithoutRecovery: otherwise
// it is scheduled for deletion and RestoreSecret may bring it back.
func secretChange(c *call, name string) bool {
	switch name {
	case "TagResource", "UntagResource", "CreateSecret", "DeleteSecret", "RestoreSecret":
	default:
		return false
	}
	req := c.req()
	id := strOf(fieldOf(req, "secretId", "SecretId"))
	if !isARN(id) {
		id = ""
	}
	switch name {
	case "TagResource":
		c.tag(id, tagsOf(fieldOf(req, "tags", "Tags")), nil)
	case "UntagResource":
		c.tag(id, nil, keysOf(fieldOf(req, "tagKeys", "TagKeys")))
	case "CreateSecret":
		c.create(strOf(fieldOf(c.resp(), "arn", "aRN", "ARN")), tagsOf(fieldOf(req, "tags", "Tags")))
	case "DeleteSecret":
		if id == "" {
			id = strOf(fieldOf(c.resp(), "arn", "aRN", "ARN"))
		}
		if force, _ := scalar(fieldOf(req, "forceDeleteWithoutRecovery", "ForceDeleteWithoutRecovery")); force == "true" {
			c.remove(id)
		} else {
			c.touch(id)
		}
	case "RestoreSecret":
		c.touch(strOf(fieldOf(c.resp(), "arn", "aRN", "ARN")))
	default:
		return false
	}
	return true
}

// --- Systems Manager ---

// ssmTypes maps the resourceType of AddTagsToResource to the ARN prefix
// of its resourceId.
var ssmTypes = map[string]string{
	"Parameter":         "parameter/",
	"Document":          "document/",
	"ManagedInstance":   "managed-instance/",
	"MaintenanceWindow": "maintenancewindow/",
	"PatchBaseline":     "patchbaseline/",
	"OpsItem":           "opsitem/",
	"OpsMetadata":       "opsmetadata/",
	"Automation":        "automation-execution/",
	"Association":       "association/",
}

// ssmARN is the ARN of the resource of an SSM resource type and id. A
// parameter or OpsMetadata id loses its leading '/', as the ARN already
// has one.
func (c *call) ssmARN(typ, id string) string {
	prefix, ok := ssmTypes[typ]
	if !ok {
		return ""
	}
	if typ == "Parameter" || typ == "OpsMetadata" {
		id = strings.TrimPrefix(id, "/")
	}
	return c.named("ssm", prefix, id)
}

// paramARN is the ARN of a parameter name, which may carry a :version or
// :label selector, or be an ARN.
func (c *call) paramARN(name string) string {
	if isARN(name) {
		return name
	}
	name, _, _ = strings.Cut(name, ":")
	return c.ssmARN("Parameter", name)
}

func ssmParam(c *call, key, val string) bool {
	switch key {
	case "name", "Name":
		if strings.Contains(c.ev.EventName, "Parameter") {
			c.touch(c.paramARN(val))
			return true
		}
	case "names", "Names":
		eachElement(val, func(s string) { c.touch(c.paramARN(s)) })
		return true
	case "instanceId", "InstanceId":
		if strings.HasPrefix(val, "mi-") {
			c.touch(c.ssmARN("ManagedInstance", val))
		} else {
			c.touchEC2(val)
		}
		return true
	}
	return false
}

// ssmChange reads AddTagsToResource/RemoveTagsFromResource (resourceType,
// resourceId, tags[].{key,value}, tagKeys[]), PutParameter (a Create when
// the response says version 1, the parameter's first; tags[]),
// DeleteParameter, DeleteParameters (responseElements.deletedParameters),
// CreateDocument and DeleteDocument.
func ssmChange(c *call, name string) bool {
	switch name {
	case "AddTagsToResource", "RemoveTagsFromResource", "PutParameter", "DeleteParameter", "DeleteParameters", "CreateDocument", "DeleteDocument":
	default:
		return false
	}
	req := c.req()
	switch name {
	case "AddTagsToResource", "RemoveTagsFromResource":
		arn := c.ssmARN(strOf(fieldOf(req, "resourceType", "ResourceType")), strOf(fieldOf(req, "resourceId", "ResourceId")))
		if name == "AddTagsToResource" {
			c.tag(arn, tagsOf(fieldOf(req, "tags", "Tags")), nil)
		} else {
			c.tag(arn, nil, keysOf(fieldOf(req, "tagKeys", "TagKeys")))
		}
	case "PutParameter":
		arn := c.paramARN(strOf(fieldOf(req, "name", "Name")))
		if v, _ := scalar(fieldOf(c.resp(), "version", "Version")); v == "1" {
			c.create(arn, tagsOf(fieldOf(req, "tags", "Tags")))
		} else {
			c.touch(arn)
		}
	case "DeleteParameter":
		c.remove(c.paramARN(strOf(fieldOf(req, "name", "Name"))))
	case "DeleteParameters":
		for _, n := range strs(fieldOf(c.resp(), "deletedParameters", "DeletedParameters")) {
			c.remove(c.paramARN(n))
		}
	case "CreateDocument":
		c.create(c.ssmARN("Document", strOf(fieldOf(req, "name", "Name"))), tagsOf(fieldOf(req, "tags", "Tags")))
	case "DeleteDocument":
		c.remove(c.ssmARN("Document", strOf(fieldOf(req, "name", "Name"))))
	default:
		return false
	}
	return true
}

// --- RDS ---

// rdsPrefix is the ARN prefix of the identifiers a request parameter
// holds, or "" for a parameter that holds none.
func rdsPrefix(key string) string {
	switch key {
	case "dBInstanceIdentifier":
		return "db:"
	case "dBClusterIdentifier":
		return "cluster:"
	case "dBSnapshotIdentifier":
		return "snapshot:"
	case "dBClusterSnapshotIdentifier":
		return "cluster-snapshot:"
	case "dBSubnetGroupName":
		return "subgrp:"
	}
	return ""
}

// rdsARN is the ARN of an RDS identifier: RDS keeps identifiers in lower
// case, and so do their ARNs.
func (c *call) rdsARN(prefix, id string) string {
	if isARN(id) {
		return id
	}
	if !okSegment(id) {
		return ""
	}
	return c.regional("rds", prefix+strings.ToLower(id))
}

func rdsParam(c *call, key, val string) bool {
	if prefix := rdsPrefix(key); prefix != "" {
		c.touch(c.rdsARN(prefix, val))
		return true
	}
	return false
}

// rdsMade says how an RDS create or delete call names its resource: the
// request parameter with its identifier, the ARN prefix, and the
// response member holding its ARN.
type rdsMade struct{ param, prefix, arn string }

var rdsCreates = map[string]rdsMade{
	"CreateDBInstance":                {"dBInstanceIdentifier", "db:", "dBInstanceArn"},
	"CreateDBInstanceReadReplica":     {"dBInstanceIdentifier", "db:", "dBInstanceArn"},
	"RestoreDBInstanceFromDBSnapshot": {"dBInstanceIdentifier", "db:", "dBInstanceArn"},
	"RestoreDBInstanceFromS3":         {"dBInstanceIdentifier", "db:", "dBInstanceArn"},
	"RestoreDBInstanceToPointInTime":  {"targetDBInstanceIdentifier", "db:", "dBInstanceArn"},
	"CreateDBCluster":                 {"dBClusterIdentifier", "cluster:", "dBClusterArn"},
	"RestoreDBClusterFromSnapshot":    {"dBClusterIdentifier", "cluster:", "dBClusterArn"},
	"RestoreDBClusterFromS3":          {"dBClusterIdentifier", "cluster:", "dBClusterArn"},
	"RestoreDBClusterToPointInTime":   {"dBClusterIdentifier", "cluster:", "dBClusterArn"},
	"CreateDBSnapshot":                {"dBSnapshotIdentifier", "snapshot:", "dBSnapshotArn"},
	"CopyDBSnapshot":                  {"targetDBSnapshotIdentifier", "snapshot:", "dBSnapshotArn"},
	"CreateDBClusterSnapshot":         {"dBClusterSnapshotIdentifier", "cluster-snapshot:", "dBClusterSnapshotArn"},
	"CopyDBClusterSnapshot":           {"targetDBClusterSnapshotIdentifier", "cluster-snapshot:", "dBClusterSnapshotArn"},
	"CreateDBSubnetGroup":             {"dBSubnetGroupName", "subgrp:", "dBSubnetGroupArn"},
}

var rdsDeletes = map[string]rdsMade{
	"DeleteDBInstance":        {"dBInstanceIdentifier", "db:", "dBInstanceArn"},
	"DeleteDBCluster":         {"dBClusterIdentifier", "cluster:", "dBClusterArn"},
	"DeleteDBSnapshot":        {"dBSnapshotIdentifier", "snapshot:", "dBSnapshotArn"},
	"DeleteDBClusterSnapshot": {"dBClusterSnapshotIdentifier", "cluster-snapshot:", "dBClusterSnapshotArn"},
	"DeleteDBSubnetGroup":     {"dBSubnetGroupName", "subgrp:", "dBSubnetGroupArn"},
}

// madeARN is the ARN of the resource an RDS create or delete call names:
// from its response, else from its identifier.
func (c *call) madeARN(m rdsMade) string {
	if arn := strOf(c.resp()[m.arn]); arn != "" {
		return arn
	}
	return c.rdsARN(m.prefix, strOf(c.req()[m.param]))
}

// rdsChange reads AddTagsToResource/RemoveTagsFromResource (resourceName
// holds the ARN; tags[].{key,value}, tagKeys[]) and the create and delete
// calls of rdsCreates and rdsDeletes. A created resource gets the
// request's tags, or when the request has none the response's tagList,
// which shows tags RDS copied (from a snapshot or an instance).
func rdsChange(c *call, name string) bool {
	switch name {
	case "AddTagsToResource":
		req := c.req()
		c.tag(strOf(fieldOf(req, "resourceName", "ResourceName")), tagsOf(fieldOf(req, "tags", "Tags")), nil)
	case "RemoveTagsFromResource":
		req := c.req()
		c.tag(strOf(fieldOf(req, "resourceName", "ResourceName")), nil, keysOf(fieldOf(req, "tagKeys", "TagKeys")))
	default:
		if m, ok := rdsCreates[name]; ok {
			tags := fieldOf(c.req(), "tags", "Tags")
			if tags == nil {
				tags = fieldOf(c.resp(), "tagList", "TagList")
			}
			c.create(c.madeARN(m), tagsOf(tags))
		} else if m, ok := rdsDeletes[name]; ok {
			c.remove(c.madeARN(m))
		} else {
			return false
		}
	}
	return true
}

// --- Elastic Load Balancing ---

// classicLB is the ARN of a Classic Load Balancer name.
func (c *call) classicLB(name string) string {
	if !okSegment(name) {
		return ""
	}
	return c.regional("elasticloadbalancing", "loadbalancer/"+name)
}

func elbParam(c *call, key, val string) bool {
	switch key {
	case "loadBalancerArn", "targetGroupArn", "listenerArn", "ruleArn",
		"loadBalancerArns", "targetGroupArns", "resourceArns":
		eachElement(val, c.touchARN)
	case "loadBalancerName", "loadBalancerNames":
		eachElement(val, func(s string) { c.touch(c.classicLB(s)) })
	default:
		return false
	}
	return true
}

// elbChange reads AddTags/RemoveTags of both APIs: version 2 names
// resourceArns[] and removes tagKeys[]; the classic API names
// loadBalancerNames[] and removes tags[].key. Both set tags[].{key,value}.
// CreateLoadBalancer, CreateTargetGroup, CreateListener and CreateRule
// take their ARNs from the response (a classic load balancer from its
// name); the matching Delete calls end them.
func elbChange(c *call, name string) bool {
	switch name {
	case "AddTags", "RemoveTags", "CreateLoadBalancer", "CreateTargetGroup", "CreateListener", "CreateRule", "DeleteLoadBalancer", "DeleteTargetGroup", "DeleteListener", "DeleteRule":
	default:
		return false
	}
	req := c.req()
	switch name {
	case "AddTags", "RemoveTags":
		arns := strs(fieldOf(req, "resourceArns", "ResourceArns"))
		for _, n := range strs(fieldOf(req, "loadBalancerNames", "LoadBalancerNames")) {
			arns = append(arns, c.classicLB(n))
		}
		set := tagsOf(fieldOf(req, "tags", "Tags"))
		var keys []string
		if name == "RemoveTags" {
			set = nil
			if keys = keysOf(fieldOf(req, "tagKeys", "TagKeys")); keys == nil {
				keys = keysOf(fieldOf(req, "tags", "Tags"))
			}
		}
		for _, arn := range arns {
			c.tag(arn, set, keys)
		}
	case "CreateLoadBalancer", "CreateTargetGroup", "CreateListener", "CreateRule":
		tags := tagsOf(fieldOf(req, "tags", "Tags"))
		where := elbCreates[name]
		made := false
		for _, it := range arrayOf(c.resp()[where[0]]) {
			c.create(strOf(fieldOf(it, where[1])), tags)
			made = true
		}
		if !made && name == "CreateLoadBalancer" {
			if n := strOf(fieldOf(req, "loadBalancerName")); n != "" {
				c.create(c.classicLB(n), tags)
			}
		}
	case "DeleteLoadBalancer":
		if arn := strOf(fieldOf(req, "loadBalancerArn")); arn != "" {
			c.remove(arn)
		} else {
			c.remove(c.classicLB(strOf(fieldOf(req, "loadBalancerName"))))
		}
	case "DeleteTargetGroup":
		c.remove(strOf(fieldOf(req, "targetGroupArn")))
	case "DeleteListener":
		c.remove(strOf(fieldOf(req, "listenerArn")))
	case "DeleteRule":
		c.remove(strOf(fieldOf(req, "ruleArn")))
	default:
		return false
	}
	return true
}

// elbCreates says where the response of each create call lists the
// ARNs of what it created: the array member, and the member of each
// element.
var elbCreates = map[string][2]string{
	"CreateLoadBalancer": {"loadBalancers", "loadBalancerArn"},
	"CreateTargetGroup":  {"targetGroups", "targetGroupArn"},
	"CreateListener":     {"listeners", "listenerArn"},
	"CreateRule":         {"rules", "ruleArn"},
}

// arrayOf is listOf for a value that is only ever an array.
func arrayOf(v any) []any {
	l, _ := v.([]any)
	return l
}

// --- CloudFormation ---

// A stack's ARN ends in an id its name does not give, so stacks are keyed
// only by ARN: a call naming a stack by name touches and changes nothing.

func stackParam(c *call, key, val string) bool {
	if key == "stackName" || key == "StackName" {
		c.touchARN(val)
		return true
	}
	return false
}

// stackChange reads CreateStack (responseElements.stackId,
// tags[].{key,value}), UpdateStack, which replaces the stack's tags when
// the request has a tags member (an empty one removes them all), and
// DeleteStack when its stackName is the stack's ARN.
func stackChange(c *call, name string) bool {
	switch name {
	case "CreateStack", "UpdateStack", "DeleteStack":
	default:
		return false
	}
	req := c.req()
	arn := strOf(c.resp()["stackId"])
	if n := strOf(fieldOf(req, "stackName", "StackName")); arn == "" && isARN(n) {
		arn = n
	}
	switch name {
	case "CreateStack":
		c.create(arn, tagsOf(fieldOf(req, "tags", "Tags")))
	case "UpdateStack":
		if t, ok := req["tags"]; ok {
			c.replace(arn, tagsOf(t))
		} else {
			c.touch(arn)
		}
	case "DeleteStack":
		c.remove(arn)
	default:
		return false
	}
	return true
}

// --- ECS ---

func (c *call) ecsCluster(s string) string {
	if !isARN(s) && !okSegment(s) {
		return ""
	}
	return c.named("ecs", "cluster/", s)
}

func ecsParam(c *call, key, val string) bool {
	if key == "cluster" {
		c.touch(c.ecsCluster(val))
		return true
	}
	return false
}

// ecsChange reads TagResource/UntagResource (resourceArn,
// tags[].{key,value}, tagKeys[]), CreateCluster, CreateService and
// RegisterTaskDefinition (ARNs from the response; tags[]), DeleteCluster
// and DeleteService.
func ecsChange(c *call, name string) bool {
	switch name {
	case "TagResource", "UntagResource", "CreateCluster", "CreateService", "RegisterTaskDefinition", "DeleteCluster", "DeleteService":
	default:
		return false
	}
	req, resp := c.req(), c.resp()
	tags := tagsOf(fieldOf(req, "tags", "Tags"))
	switch name {
	case "TagResource":
		c.tag(strOf(req["resourceArn"]), tags, nil)
	case "UntagResource":
		c.tag(strOf(req["resourceArn"]), nil, keysOf(req["tagKeys"]))
	case "CreateCluster":
		arn := strOf(pathOf(resp, "cluster", "clusterArn"))
		if arn == "" {
			n := strOf(req["clusterName"])
			if n == "" {
				n = "default"
			}
			arn = c.ecsCluster(n)
		}
		c.create(arn, tags)
	case "CreateService":
		c.create(strOf(pathOf(resp, "service", "serviceArn")), tags)
	case "RegisterTaskDefinition":
		c.create(strOf(pathOf(resp, "taskDefinition", "taskDefinitionArn")), tags)
	case "DeleteCluster":
		arn := strOf(pathOf(resp, "cluster", "clusterArn"))
		if arn == "" {
			arn = c.ecsCluster(strOf(req["cluster"]))
		}
		c.remove(arn)
	case "DeleteService":
		c.remove(strOf(pathOf(resp, "service", "serviceArn")))
	default:
		return false
	}
	return true
}

// --- EKS ---

func (c *call) eksCluster(s string) string {
	if !isARN(s) && !okSegment(s) {
		return ""
	}
	return c.named("eks", "cluster/", s)
}

func eksParam(c *call, key, val string) bool {
	switch {
	case key == "clusterName", key == "name" && strings.HasSuffix(c.ev.EventName, "Cluster"):
		c.touch(c.eksCluster(val))
		return true
	}
	return false
}

// eksChange reads TagResource/UntagResource (resourceArn, tags{},
// tagKeys[]), CreateCluster (responseElements.cluster.arn, else the name;
// tags{}), CreateNodegroup (nodegroup.nodegroupArn), DeleteCluster and
// DeleteNodegroup.
func eksChange(c *call, name string) bool {
	switch name {
	case "TagResource", "UntagResource", "CreateCluster", "DeleteCluster", "CreateNodegroup", "DeleteNodegroup":
	default:
		return false
	}
	req, resp := c.req(), c.resp()
	switch name {
	case "TagResource":
		c.tag(strOf(req["resourceArn"]), tagsOf(req["tags"]), nil)
	case "UntagResource":
		c.tag(strOf(req["resourceArn"]), nil, keysOf(req["tagKeys"]))
	case "CreateCluster", "DeleteCluster":
		arn := strOf(pathOf(resp, "cluster", "arn"))
		if arn == "" {
			arn = c.eksCluster(strOf(req["name"]))
		}
		if name == "CreateCluster" {
			c.create(arn, tagsOf(req["tags"]))
		} else {
			c.remove(arn)
		}
	case "CreateNodegroup":
		c.create(strOf(pathOf(resp, "nodegroup", "nodegroupArn")), tagsOf(req["tags"]))
	case "DeleteNodegroup":
		c.remove(strOf(pathOf(resp, "nodegroup", "nodegroupArn")))
	default:
		return false
	}
	return true
}

// --- CloudWatch Logs ---

// logGroupARN is the ARN of a log group name, or of a log group ARN
// without the ":*" some APIs append.
func (c *call) logGroupARN(s string) string {
	if isARN(s) {
		return strings.TrimSuffix(s, ":*")
	}
	if !okName(s) {
		return ""
	}
	return c.regional("logs", "log-group:"+s)
}

func logsParam(c *call, key, val string) bool {
	switch key {
	case "logGroupName", "logGroupIdentifier":
		c.touch(c.logGroupARN(val))
	case "resourceArn":
		c.touch(c.logGroupARN(val))
	default:
		return false
	}
	return true
}

// logsChange reads TagLogGroup (logGroupName, tags{}), UntagLogGroup
// (tags[] of keys), TagResource/UntagResource (resourceArn, tags{},
// tagKeys[]), CreateLogGroup (tags{}) and DeleteLogGroup.
func logsChange(c *call, name string) bool {
	switch name {
	case "TagLogGroup", "UntagLogGroup", "TagResource", "UntagResource", "CreateLogGroup", "DeleteLogGroup":
	default:
		return false
	}
	req := c.req()
	group := c.logGroupARN(strOf(req["logGroupName"]))
	switch name {
	case "TagLogGroup":
		c.tag(group, tagsOf(req["tags"]), nil)
	case "UntagLogGroup":
		c.tag(group, nil, keysOf(req["tags"]))
	case "TagResource":
		c.tag(c.logGroupARN(strOf(req["resourceArn"])), tagsOf(req["tags"]), nil)
	case "UntagResource":
		c.tag(c.logGroupARN(strOf(req["resourceArn"])), nil, keysOf(req["tagKeys"]))
	case "CreateLogGroup":
		c.create(group, tagsOf(req["tags"]))
	case "DeleteLogGroup":
		c.remove(group)
	default:
		return false
	}
	return true
}

// --- CloudTrail ---

func (c *call) trailARN(s string) string {
	if !isARN(s) && !okSegment(s) {
		return ""
	}
	return c.named("cloudtrail", "trail/", s)
}

// trailParam touches the trail trailName names, or name in the calls
// that name a trail by it (CreateTrail, StartLogging, GetTrailStatus,
// ...; other calls use name for event data stores and channels).
func trailParam(c *call, key, val string) bool {
	n := c.ev.EventName
	if key == "trailName" || key == "name" && (strings.Contains(n, "Trail") || strings.Contains(n, "Logging")) {
		c.touch(c.trailARN(val))
		return true
	}
	return false
}

// trailChange reads CreateTrail (responseElements.trailARN,
// tagsList[].{key,value}), DeleteTrail, and AddTags/RemoveTags
// (resourceId holds the trail's ARN; tagsList[]).
func trailChange(c *call, name string) bool {
	switch name {
	case "CreateTrail", "DeleteTrail", "AddTags", "RemoveTags":
	default:
		return false
	}
	req := c.req()
	switch name {
	case "CreateTrail":
		arn := strOf(c.resp()["trailARN"])
		if arn == "" {
			arn = c.trailARN(strOf(req["name"]))
		}
		c.create(arn, tagsOf(fieldOf(req, "tagsList", "TagsList")))
	case "DeleteTrail":
		c.remove(c.trailARN(strOf(req["name"])))
	case "AddTags":
		c.tag(strOf(req["resourceId"]), tagsOf(fieldOf(req, "tagsList", "TagsList")), nil)
	case "RemoveTags":
		c.tag(strOf(req["resourceId"]), nil, keysOf(fieldOf(req, "tagsList", "TagsList")))
	default:
		return false
	}
	return true
}

// --- Resource Groups Tagging API ---

// taggingChange reads TagResources/UntagResources: resourceARNList[],
// tags{}, tagKeys[]. The ARNs responseElements.failedResourcesMap holds
// failed and are only touched.
func taggingChange(c *call, name string) bool {
	if name != "TagResources" && name != "UntagResources" {
		return false
	}
	req := c.req()
	failed, _ := fieldOf(c.resp(), "failedResourcesMap", "FailedResourcesMap").(map[string]any)
	for _, arn := range strs(fieldOf(req, "resourceARNList", "ResourceARNList")) {
		if _, bad := failed[arn]; bad {
			c.touch(arn)
		} else if name == "TagResources" {
			c.tag(arn, tagsOf(fieldOf(req, "tags", "Tags")), nil)
		} else {
			c.tag(arn, nil, keysOf(fieldOf(req, "tagKeys", "TagKeys")))
		}
	}
	return true
}
