package gen

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// kind is a resource type in the pool.
type kind uint8

const (
	kInstance kind = iota
	kVolume
	kSecurityGroup
	kBucket
	kRole
	kUser
	kFunction
	kKey
	kQueue
	kTopic
	kTable
	kSecret
	kDB
	kLoadBalancer
	numKinds
)

// global reports whether the kind is an IAM kind, whose events CloudTrail
// delivers to us-east-1 whatever region the caller used.
func (k kind) global() bool { return k == kRole || k == kUser }

// tag is one resource tag.
type tag struct{ key, value string }

// resource is one member of the stable pool. created is the position in
// its home stream of the call that created it: -1 for resources that
// existed before the span, notCreated for a creation that did not fit in
// the stream.
type resource struct {
	kind    kind
	id      string // native identifier: i-..., bucket name, role name, key id, ...
	name    string // display name (EC2 Name tag, function name, alias)
	arn     string
	acct    *account
	region  string
	home    *stream
	app     string
	created int
	az      string
	extra   string // kind-specific: queue URL, instance type, VPC, engine
	role    *resource
	actor   *actor // workload session of an instance or function
	idNum   string // kind-specific internal id: RDS dbi-resource id, role/user unique id
	tags    []tag  // tag state while the script is written; afterwards the state at the end of the span
}

// account is one AWS account of the synthetic organisation.
type account struct {
	idx      int
	id       string
	envShort string // prod, stg, sec
	envs     [3]int // weights of Production, Staging, Development
	streams  []*stream
	primary  *stream // the us-east-1 stream: IAM, STS global, sign-in
	trailARN string

	humans    []*actor // human actors, repeated by weight
	writers   []*actor // humans allowed to change things: humans without read-only sessions
	readOnly  []*actor // read-only SSO sessions, used for denied attempts
	consoles  []*actor // IAM user console sessions
	root      *actor
	federated []*actor
	ciRole    *actor // GitHub Actions session of the deploy role
	ciUser    *actor // terraform IAM user with a long-term key
	webID     *actor // WebIdentityUser calling AssumeRoleWithWebIdentity
	audit     []*actor
	configSLR *actor
	services  map[string]*actor // AWSService actors by invokedBy
	svcEvent  *actor            // identity of AwsServiceEvent records
	crossAcct *actor            // security-account principal assuming roles here
	people    []*person
	apps      []string
	rootNoMFA *actor
	keyUsers  []*actor // IAM users with long-term keys
	fedCaller *actor   // IAM user that calls GetFederationToken
	auditRole *resource
}

// person is a human of the organisation; they sign in through IAM
// Identity Center and, in some accounts, also hold a legacy IAM user.
type person struct {
	first, last string
	login       string // first.last
	email       string
	homeIP      string
	admin       bool
	ua          string // their CLI or SDK user agent
}

// stream is one account-region pair: one S3 prefix of delivered files.
type stream struct {
	idx    int
	acct   *account
	region string
	weight float64
	n      int // events in this stream
	clock  clock
	pool   [numKinds][]*resource
	steps  []step
	nat    []string // NAT gateway public IPs of workloads
	vpce   string
	vpcs   []string
	subnet []string
	amis   []string
	azs    []string
	cum    []int // cumulative noise-template weights for this stream
}

// world is everything fixed by the seed before any file is written.
// Workers only read it.
type world struct {
	seed     uint64
	company  string
	domain   string
	start    int64
	span     int64
	accounts []*account
	streams  []*stream
	cat      *catalog
	officeIP []string
}

type regionInfo struct {
	name      string
	offset    int    // hours from UTC of its business day
	azLetters string // availability zones in use
	short     string
}

func regionTable() []regionInfo {
	return []regionInfo{
		{"us-east-1", -4, "abcdf", "use1"},
		{"us-west-2", -7, "abc", "usw2"},
		{"eu-west-1", 1, "abc", "euw1"},
		{"eu-central-1", 2, "abc", "euc1"},
	}
}

type accountPlan struct {
	envShort string
	envs     [3]int
	regions  []int     // indexes into regionTable
	weights  []float64 // share of all events, per region
	scale    float64   // pool size relative to the production account
}

func accountPlans() []accountPlan {
	return []accountPlan{
		{"prod", [3]int{82, 10, 8}, []int{0, 1, 2, 3}, []float64{0.28, 0.12, 0.14, 0.06}, 1},
		{"stg", [3]int{6, 54, 40}, []int{0, 2}, []float64{0.16, 0.09}, 0.7},
		{"sec", [3]int{70, 5, 25}, []int{0}, []float64{0.15}, 0.4},
	}
}

