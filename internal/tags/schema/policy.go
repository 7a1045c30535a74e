package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// policyField is one setting of a tag policy key.
type policyField uint8

const (
	fTagKey policyField = iota
	fTagValue
	fEnforcedFor
	fReportRequired
	nFields
)

func (f policyField) String() string {
	switch f {
	case fTagKey:
		return "tag_key"
	case fTagValue:
		return "tag_value"
	case fEnforcedFor:
		return "enforced_for"
	}
	return "report_required_tag_for"
}

func fieldByName(s string) (policyField, bool) {
	for f := range nFields {
		if f.String() == s {
			return f, true
		}
	}
	return 0, false
}

// ops is a set of value-setting operators.
type ops uint8

const (
	opAssign ops = 1 << iota
	opAppend
	opRemove
	opAll = opAssign | opAppend | opRemove
)

const opsKey = "@@operators_allowed_for_child_policies"

func opByName(s string) (ops, bool) {
	switch s {
	case "@@assign":
		return opAssign, true
	case "@@append":
		return opAppend, true
	case "@@remove":
		return opRemove, true
	}
	return 0, false
}

func (o ops) String() string {
	switch o {
	case 0:
		return "no operator"
	case opAll:
		return "every operator"
	}
	var names []string
	for _, op := range []ops{opAssign, opAppend, opRemove} {
		if o&op != 0 {
			names = append(names, op.name())
		}
	}
	return "only " + strings.Join(names, " and ")
}

// opsDecl is one @@operators_allowed_for_child_policies.
type opsDecl struct {
	ops ops
	at  pos
}

// setting is one value-setting operator of one field of one policy.
type setting struct {
	op   ops
	at   pos
	off  int
	str  string   // tag_key
	list []string // the other fields
}

type fieldDoc struct {
	settings []setting // @@assign, or @@remove then @@append
	allow    *opsDecl
}

type policyKeyDoc struct {
	name   string
	at     pos
	allow  *opsDecl
	fields [nFields]*fieldDoc
}

// policyDoc is one AWS tag policy file, checked but not yet merged.
type policyDoc struct {
	allow *opsDecl // at the "tags" level
	keys  []*policyKeyDoc
}

// jdec decodes one policy file, adding its problems to errs.
type jdec struct {
	file string
	data []byte
	errs *ErrorList
}

func (d *jdec) at(off int) pos {
	line, col := lineCol(d.data, off)
	return pos{file: d.file, line: line, col: col}
}

func (d *jdec) errorf(off int, code, format string, args ...any) {
	p := d.at(off)
	*d.errs = append(*d.errs, &Error{File: p.file, Line: p.line, Col: p.col, Code: code, Msg: fmt.Sprintf(format, args...)})
}

// members calls fn for the members of object n, reporting repeated keys
// instead of passing them on.
func (d *jdec) members(n *jnode, fn func(m jmember)) {
	seen := make(map[string]int, len(n.members))
	for _, m := range n.members {
		if prev, ok := seen[m.key]; ok {
			p := d.at(prev)
			d.errorf(m.off, CodeDuplicate, "key %q repeats the one at %d:%d", m.key, p.line, p.col)
			continue
		}
		seen[m.key] = m.off
		fn(m)
	}
}

// decodePolicy decodes f when it is an AWS tag policy. It reports false
// when f is not one and is for the YAML decoder: a file not named *.json
// that is not a JSON object with "tags", or a *.json file that is an
// object without "tags". A *.json file that is not JSON is reported here,
// with a nil policy.
func decodePolicy(f File, errs *ErrorList) (*policyDoc, bool) {
	jsonName := isJSONName(f.Name)
	if !jsonName && !looksLikeJSONObject(f.Data) {
		return nil, false
	}
	d := &jdec{file: f.Name, data: f.Data, errs: errs}
	root, serr := parseJSON(f.Data)
	if serr != nil {
		if !jsonName {
			return nil, false
		}
		d.errorf(serr.off, CodeSyntax, "%s", serr.msg)
		return nil, true
	}
	if root.kind != jObject || !slices.ContainsFunc(root.members, func(m jmember) bool { return m.key == "tags" }) {
		return nil, false
	}
	doc := &policyDoc{}
	d.members(root, func(m jmember) {
		if m.key != "tags" {
			d.errorf(m.off, CodeUnknownKey, "unknown key %q at the top of a tag policy; want only \"tags\"", m.key)
			return
		}
		d.tags(doc, m.val)
	})
	return doc, true
}

// maxKeyLen is AWS's limit on the length of a tag key.
const maxKeyLen = 128

