package gen

import (
	"math/rand/v2"
	"strconv"

	"github.com/trailbook/trailbook/internal/jsontext"
)

// actorClass groups callers by what they are, so a template can say who
// usually makes its call.
type actorClass uint8

const (
	clsHuman      actorClass = iota // people: SSO sessions, IAM users, console, federated
	clsWorkload                     // instance and Lambda role sessions
	clsAutomation                   // CI: GitHub Actions role, terraform IAM user
	clsService                      // AWS services, as AWSService or on a caller's behalf
	clsAudit                        // security scanner, AWS Config, cross-account audit
	numClasses
)

// resRef is one entry of a record's resources list.
type resRef struct {
	typ    string
	arn    string
	noAcct bool // S3 objects carry no accountId
	prefix bool // ARNPrefix instead of ARN
}

// ev is one record being written. Renderers read the chosen template,
// actor and resource from it and write requestParameters,
// responseElements and additionalEventData through w.
type ev struct {
	g       *fileGen
	w       *jsonw
	r       *rand.Rand
	s       *stream
	pos     int
	t       int64
	tpl     *template
	act     *actor
	res     *resource
	st      *step // the scripted step, or nil for background traffic
	via     string
	console bool
	vpce    bool
	err     bool // the call failed: responseElements must be null
	errCode string
	errMsg  []byte
	reqID   []byte
	refs    [3]resRef
	nrefs   int
	shared  bool   // write sharedEventID
	details string // serviceEventDetails JSON, if any
}

// fileGen writes the records of one file. It owns its buffers and random
// source; one fileGen serves one worker goroutine.
type fileGen struct {
	w   *world
	r   *rand.Rand
	out jsonw
	e   ev
	msg []byte
	req []byte
	scr []byte
}

func newFileGen(w *world, r *rand.Rand) *fileGen {
	g := &fileGen{w: w, r: r}
	g.e.g, g.e.w, g.e.r = g, &g.out, g.r
	return g
}

func (e *ev) addRes(typ, arn string) {
	if e.nrefs < len(e.refs) {
		e.refs[e.nrefs] = resRef{typ: typ, arn: arn}
		e.nrefs++
	}
}

// reqOpen starts requestParameters as an object.
func (e *ev) reqOpen() { e.w.openK("requestParameters") }

// respOpen starts responseElements as an object and reports true, or
// writes null and reports false when the call failed.
func (e *ev) respOpen() bool {
	if e.err {
		e.w.null("responseElements")
		return false
	}
	e.w.openK("responseElements")
	return true
}

func (e *ev) nulls() {
	e.w.null("requestParameters")
	e.w.null("responseElements")
}

// ec2Return writes the usual EC2 write response {"requestId","_return":true}.
func (e *ev) ec2Return() {
	if e.respOpen() {
		e.w.key("requestId")
		e.w.b = jsontext.AppendString(e.w.b, e.reqID)
		e.w.need = true
		e.w.boolean("_return", true)
		e.w.close()
	}
}

// actorFor picks a caller of the given class for stream s at pos. It never
// returns nil: classes with no candidate fall back to a human.
func (g *fileGen) actorFor(c actorClass, s *stream, pos int, tpl *template) (*actor, string) {
	r, a := g.r, s.acct
	switch c {
	case clsWorkload:
		if r.IntN(10) < 6 {
			if in := pickRes(r, s, kInstance, pos); in != nil {
				return in.actor, ""
			}
		}
		if fn := pickRes(r, s, kFunction, pos); fn != nil {
			return fn.actor, ""
		}
		if in := pickRes(r, s, kInstance, pos); in != nil {
			return in.actor, ""
		}
	case clsAutomation:
		switch x := r.IntN(10); {
		case x < 6:
			return a.ciRole, ""
		case x < 9 && a.ciUser != nil:
			return a.ciUser, ""
		}
		return a.ciRole, ""
	case clsService:
		if len(tpl.services) > 0 {
			svc := pick(r, tpl.services)
			if tpl.behalf {
				act, _ := g.actorFor(clsWorkload, s, pos, tpl)
				if r.IntN(4) == 0 {
					act = pick(r, a.humans)
				}
				return act, svc
			}
			if act := a.services[svc]; act != nil {
				return act, ""
			}
		}
	case clsAudit:
		// A principal of another account shows up under its own account
		// only where the call itself crosses accounts: assuming a role
		// here, or reading through a resource policy.
		if a.crossAcct != nil && tpl.crossOK && (tpl.name == "AssumeRole" || r.IntN(4) == 0) {
			return a.crossAcct, ""
		}
		return pick(r, a.audit), ""
	}
	if !tpl.readOnly {
		return pick(r, a.writers), ""
	}
	return pick(r, a.humans), ""
}

