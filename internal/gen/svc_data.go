package gen

import "strconv"

// encryptionContext writes the context AWS services put on KMS calls they
// make for a caller (invokedBy), naming the resource they protect.
func encryptionContext(e *ev) {
	w, r := e.w, e.r
	switch e.via {
	case "secretsmanager.amazonaws.com":
		if sec := pickRes(r, e.s, kSecret, e.pos); sec != nil {
			w.openK("encryptionContext")
			w.str("SecretARN", sec.arn)
			w.key("SecretVersionId")
			w.b = append(w.b, '"')
			w.b = appendUpperUUID(w.b, r)
			w.b = append(w.b, '"')
			w.need = true
			w.close()
		}
	case "s3.amazonaws.com":
		if b := pickRes(r, e.s, kBucket, e.pos); b != nil {
			key := objectKey(e)
			w.openK("encryptionContext")
			w.key("aws:s3:arn")
			w.b = append(w.b, `"arn:aws:s3:::`...)
			w.b = append(w.b, b.id...)
			w.b = append(w.b, '/')
			w.b = append(w.b, key...)
			w.b = append(w.b, '"')
			w.need = true
			w.close()
		}
	case "ec2.amazonaws.com":
		if v := pickRes(r, e.s, kVolume, e.pos); v != nil {
			w.openK("encryptionContext")
			w.str("aws:ebs:id", v.id)
			w.close()
		}
	case "lambda.amazonaws.com":
		if fn := pickRes(r, e.s, kFunction, e.pos); fn != nil {
			w.openK("encryptionContext")
			w.str("aws:lambda:FunctionArn", fn.arn)
			w.close()
		}
	case "rds.amazonaws.com":
		if db := pickRes(r, e.s, kDB, e.pos); db != nil {
			w.openK("encryptionContext")
			w.str("aws:rds:db-id", db.idNum)
			w.close()
		}
	case "dynamodb.amazonaws.com":
		if t := pickRes(r, e.s, kTable, e.pos); t != nil {
			w.openK("encryptionContext")
			w.str("aws:dynamodb:tableName", t.id)
			w.str("aws:dynamodb:subscriberId", e.s.acct.id)
			w.close()
		}
	case "ssm.amazonaws.com":
		w.openK("encryptionContext")
		w.str("PARAMETER_ARN", "arn:aws:ssm:"+e.s.region+":"+e.s.acct.id+":parameter"+paramName(e))
		w.close()
	default:
		if r.IntN(2) == 0 {
			w.openK("encryptionContext")
			w.str("app", e.res.app)
			w.close()
		}
	}
}

func keyRef(e *ev) string {
	if e.r.IntN(3) == 0 {
		return e.res.name
	}
	return e.res.arn
}

func paramName(e *ev) string {
	a := e.s.acct
	return "/" + a.envShort + "/" + pick(e.r, a.apps) + "/" + pick(e.r, []string{"db/host", "db/password", "api/base-url", "feature-flags", "log-level", "queue-url", "cache/endpoint"})
}

