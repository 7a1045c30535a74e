package gen

import (
	"math/rand/v2"
	"slices"
	"strings"
)

// idKind is the userIdentity.type of an actor.
type idKind uint8

const (
	idIAMUser idKind = iota
	idAssumedRole
	idRoot
	idAWSService
	idFederated
	idWebIdentity
	idServiceEvent // AwsServiceEvent records: accountId and invokedBy only
)

func (k idKind) typeName() string {
	switch k {
	case idIAMUser:
		return "IAMUser"
	case idAssumedRole:
		return "AssumedRole"
	case idRoot:
		return "Root"
	case idAWSService:
		return "AWSService"
	case idFederated:
		return "FederatedUser"
	case idWebIdentity:
		return "WebIdentityUser"
	}
	return ""
}

// uaStyle says how an actor's user agent combines with the call.
type uaStyle uint8

const (
	uaPlain   uaStyle = iota // the agent string as is
	uaCLI                    // AWS CLI: append md/command#service.operation
	uaSDK                    // an SDK that names the service API: append api/service#version
	uaConsole                // a console session: "AWS Internal" or the service console's agent
	uaService                // an AWS service: its host name
)

// actor is a caller as CloudTrail records it: the static half of
// userIdentity plus where its calls come from. Session actors get a new
// ASIA key and creationDate every hour, derived from keySeed, so one
// session's calls share a key as they do in real logs.
type actor struct {
	kind        idKind
	acct        *account // userIdentity.accountId
	principalID string
	arn         string
	userName    string
	key         string // long-term access key; empty for sessions
	session     bool   // has sessionContext and per-hour session keys
	issuer      *resource
	issuerType  string // Role or IAMUser
	emptyIssuer bool   // IAM user console session: "sessionIssuer":{}
	mfa         bool
	ec2         bool // instance role session: ec2RoleDelivery
	invokedBy   string
	idp         string // WebIdentityUser identityProvider
	ua          string
	style       uaStyle
	ips         []string
	console     float64 // share of calls made from the console
	keySeed     uint64
	person      *person
	vpce        bool // may call through the stream's VPC endpoint
}

