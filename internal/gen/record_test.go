package gen

import (
	"regexp"
	"strings"
	"testing"
)

// field walks a decoded record: field(r, "userIdentity", "type").
func field(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func str(v any, path ...string) string {
	s, _ := field(v, path...).(string)
	return s
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRecords(t *testing.T) {
	dir, _ := generate(t, Options{Events: 30000, Seed: 1})
	files := readLogs(t, dir)
	ids := map[string]bool{}
	names := map[string]int{}
	calls := map[string]int{} // eventSource/eventName
	idTypes := map[string]int{}
	errs := map[string]int{}
	eventTypes := map[string]int{}
	var n, failed, console, vpce, tls, data, withResources, crossAccount int
	for _, f := range files {
		for _, r := range f.records {
			n++
			id := str(r, "eventID")
			if !uuidRE.MatchString(id) || ids[id] {
				t.Fatalf("bad or repeated eventID %q", id)
			}
			ids[id] = true
			name, source := str(r, "eventName"), str(r, "eventSource")
			if name == "" || !strings.HasSuffix(source, ".amazonaws.com") || str(r, "eventTime") == "" {
				t.Fatalf("record lacks name, source or time: %v", r)
			}
			switch v := str(r, "eventVersion"); v {
			case "1.08", "1.09", "1.10":
			default:
				t.Errorf("eventVersion %q", v)
			}
			names[name]++
			calls[strings.TrimSuffix(source, ".amazonaws.com")+"/"+name]++
			typ := str(r, "userIdentity", "type")
			idTypes[typ]++
			eventTypes[str(r, "eventType")]++
			if c := str(r, "errorCode"); c != "" {
				errs[c]++
			}
			if str(r, "errorCode") != "" || str(r, "errorMessage") != "" {
				failed++
				if field(r, "responseElements") != nil && name != "ConsoleLogin" {
					t.Errorf("%s failed but has a response", name)
				}
			}
			if str(r, "sessionCredentialFromConsole") == "true" {
				console++
			}
			if str(r, "vpcEndpointId") != "" {
				vpce++
			}
			if field(r, "tlsDetails") != nil {
				tls++
			}
			if field(r, "resources") != nil {
				withResources++
			}
			if str(r, "eventCategory") == "Data" {
				data++
				if field(r, "managementEvent") != false {
					t.Errorf("data event %s marked management", name)
				}
			}
			if a := str(r, "userIdentity", "accountId"); a != "" && a != str(r, "recipientAccountId") {
				crossAccount++
				if str(r, "sharedEventID") == "" {
					t.Errorf("cross-account %s without sharedEventID", name)
				}
			}
			switch typ {
			case "AssumedRole":
				if str(r, "userIdentity", "sessionContext", "sessionIssuer", "type") != "Role" ||
					str(r, "userIdentity", "sessionContext", "attributes", "creationDate") == "" ||
					str(r, "userIdentity", "sessionContext", "attributes", "mfaAuthenticated") == "" {
					t.Errorf("AssumedRole without session context: %v", r["userIdentity"])
				}
				if created, at := str(r, "userIdentity", "sessionContext", "attributes", "creationDate"), str(r, "eventTime"); created > at {
					t.Errorf("session created %s after the call at %s", created, at)
				}
			case "AWSService":
				if str(r, "userIdentity", "invokedBy") == "" || str(r, "sourceIPAddress") != str(r, "userIdentity", "invokedBy") {
					t.Errorf("AWSService record without matching invokedBy: %v", r["userIdentity"])
				}
			}
			if name == "ConsoleLogin" && str(r, "eventType") != "AwsConsoleSignIn" {
				t.Errorf("ConsoleLogin with eventType %q", str(r, "eventType"))
			}
		}
	}
	if len(names) < 40 {
		t.Errorf("%d distinct event names, want at least 40", len(names))
	}
	for _, typ := range []string{"IAMUser", "AssumedRole", "Root", "AWSService", "FederatedUser", "WebIdentityUser", ""} {
		if idTypes[typ] == 0 {
			t.Errorf("no userIdentity of type %q", typ)
		}
	}
	for _, code := range []string{"AccessDenied", "Client.UnauthorizedOperation", "ThrottlingException"} {
		if errs[code] == 0 {
			t.Errorf("no %s errors", code)
		}
	}
	if rate := float64(failed) / float64(n); rate < 0.01 || rate > 0.08 {
		t.Errorf("%.1f%% of calls failed, want a few percent", rate*100)
	}
	for _, typ := range []string{"AwsApiCall", "AwsServiceEvent", "AwsConsoleSignIn"} {
		if eventTypes[typ] == 0 {
			t.Errorf("no %s records", typ)
		}
	}
	for what, count := range map[string]int{"console": console, "vpce": vpce, "tls": tls, "data": data, "resources": withResources, "cross-account": crossAccount} {
		if count == 0 {
			t.Errorf("no %s records", what)
		}
	}
	for _, c := range []string{
		"ec2/CreateTags", "ec2/DeleteTags", "ec2/RunInstances",
		"s3/PutBucketTagging", "s3/DeleteBucketTagging",
		"iam/TagRole", "iam/UntagRole", "iam/TagUser", "iam/UntagUser",
		"lambda/TagResource20170331v2", "lambda/UntagResource20170331v2",
		"kms/TagResource", "kms/UntagResource",
		"sns/TagResource", "sns/UntagResource",
		"sqs/TagQueue", "sqs/UntagQueue",
		"dynamodb/TagResource", "dynamodb/UntagResource",
		"secretsmanager/TagResource", "secretsmanager/UntagResource",
		"rds/AddTagsToResource", "rds/RemoveTagsFromResource",
		"elasticloadbalancing/AddTags", "elasticloadbalancing/RemoveTags",
		"tagging/TagResources", "tagging/UntagResources",
		// and the security stories
		"ec2/AuthorizeSecurityGroupIngress", "ec2/ModifyInstanceAttribute", "s3/PutBucketPolicy",
		"cloudtrail/StopLogging", "signin/ConsoleLogin", "iam/CreateAccessKey", "iam/AttachRolePolicy",
		"iam/AttachUserPolicy", "kms/Decrypt", "sts/AssumeRole",
	} {
		if calls[c] == 0 {
			t.Errorf("no %s calls", c)
		}
	}
}

// TestSecurityStories checks that the records detections look for are
// there with their telling details.
func TestSecurityStories(t *testing.T) {
	dir, _ := generate(t, Options{Events: 30000, Seed: 5})
	var openWorld, rootNoMFA, loginFailures, adminPolicy, publicPolicy, userData bool
	for _, f := range readLogs(t, dir) {
		for _, r := range f.records {
			switch str(r, "eventName") {
			case "AuthorizeSecurityGroupIngress":
				items, _ := field(r, "requestParameters", "ipPermissions", "items").([]any)
				for _, it := range items {
					ranges, _ := field(it, "ipRanges", "items").([]any)
					for _, rg := range ranges {
						openWorld = openWorld || str(rg, "cidrIp") == "0.0.0.0/0"
					}
				}
			case "ConsoleLogin":
				if str(r, "userIdentity", "type") == "Root" && str(r, "additionalEventData", "MFAUsed") == "No" {
					rootNoMFA = true
				}
				if str(r, "errorMessage") == "Failed authentication" && str(r, "responseElements", "ConsoleLogin") == "Failure" {
					loginFailures = true
				}
			case "AttachUserPolicy", "AttachRolePolicy":
				adminPolicy = adminPolicy || str(r, "requestParameters", "policyArn") == "arn:aws:iam::aws:policy/AdministratorAccess"
			case "PutBucketPolicy":
				st, _ := field(r, "requestParameters", "bucketPolicy", "Statement").([]any)
				for _, s := range st {
					publicPolicy = publicPolicy || str(s, "Principal") == "*" && str(s, "Effect") == "Allow"
				}
			case "ModifyInstanceAttribute":
				userData = userData || field(r, "requestParameters", "userData") != nil
			}
		}
	}
	for what, ok := range map[string]bool{"0.0.0.0/0 ingress": openWorld, "root login without MFA": rootNoMFA,
		"failed console logins": loginFailures, "AdministratorAccess attached": adminPolicy,
		"public bucket policy": publicPolicy, "userData change": userData} {
		if !ok {
			t.Errorf("no %s", what)
		}
	}
}
