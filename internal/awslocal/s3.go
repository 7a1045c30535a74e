package awslocal

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
)

func (s *Server) serveS3(c *call) {
	q := c.req.URL.Query()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(c.req.URL.Path, "/"), "/")
	sub := ""
	switch {
	case key != "" || bucket == "":
	case q.Has("policy"):
		sub = "Policy"
	case q.Has("tagging"):
		sub = "Tagging"
	}
	verb := map[string]string{http.MethodGet: "Get", http.MethodPut: "Put", http.MethodDelete: "Delete"}[c.req.Method]
	op := verb + "Bucket" + sub
	if sub == "" || verb == "" || op == "DeleteBucketTagging" {
		c.rec.Operation = c.req.Method + " " + c.req.URL.RequestURI()
		c.s3Error(errorf(http.StatusNotImplemented, "NotImplemented",
			"awslocal does not serve %s", c.rec.Operation))
		return
	}
	c.rec.Operation = op
	c.rec.Params["Bucket"] = bucket
	if c.req.Method == http.MethodPut {
		c.rec.Params["Body"] = string(c.body)
	}
	if err := s.injected(c); err != nil {
		c.s3Error(err)
		return
	}
	b, ok := s.buckets[bucket]
	if !ok {
		c.s3Error(&apiError{status: http.StatusNotFound, code: "NoSuchBucket",
			message: "The specified bucket does not exist", extra: map[string]string{"BucketName": bucket}})
		return
	}
	switch op {
	case "GetBucketPolicy":
		if b.Policy == "" {
			c.s3Error(&apiError{status: http.StatusNotFound, code: "NoSuchBucketPolicy",
				message: "The bucket policy does not exist", extra: map[string]string{"BucketName": bucket}})
			return
		}
		c.header.Set("Content-Type", "application/json")
		c.out = []byte(b.Policy)
	case "PutBucketPolicy":
		if len(c.body) == 0 || c.body[0] != '{' || !json.Valid(c.body) {
			c.s3Error(errorf(http.StatusBadRequest, "MalformedPolicy",
				"Policies must be valid JSON and the first byte must be '{'"))
			return
		}
		b.Policy = string(c.body)
		c.status = http.StatusNoContent
	case "DeleteBucketPolicy":
		b.Policy = ""
		c.status = http.StatusNoContent
	case "GetBucketTagging":
		if len(b.Tags) == 0 {
			c.s3Error(&apiError{status: http.StatusNotFound, code: "NoSuchTagSet",
				message: "The TagSet does not exist", extra: map[string]string{"BucketName": bucket}})
			return
		}
		var t s3Tagging
		t.Xmlns = xmlNSS3
		for _, k := range sortedKeys(b.Tags) {
			t.Tags = append(t.Tags, s3Tag{Key: k, Value: b.Tags[k]})
		}
		c.writeXML(t)
		c.header.Set("Content-Type", "application/xml")
	case "PutBucketTagging":
		var t s3Tagging
		if err := xml.Unmarshal(c.body, &t); err != nil {
			c.s3Error(errorf(http.StatusBadRequest, "MalformedXML",
				"The XML you provided was not well-formed or did not validate against our published schema"))
			return
		}
		tags := map[string]string{}
		for _, tag := range t.Tags {
			if _, dup := tags[tag.Key]; dup {
				c.s3Error(errorf(http.StatusBadRequest, "InvalidTag", "Cannot provide multiple Tags with the same key"))
				return
			}
			tags[tag.Key] = tag.Value
		}
		b.Tags = tags
		c.status = http.StatusNoContent
	}
}

type s3Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type s3Tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Tags    []s3Tag  `xml:"TagSet>Tag"`
}
