package tags

import "strings"

// iamTarget says how an IAM call names its resource: by the request
// parameter param, which holds a name to append to prefix, or, with an
// empty prefix, the ARN itself.
type iamTarget struct {
	param, prefix string
}

// iamTargets are keyed by what follows Tag, Untag, Create and Delete in
// the call names.
var iamTargets = map[string]iamTarget{
	"Role":                  {"roleName", "role/"},
	"User":                  {"userName", "user/"},
	"Group":                 {"groupName", "group/"},
	"InstanceProfile":       {"instanceProfileName", "instance-profile/"},
	"ServerCertificate":     {"serverCertificateName", "server-certificate/"},
	"Policy":                {"policyArn", ""},
	"OpenIDConnectProvider": {"openIDConnectProviderArn", ""},
	"SAMLProvider":          {"sAMLProviderArn", ""},
	"MFADevice":             {"serialNumber", ""},
	"VirtualMFADevice":      {"serialNumber", ""},
}

// iamParam touches the IAM resource a request parameter names: by name
// (roleName, userName, groupName, instanceProfileName,
// serverCertificateName) or by ARN (policyArn, the providers' ARNs, an
// MFA device's serialNumber).
func iamParam(c *call, key, val string) bool {
	var prefix string
	switch key {
	case "roleName":
		prefix = "role/"
	case "userName":
		prefix = "user/"
	case "groupName":
		prefix = "group/"
	case "instanceProfileName":
		prefix = "instance-profile/"
	case "serverCertificateName":
		prefix = "server-certificate/"
	case "policyArn", "openIDConnectProviderArn", "sAMLProviderArn", "serialNumber":
	default:
		return false
	}
	if arn := c.iamARN(prefix, val); arn != "" {
		c.touch(arn)
	}
	return true
}

// iamARN is the ARN a name (or ARN) given for prefix stands for. Names
// carry no path, so a role is role/NAME whatever its path; hardware MFA
// serial numbers are not ARNs and name nothing.
func (c *call) iamARN(prefix, val string) string {
	if prefix == "" {
		if isARN(val) {
			return val
		}
		return ""
	}
	if !okSegment(val) {
		return ""
	}
	return c.global("iam", prefix+val)
}

// iamChange reads Tag*/Untag* (tags[].{key,value}, tagKeys[]), the
// Create* calls that take tags, and the Delete* calls, for the resources
// of iamTargets. Roles, users, groups, instance profiles and server
// certificates are keyed by the path-less ARN their name gives, also on
// creation, because every later call names them by name alone.
func iamChange(c *call, name string) bool {
	var verb string
	for _, v := range []string{"Untag", "Tag", "Create", "Upload", "Delete"} {
		if strings.HasPrefix(name, v) {
			verb = v
			break
		}
	}
	t, ok := iamTargets[name[len(verb):]]
	if verb == "" || !ok {
		if name == "CreateServiceLinkedRole" {
			c.create(c.iamARN("role/", strOf(pathOf(c.resp(), "role", "roleName"))), nil)
			return true
		}
		return false
	}
	req := c.req()
	arn := c.iamARN(t.prefix, strOf(req[t.param]))
	switch verb {
	case "Tag":
		c.tag(arn, tagsOf(fieldOf(req, "tags", "Tags")), nil)
	case "Untag":
		c.tag(arn, nil, keysOf(fieldOf(req, "tagKeys", "TagKeys")))
	case "Create", "Upload":
		if arn == "" {
			arn = c.createdIAM(name)
		}
		c.create(arn, tagsOf(fieldOf(req, "tags", "Tags")))
	case "Delete":
		c.remove(arn)
	}
	return true
}

// createdIAM is the ARN the response of a create call gives, for the
// calls whose request does not name the resource: CreatePolicy (whose ARN
// holds its path), the identity providers, virtual MFA devices, and a
// role or user whose request lacks its name.
func (c *call) createdIAM(name string) string {
	resp := c.resp()
	switch name {
	case "CreatePolicy":
		if arn := strOf(pathOf(resp, "policy", "arn")); arn != "" {
			return arn
		}
		p := strOf(c.req()["path"])
		if p == "" {
			p = "/"
		}
		if n := strOf(c.req()["policyName"]); okSegment(n) && okName(p) {
			return c.global("iam", "policy"+p+n)
		}
	case "CreateOpenIDConnectProvider":
		return strOf(resp["openIDConnectProviderArn"])
	case "CreateSAMLProvider":
		return strOf(resp["sAMLProviderArn"])
	case "CreateVirtualMFADevice":
		return strOf(pathOf(resp, "virtualMFADevice", "serialNumber"))
	case "CreateRole":
		return c.iamARN("role/", strOf(pathOf(resp, "role", "roleName")))
	case "CreateUser":
		return c.iamARN("user/", strOf(pathOf(resp, "user", "userName")))
	case "CreateInstanceProfile":
		return c.iamARN("instance-profile/", strOf(pathOf(resp, "instanceProfile", "instanceProfileName")))
	}
	return ""
}
