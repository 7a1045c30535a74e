package gen

import (
	"strconv"

	"github.com/trailbook/trailbook/internal/jsontext"
)

// EC2 writes its request sets as {"items":[...]} and empty sets as {}.

func itemsOne(w *jsonw, set, key, val string) {
	w.openK(set)
	w.arrK("items")
	w.open()
	w.str(key, val)
	w.close()
	w.closeArr()
	w.close()
}

func filterOne(w *jsonw, name, value string) {
	w.openK("filterSet")
	w.arrK("items")
	w.open()
	w.str("name", name)
	itemsOne(w, "valueSet", "value", value)
	w.close()
	w.closeArr()
	w.close()
}

func envName(r interface{ IntN(int) int }) string {
	switch r.IntN(3) {
	case 0:
		return "Production"
	case 1:
		return "Staging"
	}
	return "Development"
}

func (c *catalog) addEC2() {
	read := mix{30, 20, 15, 0, 35}
	write := mix{45, 0, 55, 0, 0}
	notFound := []errSpec{{code: "Client.InvalidInstanceID.NotFound", pre: "The instance ID '", post: "' does not exist", p: 0.01,
		when: func(e *ev) bool { return e.res != nil }}}

	t := c.def("ec2", "DescribeInstances", 55, true, kInstance, read, func(e *ev) {
		w := e.w
		e.reqOpen()
		switch x := e.r.IntN(8); {
		case e.res != nil && x < 3:
			itemsOne(w, "instancesSet", "instanceId", e.res.id)
			w.raw("filterSet", "{}")
		case x < 5:
			w.raw("instancesSet", "{}")
			filterOne(w, "tag:Environment", envName(e.r))
		case x < 6:
			w.raw("instancesSet", "{}")
			filterOne(w, "instance-state-name", "running")
		default:
			w.raw("instancesSet", "{}")
			w.raw("filterSet", "{}")
		}
		w.close()
		w.null("responseElements")
	})
	t.optional, t.errs = true, notFound

	t = c.def("ec2", "DescribeInstanceStatus", 16, true, noKind, mix{10, 30, 10, 0, 50}, func(e *ev) {
		e.reqOpen()
		e.w.raw("instancesSet", "{}")
		e.w.raw("filterSet", "{}")
		e.w.boolean("includeAllInstances", e.r.IntN(2) == 0)
		e.w.close()
		e.w.null("responseElements")
	})

	t = c.def("ec2", "DescribeSecurityGroups", 22, true, kSecurityGroup, read, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.raw("securityGroupSet", "{}")
		if e.res != nil && e.r.IntN(2) == 0 {
			itemsOne(w, "securityGroupIdSet", "groupId", e.res.id)
			w.raw("filterSet", "{}")
		} else {
			w.raw("securityGroupIdSet", "{}")
			filterOne(w, "vpc-id", e.s.vpcs[e.r.IntN(len(e.s.vpcs))])
		}
		w.close()
		w.null("responseElements")
	})
	t.optional = true

	t = c.def("ec2", "DescribeVolumes", 14, true, kVolume, read, func(e *ev) {
		w := e.w
		e.reqOpen()
		if e.res != nil && e.r.IntN(2) == 0 {
			itemsOne(w, "volumeSet", "volumeId", e.res.id)
			w.raw("filterSet", "{}")
		} else {
			w.raw("volumeSet", "{}")
			w.raw("filterSet", "{}")
		}
		w.close()
		w.null("responseElements")
	})
	t.optional = true

	c.def("ec2", "DescribeSubnets", 10, true, noKind, read, func(e *ev) {
		e.reqOpen()
		e.w.raw("subnetSet", "{}")
		filterOne(e.w, "vpc-id", e.s.vpcs[e.r.IntN(len(e.s.vpcs))])
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("ec2", "DescribeVpcs", 9, true, noKind, read, func(e *ev) {
		e.reqOpen()
		e.w.raw("vpcSet", "{}")
		e.w.raw("filterSet", "{}")
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("ec2", "DescribeRouteTables", 8, true, noKind, read, func(e *ev) {
		e.reqOpen()
		e.w.raw("routeTableIdSet", "{}")
		filterOne(e.w, "vpc-id", e.s.vpcs[e.r.IntN(len(e.s.vpcs))])
		e.w.close()
		e.w.null("responseElements")
	})
	t = c.def("ec2", "DescribeNetworkInterfaces", 10, true, kInstance, read, func(e *ev) {
		e.reqOpen()
		e.w.raw("networkInterfaceIdSet", "{}")
		if e.res != nil {
			filterOne(e.w, "attachment.instance-id", e.res.id)
		} else {
			e.w.raw("filterSet", "{}")
		}
		e.w.close()
		e.w.null("responseElements")
	})
	t.optional = true
	c.def("ec2", "DescribeImages", 7, true, noKind, read, func(e *ev) {
		e.reqOpen()
		e.w.raw("executableBySet", "{}")
		itemsOne(e.w, "imagesSet", "imageId", pick(e.r, e.s.amis))
		e.w.raw("ownersSet", "{}")
		e.w.boolean("includeDeprecated", false)
		e.w.boolean("includeDisabled", false)
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("ec2", "DescribeAvailabilityZones", 6, true, noKind, read, func(e *ev) {
		e.reqOpen()
		e.w.raw("availabilityZoneSet", "{}")
		e.w.raw("availabilityZoneIdSet", "{}")
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("ec2", "DescribeSnapshots", 4, true, noKind, read, func(e *ev) {
		e.reqOpen()
		e.w.raw("snapshotSet", "{}")
		itemsOne(e.w, "ownersSet", "owner", "self")
		e.w.raw("restorableBySet", "{}")
		e.w.raw("filterSet", "{}")
		e.w.close()
		e.w.null("responseElements")
	})
	t = c.def("ec2", "DescribeTags", 5, true, kInstance, read, func(e *ev) {
		e.reqOpen()
		if e.res != nil {
			filterOne(e.w, "resource-id", e.res.id)
		} else {
			filterOne(e.w, "key", "Environment")
		}
		e.w.close()
		e.w.null("responseElements")
	})
	t.optional = true
	c.def("ec2", "DescribeAddresses", 4, true, noKind, read, func(e *ev) {
		e.reqOpen()
		e.w.raw("publicIpsSet", "{}")
		e.w.raw("allocationIdsSet", "{}")
		e.w.raw("filterSet", "{}")
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("ec2", "DescribeInstanceAttribute", 3, true, kInstance, read, func(e *ev) {
		e.reqOpen()
		e.w.str("instanceId", e.res.id)
		e.w.str("attribute", pick(e.r, []string{"userData", "disableApiTermination", "instanceInitiatedShutdownBehavior", "instanceType"}))
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("ec2", "DescribeLaunchTemplates", 3, true, noKind, read, func(e *ev) {
		e.reqOpen()
		e.w.raw("DescribeLaunchTemplatesRequest", `{"MaxResults":200}`)
		e.w.close()
		e.w.null("responseElements")
	})
	c.def("ec2", "DescribeRegions", 3, true, noKind, mix{20, 10, 30, 0, 40}, func(e *ev) {
		e.reqOpen()
		e.w.raw("regionSet", "{}")
		e.w.boolean("allRegions", e.r.IntN(2) == 0)
		e.w.close()
		e.w.null("responseElements")
	})

	stateChange := func(e *ev, cur, curName string, prev, prevName string) {
		w := e.w
		e.reqOpen()
		itemsOne(w, "instancesSet", "instanceId", e.res.id)
		if e.tpl.name == "StopInstances" {
			w.boolean("force", false)
		}
		w.close()
		if e.respOpen() {
			w.key("requestId")
			w.b = jsontext.AppendString(w.b, e.reqID)
			w.need = true
			w.openK("instancesSet")
			w.arrK("items")
			w.open()
			w.str("instanceId", e.res.id)
			w.raw("currentState", `{"code":`+cur+`,"name":"`+curName+`"}`)
			w.raw("previousState", `{"code":`+prev+`,"name":"`+prevName+`"}`)
			w.close()
			w.closeArr()
			w.close()
			w.close()
		}
	}
	t = c.def("ec2", "StartInstances", 2, false, kInstance, write, func(e *ev) { stateChange(e, "0", "pending", "80", "stopped") })
	t.errs = []errSpec{{code: "Client.IncorrectInstanceState", pre: "The instance '", post: "' is not in a state from which it can be started.", p: 0.04}}
	c.def("ec2", "StopInstances", 2, false, kInstance, write, func(e *ev) { stateChange(e, "64", "stopping", "16", "running") })

	c.def("ec2", "CreateSnapshot", 2, false, kVolume, mix{20, 0, 60, 0, 0}, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.str("volumeId", e.res.id)
		w.str("description", "Scheduled backup of "+e.res.name)
		w.close()
		if e.respOpen() {
			w.key("requestId")
			w.b = jsontext.AppendString(w.b, e.reqID)
			w.need = true
			w.key("snapshotId")
			w.b = append(w.b, `"snap-0`...)
			w.b = appendHex(w.b, e.r.Uint64(), 16)
			w.b = append(w.b, '"')
			w.need = true
			w.str("volumeId", e.res.id)
			w.str("status", "pending")
			w.num("startTime", e.t*1000)
			w.str("progress", "")
			w.str("ownerId", e.s.acct.id)
			w.str("volumeSize", e.res.extra)
			w.boolean("encrypted", true)
			w.close()
		}
	})

	c.def("ec2", "ModifyInstanceAttribute", 1, false, kInstance, write, func(e *ev) {
		w := e.w
		e.reqOpen()
		w.str("instanceId", e.res.id)
		switch {
		case e.st != nil && e.st.variant == 1:
			w.raw("userData", `{"value":"<sensitiveDataRemoved>"}`)
		case e.r.IntN(2) == 0:
			w.raw("instanceType", `{"value":"`+pick(e.r, []string{"m6i.large", "m6i.xlarge", "c6i.large", "r6i.large"})+`"}`)
		default:
			w.raw("disableApiTermination", `{"value":true}`)
		}
		w.close()
		e.ec2Return()
	})

	sgRule := func(e *ev, revoke bool) {
		w := e.w
		proto, port, cidr, desc := "tcp", pick(e.r, []int{443, 5432, 6379, 8080}), "10."+strconv.Itoa(e.s.idx*16)+".0.0/16", "internal"
		if e.st != nil && e.st.variant == 1 {
			port, cidr, desc = e.st.port, "0.0.0.0/0", pick(e.r, []string{"temp debug access", "ssh from anywhere", ""})
		}
		e.reqOpen()
		w.str("groupId", e.res.id)
		w.openK("ipPermissions")
		w.arrK("items")
		w.open()
		w.str("ipProtocol", proto)
		w.num("fromPort", int64(port))
		w.num("toPort", int64(port))
		w.raw("groups", "{}")
		w.openK("ipRanges")
		w.arrK("items")
		w.open()
		w.str("cidrIp", cidr)
		if desc != "" {
			w.str("description", desc)
		}
		w.close()
		w.closeArr()
		w.close()
		w.raw("ipv6Ranges", "{}")
		w.raw("prefixListIds", "{}")
		w.close()
		w.closeArr()
		w.close()
		w.close()
		if revoke {
			e.ec2Return()
			return
		}
		if e.respOpen() {
			w.key("requestId")
			w.b = jsontext.AppendString(w.b, e.reqID)
			w.need = true
			w.boolean("_return", true)
			w.openK("securityGroupRuleSet")
			w.arrK("items")
			w.open()
			w.str("groupOwnerId", e.s.acct.id)
			w.str("groupId", e.res.id)
			w.key("securityGroupRuleId")
			w.b = append(w.b, `"sgr-0`...)
			w.b = appendHex(w.b, e.r.Uint64(), 16)
			w.b = append(w.b, '"')
			w.need = true
			if desc != "" {
				w.str("description", desc)
			}
			w.boolean("isEgress", false)
			w.str("ipProtocol", proto)
			w.num("fromPort", int64(port))
			w.num("toPort", int64(port))
			w.str("cidrIpv4", cidr)
			w.close()
			w.closeArr()
			w.close()
			w.close()
		}
	}
	c.def("ec2", "AuthorizeSecurityGroupIngress", 1, false, kSecurityGroup, write, func(e *ev) { sgRule(e, false) })
	c.def("ec2", "RevokeSecurityGroupIngress", 1, false, kSecurityGroup, write, func(e *ev) { sgRule(e, true) })
}
