package gen

import "strconv"

func managedPolicies() []string {
	return []string{
		"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
		"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
		"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
		"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
		"arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess",
		"arn:aws:iam::aws:policy/SecurityAudit",
		"arn:aws:iam::aws:policy/ReadOnlyAccess",
	}
}

// stepName is the name a scripted step gives a resource that is not in
// the pool (an attacker's user), or the pool resource's own id.
func stepName(e *ev) string {
	if e.st != nil && e.st.name != "" {
		return e.st.name
	}
	return e.res.id
}

func oneParam(key string, val func(*ev) string) func(*ev) {
	return func(e *ev) {
		e.reqOpen()
		e.w.str(key, val(e))
		e.w.close()
		e.w.null("responseElements")
	}
}

func resID(e *ev) string  { return e.res.id }
func resARN(e *ev) string { return e.res.arn }

// credentials writes an STS credentials object for a new session.
func credentials(e *ev, lifetime int64) {
	w := e.w
	w.openK("credentials")
	w.key("accessKeyId")
	w.b = append(w.b, '"')
	w.b = appendKeyID(w.b, "ASIA", e.r.Uint64())
	w.b = append(w.b, '"')
	w.need = true
	w.key("sessionToken")
	w.b = append(w.b, `"IQoJb3JpZ2luX2Vj`...)
	w.b = appendRandom(w.b, e.r, b64Chars, 280+e.r.IntN(120))
	w.b = append(w.b, '"')
	w.need = true
	w.longDate("expiration", e.t+lifetime, true)
	w.close()
}

func assumedRoleUser(e *ev, role *resource, session string) {
	w := e.w
	w.openK("assumedRoleUser")
	w.str("assumedRoleId", role.idNum+":"+session)
	w.str("arn", "arn:aws:sts::"+role.acct.id+":assumed-role/"+role.id+"/"+session)
	w.close()
}

