package gen

import (
	"net/url"
	"strconv"

	"github.com/trailbook/trailbook/internal/jsontext"
)

// kindOps names the calls that create, tag and untag one kind of resource.
type kindOps struct {
	create, tag, untag *template
}

// Each service spells its tag parameters its own way; these writers cover
// the four spellings CloudTrail records.

// tagList writes "k":[{"key":..,"value":..}] (IAM, SNS, DynamoDB, Secrets
// Manager, RDS, ELB, EC2 tag specifications).
func tagList(w *jsonw, k string, tags []tag) {
	w.arrK(k)
	for _, t := range tags {
		w.open()
		w.str("key", t.key)
		w.str("value", t.value)
		w.close()
	}
	w.closeArr()
}

// tagMap writes "k":{"Key":"Value",...} (Lambda, SQS, Resource Groups
// Tagging API).
func tagMap(w *jsonw, k string, tags []tag) {
	w.openK(k)
	for _, t := range tags {
		w.sep()
		w.b = jsontext.AppendString(w.b, t.key)
		w.b = append(w.b, ':')
		w.b = jsontext.AppendString(w.b, t.value)
		w.need = true
	}
	w.close()
}

// tagKMS writes "tags":[{"tagKey":..,"tagValue":..}] (KMS).
func tagKMS(w *jsonw, tags []tag) {
	w.arrK("tags")
	for _, t := range tags {
		w.open()
		w.str("tagKey", t.key)
		w.str("tagValue", t.value)
		w.close()
	}
	w.closeArr()
}

func tagKeys(w *jsonw, keys []string) {
	w.arrK("tagKeys")
	for _, k := range keys {
		w.elem(k)
	}
	w.closeArr()
}

// ec2TagSet writes "tagSet":{"items":[{"key":..[,"value":..]}]}.
func ec2TagSet(w *jsonw, tags []tag, keys []string) {
	w.openK("tagSet")
	w.arrK("items")
	for _, t := range tags {
		w.open()
		w.str("key", t.key)
		w.str("value", t.value)
		w.close()
	}
	for _, k := range keys {
		w.open()
		w.str("key", k)
		w.close()
	}
	w.closeArr()
	w.close()
}

// tagSpec writes EC2's tagSpecificationSet for a create call.
func tagSpec(w *jsonw, resourceType string, tags []tag) {
	if len(tags) == 0 {
		return
	}
	w.openK("tagSpecificationSet")
	w.arrK("items")
	w.open()
	w.str("resourceType", resourceType)
	tagList(w, "tags", tags)
	w.close()
	w.closeArr()
	w.close()
}

// targets is the resources a tagging step addresses: its group, or its
// single resource.
func targets(e *ev) []*resource {
	if len(e.st.group) > 0 {
		return e.st.group
	}
	return []*resource{e.res}
}