// pickClass draws an actor class from the template's mix.
func (g *fileGen) pickClass(tpl *template) actorClass {
	x := g.r.IntN(tpl.mixSum)
	for c := range numClasses {
		if x < int(tpl.mix[c]) {
			return c
		}
		x -= int(tpl.mix[c])
	}
	return clsHuman
}

// record writes one complete record. tpl, res and act may be preset by a
// scripted step; act nil means draw one from the template's mix.
func (g *fileGen) record(s *stream, pos int, t int64, tpl *template, res *resource, act *actor, st *step) {
	e := &g.e
	r := g.r
	*e = ev{g: g, w: &g.out, r: r, s: s, pos: pos, t: t, tpl: tpl, res: res, act: act, st: st,
		errMsg: g.msg[:0], reqID: g.req[:0]}
	if e.act == nil {
		e.act, e.via = g.actorFor(g.pickClass(tpl), s, pos, tpl)
	}
	a := e.act
	switch {
	case tpl.signin, a.console >= 1:
		e.console = true
	case a.console > 0 && e.via == "" && tpl.consoleOK:
		e.console = r.Float64() < a.console
	}
	g.chooseError(e)

	w := e.w
	w.open()
	w.str("eventVersion", tpl.version)
	g.identity(e)
	w.time("eventTime", t)
	w.str("eventSource", tpl.source)
	w.str("eventName", tpl.name)
	w.str("awsRegion", s.region)
	g.origin(e)
	if e.errCode != "" {
		w.str("errorCode", e.errCode)
	}
	if len(e.errMsg) > 0 {
		w.key("errorMessage")
		w.b = jsontext.AppendString(w.b, e.errMsg)
		w.need = true
	}
	switch tpl.reqID {
	case reqUUID:
		e.reqID = appendUUID(e.reqID, r)
	case reqS3:
		e.reqID = appendRandom(e.reqID, r, upperChars, 16)
	}
	tpl.render(e)
	if len(e.reqID) > 0 {
		w.key("requestID")
		w.b = jsontext.AppendString(w.b, e.reqID)
		w.need = true
	}
	w.key("eventID")
	w.b = append(w.b, '"')
	w.b = appendUUID(w.b, r)
	w.b = append(w.b, '"')
	w.need = true
	w.boolean("readOnly", tpl.readOnly)
	if e.nrefs > 0 {
		w.arrK("resources")
		for _, ref := range e.refs[:e.nrefs] {
			w.open()
			if !ref.noAcct {
				w.str("accountId", s.acct.id)
			}
			if ref.typ != "" {
				w.str("type", ref.typ)
			}
			if ref.prefix {
				w.str("ARNPrefix", ref.arn)
			} else {
				w.str("ARN", ref.arn)
			}
			w.close()
		}
		w.closeArr()
	}
	w.str("eventType", tpl.eventType)
	if tpl.apiVersion != "" {
		w.str("apiVersion", tpl.apiVersion)
	}
	w.boolean("managementEvent", !tpl.data)
	w.str("recipientAccountId", s.acct.id)
	if e.shared || a.acct != s.acct {
		w.key("sharedEventID")
		w.b = append(w.b, '"')
		w.b = appendUUID(w.b, r)
		w.b = append(w.b, '"')
		w.need = true
	}
	if e.vpce {
		w.str("vpcEndpointId", s.vpce)
	}
	if e.details != "" {
		w.raw("serviceEventDetails", e.details)
	}
	if tpl.data {
		w.str("eventCategory", "Data")
	} else {
		w.str("eventCategory", "Management")
	}
	if g.hasTLS(e) {
		w.openK("tlsDetails")
		if r.IntN(20) < 11 {
			w.str("tlsVersion", "TLSv1.3")
			w.str("cipherSuite", "TLS_AES_128_GCM_SHA256")
		} else {
			w.str("tlsVersion", "TLSv1.2")
			w.str("cipherSuite", "ECDHE-RSA-AES128-GCM-SHA256")
		}
		w.key("clientProvidedHostHeader")
		w.b = g.appendHost(w.b, e)
		w.need = true
		w.close()
	}
	if e.console && !tpl.signin {
		w.str("sessionCredentialFromConsole", "true")
	}
	w.close()
	g.msg, g.req = e.errMsg, e.reqID
}

// hasTLS reports whether the call came over a client TLS connection that
// CloudTrail describes: not for service-made calls or console sessions.
func (g *fileGen) hasTLS(e *ev) bool {
	if e.via != "" || e.act.style == uaService || e.act.kind == idServiceEvent {
		return false
	}
	if e.console && !e.tpl.signin {
		return false
	}
	return true
}

