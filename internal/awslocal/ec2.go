package awslocal

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

func (s *Server) serveEC2(c *call) {
	form := c.queryForm()
	err := s.injected(c)
	switch {
	case err != nil:
	case c.rec.Operation == "CreateTags":
		err = s.ec2CreateTags(c, form)
	case c.rec.Operation == "DeleteTags":
		err = s.ec2DeleteTags(c, form)
	case c.rec.Operation == "DescribeInstances":
		err = s.ec2DescribeInstances(c, form)
	case c.rec.Operation == "ModifyInstanceAttribute":
		err = s.ec2ModifyInstanceAttribute(c, form)
	default:
		err = errorf(http.StatusBadRequest, "InvalidAction",
			"The action %s is not valid for this web service.", c.rec.Operation)
	}
	if err != nil {
		c.ec2Error(err)
	}
}

// ec2Return is the answer of EC2 operations that return only success.
type ec2Return struct {
	XMLName   xml.Name
	Xmlns     string `xml:"xmlns,attr"`
	RequestID string `xml:"requestId"`
	Return    bool   `xml:"return"`
}

func (c *call) ec2OK() {
	c.writeXML(ec2Return{XMLName: xml.Name{Local: c.rec.Operation + "Response"}, Xmlns: xmlNSEC2, RequestID: c.id, Return: true})
}

func instanceNotFound(ids ...string) *apiError {
	return errorf(http.StatusBadRequest, "InvalidInstanceID.NotFound",
		"The instance IDs '%s' do not exist", strings.Join(ids, ", "))
}

// ec2Resources returns the tag maps of the ResourceId.N of a tagging
// request, all or none: an unknown instance is InvalidInstanceID.NotFound.
func (s *Server) ec2Resources(c *call, form url.Values) ([]tagMap, *apiError) {
	ids := members(form, "ResourceId")
	if len(ids) == 0 {
		return nil, errorf(http.StatusBadRequest, "MissingParameter",
			"The request must contain the parameter resourceIdSet")
	}
	var out []tagMap
	var missing []string
	for _, id := range ids {
		tm, ok := s.tagMapOf("arn:aws:ec2:"+c.rec.Region+"::resource/"+id, true)
		if !ok {
			missing = append(missing, id)
			continue
		}
		out = append(out, tm)
	}
	if len(missing) > 0 {
		return nil, instanceNotFound(missing...)
	}
	return out, nil
}

func (s *Server) ec2CreateTags(c *call, form url.Values) *apiError {
	tags := queryTags(form, "Tag")
	if len(tags) == 0 {
		return errorf(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter tagSet")
	}
	res, err := s.ec2Resources(c, form)
	if err != nil {
		return err
	}
	for _, tm := range res {
		m := tm.get()
		if m == nil {
			m = map[string]string{}
		}
		for _, t := range tags {
			m[t.Key] = t.Value
		}
		tm.set(m)
	}
	c.ec2OK()
	return nil
}

func (s *Server) ec2DeleteTags(c *call, form url.Values) *apiError {
	tags := queryTags(form, "Tag")
	res, err := s.ec2Resources(c, form)
	if err != nil {
		return err
	}
	for _, tm := range res {
		m := tm.get()
		if len(tags) == 0 {
			clear(m)
			continue
		}
		for _, t := range tags {
			if v, ok := m[t.Key]; ok && (!t.HasValue || v == t.Value) {
				delete(m, t.Key)
			}
		}
	}
	c.ec2OK()
	return nil
}

type ec2Item struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type ec2Group struct {
	GroupID string `xml:"groupId"`
}

type ec2Instance struct {
	InstanceID string     `xml:"instanceId"`
	Groups     []ec2Group `xml:"groupSet>item"`
	Tags       []ec2Item  `xml:"tagSet>item"`
}

type ec2Reservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Instances     []ec2Instance `xml:"instancesSet>item"`
}

// ec2DescribeInstances serves InstanceId.N and the instance-id filter;
// other filters are InvalidParameterValue.
func (s *Server) ec2DescribeInstances(c *call, form url.Values) *apiError {
	ids := members(form, "InstanceId")
	var filtered []string
	hasFilter := false
	for i := 1; ; i++ {
		p := "Filter." + strconv.Itoa(i)
		name, ok := form[p+".Name"]
		if !ok {
			break
		}
		if name[0] != "instance-id" {
			return errorf(http.StatusBadRequest, "InvalidParameterValue",
				"The filter '%s' is invalid (awslocal serves only instance-id)", name[0])
		}
		hasFilter = true
		filtered = append(filtered, members(form, p+".Value")...)
	}

	var found []*Instance
	if len(ids) > 0 {
		var missing []string
		for _, id := range ids {
			in, ok := s.instances[c.rec.Region+"/"+id]
			if !ok {
				missing = append(missing, id)
				continue
			}
			if !slices.ContainsFunc(found, func(f *Instance) bool { return f.ID == id }) {
				found = append(found, in)
			}
		}
		if len(missing) > 0 {
			return instanceNotFound(missing...)
		}
	} else {
		for _, in := range s.instances {
			if in.Region == c.rec.Region {
				found = append(found, in)
			}
		}
		sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
	}
	if hasFilter {
		found = slices.DeleteFunc(found, func(in *Instance) bool { return !slices.Contains(filtered, in.ID) })
	}

	res := struct {
		XMLName      xml.Name         `xml:"DescribeInstancesResponse"`
		Xmlns        string           `xml:"xmlns,attr"`
		RequestID    string           `xml:"requestId"`
		Reservations []ec2Reservation `xml:"reservationSet>item"`
	}{Xmlns: xmlNSEC2, RequestID: c.id}
	for _, in := range found {
		x := ec2Instance{InstanceID: in.ID}
		for _, g := range in.Groups {
			x.Groups = append(x.Groups, ec2Group{GroupID: g})
		}
		for _, k := range sortedKeys(in.Tags) {
			x.Tags = append(x.Tags, ec2Item{Key: k, Value: in.Tags[k]})
		}
		res.Reservations = append(res.Reservations, ec2Reservation{
			ReservationID: "r-" + strings.TrimPrefix(in.ID, "i-"),
			OwnerID:       "123456789012",
			Instances:     []ec2Instance{x},
		})
	}
	c.writeXML(res)
	return nil
}

// ec2ModifyInstanceAttribute serves GroupId.N, which replaces the
// instance's security groups; other attributes are InvalidParameterValue.
func (s *Server) ec2ModifyInstanceAttribute(c *call, form url.Values) *apiError {
	id, err := required(form, "InstanceId", "MissingParameter")
	if err != nil {
		return err
	}
	groups := members(form, "GroupId")
	if len(groups) == 0 {
		return errorf(http.StatusBadRequest, "InvalidParameterValue",
			"awslocal serves ModifyInstanceAttribute only with GroupId.N")
	}
	for _, g := range groups {
		if !strings.HasPrefix(g, "sg-") {
			return errorf(http.StatusBadRequest, "InvalidGroupId.Malformed", "Invalid id: \"%s\"", g)
		}
	}
	in, ok := s.instances[c.rec.Region+"/"+id]
	if !ok {
		return instanceNotFound(id)
	}
	in.Groups = groups
	c.ec2OK()
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