func (c *catalog) addTagging() {
	human := mix{45, 0, 55, 0, 0}
	ec2Tags := func(e *ev) {
		w := e.w
		e.reqOpen()
		w.openK("resourcesSet")
		w.arrK("items")
		for _, r := range targets(e) {
			w.open()
			w.str("resourceId", r.id)
			w.close()
		}
		w.closeArr()
		w.close()
		ec2TagSet(w, e.st.tags, e.st.keys)
		w.close()
		e.ec2Return()
	}
	ec2Tag := c.def("ec2", "CreateTags", 0, false, kInstance, human, ec2Tags)
	ec2Untag := c.def("ec2", "DeleteTags", 0, false, kInstance, human, ec2Tags)

	iamTag := func(name, idKey string, k kind) (*template, *template) {
		t := c.def("iam", "Tag"+name, 0, false, k, human, func(e *ev) {
			e.reqOpen()
			e.w.str(idKey, e.res.id)
			tagList(e.w, "tags", e.st.tags)
			e.w.close()
			e.w.null("responseElements")
		})
		u := c.def("iam", "Untag"+name, 0, false, k, human, func(e *ev) {
			e.reqOpen()
			e.w.str(idKey, e.res.id)
			tagKeys(e.w, e.st.keys)
			e.w.close()
			e.w.null("responseElements")
		})
		return t, u
	}
	roleTag, roleUntag := iamTag("Role", "roleName", kRole)
	userTag, userUntag := iamTag("User", "userName", kUser)

	// arnTag builds TagResource/UntagResource pairs whose target is named
	// by idKey and whose tags are written by write.
	arnTag := func(svc, tagName, untagName, idKey string, k kind, id func(*resource) string, write func(*jsonw, []tag), resType string) (*template, *template) {
		t := c.def(svc, tagName, 0, false, k, human, func(e *ev) {
			e.reqOpen()
			e.w.str(idKey, id(e.res))
			write(e.w, e.st.tags)
			e.w.close()
			e.w.null("responseElements")
			if resType != "" {
				e.addRes(resType, e.res.arn)
			}
		})
		u := c.def(svc, untagName, 0, false, k, human, func(e *ev) {
			e.reqOpen()
			e.w.str(idKey, id(e.res))
			tagKeys(e.w, e.st.keys)
			e.w.close()
			e.w.null("responseElements")
			if resType != "" {
				e.addRes(resType, e.res.arn)
			}
		})
		return t, u
	}
	arn := func(r *resource) string { return r.arn }
	list := func(w *jsonw, tags []tag) { tagList(w, "tags", tags) }
	mapped := func(w *jsonw, tags []tag) { tagMap(w, "tags", tags) }
	fnTag, fnUntag := arnTag("lambda", "TagResource20170331v2", "UntagResource20170331v2", "resource", kFunction, arn, mapped, "")
	keyTag, keyUntag := arnTag("kms", "TagResource", "UntagResource", "keyId", kKey, arn, tagKMS, "AWS::KMS::Key")
	qTag, qUntag := arnTag("sqs", "TagQueue", "UntagQueue", "queueUrl", kQueue, func(r *resource) string { return r.extra }, mapped, "")
	topicTag, topicUntag := arnTag("sns", "TagResource", "UntagResource", "resourceArn", kTopic, arn, list, "")
	tableTag, tableUntag := arnTag("dynamodb", "TagResource", "UntagResource", "resourceArn", kTable, arn, list, "AWS::DynamoDB::Table")
	secTag, secUntag := arnTag("secretsmanager", "TagResource", "UntagResource", "secretId", kSecret, arn, list, "")
	dbTag, dbUntag := arnTag("rds", "AddTagsToResource", "RemoveTagsFromResource", "resourceName", kDB, arn, list, "")

	elb := func(name string, render func(*ev)) *template {
		t := c.def("elasticloadbalancing", name, 0, false, kLoadBalancer, human, render)
		t.apiVersion = "2015-12-01"
		return t
	}
	lbTag := elb("AddTags", func(e *ev) {
		e.reqOpen()
		e.w.arrK("resourceArns")
		e.w.elem(e.res.arn)
		e.w.closeArr()
		tagList(e.w, "tags", e.st.tags)
		e.w.close()
		e.w.null("responseElements")
	})
	lbUntag := elb("RemoveTags", func(e *ev) {
		e.reqOpen()
		e.w.arrK("resourceArns")
		e.w.elem(e.res.arn)
		e.w.closeArr()
		tagKeys(e.w, e.st.keys)
		e.w.close()
		e.w.null("responseElements")
	})

	rgta := func(name string, untag bool) {
		c.def("tagging", name, 0, false, noKind, mix{50, 0, 50, 0, 0}, func(e *ev) {
			w := e.w
			e.reqOpen()
			w.arrK("resourceARNList")
			for _, r := range targets(e) {
				w.elem(r.arn)
			}
			w.closeArr()
			if untag {
				tagKeys(w, e.st.keys)
			} else {
				tagMap(w, "tags", e.st.tags)
			}
			w.close()
			if e.respOpen() {
				w.raw("failedResourcesMap", "{}")
				w.close()
			}
		})
	}
	rgta("TagResources", false)
	rgta("UntagResources", true)

	auto := mix{25, 0, 75, 0, 0}
	c.ops[kInstance] = kindOps{c.def("ec2", "RunInstances", 0, false, kInstance, auto, runInstances), ec2Tag, ec2Untag}
	c.ops[kVolume] = kindOps{c.def("ec2", "CreateVolume", 0, false, kVolume, auto, createVolume), ec2Tag, ec2Untag}
	c.ops[kSecurityGroup] = kindOps{c.def("ec2", "CreateSecurityGroup", 0, false, kSecurityGroup, auto, createSecurityGroup), ec2Tag, ec2Untag}
	c.ops[kBucket] = kindOps{c.get("s3", "CreateBucket"), c.get("s3", "PutBucketTagging"), c.get("s3", "DeleteBucketTagging")}
	c.ops[kRole] = kindOps{c.def("iam", "CreateRole", 0, false, kRole, auto, createRole), roleTag, roleUntag}
	c.ops[kUser] = kindOps{c.def("iam", "CreateUser", 0, false, kUser, auto, createUser), userTag, userUntag}
	c.ops[kFunction] = kindOps{c.def("lambda", "CreateFunction20150331", 0, false, kFunction, auto, createFunction), fnTag, fnUntag}
	c.ops[kKey] = kindOps{c.def("kms", "CreateKey", 0, false, kKey, auto, createKey), keyTag, keyUntag}
	c.ops[kQueue] = kindOps{c.def("sqs", "CreateQueue", 0, false, kQueue, auto, createQueue), qTag, qUntag}
	c.ops[kTopic] = kindOps{c.def("sns", "CreateTopic", 0, false, kTopic, auto, createTopic), topicTag, topicUntag}
	c.ops[kTable] = kindOps{c.def("dynamodb", "CreateTable", 0, false, kTable, auto, createTable), tableTag, tableUntag}
	c.ops[kSecret] = kindOps{c.def("secretsmanager", "CreateSecret", 0, false, kSecret, auto, createSecret), secTag, secUntag}
	c.ops[kDB] = kindOps{c.def("rds", "CreateDBInstance", 0, false, kDB, auto, createDBInstance), dbTag, dbUntag}
	c.ops[kLoadBalancer] = kindOps{elb("CreateLoadBalancer", createLoadBalancer), lbTag, lbUntag}
}