// newWorld builds accounts, streams, the resource pool and actors from the
// seed, splits the events between streams and writes each stream's script.
func newWorld(o Options) *world {
	r := rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed0f7a11))
	w := &world{
		seed:  uint64(o.Seed),
		start: o.Start.Unix(),
		span:  int64(o.Span / 1e9),
		cat:   newCatalog(),
	}
	w.company = pick(r, companyNames())
	w.domain = w.company + ".io"
	w.officeIP = []string{publicIP(r), publicIP(r)}

	regions := regionTable()
	for ai, p := range accountPlans() {
		a := &account{idx: ai, envShort: p.envShort, envs: p.envs}
		a.id = accountID(r)
		for i, ri := range p.regions {
			reg := regions[ri]
			s := &stream{idx: len(w.streams), acct: a, region: reg.name, weight: p.weights[i]}
			s.clock = newClock(w.start, w.span, reg.offset)
			for _, l := range reg.azLetters {
				s.azs = append(s.azs, reg.name+string(l))
			}
			s.nat = []string{awsIP(r), awsIP(r)}
			s.vpce = "vpce-0" + hexString(r, 16)
			s.vpcs = []string{"vpc-0" + hexString(r, 16), "vpc-0" + hexString(r, 16)}
			for range 3 {
				s.subnet = append(s.subnet, "subnet-0"+hexString(r, 16))
			}
			s.amis = []string{"ami-0" + hexString(r, 16), "ami-0" + hexString(r, 16), "ami-0" + hexString(r, 16)}
			a.streams = append(a.streams, s)
			w.streams = append(w.streams, s)
			if reg.name == "us-east-1" {
				a.primary = s
			}
		}
		w.accounts = append(w.accounts, a)
	}
	w.splitEvents(o.Events)
	w.buildPeople(r)
	k := poolScale(o.Events)
	for ai, p := range accountPlans() {
		w.buildAccount(r, w.accounts[ai], max(2, int(math.Round(float64(k)*p.scale))))
	}
	w.linkCrossAccount(r)
	for _, s := range w.streams {
		s.cum = w.cat.weights(s)
	}
	w.writeScripts(r)
	return w
}

// poolScale is the number of resources of a typical kind in the production
// account: it grows with the square root of the event count, so small runs
// still carry every kind and large runs do not churn tags implausibly.
func poolScale(events int) int {
	return max(2, min(30, int(math.Round(math.Sqrt(float64(events))/40))))
}

// splitEvents shares the events between streams by weight with the
// largest-remainder method, so the parts always add up to the total.
func (w *world) splitEvents(total int) {
	sum := 0.0
	for _, s := range w.streams {
		sum += s.weight
	}
	type rem struct {
		i int
		f float64
	}
	rems := make([]rem, len(w.streams))
	given := 0
	for i, s := range w.streams {
		exact := float64(total) * s.weight / sum
		s.n = int(exact)
		given += s.n
		rems[i] = rem{i, exact - float64(s.n)}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].f > rems[b].f })
	for i := 0; given < total; i++ {
		w.streams[rems[i%len(rems)].i].n++
		given++
	}
}

func accountID(r *rand.Rand) string {
	b := []byte{byte('1' + r.IntN(9))}
	for range 11 {
		b = append(b, byte('0'+r.IntN(10)))
	}
	return string(b)
}

// publicIP draws an address outside private, loopback and documentation
// ranges.
func publicIP(r *rand.Rand) string {
	firsts := []int{24, 31, 37, 46, 62, 71, 73, 76, 81, 84, 86, 89, 91, 98, 104, 108, 109, 151, 174, 176, 185, 188, 195, 212, 217}
	return ipString(pick(r, firsts), 1+r.IntN(254), r.IntN(256), 1+r.IntN(254))
}

// awsIP draws an address from blocks AWS uses for EC2 public addresses.
func awsIP(r *rand.Rand) string {
	firsts := []int{3, 13, 18, 34, 35, 44, 52, 54}
	return ipString(pick(r, firsts), 1+r.IntN(254), r.IntN(256), 1+r.IntN(254))
}

func ipString(a, b, c, d int) string {
	return strconv.Itoa(a) + "." + strconv.Itoa(b) + "." + strconv.Itoa(c) + "." + strconv.Itoa(d)
}