func (c *catalog) addKMS() {
	behalf := []string{"secretsmanager.amazonaws.com", "s3.amazonaws.com", "s3.amazonaws.com", "ec2.amazonaws.com", "lambda.amazonaws.com", "rds.amazonaws.com", "dynamodb.amazonaws.com", "ssm.amazonaws.com"}
	t := c.def("kms", "Decrypt", 80, true, kKey, mix{4, 36, 0, 60, 0}, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.str("encryptionAlgorithm", "SYMMETRIC_DEFAULT")
		if e.via == "" && e.r.IntN(3) == 0 {
			w.str("keyId", e.res.arn)
		}
		encryptionContext(e)
		w.close()
		w.null("responseElements")
		e.addRes("AWS::KMS::Key", e.res.arn)
	})
	t.services, t.behalf, t.consoleOK = behalf, true, false
	t = c.def("kms", "GenerateDataKey", 24, true, kKey, mix{2, 38, 0, 60, 0}, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.str("keyId", keyRef(e))
		w.str("keySpec", "AES_256")
		encryptionContext(e)
		w.close()
		w.null("responseElements")
		e.addRes("AWS::KMS::Key", e.res.arn)
	})
	t.services, t.behalf, t.consoleOK = behalf, true, false
	t = c.def("kms", "Encrypt", 6, true, kKey, mix{5, 95, 0, 0, 0}, func(e *ev) {
		e.reqOpen()
		e.w.str("keyId", keyRef(e))
		e.w.str("encryptionAlgorithm", "SYMMETRIC_DEFAULT")
		e.w.close()
		e.w.null("responseElements")
		e.addRes("AWS::KMS::Key", e.res.arn)
	})
	t.consoleOK = false
	c.def("kms", "DescribeKey", 8, true, kKey, mix{25, 25, 25, 0, 25}, func(e *ev) {
		e.reqOpen()
		e.w.str("keyId", keyRef(e))
		e.w.close()
		e.w.null("responseElements")
		e.addRes("AWS::KMS::Key", e.res.arn)
	})
	c.def("kms", "GetKeyRotationStatus", 2, true, kKey, mix{10, 0, 20, 0, 70}, func(e *ev) {
		e.reqOpen()
		e.w.str("keyId", e.res.arn)
		e.w.close()
		e.w.null("responseElements")
		e.addRes("AWS::KMS::Key", e.res.arn)
	})
	c.def("kms", "ListAliases", 4, true, noKind, mix{30, 10, 30, 0, 30}, (*ev).nulls)
	c.def("kms", "ListKeys", 3, true, noKind, mix{20, 0, 20, 0, 60}, func(e *ev) {
		e.reqOpen()
		e.w.num("limit", 1000)
		e.w.close()
		e.w.null("responseElements")
	})
	t = c.def("kms", "CreateGrant", 2, false, kKey, mix{0, 0, 0, 100, 0}, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.str("keyId", e.res.arn)
		w.str("granteePrincipal", e.via)
		w.raw("operations", `["Decrypt","Encrypt","GenerateDataKeyWithoutPlaintext","ReEncryptFrom","ReEncryptTo","CreateGrant","DescribeKey"]`)
		w.str("retiringPrincipal", e.via)
		w.close()
		if e.respOpen() {
			w.key("grantId")
			w.b = append(w.b, '"')
			for range 4 {
				w.b = appendHex(w.b, e.r.Uint64(), 16)
			}
			w.b = append(w.b, '"')
			w.need = true
			w.str("keyId", e.res.arn)
			w.close()
		}
		e.addRes("AWS::KMS::Key", e.res.arn)
	})
	t.services, t.behalf, t.consoleOK = []string{"ec2.amazonaws.com", "rds.amazonaws.com", "lambda.amazonaws.com"}, true, false

	t = c.def("kms", "RotateKey", 1, false, kKey, mix{}, func(e *ev) {
		e.nulls()
		e.addRes("AWS::KMS::Key", e.res.arn)
		e.details = `{"keyId":"` + e.res.id + `"}`
	})
	t.eventType, t.reqID = "AwsServiceEvent", reqNone
	t.who = func(g *fileGen, s *stream, pos int, res *resource) *actor { return s.acct.svcEvent }

	c.def("kms", "ScheduleKeyDeletion", 0, false, kKey, mix{100, 0, 0, 0, 0}, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.str("keyId", e.res.id)
		w.num("pendingWindowInDays", 7)
		w.close()
		if e.respOpen() {
			w.str("keyId", e.res.arn)
			w.longDate("deletionDate", e.t-e.t%86400+8*86400, true)
			w.str("keyState", "PendingDeletion")
			w.num("pendingWindowInDays", 7)
			w.close()
		}
		e.addRes("AWS::KMS::Key", e.res.arn)
	})
	c.def("kms", "CancelKeyDeletion", 0, false, kKey, mix{100, 0, 0, 0, 0}, func(e *ev) {
		e.reqOpen()
		e.w.str("keyId", e.res.id)
		e.w.close()
		if e.respOpen() {
			e.w.str("keyId", e.res.arn)
			e.w.close()
		}
		e.addRes("AWS::KMS::Key", e.res.arn)
	})
}

func secretRef(e *ev) string {
	if e.r.IntN(5) < 3 {
		return e.res.arn
	}
	return e.res.id
}

