package awslocal_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/trailbook/trailbook/internal/awslocal"
)

// sdkConfig points the real SDK at srv with static credentials.
func sdkConfig(srv *awslocal.Server, region string) aws.Config {
	return aws.Config{
		Region:           region,
		BaseEndpoint:     aws.String(srv.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", ""),
		RetryMaxAttempts: 1,
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestEC2(t *testing.T) {
	srv := awslocal.New()
	defer srv.Close()
	srv.PutInstance(awslocal.Instance{Region: "eu-west-1", ID: "i-1", Groups: []string{"sg-a", "sg-b"}, Tags: map[string]string{"Name": "web"}})
	srv.PutInstance(awslocal.Instance{Region: "eu-west-1", ID: "i-2", Groups: []string{"sg-c"}})
	srv.PutInstance(awslocal.Instance{Region: "us-east-1", ID: "i-3"})
	c := ec2.NewFromConfig(sdkConfig(srv, "eu-west-1"))
	ctx := context.Background()

	_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"i-1", "vol-9"}, Tags: []ec2types.Tag{
		{Key: aws.String("env"), Value: aws.String("prod")},
		{Key: aws.String("team"), Value: aws.String("core")},
		{Key: aws.String("empty"), Value: aws.String("")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// A value deletes only a matching tag; no value deletes any.
	_, err = c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{"i-1"}, Tags: []ec2types.Tag{
		{Key: aws.String("env"), Value: aws.String("dev")},
		{Key: aws.String("team"), Value: aws.String("core")},
		{Key: aws.String("empty")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := srv.Instance("eu-west-1", "i-1")
	if want := map[string]string{"Name": "web", "env": "prod"}; !maps.Equal(in.Tags, want) {
		t.Errorf("tags %v, want %v", in.Tags, want)
	}
	if got := srv.Tags("arn:aws:ec2:eu-west-1:123456789012:volume/vol-9"); !maps.Equal(got, map[string]string{"env": "prod", "team": "core", "empty": ""}) {
		t.Errorf("volume tags %v", got)
	}

	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("reservations %+v", out.Reservations)
	}
	got := out.Reservations[0].Instances[0]
	var groups []string
	for _, g := range got.SecurityGroups {
		groups = append(groups, aws.ToString(g.GroupId))
	}
	if aws.ToString(got.InstanceId) != "i-1" || !slices.Equal(groups, []string{"sg-a", "sg-b"}) || len(got.Tags) != 2 {
		t.Errorf("instance %s groups %v tags %d", aws.ToString(got.InstanceId), groups, len(got.Tags))
	}

	out, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("instance-id"), Values: []string{"i-2", "i-3"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Reservations) != 1 || aws.ToString(out.Reservations[0].Instances[0].InstanceId) != "i-2" {
		t.Errorf("filtered reservations %+v (i-3 is in another region)", out.Reservations)
	}

	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-404"}})
	if code := apiCode(err); code != "InvalidInstanceID.NotFound" {
		t.Errorf("describe unknown instance: %v", err)
	}
	_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"i-404"}, Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if code := apiCode(err); code != "InvalidInstanceID.NotFound" {
		t.Errorf("tag unknown instance: %v", err)
	}

	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String("i-1"), Groups: []string{"sg-iso"}}); err != nil {
		t.Fatal(err)
	}
	if in, _ := srv.Instance("eu-west-1", "i-1"); !slices.Equal(in.Groups, []string{"sg-iso"}) {
		t.Errorf("groups %v after modify", in.Groups)
	}
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String("i-404"), Groups: []string{"sg-iso"}})
	if code := apiCode(err); code != "InvalidInstanceID.NotFound" {
		t.Errorf("modify unknown instance: %v", err)
	}

	reqs := srv.Requests()
	if reqs[0].Service != "ec2" || reqs[0].Operation != "CreateTags" || reqs[0].Region != "eu-west-1" ||
		reqs[0].Params["ResourceId.2"] != "vol-9" || !strings.Contains(reqs[0].UserAgent, "aws-sdk-go-v2") {
		t.Errorf("first request %+v", reqs[0])
	}
	if last := reqs[len(reqs)-1]; last.Error != "InvalidInstanceID.NotFound" {
		t.Errorf("last request error %q", last.Error)
	}
}

