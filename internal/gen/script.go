package gen

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
)

// step is one scripted record at a fixed position of its stream: a tag
// change, a creation, or one call of a security incident. Steps are what
// give the background traffic meaning: the tag history of every pool
// resource is exactly the sequence of its successful tag steps.
type step struct {
	pos     int
	tpl     *template
	res     *resource
	act     *actor // preset caller; nil draws one from the template's mix
	tags    []tag  // tags the call carries (for PutBucketTagging: the full new set)
	keys    []string
	group   []*resource // several targets: Resource Groups Tagging API, EC2 CreateTags
	fail    bool        // the call is denied and changes nothing
	variant int         // renderer-specific: 1 = the risky form of the call
	port    int
	name    string // a name outside the pool, such as a user an attacker creates
	ip      string
}

// intentOp is what a planned change does to tag state.
type intentOp uint8

const (
	inCreate intentOp = iota
	inTag
	inUntag
	inClear // remove every tag (DeleteBucketTagging)
	inGroupTag
	inGroupUntag
	inEvent // a fixed step with no effect on tags
)

// intent is a planned change at fraction f of the stream, before it is
// placed on a position and turned into steps.
type intent struct {
	f     float64
	seq   int
	op    intentOp
	res   *resource
	group []*resource
	tags  []tag
	keys  []string
	rgta  bool // apply through the Resource Groups Tagging API
	fail  bool // precede with a denied attempt
	st    step // for inEvent
}

// notCreated marks a resource whose creation has not been placed yet.
const notCreated = math.MaxInt

// scripter builds one stream's intents. It is used by one goroutine while
// the world is built.
type scripter struct {
	w       *world
	r       *rand.Rand
	s       *stream
	intents []intent
}

func (p *scripter) add(in intent) {
	in.seq = len(p.intents)
	p.intents = append(p.intents, in)
}

func teams() []string {
	return []string{"platform", "payments", "data", "growth", "core-services", "sre", "security", "commerce"}
}