func appendClientToken(e *ev) {
	w := e.w
	w.key("clientToken")
	w.b = append(w.b, '"')
	w.b = appendUpperUUID(w.b, e.r)
	w.b = append(w.b, '"')
	w.need = true
}

func privateIP(e *ev, r *resource) string {
	return "10." + strconv.Itoa(e.s.idx*16+int(r.id[3]&15)) + "." + strconv.Itoa(int(r.id[4])*3%256) + "." + strconv.Itoa(int(r.id[5])*7%254+1)
}

func runInstances(e *ev) {
	w, in, tags := e.w, e.res, e.st.tags
	ami := e.s.amis[int(in.id[6])%len(e.s.amis)]
	subnet := e.s.subnet[int(in.id[7])%len(e.s.subnet)]
	sg := pickRes(e.r, e.s, kSecurityGroup, e.pos)
	e.reqOpen()
	w.openK("instancesSet")
	w.arrK("items")
	w.open()
	w.str("imageId", ami)
	w.num("minCount", 1)
	w.num("maxCount", 1)
	w.close()
	w.closeArr()
	w.close()
	w.str("instanceType", in.extra)
	w.raw("blockDeviceMapping", "{}")
	w.raw("monitoring", `{"enabled":false}`)
	w.boolean("disableApiTermination", false)
	w.boolean("disableApiStop", false)
	appendClientToken(e)
	w.openK("networkInterfaceSet")
	w.arrK("items")
	w.open()
	w.num("deviceIndex", 0)
	w.str("subnetId", subnet)
	w.boolean("associatePublicIpAddress", false)
	if sg != nil {
		itemsOne(w, "groupSet", "groupId", sg.id)
	}
	w.close()
	w.closeArr()
	w.close()
	w.raw("iamInstanceProfile", `{"name":"`+in.role.id+`"}`)
	w.boolean("ebsOptimized", true)
	tagSpec(w, "instance", tags)
	w.raw("metadataOptions", `{"httpTokens":"required","httpPutResponseHopLimit":2,"httpEndpoint":"enabled"}`)
	w.close()
	if !e.respOpen() {
		return
	}
	w.key("requestId")
	w.b = jsontext.AppendString(w.b, e.reqID)
	w.need = true
	w.key("reservationId")
	w.b = append(w.b, `"r-0`...)
	w.b = appendHex(w.b, e.r.Uint64(), 16)
	w.b = append(w.b, '"')
	w.need = true
	w.str("ownerId", e.s.acct.id)
	w.raw("groupSet", "{}")
	w.openK("instancesSet")
	w.arrK("items")
	w.open()
	w.str("instanceId", in.id)
	w.str("imageId", ami)
	w.raw("instanceState", `{"code":0,"name":"pending"}`)
	ip := privateIP(e, in)
	w.str("privateDnsName", "ip-"+dashed(ip)+"."+e.s.region+".compute.internal")
	w.num("amiLaunchIndex", 0)
	w.raw("productCodes", "{}")
	w.str("instanceType", in.extra)
	w.num("launchTime", e.t*1000)
	w.raw("placement", `{"availabilityZone":"`+in.az+`","tenancy":"default"}`)
	w.raw("monitoring", `{"state":"disabled"}`)
	w.str("subnetId", subnet)
	w.str("vpcId", e.s.vpcs[0])
	w.str("privateIpAddress", ip)
	w.raw("stateReason", `{"code":"pending","message":"pending"}`)
	w.str("architecture", "x86_64")
	w.str("rootDeviceType", "ebs")
	w.str("rootDeviceName", "/dev/xvda")
	w.raw("blockDeviceMapping", "{}")
	w.str("virtualizationType", "hvm")
	w.str("hypervisor", "xen")
	if len(tags) > 0 {
		ec2TagSet(w, tags, nil)
	}
	if sg != nil {
		w.raw("groupSet", `{"items":[{"groupId":"`+sg.id+`","groupName":"`+sg.name+`"}]}`)
	}
	w.boolean("sourceDestCheck", true)
	w.boolean("ebsOptimized", true)
	w.boolean("enaSupport", true)
	w.raw("metadataOptions", `{"state":"pending","httpTokens":"required","httpPutResponseHopLimit":2,"httpEndpoint":"enabled"}`)
	w.close()
	w.closeArr()
	w.close()
	w.close()
}