func (w *world) buildPeople(r *rand.Rand) {
	firsts := firstNames()
	lasts := lastNames()
	r.Shuffle(len(firsts), func(i, j int) { firsts[i], firsts[j] = firsts[j], firsts[i] })
	r.Shuffle(len(lasts), func(i, j int) { lasts[i], lasts[j] = lasts[j], lasts[i] })
	n := 6 + r.IntN(4)
	uas := humanAgents()
	var people []*person
	for i := 0; i < n; i++ {
		p := &person{first: firsts[i], last: lasts[i]}
		p.login = strings.ToLower(p.first + "." + p.last)
		p.email = p.login + "@" + w.domain
		p.homeIP = publicIP(r)
		p.admin = i < 2
		p.ua = pick(r, uas)
		people = append(people, p)
	}
	for _, a := range w.accounts {
		a.people = people
	}
}

// names hands out unique names within one account and kind.
type names map[string]bool

func (n names) unique(s string) string {
	if !n[s] {
		n[s] = true
		return s
	}
	for i := 2; ; i++ {
		t := s + "-" + strconv.Itoa(i)
		if !n[t] {
			n[t] = true
			return t
		}
	}
}

func (w *world) buildAccount(r *rand.Rand, a *account, k int) {
	a.trailARN = "arn:aws:cloudtrail:us-east-1:" + a.id + ":trail/" + w.company + "-org-trail"
	apps := appNames()
	r.Shuffle(len(apps), func(i, j int) { apps[i], apps[j] = apps[j], apps[i] })
	nApps := max(2, min(len(apps), k+1))
	apps = apps[:nApps]
	a.apps = apps
	used := [numKinds]names{}
	for i := range used {
		used[i] = names{}
	}
	add := func(res *resource, s *stream) {
		res.acct, res.home, res.region, res.created = a, s, s.region, -1
		s.pool[res.kind] = append(s.pool[res.kind], res)
	}
	place := func() *stream {
		sum := 0.0
		for _, s := range a.streams {
			sum += s.weight
		}
		x := float64(r.Float64() * sum)
		for _, s := range a.streams {
			if x < s.weight {
				return s
			}
			x -= s.weight
		}
		return a.streams[len(a.streams)-1]
	}
	env := a.envShort

	// IAM roles: an instance role and a Lambda role per app, plus the CI
	// deploy role and the audit role assumed from the security account.
	roleFor := map[string][2]*resource{}
	newRole := func(name, app string) *resource {
		res := &resource{kind: kRole, id: used[kRole].unique(name), app: app}
		res.name = res.id
		res.arn = "arn:aws:iam::" + a.id + ":role/" + res.id
		res.idNum = "AROA" + randomString(r, keyChars, 17)
		add(res, a.primary)
		return res
	}
	for _, app := range apps {
		roleFor[app] = [2]*resource{newRole(app+"-ec2-role", app), newRole(app+"-lambda-role", app)}
	}
	ciRole := newRole("github-actions-deploy", "platform")
	auditRole := newRole("SecurityAudit", "security")

	// IAM users: legacy human users and service users.
	for i, p := range a.people {
		if i%3 == a.idx%3 || i == 0 {
			res := &resource{kind: kUser, id: used[kUser].unique(p.login), app: "people"}
			res.name, res.arn = res.id, "arn:aws:iam::"+a.id+":user/"+res.id
			res.idNum = "AIDA" + randomString(r, keyChars, 17)
			add(res, a.primary)
		}
	}
	svcUsers := []string{"ci-deployer", "backup-agent"}
	if a.idx == 0 {
		svcUsers = append(svcUsers, "legacy-reporting")
	}
	for _, u := range svcUsers {
		res := &resource{kind: kUser, id: used[kUser].unique(u), app: "platform"}
		res.name, res.arn = res.id, "arn:aws:iam::"+a.id+":user/"+res.id
		res.idNum = "AIDA" + randomString(r, keyChars, 17)
		add(res, a.primary)
	}

	instanceTypes := []string{"t3.medium", "t3.large", "m6i.large", "m6i.xlarge", "c6i.2xlarge", "r6i.large", "m7g.large", "t4g.small"}
	components := []string{"api", "web", "worker", "batch", "proxy", "cache"}
	for i := 0; i < 2*k; i++ {
		s := place()
		app := apps[i%len(apps)]
		res := &resource{kind: kInstance, id: "i-0" + hexString(r, 16), app: app}
		res.name = used[kInstance].unique(app + "-" + components[r.IntN(len(components))] + "-" + env)
		res.az = pick(r, s.azs)
		res.extra = pick(r, instanceTypes)
		res.role = roleFor[app][0]
		add(res, s)
		res.arn = "arn:aws:ec2:" + s.region + ":" + a.id + ":instance/" + res.id
	}
	for i := 0; i < 2*k; i++ {
		s := place()
		app := apps[r.IntN(len(apps))]
		res := &resource{kind: kVolume, id: "vol-0" + hexString(r, 16), app: app}
		res.name = app + "-data-" + env
		res.az = pick(r, s.azs)
		res.extra = strconv.Itoa(pick(r, []int{8, 20, 50, 100, 200, 500}))
		add(res, s)
		res.arn = "arn:aws:ec2:" + s.region + ":" + a.id + ":volume/" + res.id
	}
	for i := 0; i < k; i++ {
		s := place()
		app := apps[i%len(apps)]
		res := &resource{kind: kSecurityGroup, id: "sg-0" + hexString(r, 16), app: app}
		res.name = used[kSecurityGroup].unique(app + "-" + pick(r, []string{"app", "alb", "db", "internal"}) + "-sg")
		res.extra = s.vpcs[r.IntN(len(s.vpcs))]
		add(res, s)
		res.arn = "arn:aws:ec2:" + s.region + ":" + a.id + ":security-group/" + res.id
	}
	purposes := []string{"artifacts", "data", "logs", "backups", "uploads", "exports", "assets", "reports"}
	for i := 0; i < k+1; i++ {
		s := place()
		app := apps[i%len(apps)]
		name := used[kBucket].unique(w.company + "-" + app + "-" + pick(r, purposes) + "-" + env + "-" + regionShort(s.region))
		res := &resource{kind: kBucket, id: name, name: name, app: app, arn: "arn:aws:s3:::" + name}
		add(res, s)
	}
	fnParts := []string{"processor", "handler", "webhook", "sync", "resizer", "notifier", "exporter", "scheduler"}
	for i := 0; i < k; i++ {
		s := place()
		app := apps[i%len(apps)]
		name := used[kFunction].unique(app + "-" + pick(r, fnParts) + "-" + env)
		res := &resource{kind: kFunction, id: name, name: name, app: app}
		res.role = roleFor[app][1]
		res.extra = pick(r, []string{"python3.12", "nodejs20.x", "java21", "python3.11", "provided.al2023"})
		add(res, s)
		res.arn = "arn:aws:lambda:" + s.region + ":" + a.id + ":function:" + name
	}
	for i := 0; i < max(2, k/2+1); i++ {
		s := place()
		app := apps[i%len(apps)]
		res := &resource{kind: kKey, id: uuid(r), app: app}
		res.name = used[kKey].unique("alias/" + app + "-" + pick(r, []string{"data", "secrets", "backup", "ebs"}))
		add(res, s)
		res.arn = "arn:aws:kms:" + s.region + ":" + a.id + ":key/" + res.id
	}
	for i := 0; i < k; i++ {
		s := place()
		app := apps[i%len(apps)]
		name := used[kQueue].unique(app + "-" + pick(r, []string{"events", "jobs", "tasks", "dlq", "ingest"}) + "-" + env)
		res := &resource{kind: kQueue, id: name, name: name, app: app}
		add(res, s)
		res.arn = "arn:aws:sqs:" + s.region + ":" + a.id + ":" + name
		res.extra = "https://sqs." + s.region + ".amazonaws.com/" + a.id + "/" + name
	}
	for i := 0; i < max(1, k/2); i++ {
		s := place()
		app := apps[i%len(apps)]
		name := used[kTopic].unique(app + "-" + pick(r, []string{"alerts", "events", "notifications"}) + "-" + env)
		res := &resource{kind: kTopic, id: name, name: name, app: app}
		add(res, s)
		res.arn = "arn:aws:sns:" + s.region + ":" + a.id + ":" + name
	}
	for i := 0; i < k; i++ {
		s := place()
		app := apps[i%len(apps)]
		name := used[kTable].unique(app + "-" + pick(r, []string{"items", "sessions", "state", "events", "locks"}) + "-" + env)
		res := &resource{kind: kTable, id: name, name: name, app: app}
		add(res, s)
		res.arn = "arn:aws:dynamodb:" + s.region + ":" + a.id + ":table/" + name
	}
	for i := 0; i < k; i++ {
		s := place()
		app := apps[i%len(apps)]
		name := used[kSecret].unique(env + "/" + app + "/" + pick(r, []string{"db-credentials", "api-key", "oauth-client", "signing-key"}))
		res := &resource{kind: kSecret, id: name, name: name, app: app}
		add(res, s)
		res.arn = "arn:aws:secretsmanager:" + s.region + ":" + a.id + ":secret:" + name + "-" + randomString(r, alnumChars, 6)
	}
	for i := 0; i < max(1, k/3); i++ {
		s := place()
		app := apps[i%len(apps)]
		name := used[kDB].unique(app + "-db-" + env)
		res := &resource{kind: kDB, id: name, name: name, app: app}
		res.extra = pick(r, []string{"postgres", "mysql", "aurora-postgresql"})
		res.idNum = "db-" + randomString(r, keyChars, 26)
		res.az = pick(r, s.azs)
		add(res, s)
		res.arn = "arn:aws:rds:" + s.region + ":" + a.id + ":db:" + name
	}
	for i := 0; i < max(1, k/2); i++ {
		s := place()
		app := apps[i%len(apps)]
		name := used[kLoadBalancer].unique(app + "-alb-" + env)
		res := &resource{kind: kLoadBalancer, id: name, name: name, app: app}
		add(res, s)
		res.idNum = hexString(r, 16)
		res.arn = "arn:aws:elasticloadbalancing:" + s.region + ":" + a.id + ":loadbalancer/app/" + name + "/" + res.idNum
		res.extra = "arn:aws:elasticloadbalancing:" + s.region + ":" + a.id + ":targetgroup/" + app + "-tg-" + env + "/" + hexString(r, 16)
	}
	a.auditRole = auditRole
	w.buildActors(r, a, ciRole, auditRole)
}