func (d *jdec) tags(doc *policyDoc, n *jnode) {
	if n.kind != jObject {
		d.errorf(n.off, CodeWrongType, "tags must be an object, not %s", n.kind)
		return
	}
	first := map[string]jmember{} // by lowercase policy key
	d.members(n, func(m jmember) {
		if m.key == opsKey {
			doc.allow = d.opsDecl(m)
			return
		}
		if strings.HasPrefix(m.key, "@@") {
			d.errorf(m.off, CodeBadOperator, "%q cannot be used on \"tags\"; only %s can", m.key, opsKey)
			return
		}
		switch {
		case m.key == "":
			d.errorf(m.off, CodeBadValue, "empty policy key")
			return
		case len(m.key) > maxKeyLen:
			d.errorf(m.off, CodeBadValue, "policy key %.20q... is longer than %d bytes", m.key, maxKeyLen)
			return
		}
		lower := strings.ToLower(m.key)
		if prev, ok := first[lower]; ok {
			p := d.at(prev.off)
			d.errorf(m.off, CodeDuplicate, "policy key %q repeats %q at %d:%d: policy keys ignore case", m.key, prev.key, p.line, p.col)
			return
		}
		first[lower] = m
		doc.keys = append(doc.keys, d.policyKey(m))
	})
}

func (d *jdec) policyKey(m jmember) *policyKeyDoc {
	kd := &policyKeyDoc{name: m.key, at: d.at(m.off)}
	if m.val.kind != jObject {
		d.errorf(m.val.off, CodeWrongType, "policy key %q must be an object, not %s", m.key, m.val.kind)
		return kd
	}
	d.members(m.val, func(fm jmember) {
		if fm.key == opsKey {
			kd.allow = d.opsDecl(fm)
			return
		}
		f, ok := fieldByName(fm.key)
		switch {
		case ok:
			kd.fields[f] = d.field(kd.name, f, fm)
		case isOperator(fm.key):
			d.errorf(fm.off, CodeBadOperator, "%s cannot be used on policy key %q; it goes inside tag_key, tag_value, enforced_for or report_required_tag_for", fm.key, m.key)
		case strings.HasPrefix(fm.key, "@@"):
			d.errorf(fm.off, CodeBadOperator, "unknown operator %q", fm.key)
		default:
			d.errorf(fm.off, CodeUnknownKey, "unknown key %q in policy key %q; want tag_key, tag_value, enforced_for or report_required_tag_for", fm.key, m.key)
		}
	})
	return kd
}

func isOperator(s string) bool {
	_, ok := opByName(s)
	return ok
}

// field decodes one setting of policy key name. A plain value instead of
// an object of operators, as describe-effective-policy prints it, is an
// @@assign.
func (d *jdec) field(name string, f policyField, m jmember) *fieldDoc {
	fd := &fieldDoc{}
	if m.val.kind != jObject {
		if st, ok := d.setting(name, f, opAssign, m); ok {
			fd.settings = append(fd.settings, st)
		}
		return fd
	}
	var assign, app, rem *setting
	d.members(m.val, func(om jmember) {
		if om.key == opsKey {
			fd.allow = d.opsDecl(om)
			return
		}
		op, ok := opByName(om.key)
		switch {
		case !ok && strings.HasPrefix(om.key, "@@"):
			d.errorf(om.off, CodeBadOperator, "unknown operator %q; want @@assign, @@append, @@remove or %s", om.key, opsKey)
			return
		case !ok:
			d.errorf(om.off, CodeUnknownKey, "unknown key %q in %s of %q; want @@assign, @@append, @@remove or %s", om.key, f, name, opsKey)
			return
		case f == fTagKey && op != opAssign:
			d.errorf(om.off, CodeBadOperator, "tag_key takes only @@assign: it has a single value")
			return
		}
		st, ok := d.setting(name, f, op, om)
		if !ok {
			return
		}
		switch op {
		case opAssign:
			assign = &st
		case opAppend:
			app = &st
		case opRemove:
			rem = &st
		}
	})
	if assign != nil {
		for _, other := range []*setting{app, rem} {
			if other != nil {
				d.errorf(other.off, CodeBadOperator, "%s cannot be combined with @@assign in one setting", other.op.name())
			}
		}
		fd.settings = append(fd.settings, *assign)
		return fd
	}
	// @@remove takes from what is inherited; @@append adds to it.
	for _, st := range []*setting{rem, app} {
		if st != nil {
			fd.settings = append(fd.settings, *st)
		}
	}
	return fd
}

func (o ops) name() string {
	switch o {
	case opAssign:
		return "@@assign"
	case opAppend:
		return "@@append"
	}
	return "@@remove"
}