func dashed(ip string) string {
	b := []byte(ip)
	for i, c := range b {
		if c == '.' {
			b[i] = '-'
		}
	}
	return string(b)
}

func createVolume(e *ev) {
	w, v := e.w, e.res
	e.reqOpen()
	w.str("size", v.extra)
	w.str("zone", v.az)
	w.str("volumeType", "gp3")
	w.boolean("encrypted", true)
	tagSpec(w, "volume", e.st.tags)
	appendClientToken(e)
	w.close()
	if e.respOpen() {
		w.key("requestId")
		w.b = jsontext.AppendString(w.b, e.reqID)
		w.need = true
		w.str("volumeId", v.id)
		w.str("size", v.extra)
		w.str("zone", v.az)
		w.str("status", "creating")
		w.num("createTime", e.t*1000)
		w.str("volumeType", "gp3")
		w.num("iops", 3000)
		w.boolean("encrypted", true)
		if len(e.st.tags) > 0 {
			ec2TagSet(w, e.st.tags, nil)
		}
		w.boolean("multiAttachEnabled", false)
		w.num("throughput", 125)
		w.close()
	}
}

func createSecurityGroup(e *ev) {
	w, sg := e.w, e.res
	e.reqOpen()
	w.str("groupName", sg.name)
	w.str("groupDescription", "Managed by Terraform")
	w.str("vpcId", sg.extra)
	tagSpec(w, "security-group", e.st.tags)
	w.close()
	if e.respOpen() {
		w.key("requestId")
		w.b = jsontext.AppendString(w.b, e.reqID)
		w.need = true
		w.boolean("_return", true)
		w.str("groupId", sg.id)
		w.str("securityGroupArn", sg.arn)
		w.close()
	}
}

func trustPolicy(service string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + service + `"},"Action":"sts:AssumeRole"}]}`
}

func createRole(e *ev) {
	w, role := e.w, e.res
	service := "ec2.amazonaws.com"
	if len(role.id) > 12 && role.id[len(role.id)-12:] == "-lambda-role" {
		service = "lambda.amazonaws.com"
	}
	doc := trustPolicy(service)
	e.reqOpen()
	w.str("path", "/")
	w.str("roleName", role.id)
	w.str("assumeRolePolicyDocument", doc)
	w.num("maxSessionDuration", 3600)
	if len(e.st.tags) > 0 {
		tagList(w, "tags", e.st.tags)
	}
	w.close()
	if e.respOpen() {
		w.openK("role")
		w.str("path", "/")
		w.str("roleName", role.id)
		w.str("roleId", role.idNum)
		w.str("arn", role.arn)
		w.longDate("createDate", e.t, false)
		w.str("assumeRolePolicyDocument", url.QueryEscape(doc))
		if len(e.st.tags) > 0 {
			tagList(w, "tags", e.st.tags)
		}
		w.close()
		w.close()
	}
}

