package tags

import (
	"slices"
	"strings"
)

// ec2Types maps the prefix of an EC2 resource id (the text before its
// last '-') to the resource type its ARN names. Ids of other prefixes
// (fs- is EFS, r- a reservation, sgr- a rule) name no ARN here.
var ec2Types = map[string]string{
	"i":                "instance",
	"vol":              "volume",
	"sg":               "security-group",
	"snap":             "snapshot",
	"ami":              "image",
	"vpc":              "vpc",
	"subnet":           "subnet",
	"eni":              "network-interface",
	"igw":              "internet-gateway",
	"eigw":             "egress-only-internet-gateway",
	"rtb":              "route-table",
	"nat":              "natgateway",
	"eipalloc":         "elastic-ip",
	"lt":               "launch-template",
	"key":              "key-pair",
	"dopt":             "dhcp-options",
	"acl":              "network-acl",
	"vpce":             "vpc-endpoint",
	"vpce-svc":         "vpc-endpoint-service",
	"tgw":              "transit-gateway",
	"tgw-attach":       "transit-gateway-attachment",
	"tgw-rtb":          "transit-gateway-route-table",
	"pcx":              "vpc-peering-connection",
	"cgw":              "customer-gateway",
	"vgw":              "vpn-gateway",
	"vpn":              "vpn-connection",
	"fl":               "vpc-flow-log",
	"pl":               "prefix-list",
	"h":                "dedicated-host",
	"cr":               "capacity-reservation",
	"sir":              "spot-instances-request",
	"fleet":            "fleet",
	"ipam":             "ipam",
	"ipam-pool":        "ipam-pool",
	"tgw-mcast-domain": "transit-gateway-multicast-domain",
}

// ec2Type returns the ARN resource type of an EC2 resource id, or "".
// The part after the last '-' must be 1 to 40 letters and digits (8 or 17
// hex digits in real ids; the AWS docs use ids like i-EXAMPLE56126103cb).
func ec2Type(id string) string {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 || len(id)-i-1 < 1 || len(id)-i-1 > 40 {
		return ""
	}
	for j := i + 1; j < len(id); j++ {
		if b := id[j]; !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9') {
			return ""
		}
	}
	return ec2Types[id[:i]]
}

// ec2ARN is the ARN of an EC2 resource id in the event's region and
// account (an image's ARN has no account), or "".
func (c *call) ec2ARN(id string) string {
	switch t := ec2Type(id); t {
	case "":
		return ""
	case "image":
		c.locate()
		if c.region == "" {
			return ""
		}
		return "arn:" + c.part + ":ec2:" + c.region + "::image/" + id
	default:
		return c.regional("ec2", t+"/"+id)
	}
}

func (c *call) touchEC2(id string) {
	if arn := c.ec2ARN(id); arn != "" {
		c.touch(arn)
	}
}

// ec2Param touches the resources named by top-level id parameters
// (instanceId, groupId, volumeId, ...: any key ending in "Id" holding an
// EC2 id, except source ids of copies, which may be in another region),
// by instancesSet and resourcesSet, and by the ids inside the
// "...Request" object of EC2's newer query shapes.
func ec2Param(c *call, key, val string) bool {
	switch {
	case key == "instancesSet":
		eachString(val, `"instanceId":"`, c.touchEC2)
	case key == "resourcesSet":
		eachString(val, `"resourceId":"`, c.touchEC2)
	case strings.HasSuffix(key, "Id"):
		if !strings.HasPrefix(key, "source") {
			c.touchEC2(val)
		}
	case strings.HasSuffix(key, "Request") && val[0] == '{':
		if strings.IndexByte(val, '-') >= 0 { // else it holds no id
			walkStrings(parseValue(val), c.touchEC2)
		}
	default:
		return false
	}
	return true
}

// ec2Creates maps the calls that create one kind of EC2 resource to its
// type, which is also the resourceType of its tag specification.
var ec2Creates = map[string]string{
	"CreateVolume":                      "volume",
	"CreateSnapshot":                    "snapshot",
	"CopySnapshot":                      "snapshot",
	"CreateSecurityGroup":               "security-group",
	"CreateVpc":                         "vpc",
	"CreateDefaultVpc":                  "vpc",
	"CreateSubnet":                      "subnet",
	"CreateDefaultSubnet":               "subnet",
	"CreateRouteTable":                  "route-table",
	"CreateInternetGateway":             "internet-gateway",
	"CreateEgressOnlyInternetGateway":   "egress-only-internet-gateway",
	"CreateNatGateway":                  "natgateway",
	"CreateNetworkInterface":            "network-interface",
	"CreateNetworkAcl":                  "network-acl",
	"CreateDhcpOptions":                 "dhcp-options",
	"CreateLaunchTemplate":              "launch-template",
	"CreateKeyPair":                     "key-pair",
	"ImportKeyPair":                     "key-pair",
	"CreateImage":                       "image",
	"CopyImage":                         "image",
	"RegisterImage":                     "image",
	"AllocateAddress":                   "elastic-ip",
	"CreateVpcEndpoint":                 "vpc-endpoint",
	"CreateTransitGateway":              "transit-gateway",
	"CreateTransitGatewayVpcAttachment": "transit-gateway-attachment",
	"CreateTransitGatewayRouteTable":    "transit-gateway-route-table",
	"CreateVpcPeeringConnection":        "vpc-peering-connection",
	"CreateCustomerGateway":             "customer-gateway",
	"CreateVpnGateway":                  "vpn-gateway",
	"CreateVpnConnection":               "vpn-connection",
	"CreateFlowLogs":                    "vpc-flow-log",
	"CreateManagedPrefixList":           "prefix-list",
}