func (g *fileGen) appendHost(b []byte, e *ev) []byte {
	b = append(b, '"')
	tpl := e.tpl
	switch {
	case tpl.signin:
		b = append(b, e.s.region...)
		b = append(b, ".signin.aws.amazon.com"...)
	case tpl.s3 && e.res != nil && e.res.kind == kBucket:
		b = append(b, e.res.id...)
		b = append(b, ".s3."...)
		b = append(b, e.s.region...)
		b = append(b, ".amazonaws.com"...)
	case tpl.globalHost:
		b = append(b, tpl.host...)
		b = append(b, ".amazonaws.com"...)
	default:
		b = append(b, tpl.host...)
		b = append(b, '.')
		b = append(b, e.s.region...)
		b = append(b, ".amazonaws.com"...)
	}
	return append(b, '"')
}

// identity writes userIdentity.
func (g *fileGen) identity(e *ev) {
	w, a := e.w, e.act
	w.openK("userIdentity")
	switch a.kind {
	case idServiceEvent:
		w.str("accountId", a.acct.id)
		w.str("invokedBy", a.invokedBy)
		w.close()
		return
	case idAWSService:
		w.str("type", "AWSService")
		w.str("invokedBy", a.invokedBy)
		w.close()
		return
	}
	w.str("type", a.kind.typeName())
	w.str("principalId", a.principalID)
	if a.kind != idWebIdentity {
		w.str("arn", a.arn)
		w.str("accountId", a.acct.id)
	}
	login := e.tpl.signin
	if !login {
		switch {
		case a.key != "":
			w.str("accessKeyId", a.key)
		case a.session:
			w.key("accessKeyId")
			w.b = append(w.b, '"')
			w.b = appendKeyID(w.b, "ASIA", e.sessionHash())
			w.b = append(w.b, '"')
			w.need = true
		}
	}
	if a.userName != "" {
		w.str("userName", a.userName)
	}
	if a.idp != "" {
		w.str("identityProvider", a.idp)
	}
	if a.session && !login {
		w.openK("sessionContext")
		switch {
		case a.issuer != nil:
			w.openK("sessionIssuer")
			w.str("type", a.issuerType)
			w.str("principalId", a.issuer.idNum)
			w.str("arn", a.issuer.arn)
			w.str("accountId", a.issuer.acct.id)
			w.str("userName", a.issuer.id)
			w.close()
		case a.emptyIssuer:
			w.raw("sessionIssuer", "{}")
		}
		if a.kind != idRoot {
			w.raw("webIdFederationData", "{}")
		}
		w.openK("attributes")
		w.time("creationDate", e.sessionStart())
		if a.mfa {
			w.str("mfaAuthenticated", "true")
		} else {
			w.str("mfaAuthenticated", "false")
		}
		w.close()
		if a.ec2 {
			w.str("ec2RoleDelivery", "2.0")
		}
		w.close()
	}
	if e.via != "" {
		w.str("invokedBy", e.via)
	} else if a.invokedBy != "" {
		w.str("invokedBy", a.invokedBy)
	}
	w.close()
}

func (e *ev) sessionHash() uint64 {
	return mix64(e.act.keySeed ^ uint64(e.t/3600)*0x9e3779b97f4a7c15)
}

// sessionStart is the creationDate of the actor's current session: a
// moment in the hour of the call, never after it.
func (e *ev) sessionStart() int64 {
	h := e.sessionHash()
	start := e.t - e.t%3600 + int64(h>>40)%1800
	if start > e.t {
		start = e.t - int64(h>>56)%30
	}
	return start
}

// origin writes sourceIPAddress and userAgent and decides vpcEndpointId.
func (g *fileGen) origin(e *ev) {
	w, a, tpl, r := e.w, e.act, e.tpl, g.r
	switch {
	case e.via != "":
		w.str("sourceIPAddress", e.via)
		w.str("userAgent", e.via)
		return
	case a.kind == idServiceEvent:
		w.str("sourceIPAddress", "AWS Internal")
		w.str("userAgent", "AWS Internal")
		return
	case a.style == uaService:
		w.str("sourceIPAddress", a.invokedBy)
		w.str("userAgent", a.invokedBy)
		return
	}
	if a.vpce && tpl.vpce && r.IntN(20) < 7 {
		e.vpce = true
		w.key("sourceIPAddress")
		w.b = append(w.b, `"10.`...)
		w.b = strconv.AppendInt(w.b, int64(e.s.idx*16+r.IntN(16)), 10)
		w.b = append(w.b, '.')
		w.b = strconv.AppendInt(w.b, int64(r.IntN(256)), 10)
		w.b = append(w.b, '.')
		w.b = strconv.AppendInt(w.b, int64(1+r.IntN(254)), 10)
		w.b = append(w.b, '"')
		w.need = true
	} else {
		ip := a.ips[0]
		if len(a.ips) > 1 && r.IntN(3) > 0 {
			ip = a.ips[r.IntN(len(a.ips))]
		}
		if e.st != nil && e.st.ip != "" {
			ip = e.st.ip
		}
		w.str("sourceIPAddress", ip)
	}
	w.key("userAgent")
	w.b = append(w.b, '"')
	switch {
	case tpl.signin:
		w.b = append(w.b, browserAgent(r)...)
	case e.console:
		if tpl.consoleUA != "" {
			w.b = append(w.b, tpl.consoleUA...)
		} else {
			w.b = append(w.b, "AWS Internal"...)
		}
	case tpl.fixedUA != "":
		w.b = append(w.b, tpl.fixedUA...)
	default:
		if tpl.s3 {
			w.b = append(w.b, '[')
		}
		w.b = append(w.b, a.ua...)
		switch a.style {
		case uaCLI:
			w.b = append(w.b, tpl.cli...)
		case uaSDK:
			w.b = append(w.b, tpl.api...)
		}
		if tpl.s3 {
			w.b = append(w.b, ']')
		}
	}
	w.b = append(w.b, '"')
	w.need = true
}

