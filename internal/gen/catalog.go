package gen

import (
	"math/rand/v2"
	"sort"
	"strings"
)

// reqKind says how a template's requestID looks.
type reqKind uint8

const (
	reqUUID reqKind = iota
	reqS3           // 16 upper-case characters
	reqNone         // sign-in and service events carry none
)

const noKind = numKinds

// errSpec is a failure particular to one call, such as a missing bucket
// policy. The message is pre, or pre + resource id + post when post is set.
type errSpec struct {
	code, pre, post string
	p               float64
	when            func(*ev) bool
}

// template is one API call as CloudTrail records it: its fixed fields,
// who usually makes it, how often, and a renderer for its parameters.
type template struct {
	name, source, version string
	iam, action           string // IAM service prefix and action, for error messages
	host                  string
	globalHost            bool
	cli, api              string // user-agent suffixes of the AWS CLI and SDKs
	consoleUA             string
	weight                int // relative frequency in background traffic; 0 = scripted only
	readOnly, data        bool
	kind                  kind // resource the call is about; noKind for none
	optional              bool // the call may also run without a resource
	mix                   [numClasses]uint8
	mixSum                int
	services              []string // callers for clsService
	behalf                bool     // services call on a caller's behalf (invokedBy) rather than as AWSService
	render                func(*ev)
	errs                  []errSpec
	eventType             string
	apiVersion            string
	reqID                 reqKind
	globalOnly            bool // IAM: only in us-east-1 streams
	s3, signin            bool
	consoleOK             bool // people also make this call from the console
	vpce                  bool // workloads may reach it through a VPC endpoint
	crossOK               bool // principals of other accounts may make it
	fixedUA               string
	// who, if set, picks the caller instead of the mix; nil means the
	// call cannot happen in this stream now.
	who func(g *fileGen, s *stream, pos int, res *resource) *actor
}

// mix lists actor-class weights in the order human, workload, automation,
// service, audit.
type mix = [numClasses]uint8

// catalog holds every template. It is built once per Generate call and
// only read afterwards.
type catalog struct {
	all      []*template
	noise    []*template
	byName   map[string]*template
	fallback *template
	ops      [numKinds]kindOps
}

func newCatalog() *catalog {
	c := &catalog{byName: map[string]*template{}}
	c.addEC2()
	c.addS3()
	c.addIAM()
	c.addSTS()
	c.addKMS()
	c.addSecrets()
	c.addSSM()
	c.addDynamo()
	c.addLambda()
	c.addRDS()
	c.addMessaging()
	c.addELB()
	c.addMisc()
	c.addTagging()
	for _, t := range c.all {
		if t.weight > 0 {
			c.noise = append(c.noise, t)
		}
	}
	c.fallback = c.get("sts", "GetCallerIdentity")
	return c
}

// def registers a template with defaults derived from its source and name.
func (c *catalog) def(svc, name string, weight int, readOnly bool, k kind, m mix, render func(*ev)) *template {
	t := &template{
		name: name, source: svc + ".amazonaws.com", weight: weight, readOnly: readOnly,
		kind: k, mix: m, render: render, eventType: "AwsApiCall", host: svc, vpce: true,
	}
	for _, x := range m {
		t.mixSum += int(x)
	}
	if t.mixSum == 0 {
		t.mix[clsHuman], t.mixSum = 1, 1
	}
	t.version = "1.08"
	switch svc {
	case "ec2", "cloudtrail", "signin":
		t.version = "1.09"
	case "s3":
		t.version = "1.10"
	}
	t.iam, t.action = svc, stripAPIVersion(name)
	cliSvc, sdk := svc, svc
	switch svc {
	case "monitoring":
		t.iam, cliSvc, sdk = "cloudwatch", "cloudwatch", "cloudwatch"
	case "elasticloadbalancing":
		cliSvc, sdk = "elbv2", "elasticloadbalancingv2"
	case "tagging":
		t.iam, cliSvc, sdk = "tag", "resourcegroupstaggingapi", "resourcegroupstaggingapi"
	case "s3":
		cliSvc = "s3api"
	case "logs":
		sdk = "cloudwatchlogs"
	}
	t.cli = " md/command#" + cliSvc + "." + kebab(t.action)
	t.api = " api/" + sdk + "#1." + sdkMinor(svc)
	t.consoleOK = true
	switch svc {
	case "iam":
		t.globalOnly, t.globalHost, t.vpce = true, true, false
	case "s3":
		t.s3, t.reqID = true, reqS3
	case "signin":
		t.signin, t.reqID, t.eventType = true, reqNone, "AwsConsoleSignIn"
	}
	c.all = append(c.all, t)
	c.byName[svc+"/"+name] = t
	return t
}

// get returns a registered template; a missing name is a bug in this
// package, so it panics.
func (c *catalog) get(svc, name string) *template {
	t := c.byName[svc+"/"+name]
	if t == nil {
		panic("gen: no template " + svc + "/" + name)
	}
	return t
}

// weights returns the cumulative background weights for stream s: IAM
// calls only happen in the account's us-east-1 stream.
func (c *catalog) weights(s *stream) []int {
	cum := make([]int, len(c.noise))
	sum := 0
	for i, t := range c.noise {
		if !t.globalOnly || s == s.acct.primary {
			sum += t.weight
		}
		cum[i] = sum
	}
	return cum
}

func (c *catalog) pick(r *rand.Rand, s *stream) *template {
	x := r.IntN(s.cum[len(s.cum)-1])
	i := sort.SearchInts(s.cum, x+1)
	return c.noise[i]
}

// stripAPIVersion removes the API-version suffix Lambda puts on its event
// names (GetFunction20150331v2 -> GetFunction).
func stripAPIVersion(name string) string {
	if i := strings.Index(name, "20"); i > 0 && len(name) >= i+8 {
		digits := name[i : i+8]
		if strings.Trim(digits, "0123456789") == "" {
			return name[:i]
		}
	}
	return name
}

// kebab turns an operation name into its CLI spelling:
// DescribeDBInstances -> describe-db-instances.
func kebab(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		upper := c >= 'A' && c <= 'Z'
		if upper && i > 0 {
			prev := s[i-1]
			prevLower := prev >= 'a' && prev <= 'z' || prev >= '0' && prev <= '9'
			nextLower := i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z'
			if prevLower || prev >= 'A' && prev <= 'Z' && nextLower {
				b.WriteByte('-')
			}
		}
		if upper {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

func sdkMinor(svc string) string {
	switch svc {
	case "ec2":
		return "155.1"
	case "s3":
		return "53.1"
	case "iam":
		return "31.4"
	case "sts":
		return "28.6"
	case "kms":
		return "31.0"
	case "lambda":
		return "54.0"
	case "rds":
		return "77.1"
	case "dynamodb":
		return "31.1"
	}
	return "30.5"
}