// ec2Deletes maps the calls that end EC2 resources to their type.
var ec2Deletes = map[string]string{
	"TerminateInstances":                "instance",
	"DeleteVolume":                      "volume",
	"DeleteSnapshot":                    "snapshot",
	"DeregisterImage":                   "image",
	"DeleteSecurityGroup":               "security-group",
	"DeleteVpc":                         "vpc",
	"DeleteSubnet":                      "subnet",
	"DeleteRouteTable":                  "route-table",
	"DeleteInternetGateway":             "internet-gateway",
	"DeleteEgressOnlyInternetGateway":   "egress-only-internet-gateway",
	"DeleteNatGateway":                  "natgateway",
	"DeleteNetworkInterface":            "network-interface",
	"DeleteNetworkAcl":                  "network-acl",
	"DeleteDhcpOptions":                 "dhcp-options",
	"DeleteLaunchTemplate":              "launch-template",
	"DeleteKeyPair":                     "key-pair",
	"ReleaseAddress":                    "elastic-ip",
	"DeleteVpcEndpoints":                "vpc-endpoint",
	"DeleteTransitGateway":              "transit-gateway",
	"DeleteTransitGatewayVpcAttachment": "transit-gateway-attachment",
	"DeleteTransitGatewayRouteTable":    "transit-gateway-route-table",
	"DeleteVpcPeeringConnection":        "vpc-peering-connection",
	"DeleteCustomerGateway":             "customer-gateway",
	"DeleteVpnGateway":                  "vpn-gateway",
	"DeleteVpnConnection":               "vpn-connection",
	"DeleteFlowLogs":                    "vpc-flow-log",
	"DeleteManagedPrefixList":           "prefix-list",
}

func ec2Change(c *call, name string) bool {
	if v := memberOf(c.ev.ResponseElements, "instancesSet"); v.OK {
		eachString(v.V, `"instanceId":"`, c.touchEC2)
	}
	switch name {
	case "CreateTags":
		c.ec2Tags(false)
	case "DeleteTags":
		c.ec2Tags(true)
	case "RunInstances":
		c.runInstances()
	default:
		if t, ok := ec2Deletes[name]; ok {
			c.ec2Delete(t)
		} else if t, ok := ec2Creates[name]; ok {
			c.ec2Create(t)
		} else if strings.HasPrefix(name, "Create") && len(ec2Specs(c.req())) > 0 {
			c.ec2Create("")
		} else {
			return false
		}
	}
	return true
}

// ec2Tags reads CreateTags and DeleteTags: resourcesSet.items[].resourceId
// and tagSet.items[].{key,value}. A DeleteTags item with a value removes
// the key only while it has that value; one without removes the key. A
// DeleteTags call with no tags at all removes every tag, which is a
// Replace with an empty set.
func (c *call) ec2Tags(del bool) {
	req := c.req()
	var ids []string
	for _, it := range listOf(req["resourcesSet"]) {
		if id := strOf(fieldOf(it, "resourceId", "ResourceId")); id != "" {
			ids = append(ids, id)
		}
	}
	items := listOf(req["tagSet"])
	var set []Tag
	var rm []Removal
	if !del {
		set = tagPairs(items)
	} else {
		for _, it := range items {
			k, ok := scalar(fieldOf(it, "key", "Key"))
			if !ok || k == "" {
				continue
			}
			if v := fieldOf(it, "value", "Value"); v != nil {
				s, _ := scalar(v)
				rm = append(rm, Removal{Key: k, Value: s, HasValue: true})
			} else {
				rm = append(rm, Removal{Key: k})
			}
		}
	}
	for _, id := range ids {
		if del && len(items) == 0 {
			c.replace(c.ec2ARN(id), nil)
		} else {
			c.merge(c.ec2ARN(id), set, rm)
		}
	}
}

// tagSpec is one EC2 tag specification: the tags for the resources of one
// type a create call makes.
type tagSpec struct {
	typ  string
	tags []Tag
}