func regionShort(region string) string {
	for _, ri := range regionTable() {
		if ri.name == region {
			return ri.short
		}
	}
	return region
}

// existing returns how many resources of list were created before pos;
// lists are sorted by creation position, pre-existing first.
func existing(list []*resource, pos int) int {
	return sort.Search(len(list), func(i int) bool { return list[i].created >= pos })
}

// pickRes returns a random resource of kind k that exists at position pos
// of stream s, or nil. IAM resources live in the account's us-east-1
// stream; other streams see only the ones that predate the span.
func pickRes(r *rand.Rand, s *stream, k kind, pos int) *resource {
	list := s.pool[k]
	if k.global() && s != s.acct.primary {
		list, pos = s.acct.primary.pool[k], 0
	}
	n := existing(list, pos)
	if n == 0 {
		return nil
	}
	return list[r.IntN(n)]
}

func companyNames() []string {
	return []string{"acme", "globex", "initech", "umbrella", "hooli", "vandelay", "wonka", "stark", "tyrell", "soylent", "cyberdyne", "massive"}
}

func firstNames() []string {
	return []string{"Alice", "Bob", "Carla", "Deepak", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam", "Maya", "Nikolai", "Olga", "Priya", "Quentin", "Rosa", "Sven", "Tariq"}
}

func lastNames() []string {
	return []string{"Nguyen", "Martin", "Okafor", "Schmidt", "Rossi", "Kowalski", "Silva", "Tanaka", "Haddad", "Johansson", "Murphy", "Patel", "Garcia", "Novak", "Dubois", "Kim", "Larsen", "Moreau", "Fischer", "Costa"}
}

func appNames() []string {
	return []string{"orders", "payments", "checkout", "inventory", "catalog", "search", "billing", "auth", "notifications", "reporting", "analytics", "ledger", "shipping", "pricing", "profile", "gateway", "recommendations", "fulfillment", "invoicing", "loyalty", "reviews", "media", "chat", "scheduler", "identity", "warehouse", "returns", "tax", "fraud", "support", "marketing", "onboarding"}
}

func humanAgents() []string {
	return []string{
		"aws-cli/2.15.38 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off",
		"aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-aws md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off",
		"aws-cli/2.13.25 Python/3.11.5 Darwin/22.6.0 exe/x86_64 prompt/off",
		"aws-cli/2.16.1 md/awscrt#0.20.9 ua/2.0 os/windows#10 md/arch#amd64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off",
	}
}
