package awslocal

import (
	"slices"
	"strings"
)

// Instance is an EC2 instance as the Server keeps it.
type Instance struct {
	Region string
	ID     string            // i-...
	Groups []string          // security group IDs, in order
	Tags   map[string]string // nil when it has none
}

// The maps of the Instance, Principal and Bucket values the Server returns
// are copies, nil when empty.

// Principal is an IAM role or user as the Server keeps it.
type Principal struct {
	Name     string
	Tags     map[string]string
	Policies map[string]string // inline policy name -> document, as put
}

// Bucket is an S3 bucket as the Server keeps it.
type Bucket struct {
	Name   string
	Policy string // the bucket policy document; empty when it has none
	Tags   map[string]string
}

// Message is one SNS message published through the Server.
type Message struct {
	ID       string
	Region   string
	TopicARN string
	Subject  string
	Message  string
}

// state is what the Server holds; the Server's mutex guards it.
type state struct {
	instances map[string]*Instance         // region + "/" + id
	ec2Tags   map[string]map[string]string // region + "/" + id, resources other than instances
	roles     map[string]*Principal        // name
	users     map[string]*Principal        // name
	buckets   map[string]*Bucket           // name
	arnTags   map[string]map[string]string // other ARNs, for the tagging API
	published []Message
	strictARN bool
	failures  map[string]*apiError // service + ":" + operation
}

func newState() state {
	return state{
		instances: map[string]*Instance{},
		ec2Tags:   map[string]map[string]string{},
		roles:     map[string]*Principal{},
		users:     map[string]*Principal{},
		buckets:   map[string]*Bucket{},
		arnTags:   map[string]map[string]string{},
		failures:  map[string]*apiError{},
	}
}

// PutInstance adds in, or replaces the instance with its region and ID.
// The Server keeps a copy.
func (s *Server) PutInstance(in Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in.Groups = slices.Clone(in.Groups)
	in.Tags = cloneMap(in.Tags)
	s.instances[in.Region+"/"+in.ID] = &in
}

// Instance returns a copy of the instance with that region and ID.
func (s *Server) Instance(region, id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[region+"/"+id]
	if !ok {
		return Instance{}, false
	}
	out := *in
	out.Groups = slices.Clone(in.Groups)
	out.Tags = cloneMap(in.Tags)
	return out, true
}

// PutRole adds p as an IAM role, or replaces the role with its name. The
// Server keeps a copy.
func (s *Server) PutRole(p Principal) { s.putPrincipal(s.roles, p) }

// PutUser adds p as an IAM user, or replaces the user with its name. The
// Server keeps a copy.
func (s *Server) PutUser(p Principal) { s.putPrincipal(s.users, p) }

// Role returns a copy of the IAM role named name.
func (s *Server) Role(name string) (Principal, bool) { return s.principal(s.roles, name) }

// User returns a copy of the IAM user named name.
func (s *Server) User(name string) (Principal, bool) { return s.principal(s.users, name) }

func (s *Server) putPrincipal(m map[string]*Principal, p Principal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.Tags = cloneMap(p.Tags)
	p.Policies = cloneMap(p.Policies)
	m[p.Name] = &p
}

func (s *Server) principal(m map[string]*Principal, name string) (Principal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := m[name]
	if !ok {
		return Principal{}, false
	}
	return Principal{Name: p.Name, Tags: cloneMap(p.Tags), Policies: cloneMap(p.Policies)}, true
}

// PutBucket adds b, or replaces the bucket with its name. The Server keeps
// a copy.
func (s *Server) PutBucket(b Bucket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b.Tags = cloneMap(b.Tags)
	s.buckets[b.Name] = &b
}

// Bucket returns a copy of the bucket named name.
func (s *Server) Bucket(name string) (Bucket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[name]
	if !ok {
		return Bucket{}, false
	}
	out := *b
	out.Tags = cloneMap(b.Tags)
	return out, true
}

// PutResource makes the resource arn names known with the given tags,
// replacing any it had. EC2, IAM role and user, and S3 bucket ARNs go to
// the state of their service (creating a bare instance, principal or
// bucket when there is none); any other ARN becomes a resource of the
// tagging API.
func (s *Server) PutResource(arn string, tags map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tags == nil {
		tags = map[string]string{}
	}
	tags = cloneMap(tags)
	r := resolve(arn)
	switch r.kind {
	case resEC2:
		if strings.HasPrefix(r.id, "i-") {
			in, ok := s.instances[r.region+"/"+r.id]
			if !ok {
				in = &Instance{Region: r.region, ID: r.id}
				s.instances[r.region+"/"+r.id] = in
			}
			in.Tags = tags
			return
		}
		s.ec2Tags[r.region+"/"+r.id] = tags
	case resRole, resUser:
		m := s.roles
		if r.kind == resUser {
			m = s.users
		}
		p, ok := m[r.id]
		if !ok {
			p = &Principal{Name: r.id}
			m[r.id] = p
		}
		p.Tags = tags
	case resBucket:
		b, ok := s.buckets[r.id]
		if !ok {
			b = &Bucket{Name: r.id}
			s.buckets[r.id] = b
		}
		b.Tags = tags
	default:
		s.arnTags[arn] = tags
	}
}