func hashString(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// costCenter and team are fixed per app, so one app's resources agree.
func costCenter(app string) string {
	return "CC-" + strconv.Itoa(1000+int(mix64(uint64(hashString(app)))%40)*37)
}

func team(app string) string {
	ts := teams()
	return ts[mix64(uint64(hashString(app))^0x7ea3)%uint64(len(ts))] + "-team"
}

func (p *scripter) owner(app string) string {
	if p.r.IntN(5) == 0 {
		return pick(p.r, p.s.acct.people).email
	}
	return team(app)
}

func (p *scripter) env() string {
	e := p.s.acct.envs
	x := p.r.IntN(e[0] + e[1] + e[2])
	switch {
	case x < e[0]:
		return "Production"
	case x < e[0]+e[1]:
		return "Staging"
	}
	return "Development"
}

// initialTags is the first tag set of a resource. A few resources get the
// non-conforming spellings tag policies exist to catch.
func (p *scripter) initialTags(res *resource, env string) []tag {
	r := p.r
	var tags []tag
	switch res.kind {
	case kInstance, kVolume, kSecurityGroup:
		tags = append(tags, tag{"Name", res.name})
	}
	switch x := r.IntN(40); {
	case x == 0:
		tags = append(tags, tag{"env", map[string]string{"Production": "prod", "Staging": "stg", "Development": "dev"}[env]})
	case x == 1:
		tags = append(tags, tag{"Environment", map[string]string{"Production": "production", "Staging": "staging", "Development": "dev"}[env]})
	default:
		tags = append(tags, tag{"Environment", env})
	}
	tags = append(tags, tag{"Owner", p.owner(res.app)})
	if r.IntN(4) > 0 {
		tags = append(tags, tag{"CostCenter", costCenter(res.app)})
	}
	if r.IntN(2) == 0 {
		tags = append(tags, tag{"Application", res.app})
	}
	if (res.kind == kBucket || res.kind == kTable || res.kind == kSecret) && r.IntN(3) == 0 {
		tags = append(tags, tag{"DataClassification", pick(r, []string{"Confidential", "Internal", "Restricted"})})
	}
	return tags
}

func rgtaCapable(k kind) bool { return !k.global() }

func newShare(k kind) float64 {
	switch k {
	case kInstance:
		return 0.25
	case kUser:
		return 0
	case kDB, kLoadBalancer, kBucket:
		return 0.1
	}
	return 0.15
}

// between returns a uniform value in [lo, lo+width).
//
// Here and wherever a product is added to something, the explicit
// float64 conversion rounds the product first, so that no architecture
// fuses the two into one multiply-add and the output stays identical
// across machines.
func between(r *rand.Rand, lo, width float64) float64 {
	return lo + float64(width*r.Float64())
}

// after returns a fraction between f and 1, biased towards soon after f.
func (p *scripter) after(f float64) float64 {
	x := p.r.Float64()
	return f + float64(float64((1-f)*float64(x*math.Sqrt(x)))*0.95) + 1e-9
}

// story plans the tag life of one resource. A showcase resource is
// always tagged early and has a tag removed later (a bucket has its tags
// deleted), and a fresh resource is always created during the span with
// tags, so every kind's calls appear even in small runs.
func (p *scripter) story(res *resource, showcase, fresh bool) {
	r := p.r
	tagged := showcase || fresh || r.IntN(100) < 84
	env := p.env()
	var tags []tag
	if tagged {
		tags = p.initialTags(res, env)
	}
	fail := func() bool { return r.IntN(33) == 0 }
	var f0 float64
	if fresh || !showcase && r.Float64() < newShare(res.kind) {
		res.created = notCreated
		f0 = between(r, 0.04, 0.86)
		if fresh {
			f0 = between(r, 0.04, 0.5)
		}
		if tagged && (fresh || r.IntN(5) > 0) {
			p.add(intent{f: f0, op: inCreate, res: res, tags: tags})
		} else {
			p.add(intent{f: f0, op: inCreate, res: res})
			if tagged {
				f0 += between(r, 0.0005, 0.02)
				p.add(intent{f: f0, op: inTag, res: res, tags: tags, fail: fail()})
			}
		}
	} else if tagged {
		f0 = between(r, 0, 0.08)
		if len(tags) > 2 && r.IntN(10) < 3 {
			split := len(tags) - 1
			p.add(intent{f: f0, op: inTag, res: res, tags: tags[:split], fail: fail()})
			p.add(intent{f: f0 + float64((p.after(f0)-f0)*0.5), op: inTag, res: res, tags: tags[split:], rgta: rgtaCapable(res.kind) && r.IntN(3) == 0})
		} else {
			p.add(intent{f: f0, op: inTag, res: res, tags: tags, fail: fail()})
		}
	}
	if !tagged {
		return
	}
	has := func(k string) bool {
		for _, t := range tags {
			if t.key == k {
				return true
			}
		}
		return false
	}
	viaRGTA := func() bool { return rgtaCapable(res.kind) && r.IntN(10) == 0 }
	if env == "Production" && has("Environment") && r.IntN(100) < 22 {
		f1 := p.after(f0)
		f2 := p.after(f1)
		p.add(intent{f: f1, op: inTag, res: res, tags: []tag{{"Environment", "Staging"}}, rgta: viaRGTA(), fail: fail()})
		p.add(intent{f: f2, op: inTag, res: res, tags: []tag{{"Environment", "Production"}}, rgta: viaRGTA()})
	} else if env == "Development" && has("Environment") && r.IntN(100) < 10 {
		p.add(intent{f: p.after(f0), op: inTag, res: res, tags: []tag{{"Environment", "Staging"}}, rgta: viaRGTA()})
	}
	if r.IntN(100) < 12 {
		p.add(intent{f: p.after(f0), op: inTag, res: res, tags: []tag{{"Owner", p.owner(pick(r, p.s.acct.apps))}}, rgta: viaRGTA(), fail: fail()})
	}
	if !has("CostCenter") && r.IntN(100) < 40 {
		p.add(intent{f: p.after(f0), op: inTag, res: res, tags: []tag{{"CostCenter", costCenter(res.app)}}, rgta: viaRGTA()})
	}
	if showcase || r.IntN(100) < 10 {
		key := "Application"
		switch {
		case has("CostCenter") && (r.IntN(2) == 0 || !has(key)):
			key = "CostCenter"
		case !has(key):
			key = "Owner"
		}
		p.add(intent{f: between(r, 0.3, 0.6), op: inUntag, res: res, keys: []string{key}, rgta: !showcase && viaRGTA(), fail: fail()})
	}
	if res.kind == kBucket && (showcase || r.IntN(100) < 8) {
		f1 := p.after(f0)
		p.add(intent{f: f1, op: inClear, res: res})
		if r.IntN(2) == 0 {
			p.add(intent{f: p.after(f1), op: inTag, res: res, tags: p.initialTags(res, env)})
		}
	}
}

// campaigns plans bulk tag changes through the Resource Groups Tagging
// API over several pre-existing resources at once, and EC2 CreateTags
// calls that tag an instance together with volumes.
func (p *scripter) campaigns() {
	r, s := p.r, p.s
	var pool []*resource
	for k := range numKinds {
		if !rgtaCapable(k) {
			continue
		}
		for _, res := range s.pool[k] {
			if res.created == -1 {
				pool = append(pool, res)
			}
		}
	}
	if len(pool) < 2 {
		return
	}
	n := 1 + len(pool)/15
	for i := range n {
		size := min(len(pool), 2+r.IntN(3))
		group := make([]*resource, 0, size)
		for _, i := range r.Perm(len(pool))[:size] {
			group = append(group, pool[i])
		}
		f := between(r, 0.1, 0.85)
		var tags []tag
		switch x := r.IntN(10); {
		case i == 0: // a project tag that is removed again when the project ends
			tags = []tag{{"Project", pick(r, []string{"q3-migration", "cost-review", "dr-readiness", "soc2-audit"})}}
		case x < 5:
			tags = []tag{{"CostCenter", costCenter(pick(r, s.acct.apps))}}
		case x < 8:
			tags = []tag{{"Project", pick(r, []string{"q3-migration", "cost-review", "dr-readiness", "soc2-audit"})}}
		default:
			tags = []tag{{"BackupPolicy", pick(r, []string{"daily", "weekly"})}}
		}
		p.add(intent{f: f, op: inGroupTag, group: group, tags: tags, fail: r.IntN(8) == 0})
		if i == 0 || tags[0].key != "CostCenter" && r.IntN(10) < 3 {
			p.add(intent{f: p.after(f), op: inGroupUntag, group: group, keys: []string{tags[0].key}})
		}
	}
	ins, vols := s.pool[kInstance], s.pool[kVolume]
	for i := 0; i < len(ins) && i < len(vols) && i < 1+len(ins)/6; i++ {
		if ins[i].created != -1 || vols[i].created != -1 {
			continue
		}
		p.add(intent{f: between(r, 0.1, 0.85), op: inGroupTag, group: []*resource{ins[i], vols[i]},
			tags: []tag{{"PatchGroup", pick(r, []string{"linux-prod", "linux-nonprod"})}}})
	}
}

// event plans a fixed step and returns the fraction just after it, so that
// a sequence of events lands on consecutive positions.
func (p *scripter) event(f float64, st step) float64 {
	p.add(intent{f: f, op: inEvent, st: st})
	return f + 1e-9
}

// incidents plans the security stories a detection demo looks for.
func (p *scripter) incidents() {
	w, r, s := p.w, p.r, p.s
	a := s.acct
	cat := w.cat
	attacker := publicIP(r)
	count := func(per int) int { return 1 + s.n/per }
	tpl := cat.get
	if s == a.primary {
		for range count(400000) {
			f := between(r, 0.05, 0.9)
			f = p.event(f, step{tpl: tpl("signin", "ConsoleLogin"), act: a.rootNoMFA, ip: attacker})
			f = p.event(f, step{tpl: tpl("iam", "ListUsers"), act: a.rootNoMFA, ip: attacker})
			p.event(f, step{tpl: tpl("iam", "GetAccountSummary"), act: a.rootNoMFA, ip: attacker})
		}
		if len(a.consoles) > 0 {
			victim := a.consoles[0]
			for _, c := range a.consoles {
				if !c.mfa {
					victim = c
				}
			}
			f := between(r, 0.05, 0.9)
			for range 3 + r.IntN(4) {
				f = p.event(f, step{tpl: tpl("signin", "ConsoleLogin"), act: victim, ip: attacker, fail: true})
			}
			p.event(f, step{tpl: tpl("signin", "ConsoleLogin"), act: victim, ip: attacker})
		}
		for range count(500000) {
			admin := pick(r, a.humans)
			name := pick(r, []string{"svc-backup", "support-admin", "temp-deploy", "monitoring-svc"}) + "-" + strconv.Itoa(10+r.IntN(90))
			f := between(r, 0.1, 0.85)
			f = p.event(f, step{tpl: tpl("iam", "CreateUser"), act: admin, name: name})
			f = p.event(f, step{tpl: tpl("iam", "AttachUserPolicy"), act: admin, name: name, variant: 1})
			f = p.event(f, step{tpl: tpl("iam", "CreateLoginProfile"), act: admin, name: name})
			p.event(f, step{tpl: tpl("iam", "CreateAccessKey"), act: admin, name: name})
		}
		if roles := s.pool[kRole]; len(roles) > 0 {
			p.event(between(r, 0.1, 0.85), step{tpl: tpl("iam", "AttachRolePolicy"), res: roles[r.IntN(len(roles))], variant: 1})
		}
		if users := s.pool[kUser]; len(users) > 0 {
			p.event(between(r, 0.1, 0.85), step{tpl: tpl("iam", "CreateAccessKey"), res: users[r.IntN(len(users))]})
		}
		if a.idx == 0 && s.n >= 1000 {
			f := between(r, 0.3, 0.5)
			admin := pick(r, a.humans)
			p.event(f, step{tpl: tpl("cloudtrail", "StopLogging"), act: admin})
			p.event(f+between(r, 0.002, 0.01), step{tpl: tpl("cloudtrail", "StartLogging"), act: admin})
		}
		if keys := s.pool[kKey]; a.idx == 0 && len(keys) > 0 && s.n >= 5000 {
			f := between(r, 0.2, 0.6)
			k := keys[r.IntN(len(keys))]
			p.event(f, step{tpl: tpl("kms", "ScheduleKeyDeletion"), res: k})
			p.event(f+0.05, step{tpl: tpl("kms", "CancelKeyDeletion"), res: k})
		}
	}
	if sgs := s.pool[kSecurityGroup]; len(sgs) > 0 {
		for range count(300000) {
			f := between(r, 0.1, 0.85)
			sg := sgs[r.IntN(len(sgs))]
			port := pick(r, []int{22, 22, 3389, 5432})
			p.event(f, step{tpl: tpl("ec2", "AuthorizeSecurityGroupIngress"), res: sg, variant: 1, port: port})
			if r.IntN(10) < 6 {
				p.event(float64(p.after(f)*0.2)+float64(f*0.8), step{tpl: tpl("ec2", "RevokeSecurityGroupIngress"), res: sg, variant: 1, port: port})
			}
		}
	}
	if buckets := s.pool[kBucket]; len(buckets) > 0 && (a.idx == 0 && s == a.primary || r.IntN(3) == 0) {
		b := buckets[r.IntN(len(buckets))]
		f := between(r, 0.1, 0.85)
		act := pick(r, a.humans)
		f = p.event(f, step{tpl: tpl("s3", "DeleteBucketPublicAccessBlock"), res: b, act: act})
		p.event(f, step{tpl: tpl("s3", "PutBucketPolicy"), res: b, act: act, variant: 1})
	}
	if ins := s.pool[kInstance]; len(ins) > 0 && a.idx == 0 && s.n >= 2000 {
		in := ins[r.IntN(len(ins))]
		if in.created == -1 {
			act := pick(r, a.humans)
			f := between(r, 0.1, 0.85)
			f = p.event(f, step{tpl: tpl("ec2", "StopInstances"), res: in, act: act})
			f = p.event(f+0.0001, step{tpl: tpl("ec2", "ModifyInstanceAttribute"), res: in, act: act, variant: 1})
			p.event(f+0.0001, step{tpl: tpl("ec2", "StartInstances"), res: in, act: act})
		}
	}
}

// writeScripts plans every stream's steps and then fixes creation
// positions, so background traffic only touches resources that exist.
func (w *world) writeScripts(r *rand.Rand) {
	for _, s := range w.streams {
		p := &scripter{w: w, r: r, s: s}
		for k := range numKinds {
			list := s.pool[k]
			for i, res := range list {
				p.story(res, i == 0, k != kUser && len(list) >= 3 && i == len(list)-1)
			}
		}
		p.campaigns()
		p.incidents()
		w.place(p)
		for k := range numKinds {
			slices.SortStableFunc(s.pool[k], func(a, b *resource) int {
				switch {
				case a.created < b.created:
					return -1
				case a.created > b.created:
					return 1
				}
				return 0
			})
		}
	}
}

// place sorts a stream's intents in time, thins them if the stream is too
// short to hold them among background traffic, and turns them into steps
// at increasing positions while tracking every resource's tags.
func (w *world) place(p *scripter) {
	s, r := p.s, p.r
	ins := p.intents
	sort.SliceStable(ins, func(i, j int) bool {
		if ins[i].f != ins[j].f {
			return ins[i].f < ins[j].f
		}
		return ins[i].seq < ins[j].seq
	})
	if limit := s.n / 4; len(ins) > limit {
		keep := float64(limit) / float64(len(ins))
		kept := ins[:0]
		for _, in := range ins {
			if r.Float64() < keep {
				kept = append(kept, in)
			}
		}
		ins = kept
	}
	cat := w.cat
	next := 0
	emit := func(f float64, st step) bool {
		pos := max(next, int(f*float64(s.n)))
		if pos >= s.n {
			return false
		}
		st.pos = pos
		s.steps = append(s.steps, st)
		next = pos + 1
		return true
	}
	denier := func() *actor {
		if len(s.acct.readOnly) == 0 {
			return nil
		}
		return pick(r, s.acct.readOnly)
	}
	exists := func(res *resource) bool { return res.created != notCreated }
	for _, in := range ins {
		switch in.op {
		case inEvent:
			if in.st.res != nil && !exists(in.st.res) {
				continue
			}
			if !emit(in.f, in.st) {
				return
			}
		case inCreate:
			ops := cat.ops[in.res.kind]
			pos := max(next, int(in.f*float64(s.n)))
			if !emit(in.f, step{tpl: ops.create, res: in.res, tags: in.tags}) {
				return
			}
			in.res.created = pos
			if in.res.kind == kBucket {
				if len(in.tags) > 0 && !emit(in.f, step{tpl: ops.tag, res: in.res, tags: in.tags}) {
					return
				}
			}
			in.res.tags = slices.Clone(in.tags)
		case inTag, inUntag, inClear:
			res := in.res
			if !exists(res) {
				continue
			}
			ops := cat.ops[res.kind]
			var st step
			newTags := res.tags
			switch in.op {
			case inTag:
				newTags = mergeTags(res.tags, in.tags)
				st = step{tpl: ops.tag, res: res, tags: in.tags}
				if in.rgta {
					st = step{tpl: cat.get("tagging", "TagResources"), res: res, group: []*resource{res}, tags: in.tags}
				}
			case inUntag:
				keys := presentKeys(res.tags, in.keys)
				if len(keys) == 0 {
					continue
				}
				newTags = removeTags(res.tags, keys)
				st = step{tpl: ops.untag, res: res, keys: keys}
				if in.rgta {
					st = step{tpl: cat.get("tagging", "UntagResources"), res: res, group: []*resource{res}, keys: keys}
				}
			case inClear:
				if len(res.tags) == 0 {
					continue
				}
				newTags = nil
				st = step{tpl: ops.untag, res: res}
			}
			if res.kind == kBucket && !in.rgta {
				// S3 has no partial tag calls: every change rewrites the set.
				if len(newTags) == 0 {
					st = step{tpl: ops.untag, res: res}
				} else {
					st = step{tpl: ops.tag, res: res, tags: newTags}
				}
			}
			if in.fail {
				if act := denier(); act != nil {
					failed := st
					failed.fail, failed.act = true, act
					if !emit(in.f, failed) {
						return
					}
				}
			}
			if !emit(in.f, st) {
				return
			}
			res.tags = newTags
		case inGroupTag, inGroupUntag:
			tpl := cat.get("tagging", "TagResources")
			if in.op == inGroupUntag {
				tpl = cat.get("tagging", "UntagResources")
			}
			ec2 := true
			for _, g := range in.group {
				ec2 = ec2 && (g.kind == kInstance || g.kind == kVolume || g.kind == kSecurityGroup)
			}
			if ec2 && in.op == inGroupTag {
				tpl = cat.ops[kInstance].tag
			}
			st := step{tpl: tpl, res: in.group[0], group: in.group, tags: in.tags, keys: in.keys}
			if in.fail {
				if act := denier(); act != nil {
					failed := st
					failed.fail, failed.act = true, act
					if !emit(in.f, failed) {
						return
					}
				}
			}
			if !emit(in.f, st) {
				return
			}
			for _, g := range in.group {
				if in.op == inGroupTag {
					g.tags = mergeTags(g.tags, in.tags)
				} else {
					g.tags = removeTags(g.tags, in.keys)
				}
			}
		}
	}
}

// mergeTags returns old with tags added or overwritten, keeping the order
// keys were first set in. It never modifies old.
func mergeTags(old, add []tag) []tag {
	out := slices.Clone(old)
	for _, t := range add {
		found := false
		for i := range out {
			if out[i].key == t.key {
				out[i].value, found = t.value, true
			}
		}
		if !found {
			out = append(out, t)
		}
	}
	return out
}

func removeTags(old []tag, keys []string) []tag {
	var out []tag
	for _, t := range old {
		if !slices.Contains(keys, t.key) {
			out = append(out, t)
		}
	}
	return out
}

func presentKeys(tags []tag, keys []string) []string {
	var out []string
	for _, k := range keys {
		for _, t := range tags {
			if t.key == k {
				out = append(out, k)
				break
			}
		}
	}
	return out
}