func TestIAM(t *testing.T) {
	srv := awslocal.New()
	defer srv.Close()
	srv.PutRole(awslocal.Principal{Name: "deploy"})
	srv.PutUser(awslocal.Principal{Name: "alice", Tags: map[string]string{"a": "1", "b": "2"}})
	c := iam.NewFromConfig(sdkConfig(srv, "us-east-1"))
	ctx := context.Background()
	doc := `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::a b+c/%"}]}`

	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("p")})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(aws.ToString(out.PolicyDocument), "{ +") {
		t.Errorf("document %q is not URL-encoded", aws.ToString(out.PolicyDocument))
	}
	if got, err := url.PathUnescape(aws.ToString(out.PolicyDocument)); err != nil || got != doc {
		t.Errorf("decoded document %q (%v), want %q", got, err, doc)
	}
	if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	for _, call := range []func() error{
		func() error {
			_, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("p")})
			return err
		},
		func() error {
			_, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("p")})
			return err
		},
		func() error {
			_, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p")})
			return err
		},
	} {
		if err := call(); apiCode(err) != "NoSuchEntity" {
			t.Errorf("got %v, want NoSuchEntity", err)
		}
	}
	_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("p"), PolicyDocument: aws.String("{")})
	if apiCode(err) != "MalformedPolicyDocument" {
		t.Errorf("bad document: %v", err)
	}

	if _, err := c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("alice"), TagKeys: []string{"a", "zz"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("deploy"), Tags: []iamtypes.Tag{}}); apiCode(err) != "ValidationError" {
		t.Errorf("TagRole without tags: %v", err)
	}
	if u, _ := srv.User("alice"); !maps.Equal(u.Tags, map[string]string{"b": "2"}) {
		t.Errorf("user tags %v", u.Tags)
	}
	if got := srv.Tags("arn:aws:iam::123456789012:user/people/alice"); !maps.Equal(got, map[string]string{"b": "2"}) {
		t.Errorf("Tags by arn with a path %v", got)
	}
}

func TestS3(t *testing.T) {
	srv := awslocal.New()
	defer srv.Close()
	srv.PutBucket(awslocal.Bucket{Name: "logs"})
	c := s3.NewFromConfig(sdkConfig(srv, "us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
	ctx := context.Background()
	policy := `{"Version":"2012-10-17","Statement":[]}`

	_, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("logs")})
	if apiCode(err) != "NoSuchBucketPolicy" {
		t.Errorf("get absent policy: %v", err)
	}
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("logs"), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("logs")})
	if err != nil || aws.ToString(out.Policy) != policy {
		t.Fatalf("policy %q, %v", aws.ToString(out.Policy), err)
	}
	if _, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("logs")}); err != nil {
		t.Fatal(err)
	}
	if b, _ := srv.Bucket("logs"); b.Policy != "" {
		t.Errorf("policy %q after delete", b.Policy)
	}
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("logs"), Policy: aws.String("[]")})
	if apiCode(err) != "MalformedPolicy" {
		t.Errorf("bad policy: %v", err)
	}
	_, err = c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("ghost")})
	if apiCode(err) != "NoSuchBucket" {
		t.Errorf("unknown bucket: %v", err)
	}

	_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("logs")})
	if apiCode(err) != "NoSuchTagSet" {
		t.Errorf("get absent tags: %v", err)
	}
	_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("logs"), Tagging: &s3types.Tagging{TagSet: []s3types.Tag{
		{Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("a"), Value: aws.String("1")},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	tags, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("logs")})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.TagSet) != 2 || aws.ToString(tags.TagSet[0].Key) != "a" || aws.ToString(tags.TagSet[1].Value) != "2" {
		t.Errorf("tag set %+v", tags.TagSet)
	}
	if got := srv.Tags("arn:aws:s3:::logs"); !maps.Equal(got, map[string]string{"a": "1", "b": "2"}) {
		t.Errorf("Tags %v", got)
	}

	want := []string{"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy",
		"s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:GetBucketTagging", "s3:PutBucketTagging", "s3:GetBucketTagging"}
	if got := srv.Operations(); !slices.Equal(got, want) {
		t.Errorf("operations %v, want %v", got, want)
	}
	if r := srv.Requests()[1]; r.Params["Bucket"] != "logs" || r.Params["Body"] != policy {
		t.Errorf("put request params %v", r.Params)
	}
}

