package awslocal

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

func (s *Server) serveIAM(c *call) {
	form := c.queryForm()
	op := c.rec.Operation
	err := s.injected(c)
	switch {
	case err != nil:
	case oneOf(op, "TagRole", "UntagRole", "PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy"):
		err = s.iamPrincipalOp(c, form, "Role", s.roles)
	case oneOf(op, "TagUser", "UntagUser", "PutUserPolicy", "GetUserPolicy", "DeleteUserPolicy"):
		err = s.iamPrincipalOp(c, form, "User", s.users)
	default:
		err = errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version 2010-05-08", op)
	}
	if err != nil {
		c.queryError(xmlNSIAM, err)
	}
}

// iamPolicyResult is the result of GetRolePolicy and GetUserPolicy.
type iamPolicyResult struct {
	RoleName       string `xml:"RoleName,omitempty"`
	UserName       string `xml:"UserName,omitempty"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

// iamPrincipalOp serves the operations on a role or a user; kind is "Role"
// or "User", the word in the operation and parameter names.
func (s *Server) iamPrincipalOp(c *call, form url.Values, kind string, principals map[string]*Principal) *apiError {
	name, err := required(form, kind+"Name", "ValidationError")
	if err != nil {
		return err
	}
	p, ok := principals[name]
	if !ok {
		return errorf(http.StatusNotFound, "NoSuchEntity", "The %s with name %s cannot be found.", strings.ToLower(kind), name)
	}
	switch op := c.rec.Operation; op {
	case "Tag" + kind:
		tags := queryTags(form, "Tags.member")
		if len(tags) == 0 {
			return errorf(http.StatusBadRequest, "ValidationError", "The request must contain the parameter Tags")
		}
		if p.Tags == nil {
			p.Tags = map[string]string{}
		}
		for _, t := range tags {
			p.Tags[t.Key] = t.Value
		}
	case "Untag" + kind:
		keys := members(form, "TagKeys.member")
		if len(keys) == 0 {
			return errorf(http.StatusBadRequest, "ValidationError", "The request must contain the parameter TagKeys")
		}
		for _, k := range keys {
			delete(p.Tags, k)
		}
	default:
		return s.iamPolicyOp(c, form, kind, strings.TrimSuffix(op, kind+"Policy"), p)
	}
	c.queryOK(xmlNSIAM, nil)
	return nil
}

// iamPolicyOp serves Put, Get and Delete of an inline policy.
func (s *Server) iamPolicyOp(c *call, form url.Values, kind, verb string, p *Principal) *apiError {
	policy, err := required(form, "PolicyName", "ValidationError")
	if err != nil {
		return err
	}
	notFound := errorf(http.StatusNotFound, "NoSuchEntity",
		"The %s policy with name %s cannot be found.", strings.ToLower(kind), policy)
	switch verb {
	case "Put":
		doc, err := required(form, "PolicyDocument", "ValidationError")
		if err != nil {
			return err
		}
		if !json.Valid([]byte(doc)) {
			return errorf(http.StatusBadRequest, "MalformedPolicyDocument", "Syntax errors in policy.")
		}
		if p.Policies == nil {
			p.Policies = map[string]string{}
		}
		p.Policies[policy] = doc
	case "Delete":
		if _, ok := p.Policies[policy]; !ok {
			return notFound
		}
		delete(p.Policies, policy)
	default: // Get
		doc, ok := p.Policies[policy]
		if !ok {
			return notFound
		}
		r := iamPolicyResult{PolicyName: policy, PolicyDocument: escapeRFC3986(doc)}
		if kind == "Role" {
			r.RoleName = p.Name
		} else {
			r.UserName = p.Name
		}
		c.queryOK(xmlNSIAM, r)
		return nil
	}
	c.queryOK(xmlNSIAM, nil)
	return nil
}

func oneOf(s string, set ...string) bool { return slices.Contains(set, s) }
