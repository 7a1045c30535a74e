package gen

import "strconv"

// functionConfig writes the configuration Lambda returns from create and
// update calls.
func functionConfig(e *ev, state string) {
	w, fn := e.w, e.res
	w.str("functionName", fn.id)
	w.str("functionArn", fn.arn)
	w.str("runtime", fn.extra)
	w.str("role", fn.role.arn)
	w.str("handler", "app.handler")
	w.num("codeSize", int64(2000+e.r.IntN(9000000)))
	w.str("description", "")
	w.num("timeout", 30)
	w.num("memorySize", 512)
	w.key("lastModified")
	w.b = append(w.b, '"')
	w.b = appendTime(w.b, e.t)
	w.b = w.b[:len(w.b)-1]
	w.b = append(w.b, `.000+0000"`...)
	w.need = true
	w.key("codeSha256")
	w.b = append(w.b, '"')
	w.b = appendRandom(w.b, e.r, b64Chars, 43)
	w.b = append(w.b, `="`...)
	w.need = true
	w.str("version", "$LATEST")
	w.raw("tracingConfig", `{"mode":"PassThrough"}`)
	w.key("revisionId")
	w.b = append(w.b, '"')
	w.b = appendUUID(w.b, e.r)
	w.b = append(w.b, '"')
	w.need = true
	w.str("state", state)
	if state == "Pending" {
		w.str("stateReason", "The function is being created.")
		w.str("stateReasonCode", "Creating")
	} else {
		w.str("lastUpdateStatus", "InProgress")
		w.str("lastUpdateStatusReason", "The function is being created.")
		w.str("lastUpdateStatusReasonCode", "Creating")
	}
	w.str("packageType", "Zip")
	w.raw("architectures", `["arm64"]`)
	w.raw("ephemeralStorage", `{"size":512}`)
}

func (c *catalog) addLambda() {
	read := mix{30, 10, 35, 0, 25}
	name := func(e *ev) string { return e.res.id }
	c.def("lambda", "ListFunctions20150331", 5, true, noKind, read, (*ev).nulls)
	c.def("lambda", "GetFunction20150331v2", 6, true, kFunction, read, oneParam("functionName", name))
	c.def("lambda", "GetFunctionConfiguration20150331v2", 4, true, kFunction, read, oneParam("functionName", name))
	t := c.def("lambda", "GetPolicy20150331v2", 2, true, kFunction, read, oneParam("functionName", name))
	t.errs = []errSpec{{code: "ResourceNotFoundException", pre: "The resource you requested does not exist.", p: 0.3}}
	c.def("lambda", "ListTags20170331", 2, true, kFunction, read, oneParam("resource", resARN))
	c.def("lambda", "ListEventSourceMappings20150331", 2, true, kFunction, read, oneParam("functionName", name))
	c.def("lambda", "UpdateFunctionCode20150331v2", 1, false, kFunction, mix{15, 0, 85, 0, 0}, func(e *ev) {
		e.reqOpen()
		e.w.str("functionName", e.res.id)
		e.w.boolean("publish", false)
		e.w.boolean("dryRun", false)
		e.w.raw("architectures", `["arm64"]`)
		e.w.close()
		if e.respOpen() {
			functionConfig(e, "Active")
			e.w.close()
		}
	})
	c.def("lambda", "UpdateFunctionConfiguration20150331v2", 1, false, kFunction, mix{25, 0, 75, 0, 0}, func(e *ev) {
		e.reqOpen()
		e.w.str("functionName", e.res.id)
		if e.r.IntN(2) == 0 {
			e.w.num("timeout", int64(pick(e.r, []int{30, 60, 120, 300})))
		} else {
			e.w.raw("environment", "{}")
		}
		e.w.close()
		if e.respOpen() {
			functionConfig(e, "Active")
			e.w.close()
		}
	})
	t = c.def("lambda", "Invoke", 12, false, kFunction, mix{3, 97, 0, 0, 0}, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.str("functionName", e.res.arn)
		w.str("invocationType", pick(e.r, []string{"RequestResponse", "RequestResponse", "Event"}))
		w.close()
		w.null("responseElements")
		w.openK("additionalEventData")
		w.str("functionVersion", e.res.arn+":$LATEST")
		w.close()
		e.addRes("AWS::Lambda::Function", e.res.arn)
	})
	t.data, t.consoleOK = true, false

	t = c.def("logs", "CreateLogStream", 10, false, kFunction, mix{}, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.str("logGroupName", "/aws/lambda/"+e.res.id)
		w.key("logStreamName")
		w.b = append(w.b, '"')
		w.b = appendTime(w.b, e.t)
		w.b = w.b[:len(w.b)-10]
		w.b[len(w.b)-6], w.b[len(w.b)-3] = '/', '/'
		w.b = append(w.b, "[$LATEST]"...)
		w.b = appendHex(w.b, e.r.Uint64(), 16)
		w.b = appendHex(w.b, e.r.Uint64(), 16)
		w.b = append(w.b, '"')
		w.need = true
		w.close()
		w.null("responseElements")
	})
	t.consoleOK = false
	t.who = func(g *fileGen, s *stream, pos int, res *resource) *actor { return res.actor }
	c.def("logs", "DescribeLogGroups", 3, true, noKind, read, func(e *ev) {
		e.reqOpen()
		e.w.str("logGroupNamePrefix", "/aws/lambda/")
		e.w.close()
		e.w.null("responseElements")
	})
}