func TestTaggingAPI(t *testing.T) {
	srv := awslocal.New()
	defer srv.Close()
	fn := "arn:aws:lambda:us-west-2:123456789012:function:f"
	instance := "arn:aws:ec2:us-west-2:123456789012:instance/i-1"
	srv.PutResource(fn, map[string]string{"old": "1"})
	srv.PutInstance(awslocal.Instance{Region: "us-west-2", ID: "i-1"})
	c := resourcegroupstaggingapi.NewFromConfig(sdkConfig(srv, "us-west-2"))
	ctx := context.Background()

	out, err := c.TagResources(ctx, &resourcegroupstaggingapi.TagResourcesInput{
		ResourceARNList: []string{fn, instance}, Tags: map[string]string{"env": "prod"},
	})
	if err != nil || len(out.FailedResourcesMap) != 0 {
		t.Fatalf("tag: %v, failed %v", err, out.FailedResourcesMap)
	}
	if _, err := c.UntagResources(ctx, &resourcegroupstaggingapi.UntagResourcesInput{ResourceARNList: []string{fn}, TagKeys: []string{"old"}}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Tags(fn); !maps.Equal(got, map[string]string{"env": "prod"}) {
		t.Errorf("function tags %v", got)
	}
	if in, _ := srv.Instance("us-west-2", "i-1"); !maps.Equal(in.Tags, map[string]string{"env": "prod"}) {
		t.Errorf("instance tags %v", in.Tags)
	}

	// Unknown ARNs are tagged until the test asks for failures.
	other := "arn:aws:sqs:us-west-2:123456789012:q"
	if out, err := c.TagResources(ctx, &resourcegroupstaggingapi.TagResourcesInput{ResourceARNList: []string{other}, Tags: map[string]string{"k": "v"}}); err != nil || len(out.FailedResourcesMap) != 0 {
		t.Fatalf("lenient tag: %v %v", err, out.FailedResourcesMap)
	}
	srv.FailUnknownARNs(true)
	ghost := "arn:aws:sqs:us-west-2:123456789012:ghost"
	out, err = c.TagResources(ctx, &resourcegroupstaggingapi.TagResourcesInput{ResourceARNList: []string{ghost, fn}, Tags: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	f, ok := out.FailedResourcesMap[ghost]
	if len(out.FailedResourcesMap) != 1 || !ok || f.ErrorCode != "InvalidParameterException" || f.StatusCode != 400 {
		t.Errorf("failed %+v", out.FailedResourcesMap)
	}
	if got := srv.Tags(fn)["k"]; got != "v" {
		t.Errorf("known arn not tagged alongside a failure: %q", got)
	}

	r := srv.Requests()[0]
	if r.Service != "tagging" || r.Operation != "TagResources" || r.Region != "us-west-2" ||
		r.Params["ResourceARNList.1"] != fn || r.Params["ResourceARNList.2"] != instance || r.Params["Tags.env"] != "prod" {
		t.Errorf("request %+v", r)
	}
}

func TestSNS(t *testing.T) {
	srv := awslocal.New()
	defer srv.Close()
	c := sns.NewFromConfig(sdkConfig(srv, "eu-central-1"))
	topic := "arn:aws:sns:eu-central-1:123456789012:alerts"
	out, err := c.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(topic), Subject: aws.String("s"), Message: aws.String("m")})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Published()
	if len(got) != 1 || got[0].ID != aws.ToString(out.MessageId) || got[0].Region != "eu-central-1" ||
		got[0].TopicARN != topic || got[0].Subject != "s" || got[0].Message != "m" {
		t.Errorf("published %+v, message id %q", got, aws.ToString(out.MessageId))
	}
	_, err = c.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String("nope"), Message: aws.String("m")})
	if apiCode(err) != "InvalidParameter" {
		t.Errorf("bad topic: %v", err)
	}
}