func (c *catalog) addSecrets() {
	t := c.def("secretsmanager", "GetSecretValue", 20, true, kSecret, mix{8, 80, 5, 0, 7}, oneParam("secretId", secretRef))
	t.errs = []errSpec{{code: "ResourceNotFoundException", pre: "Secrets Manager can't find the specified secret.", p: 0.008}}
	c.def("secretsmanager", "DescribeSecret", 6, true, kSecret, mix{25, 20, 30, 0, 25}, oneParam("secretId", secretRef))
	c.def("secretsmanager", "ListSecrets", 3, true, noKind, mix{30, 10, 20, 0, 40}, func(e *ev) {
		e.reqOpen()
		e.w.num("maxResults", 100)
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("secretsmanager", "PutSecretValue", 1, false, kSecret, mix{30, 20, 50, 0, 0}, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.str("secretId", e.res.arn)
		w.key("clientRequestToken")
		w.b = append(w.b, '"')
		w.b = appendUpperUUID(w.b, e.r)
		w.b = append(w.b, '"')
		w.need = true
		w.str("secretString", "HIDDEN_DUE_TO_SECURITY_REASONS")
		w.close()
		if e.respOpen() {
			w.str("arn", e.res.arn)
			w.close()
		}
	})
	c.def("secretsmanager", "RotateSecret", 1, false, kSecret, mix{30, 0, 70, 0, 0}, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.str("secretId", e.res.arn)
		w.key("clientRequestToken")
		w.b = append(w.b, '"')
		w.b = appendUpperUUID(w.b, e.r)
		w.b = append(w.b, '"')
		w.need = true
		w.raw("rotationRules", `{"automaticallyAfterDays":30}`)
		w.boolean("rotateImmediately", true)
		w.close()
		if e.respOpen() {
			w.str("arn", e.res.arn)
			w.str("name", e.res.id)
			w.key("versionId")
			w.b = append(w.b, '"')
			w.b = appendUUID(w.b, e.r)
			w.b = append(w.b, '"')
			w.need = true
			w.close()
		}
	})
}