func (w *world) buildActors(r *rand.Rand, a *account, ciRole, auditRole *resource) {
	a.services = map[string]*actor{}
	for _, svc := range []string{"ec2.amazonaws.com", "lambda.amazonaws.com", "cloudtrail.amazonaws.com", "config.amazonaws.com",
		"autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com", "rds.amazonaws.com", "ssm.amazonaws.com",
		"secretsmanager.amazonaws.com", "s3.amazonaws.com", "dynamodb.amazonaws.com", "ecs-tasks.amazonaws.com",
		"access-analyzer.amazonaws.com", "guardduty.amazonaws.com"} {
		a.services[svc] = &actor{kind: idAWSService, acct: a, invokedBy: svc, style: uaService}
	}
	a.svcEvent = &actor{kind: idServiceEvent, acct: a, invokedBy: "AWS Internal", style: uaService}

	ips := func(p *person) []string { return []string{p.homeIP, w.officeIP[0], w.officeIP[1]} }
	sso := func(set string) *resource {
		name := "AWSReservedSSO_" + set + "_" + hexString(r, 16)
		return &resource{kind: kRole, id: name, name: name, acct: a, created: -1,
			arn:   "arn:aws:iam::" + a.id + ":role/aws-reserved/sso.amazonaws.com/" + name,
			idNum: "AROA" + randomString(r, keyChars, 17)}
	}
	admin, power, readOnly := sso("AdministratorAccess"), sso("PowerUserAccess"), sso("ReadOnlyAccess")
	for _, p := range a.people {
		main := power
		if p.admin {
			main = admin
		}
		act := roleActor(r, a, main, p.email)
		act.ua, act.style, act.ips, act.console, act.person = p.ua, uaCLI, ips(p), 0.35, p
		a.humans = append(a.humans, act, act, act, act)
		ro := roleActor(r, a, readOnly, p.email)
		ro.ua, ro.style, ro.ips, ro.console, ro.person = p.ua, uaCLI, ips(p), 0.5, p
		a.humans = append(a.humans, ro, ro)
		a.readOnly = append(a.readOnly, ro)
	}
	for _, u := range a.primary.pool[kUser] {
		var p *person
		for _, q := range a.people {
			if q.login == u.id {
				p = q
			}
		}
		if p == nil {
			continue
		}
		cli := &actor{kind: idIAMUser, acct: a, principalID: u.idNum, arn: u.arn, userName: u.id,
			key: keyID("AKIA", r.Uint64()), ua: p.ua, style: uaCLI, ips: ips(p), person: p}
		con := &actor{kind: idIAMUser, acct: a, principalID: u.idNum, arn: u.arn, userName: u.id,
			session: true, emptyIssuer: true, mfa: r.IntN(10) < 7, style: uaConsole, ips: ips(p), console: 1,
			keySeed: r.Uint64(), person: p}
		a.humans = append(a.humans, cli, con)
		a.consoles = append(a.consoles, con)
		a.keyUsers = append(a.keyUsers, cli)
	}
	for _, h := range a.humans {
		if !slices.Contains(a.readOnly, h) {
			a.writers = append(a.writers, h)
		}
	}
	a.root = &actor{kind: idRoot, acct: a, principalID: a.id, arn: "arn:aws:iam::" + a.id + ":root",
		session: true, mfa: true, style: uaConsole, console: 1, keySeed: r.Uint64(), ips: []string{w.officeIP[0]}}
	noMFA := *a.root
	noMFA.mfa, noMFA.keySeed = false, r.Uint64()
	a.rootNoMFA = &noMFA

	for _, u := range a.primary.pool[kUser] {
		if u.id != "legacy-reporting" {
			continue
		}
		a.fedCaller = &actor{kind: idIAMUser, acct: a, principalID: u.idNum, arn: u.arn, userName: u.id,
			key: keyID("AKIA", r.Uint64()), ua: "Boto3/1.28.57 md/Botocore#1.31.57 ua/2.0 os/linux#5.15.0-1047-aws md/arch#x86_64 lang/python#3.9.18 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.57",
			style: uaPlain, ips: []string{w.officeIP[1]}}
		for _, sessName := range []string{"reporting-portal", "finance-dashboard"} {
			f := &actor{kind: idFederated, acct: a, principalID: a.id + ":" + sessName,
				arn: "arn:aws:sts::" + a.id + ":federated-user/" + sessName, session: true,
				issuer: u, issuerType: "IAMUser", keySeed: r.Uint64(),
				ua:  "Boto3/1.28.57 md/Botocore#1.31.57 ua/2.0 os/linux#5.15.0-1047-aws md/arch#x86_64 lang/python#3.9.18 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.57",
				ips: []string{w.officeIP[1]}}
			a.federated = append(a.federated, f)
			a.humans = append(a.humans, f)
		}
	}

	terraform := "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.45.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64"
	runnerIPs := []string{ipString(4, 175, r.IntN(256), 1+r.IntN(254)), ipString(20, 42, r.IntN(256), 1+r.IntN(254)), ipString(40, 84, r.IntN(256), 1+r.IntN(254))}
	a.ciRole = roleActor(r, a, ciRole, "GitHubActions")
	a.ciRole.ua, a.ciRole.style, a.ciRole.ips = terraform, uaSDK, runnerIPs
	for _, u := range a.primary.pool[kUser] {
		if u.id == "ci-deployer" {
			a.ciUser = &actor{kind: idIAMUser, acct: a, principalID: u.idNum, arn: u.arn, userName: u.id,
				key: keyID("AKIA", r.Uint64()), ua: terraform, style: uaSDK, ips: runnerIPs}
		}
	}
	repo := "repo:" + w.company + "/infrastructure:ref:refs/heads/main"
	idp := "arn:aws:iam::" + a.id + ":oidc-provider/token.actions.githubusercontent.com"
	a.webID = &actor{kind: idWebIdentity, acct: a, principalID: idp + ":sts.amazonaws.com:" + repo, userName: repo, idp: idp,
		ua: "aws-sdk-nodejs/2.1572.0 linux/v20.11.1 configure-aws-credentials-for-github-actions promise", style: uaPlain, ips: runnerIPs}

	scanner := roleActor(r, a, auditRole, "audit-"+a.envShort)
	scanner.ua, scanner.style = "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.215-203.850.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython exec-env/AWS_ECS_FARGATE cfg/retry-mode#standard Botocore/1.34.84 prowler/3.16.1", uaPlain
	scanner.ips = []string{awsIP(r)}
	slrName := "AWSServiceRoleForConfig"
	slr := &resource{kind: kRole, id: slrName, name: slrName, acct: a, created: -1,
		arn:   "arn:aws:iam::" + a.id + ":role/aws-service-role/config.amazonaws.com/" + slrName,
		idNum: "AROA" + randomString(r, keyChars, 17)}
	a.configSLR = roleActor(r, a, slr, "AWSConfig-Describe")
	a.configSLR.invokedBy, a.configSLR.style = "config.amazonaws.com", uaService
	a.audit = []*actor{scanner, scanner, a.configSLR}

	for _, s := range a.streams {
		for _, in := range s.pool[kInstance] {
			w.instanceActor(r, in)
		}
		for _, fn := range s.pool[kFunction] {
			w.functionActor(r, fn)
		}
	}
}