func TestFailOperation(t *testing.T) {
	srv := awslocal.New()
	defer srv.Close()
	srv.PutRole(awslocal.Principal{Name: "r"})
	c := iam.NewFromConfig(sdkConfig(srv, "us-east-1"))
	tag := func() error {
		_, err := c.TagRole(context.Background(), &iam.TagRoleInput{RoleName: aws.String("r"), Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		return err
	}
	srv.FailOperation("iam", "TagRole", "LimitExceeded", "too many")
	if err := tag(); apiCode(err) != "LimitExceeded" {
		t.Errorf("injected failure: %v", err)
	}
	if r, _ := srv.Role("r"); r.Tags != nil {
		t.Errorf("a failed TagRole changed the tags: %v", r.Tags)
	}
	srv.FailOperation("iam", "TagRole", "", "")
	if err := tag(); err != nil {
		t.Errorf("after lifting: %v", err)
	}
}

// rawCase is a request the SDK would not make: unknown operations,
// unsigned requests.
type rawCase struct {
	name    string
	service string // in the credential scope; empty for no Authorization
	method  string
	path    string
	header  map[string]string
	body    string
	// wantStatus, wantCode and wantBody are the answer; wantOp and
	// wantService are what the Server records.
	wantStatus  int
	wantCode    string
	wantBody    string // a substring: the protocol's error shape
	wantOp      string
	wantService string
}

func TestUnknownRequests(t *testing.T) {
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	cases := []rawCase{{
		name: "ec2 unknown action", service: "ec2", method: "POST", path: "/", header: form,
		body:       "Action=RunInstances&Version=2016-11-15",
		wantStatus: 400, wantCode: "InvalidAction", wantBody: "<Response><Errors><Error><Code>InvalidAction</Code>",
		wantOp: "RunInstances", wantService: "ec2",
	}, {
		name: "iam unknown action", service: "iam", method: "POST", path: "/", header: form,
		body:       "Action=CreateRole&Version=2010-05-08",
		wantStatus: 400, wantCode: "InvalidAction", wantBody: "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>InvalidAction</Code>",
		wantOp: "CreateRole", wantService: "iam",
	}, {
		name: "sns unknown action", service: "sns", method: "POST", path: "/", header: form,
		body:       "Action=Subscribe&Version=2010-03-31",
		wantStatus: 400, wantCode: "InvalidAction", wantBody: "<Code>InvalidAction</Code>",
		wantOp: "Subscribe", wantService: "sns",
	}, {
		name: "tagging unknown target", service: "tagging", method: "POST", path: "/",
		header:     map[string]string{"X-Amz-Target": "ResourceGroupsTaggingAPI_20170126.GetResources", "Content-Type": "application/x-amz-json-1.1"},
		body:       "{}",
		wantStatus: 400, wantCode: "UnknownOperationException", wantBody: `"__type":"UnknownOperationException"`,
		wantOp: "GetResources", wantService: "tagging",
	}, {
		name: "s3 object", service: "s3", method: "GET", path: "/logs/key",
		wantStatus: 501, wantCode: "NotImplemented", wantBody: "<Error><Code>NotImplemented</Code>",
		wantOp: "GET /logs/key", wantService: "s3",
	}, {
		name: "s3 delete tagging", service: "s3", method: "DELETE", path: "/logs?tagging",
		wantStatus: 501, wantCode: "NotImplemented", wantBody: "<Code>NotImplemented</Code>",
		wantOp: "DELETE /logs?tagging", wantService: "s3",
	}, {
		name: "unknown service", service: "lambda", method: "GET", path: "/2015-03-31/functions",
		wantStatus: 400, wantCode: "UnknownService", wantBody: "<Code>UnknownService</Code>",
		wantOp: "GET /2015-03-31/functions", wantService: "lambda",
	}, {
		name: "unsigned", method: "POST", path: "/", header: form, body: "Action=CreateTags",
		wantStatus: 403, wantCode: "MissingAuthenticationToken", wantBody: "<Code>MissingAuthenticationToken</Code>",
		wantOp: "POST /",
	}}
	srv := awslocal.New()
	defer srv.Close()
	for i, c := range cases {
		status, body := rawRequest(t, srv, c)
		if status != c.wantStatus || !strings.Contains(body, c.wantBody) {
			t.Errorf("%s: %d %s, want %d with %s", c.name, status, body, c.wantStatus, c.wantBody)
		}
		reqs := srv.Requests()
		if len(reqs) != i+1 {
			t.Fatalf("%s: %d requests recorded, want %d", c.name, len(reqs), i+1)
		}
		r := reqs[i]
		if r.Operation != c.wantOp || r.Service != c.wantService || r.Error != c.wantCode || r.Region != map[bool]string{true: "us-east-1"}[c.service != ""] {
			t.Errorf("%s: recorded %+v", c.name, r)
		}
	}
}

func rawRequest(t *testing.T, srv *awslocal.Server, c rawCase) (int, string) {
	t.Helper()
	req, err := http.NewRequest(c.method, srv.URL()+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	if c.service != "" {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/"+c.service+
			"/aws4_request, SignedHeaders=host, Signature=00")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestConcurrent runs clients of every service at once; run it with -race.
func TestConcurrent(t *testing.T) {
	srv := awslocal.New()
	defer srv.Close()
	const n = 8
	for i := range n {
		srv.PutInstance(awslocal.Instance{Region: "us-east-1", ID: fmt.Sprintf("i-%d", i), Groups: []string{"sg-1"}})
		srv.PutRole(awslocal.Principal{Name: fmt.Sprintf("r%d", i)})
	}
	cfg := sdkConfig(srv, "us-east-1")
	ec2c, iamc, snsc := ec2.NewFromConfig(cfg), iam.NewFromConfig(cfg), sns.NewFromConfig(cfg)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := ec2c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(fmt.Sprintf("i-%d", i)), Groups: []string{"sg-iso"}})
			errs <- err
			_, err = iamc.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(fmt.Sprintf("r%d", i)), Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			errs <- err
			_, err = snsc.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:1:t"), Message: aws.String("m")})
			errs <- err
			_ = srv.Requests()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := len(srv.Requests()); got != 3*n {
		t.Errorf("%d requests, want %d", got, 3*n)
	}
	if got := len(srv.Published()); got != n {
		t.Errorf("%d published, want %d", got, n)
	}
}