// setting decodes the value of one operator (or plain value) m.
func (d *jdec) setting(name string, f policyField, op ops, m jmember) (setting, bool) {
	st := setting{op: op, at: d.at(m.off), off: m.off}
	v := m.val
	if f == fTagKey {
		if v.kind != jString {
			d.errorf(v.off, CodeWrongType, "tag_key of %q must be a string, not %s", name, v.kind)
			return st, false
		}
		if !strings.EqualFold(v.text, name) {
			d.errorf(v.off, CodeBadValue, "tag_key %q does not match policy key %q: the two may differ only in case", v.text, name)
			return st, false
		}
		st.str = v.text
		return st, true
	}
	if v.kind != jArray {
		d.errorf(v.off, CodeWrongType, "%s of %q must be an array of strings, not %s", f, name, v.kind)
		return st, false
	}
	ok := true
	for _, e := range v.elems {
		if e.kind != jString {
			d.errorf(e.off, CodeWrongType, "%s of %q must hold strings, not %s", f, name, e.kind)
			ok = false
			continue
		}
		if f == fTagValue {
			if strings.Count(e.text, "*") > 1 {
				d.errorf(e.off, CodeBadPattern, "tag value %q has more than one '*': AWS allows one wildcard per value", e.text)
				ok = false
				continue
			}
		} else if _, _, err := splitType(e.text, true); err != nil {
			d.errorf(e.off, CodeBadPattern, "%s: %v; a wildcard may only stand for every type of one service", f, err)
			ok = false
			continue
		}
		st.list = append(st.list, e.text)
	}
	return st, ok
}

// opsDecl decodes one @@operators_allowed_for_child_policies.
func (d *jdec) opsDecl(m jmember) *opsDecl {
	v := m.val
	if v.kind != jArray {
		d.errorf(v.off, CodeWrongType, "%s must be an array of strings, not %s", opsKey, v.kind)
		return nil
	}
	if len(v.elems) == 0 {
		d.errorf(v.off, CodeBadValue, "%s is empty; write [\"@@none\"] to allow no operator", opsKey)
		return nil
	}
	var o ops
	alone := ""
	for _, e := range v.elems {
		if e.kind != jString {
			d.errorf(e.off, CodeWrongType, "%s must hold strings, not %s", opsKey, e.kind)
			return nil
		}
		switch e.text {
		case "@@all":
			o, alone = opAll, e.text
		case "@@none":
			alone = e.text
		default:
			op, ok := opByName(e.text)
			if !ok {
				d.errorf(e.off, CodeBadOperator, "unknown operator %q in %s; want @@all, @@none, @@assign, @@append or @@remove", e.text, opsKey)
				return nil
			}
			o |= op
		}
	}
	if alone != "" && len(v.elems) > 1 {
		d.errorf(v.off, CodeBadOperator, "%s must be alone in %s", alone, opsKey)
		return nil
	}
	return &opsDecl{ops: o, at: d.at(m.off)}
}

// effPolicy is one policy key of the effective policy.
type effPolicy struct {
	name     string // the policy key as first given
	at       pos
	tagKey   string // "" until assigned: the lowercase policy key holds
	tagKeyAt pos
	lists    [nFields][]string
	set      [nFields]bool
	setAt    [nFields]pos
	decls    []opsDecl // on the policy key
	fdecls   [nFields][]opsDecl
}

// effective is the effective policy of a chain of tag policies.
type effective struct {
	policies  []*effPolicy // in the order first given
	byName    map[string]*effPolicy
	tagsDecls []opsDecl
}

// mergePolicies computes the effective policy of docs, parent first, as
// AWS Organizations does for a chain of policies attached one level below
// the other: @@assign replaces, @@append adds, @@remove takes away, each
// only where every @@operators_allowed_for_child_policies above it allows
// the operator. A refused operator is ignored and reported in warns.
func mergePolicies(docs []*policyDoc, warns *ErrorList) *effective {
	e := &effective{byName: map[string]*effPolicy{}}
	for _, doc := range docs {
		for _, kd := range doc.keys {
			lower := strings.ToLower(kd.name)
			ep := e.byName[lower]
			fresh := ep == nil
			if fresh {
				ep = &effPolicy{name: kd.name, at: kd.at}
			}
			applied, refused := false, false
			for f := range nFields {
				fd := kd.fields[f]
				if fd == nil {
					continue
				}
				for _, st := range fd.settings {
					if by, ok := e.refusedBy(ep, f, st.op); ok {
						refused = true
						*warns = append(*warns, &Error{File: st.at.file, Line: st.at.line, Col: st.at.col,
							Code: CodeOperatorNotAllowed,
							Msg: fmt.Sprintf("%s on %s of %q is ignored: the %s at %s allows %s",
								st.op.name(), f, kd.name, opsKey, by.at, by.ops)})
						continue
					}
					ep.apply(f, st)
					applied = true
				}
			}
			if fresh && (applied || !refused) {
				e.byName[lower] = ep
				e.policies = append(e.policies, ep)
			}
		}
		// A policy's child control operators bind its children, not itself.
		if doc.allow != nil {
			e.tagsDecls = append(e.tagsDecls, *doc.allow)
		}
		for _, kd := range doc.keys {
			ep := e.byName[strings.ToLower(kd.name)]
			if ep == nil {
				continue
			}
			if kd.allow != nil {
				ep.decls = append(ep.decls, *kd.allow)
			}
			for f, fd := range kd.fields {
				if fd != nil && fd.allow != nil {
					ep.fdecls[f] = append(ep.fdecls[f], *fd.allow)
				}
			}
		}
	}
	return e
}