func (c *catalog) addIAM() {
	read := mix{35, 5, 25, 0, 35}
	write := mix{40, 0, 60, 0, 0}
	role := func(e *ev) string { return e.res.id }

	t := c.def("iam", "GetRole", 12, true, kRole, read, oneParam("roleName", role))
	t.errs = []errSpec{{code: "NoSuchEntity", pre: "The role with name ", post: " cannot be found.", p: 0.015}}
	c.def("iam", "ListAttachedRolePolicies", 8, true, kRole, read, oneParam("roleName", role))
	c.def("iam", "ListRolePolicies", 5, true, kRole, read, oneParam("roleName", role))
	c.def("iam", "ListInstanceProfilesForRole", 3, true, kRole, read, oneParam("roleName", role))
	c.def("iam", "ListRoles", 5, true, noKind, read, func(e *ev) {
		if e.r.IntN(2) == 0 {
			e.nulls()
			return
		}
		e.reqOpen()
		e.w.num("maxItems", 1000)
		e.w.close()
		e.w.null("responseElements")
	})
	t = c.def("iam", "GetUser", 6, true, kUser, read, func(e *ev) {
		if e.res == nil {
			e.nulls()
			return
		}
		oneParam("userName", resID)(e)
	})
	t.optional = true
	c.def("iam", "ListUsers", 3, true, noKind, read, (*ev).nulls)
	c.def("iam", "ListAccessKeys", 3, true, kUser, read, oneParam("userName", resID))
	c.def("iam", "ListMFADevices", 2, true, kUser, read, oneParam("userName", resID))
	c.def("iam", "GetAccountSummary", 2, true, noKind, read, (*ev).nulls)
	c.def("iam", "GetAccountPasswordPolicy", 1, true, noKind, read, (*ev).nulls)
	c.def("iam", "GetPolicy", 4, true, noKind, read, oneParam("policyArn", func(e *ev) string { return pick(e.r, managedPolicies()) }))
	c.def("iam", "GetPolicyVersion", 4, true, noKind, read, func(e *ev) {
		e.reqOpen()
		e.w.str("policyArn", pick(e.r, managedPolicies()))
		e.w.str("versionId", "v"+strconv.Itoa(1+e.r.IntN(6)))
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("iam", "GenerateCredentialReport", 1, false, noKind, mix{20, 0, 0, 0, 80}, func(e *ev) {
		e.w.null("requestParameters")
		if e.respOpen() {
			e.w.str("state", "STARTED")
			e.w.str("description", "No report exists. Starting a new report generation task")
			e.w.close()
		}
	})

	c.def("iam", "CreateAccessKey", 1, false, kUser, write, func(e *ev) {
		w := e.w
		name := stepName(e)
		e.reqOpen()
		w.str("userName", name)
		w.close()
		if e.respOpen() {
			w.openK("accessKey")
			w.key("accessKeyId")
			w.b = append(w.b, '"')
			w.b = appendKeyID(w.b, "AKIA", e.r.Uint64())
			w.b = append(w.b, '"')
			w.need = true
			w.str("status", "Active")
			w.str("userName", name)
			w.longDate("createDate", e.t, false)
			w.close()
			w.close()
		}
	})
	c.def("iam", "DeleteAccessKey", 1, false, kUser, write, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.str("userName", e.res.id)
		w.key("accessKeyId")
		w.b = append(w.b, '"')
		w.b = appendKeyID(w.b, "AKIA", e.r.Uint64())
		w.b = append(w.b, '"')
		w.need = true
		w.close()
		w.null("responseElements")
	})
	policy := func(e *ev) string {
		if e.st != nil && e.st.variant == 1 {
			return "arn:aws:iam::aws:policy/AdministratorAccess"
		}
		return pick(e.r, managedPolicies())
	}
	c.def("iam", "AttachRolePolicy", 1, false, kRole, write, func(e *ev) {
		e.reqOpen()
		e.w.str("roleName", e.res.id)
		e.w.str("policyArn", policy(e))
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("iam", "AttachUserPolicy", 0, false, kUser, write, func(e *ev) {
		e.reqOpen()
		e.w.str("userName", stepName(e))
		e.w.str("policyArn", policy(e))
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("iam", "PutRolePolicy", 1, false, kRole, write, func(e *ev) {
		e.reqOpen()
		e.w.str("roleName", e.res.id)
		e.w.str("policyName", e.res.app+"-inline")
		e.w.str("policyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:SendMessage","sqs:ReceiveMessage","sqs:DeleteMessage"],"Resource":"arn:aws:sqs:*:`+e.s.acct.id+`:`+e.res.app+`-*"}]}`)
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("iam", "CreateLoginProfile", 0, false, kUser, write, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.str("userName", stepName(e))
		w.boolean("passwordResetRequired", false)
		w.close()
		if e.respOpen() {
			w.openK("loginProfile")
			w.str("userName", stepName(e))
			w.longDate("createDate", e.t, false)
			w.boolean("passwordResetRequired", false)
			w.close()
			w.close()
		}
	})
}

func (c *catalog) addSTS() {
	t := c.def("sts", "AssumeRole", 60, false, kRole, mix{12, 0, 10, 58, 20}, assumeRole)
	t.optional, t.consoleOK, t.crossOK = true, false, true
	t.services = []string{"ec2.amazonaws.com", "ec2.amazonaws.com", "lambda.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com"}
	t = c.def("sts", "GetCallerIdentity", 15, true, noKind, mix{40, 20, 30, 0, 10}, (*ev).nulls)
	t.consoleOK = false

	t = c.def("sts", "AssumeRoleWithWebIdentity", 3, false, noKind, mix{}, func(e *ev) {
		w, a := e.w, e.s.acct
		e.reqOpen()
		w.str("roleArn", a.ciRole.issuer.arn)
		w.str("roleSessionName", "GitHubActions")
		w.num("durationSeconds", 3600)
		w.close()
		if e.respOpen() {
			credentials(e, 3600)
			w.str("subjectFromWebIdentityToken", e.act.userName)
			assumedRoleUser(e, a.ciRole.issuer, "GitHubActions")
			w.str("provider", e.act.idp)
			w.str("audience", "sts.amazonaws.com")
			w.close()
		}
		w.raw("additionalEventData", `{"identityProviderConnectionVerificationMethod":"IAMTrustStore"}`)
		e.addRes("AWS::IAM::Role", a.ciRole.issuer.arn)
	})
	t.consoleOK = false
	t.who = func(g *fileGen, s *stream, pos int, res *resource) *actor { return s.acct.webID }

	t = c.def("sts", "GetSessionToken", 1, false, noKind, mix{}, func(e *ev) {
		e.reqOpen()
		e.w.num("durationSeconds", 43200)
		e.w.close()
		if e.respOpen() {
			credentials(e, 43200)
			e.w.close()
		}
	})
	t.consoleOK = false
	t.who = func(g *fileGen, s *stream, pos int, res *resource) *actor {
		if len(s.acct.keyUsers) == 0 {
			return nil
		}
		return pick(g.r, s.acct.keyUsers)
	}

	t = c.def("sts", "GetFederationToken", 1, false, noKind, mix{}, func(e *ev) {
		w, a := e.w, e.s.acct
		f := pick(e.r, a.federated)
		name := f.principalID[len(a.id)+1:]
		e.reqOpen()
		w.str("name", name)
		w.num("durationSeconds", 43200)
		w.str("policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","athena:*"],"Resource":"*"}]}`)
		w.close()
		if e.respOpen() {
			credentials(e, 43200)
			w.openK("federatedUser")
			w.str("arn", f.arn)
			w.str("federatedUserId", f.principalID)
			w.close()
			w.num("packedPolicySize", int64(6+e.r.IntN(10)))
			w.close()
		}
	})
	t.consoleOK = false
	t.who = func(g *fileGen, s *stream, pos int, res *resource) *actor { return s.acct.fedCaller }

	t = c.def("signin", "ConsoleLogin", 3, false, noKind, mix{}, consoleLogin)
	t.host = "signin"
	t.errs = []errSpec{{pre: "Failed authentication", p: 0.05}}
	t.who = func(g *fileGen, s *stream, pos int, res *resource) *actor {
		a := s.acct
		if g.r.IntN(25) == 0 || len(a.consoles) == 0 {
			return a.root
		}
		return pick(g.r, a.consoles)
	}
}

// assumeRole renders sts:AssumeRole. The role and session follow the
// caller: EC2 and Lambda assume an instance's or function's role, the
// security account assumes the audit role, people assume any pool role.
func assumeRole(e *ev) {
	w, a, r := e.w, e.s.acct, e.r
	role, session := e.res, ""
	switch {
	case e.act.kind == idAWSService && e.act.invokedBy == "ec2.amazonaws.com":
		if in := pickRes(r, e.s, kInstance, e.pos); in != nil {
			role, session = in.role, in.id
		}
	case e.act.kind == idAWSService && e.act.invokedBy == "lambda.amazonaws.com":
		if fn := pickRes(r, e.s, kFunction, e.pos); fn != nil {
			role, session = fn.role, fn.id
		}
	case e.act.acct != a || e.act == a.crossAcct:
		role, session = a.auditRole, "audit-"+a.envShort
	}
	if role == nil {
		role = pickRes(r, e.s, kRole, e.pos)
	}
	if session == "" {
		switch {
		case e.act.person != nil:
			session = e.act.person.login
		case e.act.kind == idAWSService:
			session = "ecs-task-" + hexString(r, 12)
		default:
			session = "botocore-session-" + strconv.FormatInt(e.t-int64(r.IntN(60)), 10)
		}
	}
	e.res = role
	e.reqOpen()
	w.str("roleArn", role.arn)
	w.str("roleSessionName", session)
	if e.act.kind != idAWSService || e.act.invokedBy != "ec2.amazonaws.com" {
		w.num("durationSeconds", 3600)
	}
	w.close()
	if e.respOpen() {
		credentials(e, 3600)
		assumedRoleUser(e, role, session)
		w.close()
	}
	e.addRes("AWS::IAM::Role", role.arn)
}

// consoleLogin renders signin:ConsoleLogin. A failure carries
// errorMessage "Failed authentication" and no errorCode, as CloudTrail
// writes it.
func consoleLogin(e *ev) {
	w, a := e.w, e.act
	mfa := a.mfa && !e.err
	w.null("requestParameters")
	w.openK("responseElements")
	if e.err {
		w.str("ConsoleLogin", "Failure")
	} else {
		w.str("ConsoleLogin", "Success")
	}
	w.close()
	w.openK("additionalEventData")
	w.key("LoginTo")
	w.b = append(w.b, `"https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_`...)
	w.b = append(w.b, e.s.region...)
	w.b = append(w.b, '_')
	w.b = appendHex(w.b, e.r.Uint64(), 16)
	w.b = append(w.b, '"')
	w.need = true
	w.str("MobileVersion", "No")
	if mfa {
		if a.kind == idRoot {
			w.str("MFAIdentifier", "arn:aws:iam::"+a.acct.id+":mfa/root-account-mfa-device")
		} else {
			w.str("MFAIdentifier", "arn:aws:iam::"+a.acct.id+":mfa/"+a.userName)
		}
		w.str("MFAUsed", "Yes")
	} else {
		w.str("MFAUsed", "No")
	}
	w.close()
}