func (c *catalog) addRDS() {
	read := mix{25, 10, 30, 0, 35}
	t := c.def("rds", "DescribeDBInstances", 10, true, kDB, read, func(e *ev) {
		if e.res == nil || e.r.IntN(3) == 0 {
			e.nulls()
			return
		}
		oneParam("dBInstanceIdentifier", resID)(e)
	})
	t.optional = true
	t.errs = []errSpec{{code: "DBInstanceNotFoundFault", pre: "DBInstance ", post: " not found.", p: 0.005,
		when: func(e *ev) bool { return e.res != nil }}}
	c.def("rds", "DescribeDBClusters", 4, true, noKind, read, func(e *ev) {
		e.reqOpen()
		e.w.boolean("includeShared", false)
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("rds", "DescribeDBSnapshots", 3, true, kDB, read, func(e *ev) {
		e.reqOpen()
		e.w.str("dBInstanceIdentifier", e.res.id)
		e.w.str("snapshotType", "automated")
		e.w.boolean("includeShared", false)
		e.w.boolean("includePublic", false)
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("rds", "ListTagsForResource", 3, true, kDB, read, oneParam("resourceName", resARN))
	c.def("rds", "DescribeDBEngineVersions", 2, true, noKind, read, func(e *ev) {
		e.reqOpen()
		e.w.str("engine", pick(e.r, []string{"postgres", "mysql", "aurora-postgresql"}))
		e.w.boolean("defaultOnly", true)
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("rds", "ModifyDBInstance", 1, false, kDB, mix{30, 0, 70, 0, 0}, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.str("dBInstanceIdentifier", e.res.id)
		w.num("backupRetentionPeriod", 14)
		w.boolean("applyImmediately", true)
		w.close()
		if e.respOpen() {
			dbInstance(e, "available")
			w.raw("pendingModifiedValues", "{}")
			w.close()
		}
	})
	c.def("rds", "CreateDBSnapshot", 1, false, kDB, mix{30, 0, 70, 0, 0}, func(e *ev) {
		w := e.w
		snap := e.res.id + "-manual-" + strconv.Itoa(int(e.t/86400))
		e.reqOpen()
		w.str("dBSnapshotIdentifier", snap)
		w.str("dBInstanceIdentifier", e.res.id)
		w.close()
		if e.respOpen() {
			w.str("dBSnapshotIdentifier", snap)
			w.str("dBInstanceIdentifier", e.res.id)
			w.str("engine", e.res.extra)
			w.str("status", "creating")
			w.str("dBSnapshotArn", "arn:aws:rds:"+e.s.region+":"+e.s.acct.id+":snapshot:"+snap)
			w.boolean("encrypted", true)
			w.close()
		}
	})
}

// dbInstance writes the DBInstance members RDS returns.
func dbInstance(e *ev, status string) {
	w, db := e.w, e.res
	w.str("dBInstanceIdentifier", db.id)
	w.str("dBInstanceClass", "db.r6g.large")
	w.str("engine", db.extra)
	w.str("dBInstanceStatus", status)
	w.str("masterUsername", "dbadmin")
	w.num("allocatedStorage", 100)
	w.num("backupRetentionPeriod", 14)
	w.boolean("multiAZ", true)
	w.str("availabilityZone", db.az)
	w.str("dbiResourceId", db.idNum)
	w.str("dBInstanceArn", db.arn)
	w.boolean("storageEncrypted", true)
	w.boolean("publiclyAccessible", false)
}

func (c *catalog) addMessaging() {
	read := mix{15, 55, 15, 0, 15}
	queueURL := func(e *ev) string { return e.res.extra }
	c.def("sqs", "GetQueueAttributes", 6, true, kQueue, read, func(e *ev) {
		e.reqOpen()
		e.w.str("queueUrl", e.res.extra)
		e.w.raw("attributeNames", `["All"]`)
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("sqs", "GetQueueUrl", 3, true, kQueue, read, oneParam("queueName", resID))
	c.def("sqs", "ListQueues", 3, true, noKind, mix{40, 10, 20, 0, 30}, (*ev).nulls)
	c.def("sqs", "ListQueueTags", 1, true, kQueue, mix{20, 0, 40, 0, 40}, oneParam("queueUrl", queueURL))
	c.def("sqs", "SetQueueAttributes", 1, false, kQueue, mix{30, 0, 70, 0, 0}, func(e *ev) {
		e.reqOpen()
		e.w.str("queueUrl", e.res.extra)
		e.w.raw("attributes", `{"VisibilityTimeout":"`+strconv.Itoa(pick(e.r, []int{30, 60, 120, 300}))+`"}`)
		e.w.close()
		e.w.null("responseElements")
	})

	c.def("sns", "ListTopics", 3, true, noKind, mix{40, 10, 20, 0, 30}, (*ev).nulls)
	c.def("sns", "GetTopicAttributes", 4, true, kTopic, read, oneParam("topicArn", resARN))
	c.def("sns", "ListSubscriptionsByTopic", 2, true, kTopic, read, oneParam("topicArn", resARN))
	c.def("sns", "ListTagsForResource", 1, true, kTopic, mix{20, 0, 40, 0, 40}, oneParam("resourceArn", resARN))
	c.def("sns", "Subscribe", 1, false, kTopic, mix{60, 0, 40, 0, 0}, func(e *ev) {
		e.reqOpen()
		e.w.str("topicArn", e.res.arn)
		e.w.str("protocol", "email")
		e.w.str("endpoint", pick(e.r, e.s.acct.people).email)
		e.w.boolean("returnSubscriptionArn", false)
		e.w.close()
		if e.respOpen() {
			e.w.str("subscriptionArn", "pending confirmation")
			e.w.close()
		}
	})
}

func (c *catalog) addELB() {
	read := mix{20, 10, 30, 10, 30}
	svc := []string{"elasticloadbalancing.amazonaws.com", "autoscaling.amazonaws.com"}
	def := func(name string, weight int, ro bool, k kind, m mix, render func(*ev)) *template {
		t := c.def("elasticloadbalancing", name, weight, ro, k, m, render)
		t.apiVersion, t.services = "2015-12-01", svc
		return t
	}
	t := def("DescribeLoadBalancers", 6, true, kLoadBalancer, read, func(e *ev) {
		if e.res == nil || e.r.IntN(2) == 0 {
			e.reqOpen()
			e.w.num("pageSize", 400)
			e.w.close()
			e.w.null("responseElements")
			return
		}
		e.reqOpen()
		e.w.arrK("loadBalancerArns")
		e.w.elem(e.res.arn)
		e.w.closeArr()
		e.w.close()
		e.w.null("responseElements")
	})
	t.optional = true
	def("DescribeTargetGroups", 4, true, kLoadBalancer, read, oneParam("loadBalancerArn", resARN))
	def("DescribeTargetHealth", 8, true, kLoadBalancer, mix{10, 0, 10, 60, 20}, oneParam("targetGroupArn", func(e *ev) string { return e.res.extra }))
	def("DescribeListeners", 2, true, kLoadBalancer, read, oneParam("loadBalancerArn", resARN))
	def("DescribeTags", 2, true, kLoadBalancer, read, func(e *ev) {
		e.reqOpen()
		e.w.arrK("resourceArns")
		e.w.elem(e.res.arn)
		e.w.closeArr()
		e.w.close()
		e.w.null("responseElements")
	})
	def("RegisterTargets", 1, false, kLoadBalancer, mix{0, 0, 30, 70, 0}, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.str("targetGroupArn", e.res.extra)
		w.arrK("targets")
		w.open()
		if in := pickRes(e.r, e.s, kInstance, e.pos); in != nil {
			w.str("id", in.id)
		} else {
			w.str("id", "10."+strconv.Itoa(e.s.idx*16)+".1."+strconv.Itoa(1+e.r.IntN(254)))
		}
		w.num("port", 8080)
		w.close()
		w.closeArr()
		w.close()
		w.null("responseElements")
	})
}

func (c *catalog) addMisc() {
	read := mix{35, 0, 25, 0, 40}
	trail := func(e *ev) string { return e.s.acct.trailARN }
	c.def("cloudtrail", "DescribeTrails", 3, true, noKind, read, func(e *ev) {
		e.reqOpen()
		e.w.raw("trailNameList", "[]")
		e.w.boolean("includeShadowTrails", true)
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("cloudtrail", "GetTrailStatus", 4, true, noKind, read, oneParam("name", trail))
	c.def("cloudtrail", "GetEventSelectors", 2, true, noKind, read, oneParam("trailName", trail))
	c.def("cloudtrail", "ListTrails", 1, true, noKind, read, (*ev).nulls)
	c.def("cloudtrail", "LookupEvents", 3, true, noKind, mix{80, 0, 0, 0, 20}, func(e *ev) {
		e.reqOpen()
		e.w.num("maxResults", 50)
		e.w.raw("lookupAttributes", `[{"attributeKey":"EventName","attributeValue":"`+pick(e.r, []string{"ConsoleLogin", "RunInstances", "CreateTags", "AssumeRole"})+`"}]`)
		e.w.close()
		e.w.null("responseElements")
	})
	logging := func(e *ev) {
		e.reqOpen()
		e.w.str("name", e.s.acct.trailARN)
		e.w.close()
		e.w.null("responseElements")
	}
	c.def("cloudtrail", "StopLogging", 0, false, noKind, mix{100, 0, 0, 0, 0}, logging)
	c.def("cloudtrail", "StartLogging", 0, false, noKind, mix{100, 0, 0, 0, 0}, logging)

	c.def("monitoring", "DescribeAlarms", 5, true, noKind, mix{30, 0, 40, 0, 30}, func(e *ev) {
		e.reqOpen()
		e.w.num("maxRecords", 100)
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("autoscaling", "DescribeAutoScalingGroups", 4, true, noKind, mix{20, 0, 40, 0, 40}, (*ev).nulls)
	t := c.def("health", "DescribeEventAggregates", 3, true, noKind, mix{100, 0, 0, 0, 0}, func(e *ev) {
		e.reqOpen()
		e.w.str("aggregateField", "eventTypeCategory")
		e.w.raw("filter", `{"eventStatusCodes":["open","upcoming"]}`)
		e.w.close()
		e.w.null("responseElements")
	})
	t.who = func(g *fileGen, s *stream, pos int, res *resource) *actor {
		if len(s.acct.consoles) > 0 && g.r.IntN(3) == 0 {
			return pick(g.r, s.acct.consoles)
		}
		for range 4 {
			if a := pick(g.r, s.acct.humans); a.console > 0 {
				return a
			}
		}
		return nil
	}
	t.consoleUA = "AWS Internal"
	c.def("tagging", "GetResources", 3, true, noKind, mix{30, 0, 20, 0, 50}, func(e *ev) {
		e.reqOpen()
		e.w.num("resourcesPerPage", 100)
		e.w.raw("tagFilters", `[{"key":"Environment","values":["`+envName(e.r)+`"]}]`)
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("tagging", "GetTagKeys", 1, true, noKind, mix{40, 0, 20, 0, 40}, (*ev).nulls)
}