func createUser(e *ev) {
	w := e.w
	name := stepName(e)
	e.reqOpen()
	w.str("path", "/")
	w.str("userName", name)
	if len(e.st.tags) > 0 {
		tagList(w, "tags", e.st.tags)
	}
	w.close()
	if e.respOpen() {
		w.openK("user")
		w.str("path", "/")
		w.str("userName", name)
		if e.res != nil && e.st.name == "" {
			w.str("userId", e.res.idNum)
			w.str("arn", e.res.arn)
		} else {
			w.key("userId")
			w.b = append(w.b, '"')
			w.b = appendKeyID(w.b, "AIDA", e.r.Uint64())
			w.b = append(w.b, '"')
			w.need = true
			w.str("arn", "arn:aws:iam::"+e.s.acct.id+":user/"+name)
		}
		w.longDate("createDate", e.t, false)
		if len(e.st.tags) > 0 {
			tagList(w, "tags", e.st.tags)
		}
		w.close()
		w.close()
	}
}

func createFunction(e *ev) {
	w, fn := e.w, e.res
	e.reqOpen()
	w.str("functionName", fn.id)
	w.str("runtime", fn.extra)
	w.str("role", fn.role.arn)
	w.str("handler", "app.handler")
	w.raw("code", "{}")
	w.str("description", "")
	w.num("timeout", 30)
	w.num("memorySize", 512)
	w.boolean("publish", false)
	w.raw("environment", "{}")
	if len(e.st.tags) > 0 {
		tagMap(w, "tags", e.st.tags)
	}
	w.raw("architectures", `["arm64"]`)
	w.str("packageType", "Zip")
	w.close()
	if e.respOpen() {
		functionConfig(e, "Pending")
		w.close()
	}
}

func createKey(e *ev) {
	w, k := e.w, e.res
	e.reqOpen()
	w.str("description", k.app+" data key")
	w.str("keyUsage", "ENCRYPT_DECRYPT")
	w.str("keySpec", "SYMMETRIC_DEFAULT")
	w.str("origin", "AWS_KMS")
	w.boolean("bypassPolicyLockoutSafetyCheck", false)
	if len(e.st.tags) > 0 {
		tagKMS(w, e.st.tags)
	}
	w.boolean("multiRegion", false)
	w.close()
	if e.respOpen() {
		w.openK("keyMetadata")
		w.str("AWSAccountId", e.s.acct.id)
		w.str("keyId", k.id)
		w.str("arn", k.arn)
		w.longDate("creationDate", e.t, true)
		w.boolean("enabled", true)
		w.str("description", k.app+" data key")
		w.str("keyUsage", "ENCRYPT_DECRYPT")
		w.str("keyState", "Enabled")
		w.str("origin", "AWS_KMS")
		w.str("keyManager", "CUSTOMER")
		w.str("customerMasterKeySpec", "SYMMETRIC_DEFAULT")
		w.str("keySpec", "SYMMETRIC_DEFAULT")
		w.raw("encryptionAlgorithms", `["SYMMETRIC_DEFAULT"]`)
		w.boolean("multiRegion", false)
		w.close()
		w.close()
	}
	e.addRes("AWS::KMS::Key", k.arn)
}

func createQueue(e *ev) {
	w, q := e.w, e.res
	e.reqOpen()
	w.str("queueName", q.id)
	if len(e.st.tags) > 0 {
		tagMap(w, "tags", e.st.tags)
	}
	w.raw("attributes", `{"VisibilityTimeout":"30","MessageRetentionPeriod":"345600","KmsMasterKeyId":"alias/aws/sqs"}`)
	w.close()
	if e.respOpen() {
		w.str("queueUrl", q.extra)
		w.close()
	}
}

func createTopic(e *ev) {
	w, t := e.w, e.res
	e.reqOpen()
	w.str("name", t.id)
	if len(e.st.tags) > 0 {
		tagList(w, "tags", e.st.tags)
	}
	w.close()
	if e.respOpen() {
		w.str("topicArn", t.arn)
		w.close()
	}
}