func (c *catalog) addSSM() {
	workload := mix{8, 80, 8, 0, 4}
	paramRes := func(e *ev, name string) {
		e.addRes("", "arn:aws:ssm:"+e.s.region+":"+e.s.acct.id+":parameter"+name)
	}
	t := c.def("ssm", "GetParameter", 16, true, noKind, workload, func(e *ev) {
		name := paramName(e)
		e.reqOpen()
		e.w.str("name", name)
		e.w.boolean("withDecryption", true)
		e.w.close()
		e.w.null("responseElements")
		paramRes(e, name)
	})
	t.errs = []errSpec{{code: "ParameterNotFound", p: 0.01}}
	c.def("ssm", "GetParameters", 8, true, noKind, workload, func(e *ev) {
		w := e.w
		var names [3]string
		for i := range names {
			names[i] = paramName(e)
		}
		e.reqOpen()
		w.arrK("names")
		for _, n := range names {
			w.elem(n)
		}
		w.closeArr()
		w.boolean("withDecryption", true)
		w.close()
		w.null("responseElements")
		for _, n := range names {
			paramRes(e, n)
		}
	})
	c.def("ssm", "GetParametersByPath", 6, true, noKind, workload, func(e *ev) {
		a := e.s.acct
		e.reqOpen()
		e.w.str("path", "/"+a.envShort+"/"+pick(e.r, a.apps)+"/")
		e.w.boolean("recursive", true)
		e.w.boolean("withDecryption", true)
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("ssm", "DescribeParameters", 3, true, noKind, mix{30, 0, 40, 0, 30}, func(e *ev) {
		e.reqOpen()
		e.w.raw("parameterFilters", `[{"key":"Name","option":"BeginsWith","values":["/`+e.s.acct.envShort+`/"]}]`)
		e.w.boolean("shared", false)
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("ssm", "PutParameter", 1, false, noKind, mix{30, 0, 70, 0, 0}, func(e *ev) {
		name := paramName(e)
		e.reqOpen()
		e.w.str("name", name)
		e.w.str("value", "HIDDEN_DUE_TO_SECURITY_REASONS")
		e.w.str("type", "SecureString")
		e.w.boolean("overwrite", true)
		e.w.str("tier", "Standard")
		e.w.close()
		if e.respOpen() {
			e.w.num("version", int64(2+e.r.IntN(20)))
			e.w.str("tier", "Standard")
			e.w.close()
		}
		paramRes(e, name)
	})
	c.def("ssm", "DescribeInstanceInformation", 6, true, noKind, mix{30, 0, 10, 0, 60}, func(e *ev) {
		e.reqOpen()
		e.w.num("maxResults", 50)
		e.w.close()
		e.w.null("responseElements")
	})
	t = c.def("ssm", "UpdateInstanceInformation", 30, false, kInstance, mix{}, func(e *ev) {
		w, in := e.w, e.res
		ip1, ip2, ip3 := e.s.idx*16+int(in.id[3]&15), int(in.id[4])*3%256, int(in.id[5])*7%254+1
		e.reqOpen()
		w.str("instanceId", in.id)
		w.str("agentVersion", "3.3.380.0")
		w.str("agentStatus", "Active")
		w.str("platformType", "Linux")
		w.str("platformName", "Amazon Linux")
		w.str("platformVersion", "2023")
		w.str("iPAddress", "10."+strconv.Itoa(ip1)+"."+strconv.Itoa(ip2)+"."+strconv.Itoa(ip3))
		w.str("computerName", "ip-10-"+strconv.Itoa(ip1)+"-"+strconv.Itoa(ip2)+"-"+strconv.Itoa(ip3)+"."+e.s.region+".compute.internal")
		w.str("agentName", "amazon-ssm-agent")
		w.str("availabilityZone", in.az)
		w.str("ssmConnectionChannel", "ssmmessages")
		w.close()
		w.null("responseElements")
	})
	t.consoleOK, t.fixedUA = false, "aws-sdk-go/1.44.302 (go1.22.1; linux; amd64) amazon-ssm-agent/3.3.380.0"
	t.who = func(g *fileGen, s *stream, pos int, res *resource) *actor { return res.actor }
}

func (c *catalog) addDynamo() {
	read := mix{20, 40, 20, 0, 20}
	tableRes := func(e *ev) { e.addRes("AWS::DynamoDB::Table", e.res.arn) }
	byName := func(e *ev) {
		oneParam("tableName", resID)(e)
		tableRes(e)
	}
	c.def("dynamodb", "DescribeTable", 10, true, kTable, read, byName)
	c.def("dynamodb", "DescribeContinuousBackups", 2, true, kTable, mix{10, 0, 20, 0, 70}, byName)
	c.def("dynamodb", "DescribeTimeToLive", 2, true, kTable, mix{10, 0, 60, 0, 30}, byName)
	c.def("dynamodb", "ListTagsOfResource", 2, true, kTable, mix{20, 0, 40, 0, 40}, func(e *ev) {
		oneParam("resourceArn", resARN)(e)
		tableRes(e)
	})
	c.def("dynamodb", "ListTables", 4, true, noKind, read, func(e *ev) {
		e.reqOpen()
		e.w.num("limit", 100)
		e.w.close()
		e.w.null("responseElements")
	})
	key := func(e *ev) {
		e.w.openK("key")
		e.w.str("pk", "HIDDEN_DUE_TO_SECURITY_REASONS")
		if e.r.IntN(2) == 0 {
			e.w.str("sk", "HIDDEN_DUE_TO_SECURITY_REASONS")
		}
		e.w.close()
	}
	t := c.def("dynamodb", "GetItem", 10, true, kTable, mix{0, 100, 0, 0, 0}, func(e *ev) {
		e.reqOpen()
		e.w.str("tableName", e.res.id)
		key(e)
		e.w.boolean("consistentRead", e.r.IntN(4) == 0)
		e.w.close()
		e.w.null("responseElements")
		tableRes(e)
	})
	t.data, t.consoleOK = true, false
	t = c.def("dynamodb", "PutItem", 5, false, kTable, mix{0, 100, 0, 0, 0}, func(e *ev) {
		e.reqOpen()
		e.w.str("tableName", e.res.id)
		key(e)
		e.w.raw("item", `["pk","sk","payload","updatedAt","ttl"]`)
		e.w.close()
		e.w.null("responseElements")
		tableRes(e)
	})
	t.data, t.consoleOK = true, false
	t = c.def("dynamodb", "Query", 6, true, kTable, mix{0, 100, 0, 0, 0}, func(e *ev) {
		e.reqOpen()
		e.w.str("tableName", e.res.id)
		e.w.str("keyConditionExpression", "pk = :pk")
		e.w.num("limit", int64(pick(e.r, []int{25, 50, 100})))
		e.w.close()
		e.w.null("responseElements")
		tableRes(e)
	})
	t.data, t.consoleOK = true, false
}
