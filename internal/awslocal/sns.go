package awslocal

import (
	"fmt"
	"net/http"
	"strings"
)

func (s *Server) serveSNS(c *call) {
	form := c.queryForm()
	if c.rec.Operation != "Publish" {
		c.queryError(xmlNSSNS, errorf(http.StatusBadRequest, "InvalidAction",
			"Could not find operation %s for version 2010-03-31", c.rec.Operation))
		return
	}
	if err := s.injected(c); err != nil {
		c.queryError(xmlNSSNS, err)
		return
	}
	topic, err := required(form, "TopicArn", "InvalidParameter")
	if err != nil {
		c.queryError(xmlNSSNS, err)
		return
	}
	if p := strings.SplitN(topic, ":", 6); len(p) != 6 || p[0] != "arn" || p[2] != "sns" || p[5] == "" {
		c.queryError(xmlNSSNS, errorf(http.StatusBadRequest, "InvalidParameter",
			"Invalid parameter: TopicArn Reason: %q is not a topic ARN", topic))
		return
	}
	msg, err := required(form, "Message", "InvalidParameter")
	if err != nil {
		c.queryError(xmlNSSNS, err)
		return
	}
	id := fmt.Sprintf("%08x-0000-4000-8000-%012x", len(s.published)+1, s.seq)
	s.published = append(s.published, Message{
		ID:       id,
		Region:   c.rec.Region,
		TopicARN: topic,
		Subject:  form.Get("Subject"),
		Message:  msg,
	})
	c.queryOK(xmlNSSNS, struct {
		MessageID string `xml:"MessageId"`
	}{id})
}