// ec2Specs reads tagSpecificationSet.items[].{resourceType,tags} and the
// query shape TagSpecification{ResourceType,Tag[]} (with Tag a list or a
// single object).
func ec2Specs(req map[string]any) []tagSpec {
	var out []tagSpec
	for _, it := range listOf(req["tagSpecificationSet"]) {
		t := strOf(fieldOf(it, "resourceType", "ResourceType"))
		out = append(out, tagSpec{t, tagsOf(fieldOf(it, "tags", "Tags"))})
	}
	specs := fieldOf(req, "TagSpecification", "tagSpecification")
	if m, ok := specs.(map[string]any); ok {
		specs = []any{m} // one spec; listOf would take its Tag member for a wrapper
	}
	for _, it := range listOf(specs) {
		t := strOf(fieldOf(it, "ResourceType", "resourceType"))
		out = append(out, tagSpec{t, tagPairs(fieldOf(it, "Tag", "Tags", "tags"))})
	}
	return out
}

// specTags are the tags specs give resources of type typ, and whether any
// spec names that type.
func specTags(specs []tagSpec, typ string) ([]Tag, bool) {
	var out []Tag
	found := false
	for _, s := range specs {
		if s.typ == typ {
			out = append(out, s.tags...)
			found = true
		}
	}
	return out, found
}

// ec2IDs returns the ids of type typ among the strings of v (outside
// walkSkip), in a fixed order and without repeats.
func ec2IDs(v any, typ string) []string {
	var out []string
	walkStrings(v, func(s string) {
		if ec2Type(s) == typ && !slices.Contains(out, s) {
			out = append(out, s)
		}
	})
	return out
}

// runInstances creates the instances named by
// responseElements.instancesSet.items[].instanceId with the tags of the
// "instance" specification (or, without one, the tagSet the response
// shows, as a launch template's tags appear there). It touches the
// network interfaces the response shows for them, and creates those the
// request did not attach when it has a "network-interface" specification;
// without one they are left unknown rather than known untagged, since
// most are deleted with their instance, which no record shows. Volumes
// are not created: the response does not name them.
func (c *call) runInstances() {
	req, resp := c.req(), c.resp()
	specs := ec2Specs(req)
	inst, haveInst := specTags(specs, "instance")
	eniTags, haveENI := specTags(specs, "network-interface")
	var attached []string
	for _, ni := range listOf(req["networkInterfaceSet"]) {
		if id := strOf(fieldOf(ni, "networkInterfaceId")); id != "" {
			attached = append(attached, id)
		}
	}
	for _, it := range listOf(resp["instancesSet"]) {
		id := strOf(fieldOf(it, "instanceId"))
		if ec2Type(id) != "instance" {
			continue
		}
		tags := inst
		if !haveInst {
			tags = tagsOf(fieldOf(it, "tagSet"))
		}
		c.create(c.ec2ARN(id), tags)
		for _, ni := range listOf(fieldOf(it, "networkInterfaceSet")) {
			eni := strOf(fieldOf(ni, "networkInterfaceId"))
			if ec2Type(eni) != "network-interface" {
				continue
			}
			if haveENI && !slices.Contains(attached, eni) {
				c.create(c.ec2ARN(eni), eniTags)
			} else {
				c.touch(c.ec2ARN(eni))
			}
		}
	}
}

// ec2Create creates the resources of type typ the response names (ids of
// that type anywhere in responseElements, outside "unsuccessful"), with
// the tags of the specification for typ. With typ "" (a create call not
// in ec2Creates) every specified type is looked for.
func (c *call) ec2Create(typ string) {
	specs := ec2Specs(c.req())
	types := []string{typ}
	if typ == "" {
		types = types[:0]
		for _, s := range specs {
			if ec2Known(s.typ) && !slices.Contains(types, s.typ) {
				types = append(types, s.typ)
			}
		}
	}
	resp := c.resp()
	for _, t := range types {
		tags, _ := specTags(specs, t)
		for _, id := range ec2IDs(resp, t) {
			c.create(c.ec2ARN(id), tags)
		}
	}
}

// ec2Known reports whether typ is a resource type of ec2Types.
func ec2Known(typ string) bool {
	for _, t := range ec2Types {
		if t == typ {
			return true
		}
	}
	return false
}

// ec2Delete ends the resources of type typ named anywhere in the request
// or the response, except those the response lists as unsuccessful.
func (c *call) ec2Delete(typ string) {
	resp := c.resp()
	bad := ec2IDs(resp["unsuccessful"], typ)
	ids := ec2IDs(c.req(), typ)
	for _, id := range ec2IDs(resp, typ) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		if !slices.Contains(bad, id) {
			c.remove(c.ec2ARN(id))
		}
	}
}