// linkCrossAccount gives every account but the security account a
// principal from the security account that assumes roles there.
func (w *world) linkCrossAccount(r *rand.Rand) {
	sec := w.accounts[len(w.accounts)-1]
	name := "security-automation"
	role := &resource{kind: kRole, id: name, name: name, acct: sec, created: -1,
		arn: "arn:aws:iam::" + sec.id + ":role/" + name, idNum: "AROA" + randomString(r, keyChars, 17)}
	for _, a := range w.accounts {
		x := roleActor(r, sec, role, "audit-"+a.envShort)
		x.ua, x.style, x.ips = "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.215-203.850.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython exec-env/AWS_Lambda_python3.11 cfg/retry-mode#standard Botocore/1.34.84", uaPlain, []string{awsIP(r)}
		a.crossAcct = x
	}
}

func roleActor(r *rand.Rand, a *account, role *resource, session string) *actor {
	return &actor{kind: idAssumedRole, acct: a, principalID: role.idNum + ":" + session,
		arn:     "arn:aws:sts::" + role.acct.id + ":assumed-role/" + role.id + "/" + session,
		session: true, issuer: role, issuerType: "Role", keySeed: r.Uint64()}
}

func workloadAgents() []string {
	return []string{
		"Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#6.1.84-99.169.amzn2023.x86_64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.84",
		"aws-sdk-java/2.25.31 Linux/6.1.84-99.169.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/21.0.2+13-LTS Java/21.0.2 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
		"aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64",
	}
}

func (w *world) instanceActor(r *rand.Rand, in *resource) {
	act := roleActor(r, in.acct, in.role, in.id)
	act.ec2 = true
	act.ua = pick(r, workloadAgents())
	act.style = uaPlain
	if strings.HasPrefix(act.ua, "aws-sdk-go") {
		act.style = uaSDK
	}
	act.ips = in.home.nat
	act.vpce = true
	in.actor = act
}

func (w *world) functionActor(r *rand.Rand, fn *resource) {
	act := roleActor(r, fn.acct, fn.role, fn.id)
	switch fn.extra {
	case "nodejs20.x":
		act.ua, act.style = "aws-sdk-js/3.533.0 ua/2.0 os/linux#5.10.214-223.826.amzn2.x86_64 lang/js md/nodejs#20.12.0 exec-env/AWS_Lambda_nodejs20.x", uaSDK
	case "java21":
		act.ua = "aws-sdk-java/2.25.31 Linux/5.10.214-223.826.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.2+13-LTS Java/21.0.2 vendor/Amazon.com_Inc. exec-env/AWS_Lambda_java21 io/sync http/UrlConnection cfg/retry-mode/legacy"
	default:
		act.ua = "Boto3/1.34.42 md/Botocore#1.34.42 ua/2.0 os/linux#5.10.214-223.826.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.42"
	}
	act.ips = []string{awsIP(r), awsIP(r), awsIP(r)}
	fn.actor = act
}