func browserAgent(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15"
	case 1:
		return "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"
	}
	return "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
}

// chooseError decides whether the call failed and writes the error message
// into e.errMsg.
func (g *fileGen) chooseError(e *ev) {
	tpl, a, r := e.tpl, e.act, g.r
	if e.st != nil {
		if e.st.fail {
			g.denied(e)
		}
		return
	}
	if tpl.eventType != "AwsApiCall" {
		g.specificError(e)
		return
	}
	if a.kind == idAWSService || e.via != "" || a.kind == idRoot {
		return
	}
	x := r.Float64()
	deny := 0.004
	switch {
	case a.console > 0 && a.kind != idFederated:
		deny = 0.025
	case a.acct != e.s.acct, a.issuer != nil && a.issuer.id == "SecurityAudit":
		deny = 0.05
	}
	if x < deny {
		g.denied(e)
		return
	}
	x -= deny
	if tpl.readOnly && a.console == 0 && x < 0.012 {
		e.err = true
		switch tpl.iam {
		case "ec2":
			e.errCode = "Client.RequestLimitExceeded"
			e.errMsg = append(e.errMsg, "Request limit exceeded."...)
		case "iam":
			e.errCode = "Throttling"
			e.errMsg = append(e.errMsg, "Rate exceeded"...)
		case "s3":
			e.errCode = "SlowDown"
			e.errMsg = append(e.errMsg, "Please reduce your request rate."...)
		default:
			e.errCode = "ThrottlingException"
			e.errMsg = append(e.errMsg, "Rate exceeded"...)
		}
		return
	}
	g.specificError(e)
}

// specificError applies the template's own failures, such as a missing
// bucket policy.
func (g *fileGen) specificError(e *ev) {
	for i := range e.tpl.errs {
		es := &e.tpl.errs[i]
		if g.r.Float64() < es.p && (es.when == nil || es.when(e)) {
			e.err = true
			e.errCode = es.code
			e.errMsg = append(e.errMsg, es.pre...)
			if es.post != "" && e.res != nil {
				e.errMsg = append(e.errMsg, e.res.id...)
				e.errMsg = append(e.errMsg, es.post...)
			}
			return
		}
	}
}

// denied makes the call an authorization failure in the service's own
// words.
func (g *fileGen) denied(e *ev) {
	tpl, a := e.tpl, e.act
	e.err = true
	m := e.errMsg
	switch tpl.iam {
	case "s3":
		e.errCode = "AccessDenied"
		e.errMsg = append(m, "Access Denied"...)
		return
	case "ec2":
		e.errCode = "Client.UnauthorizedOperation"
		m = append(m, "You are not authorized to perform this operation. User: "...)
	default:
		e.errCode = "AccessDenied"
		m = append(m, "User: "...)
	}
	m = append(m, a.arn...)
	m = append(m, " is not authorized to perform: "...)
	m = append(m, tpl.iam...)
	m = append(m, ':')
	m = append(m, tpl.action...)
	if e.res != nil && tpl.iam != "ec2" {
		m = append(m, " on resource: "...)
		m = append(m, e.res.arn...)
	}
	m = append(m, " because no identity-based policy allows the "...)
	m = append(m, tpl.iam...)
	m = append(m, ':')
	m = append(m, tpl.action...)
	m = append(m, " action"...)
	if tpl.iam == "ec2" {
		m = append(m, ". Encoded authorization failure message: "...)
		m = appendRandom(m, g.r, b64Chars, 96+g.r.IntN(64))
	}
	e.errMsg = m
}