// Tags returns a copy of the tags of the resource arn names, wherever its
// service keeps them: nil when the resource is unknown, empty and not nil
// when it has none.
func (s *Server) Tags(arn string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tags, ok := s.tagsOf(arn, false)
	if !ok {
		return nil
	}
	if len(tags) == 0 {
		return map[string]string{}
	}
	return cloneMap(tags)
}

// FailUnknownARNs sets whether the tagging API reports ARNs it does not
// know (never given to PutResource, nor seeded through their service) in
// FailedResourcesMap, as AWS does for resources that do not exist. Off by
// default: the tagging API then tags any ARN.
func (s *Server) FailUnknownARNs(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.strictARN = on
}

// FailOperation makes every later request of operation (CreateTags,
// TagResources, PutBucketPolicy) to service (ec2, iam, s3, tagging, sns)
// fail with the AWS error code and message, HTTP status 400, in the
// service's protocol, without touching state. An empty code lifts it.
func (s *Server) FailOperation(service, operation, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := service + ":" + operation
	if code == "" {
		delete(s.failures, key)
		return
	}
	s.failures[key] = &apiError{status: 400, code: code, message: message}
}

// injected returns the failure FailOperation set for the call's operation.
func (s *Server) injected(c *call) *apiError {
	return s.failures[c.rec.Service+":"+c.rec.Operation]
}

// Published returns a copy of the SNS messages published so far, in order.
func (s *Server) Published() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.published)
}

// tagMap is where a resource's tags live: get reads them, set replaces
// them.
type tagMap struct {
	get func() map[string]string
	set func(map[string]string)
}

// tagsOf returns the tags of the resource arn names and whether it is
// known. With create, an unknown EC2 resource other than an instance, or
// an unknown ARN of another service, is made known. The caller holds s.mu.
func (s *Server) tagsOf(arn string, create bool) (map[string]string, bool) {
	tm, ok := s.tagMapOf(arn, create)
	if !ok {
		return nil, false
	}
	return tm.get(), true
}

func (s *Server) tagMapOf(arn string, create bool) (tagMap, bool) {
	r := resolve(arn)
	switch r.kind {
	case resEC2:
		if strings.HasPrefix(r.id, "i-") {
			in, ok := s.instances[r.region+"/"+r.id]
			if !ok {
				return tagMap{}, false
			}
			return tagMap{func() map[string]string { return in.Tags }, func(m map[string]string) { in.Tags = m }}, true
		}
		return s.mapEntry(s.ec2Tags, r.region+"/"+r.id, create)
	case resRole, resUser:
		m := s.roles
		if r.kind == resUser {
			m = s.users
		}
		p, ok := m[r.id]
		if !ok {
			return tagMap{}, false
		}
		return tagMap{func() map[string]string { return p.Tags }, func(m map[string]string) { p.Tags = m }}, true
	case resBucket:
		b, ok := s.buckets[r.id]
		if !ok {
			return tagMap{}, false
		}
		return tagMap{func() map[string]string { return b.Tags }, func(m map[string]string) { b.Tags = m }}, true
	case resInvalid:
		return tagMap{}, false
	default:
		return s.mapEntry(s.arnTags, arn, create)
	}
}

func (s *Server) mapEntry(m map[string]map[string]string, key string, create bool) (tagMap, bool) {
	if _, ok := m[key]; !ok {
		if !create {
			return tagMap{}, false
		}
		m[key] = map[string]string{}
	}
	return tagMap{func() map[string]string { return m[key] }, func(t map[string]string) { m[key] = t }}, true
}

// Kinds of resource an ARN names, for routing it to its service's state.
const (
	resInvalid = iota
	resEC2
	resRole
	resUser
	resBucket
	resOther
)

// resource is an ARN resolved to where the Server keeps its state.
type resource struct {
	kind   int
	region string
	id     string // EC2 resource ID, IAM name (without path), bucket name
}

// resolve routes an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE).
func resolve(arn string) resource {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[1] == "" || p[2] == "" || p[5] == "" {
		return resource{kind: resInvalid}
	}
	service, region, res := p[2], p[3], p[5]
	typ, id, hasSlash := strings.Cut(res, "/")
	switch {
	case service == "ec2" && hasSlash && id != "":
		return resource{kind: resEC2, region: region, id: id}
	case service == "iam" && typ == "role" && hasSlash:
		return resource{kind: resRole, id: res[strings.LastIndex(res, "/")+1:]}
	case service == "iam" && typ == "user" && hasSlash:
		return resource{kind: resUser, id: res[strings.LastIndex(res, "/")+1:]}
	case service == "s3" && region == "" && p[4] == "" && !hasSlash:
		return resource{kind: resBucket, id: res}
	}
	return resource{kind: resOther, region: region}
}