// refusedBy returns the declaration that forbids op on field f of ep, if
// any: the nearest one, field before policy key before "tags".
func (e *effective) refusedBy(ep *effPolicy, f policyField, op ops) (opsDecl, bool) {
	for _, decls := range [][]opsDecl{ep.fdecls[f], ep.decls, e.tagsDecls} {
		for _, d := range decls {
			if d.ops&op == 0 {
				return d, true
			}
		}
	}
	return opsDecl{}, false
}

func (ep *effPolicy) apply(f policyField, st setting) {
	if f == fTagKey {
		ep.tagKey, ep.tagKeyAt = st.str, st.at
		return
	}
	switch st.op {
	case opAssign:
		ep.lists[f] = slices.Clone(st.list)
		ep.set[f] = true
	case opAppend:
		for _, v := range st.list {
			if !slices.Contains(ep.lists[f], v) {
				ep.lists[f] = append(ep.lists[f], v)
			}
		}
		ep.set[f] = true
	case opRemove:
		if !ep.set[f] {
			return
		}
		ep.lists[f] = slices.DeleteFunc(ep.lists[f], func(v string) bool { return slices.Contains(st.list, v) })
	}
	ep.setAt[f] = st.at
}

// key is the tag key the policy requires: the one tag_key assigns, or,
// when none does, the policy key in lowercase, as AWS defaults it.
func (ep *effPolicy) key() (string, pos) {
	if ep.tagKey != "" {
		return ep.tagKey, ep.tagKeyAt
	}
	return strings.ToLower(ep.name), ep.at
}

func (ep *effPolicy) id(p pos) string { return fmt.Sprintf("%s:%d: %s", p.file, p.line, ep.name) }

// rules compiles the effective policy: one rule per policy key, applying
// to every resource (AWS reports on every resource that has the key), and
// requiring the key only of the types in report_required_tag_for.
func (e *effective) rules() []*rule {
	var out []*rule
	for _, ep := range e.policies {
		key, keyAt := ep.key()
		kr := keyRule{key: key, ascii: isASCII(key), caseID: ep.id(keyAt), valueID: ep.id(ep.setAt[fTagValue]), requiredID: ep.id(ep.setAt[fReportRequired])}
		if ep.set[fTagValue] {
			kr.values = awsValues(ep.lists[fTagValue])
		}
		for _, t := range ep.lists[fEnforcedFor] {
			service, typ, _ := splitType(t, true)
			kr.enforced.add(service, typ)
		}
		for _, t := range ep.lists[fReportRequired] {
			service, typ, _ := splitType(t, true)
			kr.required.add(service, typ)
		}
		out = append(out, &rule{id: ep.id(ep.at), keys: []keyRule{kr}})
	}
	return out
}

func awsValues(list []string) *valueSet {
	v := &valueSet{none: len(list) == 0, words: listWords(list)}
	for _, s := range list {
		v.list.add(s)
	}
	return v
}

// EffectivePolicy is the merged AWS tag policy in the form AWS's
// describe-effective-policy prints it (values without operators), for
// reading and comparing; nil when no AWS policy was loaded. A tag_value
// no policy set is printed as ["*"], as AWS prints it.
func (s *Schema) EffectivePolicy() []byte {
	if s.effective == nil {
		return nil
	}
	type entry struct {
		TagKey               string   `json:"tag_key"`
		TagValue             []string `json:"tag_value"`
		EnforcedFor          []string `json:"enforced_for,omitempty"`
		ReportRequiredTagFor []string `json:"report_required_tag_for,omitempty"`
	}
	tags := map[string]entry{}
	for _, ep := range s.effective.policies {
		key, _ := ep.key()
		en := entry{TagKey: key, TagValue: []string{"*"}, EnforcedFor: ep.lists[fEnforcedFor], ReportRequiredTagFor: ep.lists[fReportRequired]}
		if ep.set[fTagValue] {
			en.TagValue = append([]string{}, ep.lists[fTagValue]...)
		}
		tags[strings.ToLower(ep.name)] = en
	}
	out, err := json.MarshalIndent(map[string]any{"tags": tags}, "", "    ")
	if err != nil {
		panic(fmt.Sprintf("schema: marshalling the effective policy: %v", err)) // strings and slices only
	}
	return append(out, '\n')
}
