package awslocal

import (
	"encoding/json"
	"net/http"
	"strings"
)

const taggingTarget = "ResourceGroupsTaggingAPI_20170126."

// taggingFailure is a FailedResourcesMap entry.
type taggingFailure struct {
	StatusCode   int    `json:"StatusCode"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

func (s *Server) serveTagging(c *call) {
	target := c.req.Header.Get("X-Amz-Target")
	c.rec.Operation = strings.TrimPrefix(target, taggingTarget)
	var in struct {
		ResourceARNList []string
		Tags            map[string]string
		TagKeys         []string
	}
	var raw any
	if err := json.Unmarshal(c.body, &raw); err != nil {
		c.jsonError(errorf(http.StatusBadRequest, "SerializationException", "cannot decode the request body"))
		return
	}
	flattenJSON(c.rec.Params, "", raw)
	if !strings.HasPrefix(target, taggingTarget) ||
		(c.rec.Operation != "TagResources" && c.rec.Operation != "UntagResources") {
		c.jsonError(errorf(http.StatusBadRequest, "UnknownOperationException", "unknown operation %q", target))
		return
	}
	if err := s.injected(c); err != nil {
		c.jsonError(err)
		return
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		c.jsonError(errorf(http.StatusBadRequest, "SerializationException", "%v", err))
		return
	}
	if len(in.ResourceARNList) == 0 {
		c.jsonError(errorf(http.StatusBadRequest, "InvalidParameterException", "ResourceARNList must not be empty"))
		return
	}
	tagging := c.rec.Operation == "TagResources"
	if tagging && len(in.Tags) == 0 || !tagging && len(in.TagKeys) == 0 {
		c.jsonError(errorf(http.StatusBadRequest, "InvalidParameterException", "no tags given"))
		return
	}
	failed := map[string]taggingFailure{}
	for _, arn := range in.ResourceARNList {
		tm, ok := s.tagMapOf(arn, !s.strictARN)
		if !ok {
			failed[arn] = taggingFailure{
				StatusCode:   http.StatusBadRequest,
				ErrorCode:    "InvalidParameterException",
				ErrorMessage: "resource " + arn + " does not exist or cannot be tagged",
			}
			continue
		}
		m := tm.get()
		if m == nil {
			m = map[string]string{}
		}
		if tagging {
			for k, v := range in.Tags {
				m[k] = v
			}
		} else {
			for _, k := range in.TagKeys {
				delete(m, k)
			}
		}
		tm.set(m)
	}
	c.jsonOK(map[string]any{"FailedResourcesMap": failed})
}
