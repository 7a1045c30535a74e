// Package awslocal is a local AWS endpoint for tests: an HTTP server on
// 127.0.0.1 that speaks the real wire protocols of the few operations
// Trailbook's actions call, so that tests run the real aws-sdk-go-v2
// clients against it (point them at URL() with BaseEndpoint, and path-style
// addressing for S3).
//
// Requests are routed by the service named in the credential scope of
// their SigV4 Authorization header (Credential=KEY/DATE/REGION/SERVICE/
// aws4_request); signatures are not checked. The operations served:
//
//   - ec2 (EC2 Query protocol, XML in the EC2 namespace): CreateTags,
//     DeleteTags (a tag given with a value deletes only a tag with that
//     value; no tags deletes every tag), DescribeInstances (InstanceId.N or
//     an instance-id filter), ModifyInstanceAttribute (GroupId.N replaces
//     the instance's security groups).
//   - iam (Query protocol): TagRole, UntagRole, TagUser, UntagUser,
//     PutRolePolicy, PutUserPolicy, GetRolePolicy, GetUserPolicy,
//     DeleteRolePolicy, DeleteUserPolicy. Get*Policy returns the document
//     URL-encoded (RFC 3986), as IAM does.
//   - s3 (REST XML, path-style): GET, PUT and DELETE /BUCKET?policy, GET and
//     PUT /BUCKET?tagging.
//   - tagging (Resource Groups Tagging API, JSON 1.1): TagResources and
//     UntagResources.
//   - sns (Query protocol): Publish.
//
// Anything else gets the error response of its protocol (InvalidAction,
// UnknownOperationException, NotImplemented) and is recorded like every
// other request. The errors modelled are those of the real services for
// missing things: InvalidInstanceID.NotFound, NoSuchEntity, NoSuchBucket,
// NoSuchBucketPolicy, NoSuchTagSet, and validation errors for missing
// parameters.
//
// State lives in memory: tests seed it (PutInstance, PutRole, PutUser,
// PutBucket, PutResource), make operations fail (FailOperation,
// FailUnknownARNs) and inspect it (Instance, Role, User, Bucket, Tags,
// Published, Requests, Operations). A Server is safe for concurrent use.
// It is for tests: it trusts its clients, and keeps everything until it
// is closed.
package awslocal

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// maxBody bounds the request bodies the server reads; AWS's own limits for
// these operations are far lower.
const maxBody = 4 << 20

// Request is one request the Server received, as decoded.
type Request struct {
	// Service is the signing name in the credential scope: ec2, iam, s3,
	// tagging or sns; empty when the request was not signed.
	Service string
	// Region is the region in the credential scope.
	Region string
	// Operation is the AWS operation name, such as CreateTags or
	// GetBucketPolicy, or what the request named when it is not served
	// (the Query Action, the X-Amz-Target suffix, METHOD /path for S3).
	Operation string
	// Params are the request's parameters, flattened to strings: Query
	// requests as their form fields (Tag.1.Key); JSON requests with
	// dotted paths and 1-based list indexes (ResourceARNList.1, Tags.env);
	// S3 requests as Bucket and, for PUTs, Body.
	Params    map[string]string
	UserAgent string
	// Error is the AWS error code the Server answered with; empty on
	// success.
	Error string
}

// Server is a local AWS endpoint. The zero value is not usable; call New.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []Request
	seq      int // request counter, for request and message IDs
	state
}

// New starts a Server on 127.0.0.1 with empty state. Close it when done.
func New() *Server {
	s := &Server{state: newState()}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL is the server's base URL, for an SDK client's BaseEndpoint.
func (s *Server) URL() string { return s.srv.URL }

// Close shuts the server down, blocking until outstanding requests end.
func (s *Server) Close() { s.srv.Close() }

// Requests returns a copy of every request received so far, in arrival
// order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Params = cloneMap(r.Params)
		out[i] = r
	}
	return out
}

// Operations returns "service:Operation" for every request received so
// far, in arrival order: a compact form for asserting call sequences.
func (s *Server) Operations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.requests))
	for i, r := range s.requests {
		out[i] = r.Service + ":" + r.Operation
	}
	return out
}

// ResetRequests forgets the requests received so far; state is kept.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// call is one request being served: what handlers read and what they
// answer.
type call struct {
	req    *http.Request
	body   []byte
	rec    Request
	id     string // request ID
	status int
	header http.Header
	out    []byte
}

// apiError is an AWS error answer.
type apiError struct {
	status  int
	code    string
	message string
	// extra are additional XML elements of an S3 error (BucketName).
	extra map[string]string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	region, service := credentialScope(r.Header.Get("Authorization"))

	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	c := &call{
		req:    r,
		body:   body,
		id:     fmt.Sprintf("%08x-0000-4000-8000-%012x", s.seq, s.seq),
		status: http.StatusOK,
		header: http.Header{},
		rec: Request{
			Service:   service,
			Region:    region,
			UserAgent: r.Header.Get("User-Agent"),
			Params:    map[string]string{},
		},
	}
	switch service {
	case "ec2":
		s.serveEC2(c)
	case "iam":
		s.serveIAM(c)
	case "sns":
		s.serveSNS(c)
	case "s3":
		s.serveS3(c)
	case "tagging":
		s.serveTagging(c)
	case "":
		c.rec.Operation = r.Method + " " + r.URL.Path
		c.queryError(xmlNSIAM, errorf(http.StatusForbidden, "MissingAuthenticationToken",
			"Request is missing Authentication Token"))
	default:
		c.rec.Operation = r.Method + " " + r.URL.Path
		c.queryError(xmlNSIAM, errorf(http.StatusBadRequest, "UnknownService",
			"awslocal does not serve the service %q", service))
	}
	s.requests = append(s.requests, c.rec)

	c.header.Set("X-Amzn-Requestid", c.id)
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.WriteHeader(c.status)
	w.Write(c.out)
}

// credentialScope returns the region and service of a SigV4 Authorization
// header, or empty strings when it has none.
func credentialScope(auth string) (region, service string) {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", ""
	}
	cred, _, _ := strings.Cut(rest, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return "", ""
	}
	return parts[2], parts[3]
}

// cloneMap copies m; the copy of an empty map is nil, so that copies
// compare equal whether a map was emptied or never set.
func cloneMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