func createTable(e *ev) {
	w, t := e.w, e.res
	e.reqOpen()
	w.str("tableName", t.id)
	w.raw("attributeDefinitions", `[{"attributeName":"pk","attributeType":"S"},{"attributeName":"sk","attributeType":"S"}]`)
	w.raw("keySchema", `[{"attributeName":"pk","keyType":"HASH"},{"attributeName":"sk","keyType":"RANGE"}]`)
	w.str("billingMode", "PAY_PER_REQUEST")
	w.raw("sSESpecification", `{"enabled":true}`)
	if len(e.st.tags) > 0 {
		tagList(w, "tags", e.st.tags)
	}
	w.boolean("deletionProtectionEnabled", true)
	w.close()
	if e.respOpen() {
		w.openK("tableDescription")
		w.raw("attributeDefinitions", `[{"attributeName":"pk","attributeType":"S"},{"attributeName":"sk","attributeType":"S"}]`)
		w.str("tableName", t.id)
		w.raw("keySchema", `[{"attributeName":"pk","keyType":"HASH"},{"attributeName":"sk","keyType":"RANGE"}]`)
		w.str("tableStatus", "CREATING")
		w.longDate("creationDateTime", e.t, true)
		w.raw("provisionedThroughput", `{"numberOfDecreasesToday":0,"readCapacityUnits":0,"writeCapacityUnits":0}`)
		w.num("tableSizeBytes", 0)
		w.num("itemCount", 0)
		w.str("tableArn", t.arn)
		w.key("tableId")
		w.b = append(w.b, '"')
		w.b = appendUUID(w.b, e.r)
		w.b = append(w.b, '"')
		w.need = true
		w.raw("billingModeSummary", `{"billingMode":"PAY_PER_REQUEST"}`)
		w.boolean("deletionProtectionEnabled", true)
		w.close()
		w.close()
	}
	e.addRes("AWS::DynamoDB::Table", t.arn)
}

func createSecret(e *ev) {
	w, s := e.w, e.res
	e.reqOpen()
	w.str("name", s.id)
	w.key("clientRequestToken")
	w.b = append(w.b, '"')
	w.b = appendUpperUUID(w.b, e.r)
	w.b = append(w.b, '"')
	w.need = true
	w.str("description", "Managed by Terraform")
	if len(e.st.tags) > 0 {
		tagList(w, "tags", e.st.tags)
	}
	w.boolean("forceOverwriteReplicaSecret", false)
	w.close()
	if e.respOpen() {
		w.str("arn", s.arn)
		w.close()
	}
}

func createDBInstance(e *ev) {
	w, db := e.w, e.res
	e.reqOpen()
	w.str("dBInstanceIdentifier", db.id)
	w.num("allocatedStorage", 100)
	w.str("dBInstanceClass", "db.r6g.large")
	w.str("engine", db.extra)
	w.str("masterUsername", "dbadmin")
	w.str("masterUserPassword", "HIDDEN_DUE_TO_SECURITY_REASONS")
	w.str("dBSubnetGroupName", db.app+"-db-subnets")
	w.num("backupRetentionPeriod", 14)
	w.boolean("multiAZ", true)
	w.boolean("storageEncrypted", true)
	if len(e.st.tags) > 0 {
		tagList(w, "tags", e.st.tags)
	}
	w.boolean("deletionProtection", true)
	w.close()
	if e.respOpen() {
		dbInstance(e, "creating")
		w.close()
	}
}

func createLoadBalancer(e *ev) {
	w, lb := e.w, e.res
	sg := pickRes(e.r, e.s, kSecurityGroup, e.pos)
	e.reqOpen()
	w.str("name", lb.id)
	w.arrK("subnets")
	w.elem(e.s.subnet[0])
	w.elem(e.s.subnet[1])
	w.closeArr()
	if sg != nil {
		w.arrK("securityGroups")
		w.elem(sg.id)
		w.closeArr()
	}
	w.str("scheme", "internet-facing")
	w.str("type", "application")
	w.str("ipAddressType", "ipv4")
	if len(e.st.tags) > 0 {
		tagList(w, "tags", e.st.tags)
	}
	w.close()
	if !e.respOpen() {
		return
	}
	w.arrK("loadBalancers")
	w.open()
	w.str("loadBalancerArn", lb.arn)
	w.str("dNSName", lb.id+"-"+strconv.Itoa(100000000+int(e.r.IntN(900000000)))+"."+e.s.region+".elb.amazonaws.com")
	w.str("canonicalHostedZoneId", "Z35SXDOTRQ7X7K")
	w.longDate("createdTime", e.t, true)
	w.str("loadBalancerName", lb.id)
	w.str("scheme", "internet-facing")
	w.str("vpcId", e.s.vpcs[0])
	w.raw("state", `{"code":"provisioning"}`)
	w.str("type", "application")
	w.arrK("availabilityZones")
	for i := range 2 {
		w.open()
		w.str("zoneName", e.s.azs[i%len(e.s.azs)])
		w.str("subnetId", e.s.subnet[i])
		w.close()
	}
	w.closeArr()
	if sg != nil {
		w.arrK("securityGroups")
		w.elem(sg.id)
		w.closeArr()
	}
	w.str("ipAddressType", "ipv4")
	w.close()
	w.closeArr()
	w.close()
}
