package trigger

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trailbook/trailbook/internal/cloudtrail"
)

// envelopePatterns are EventBridge rule patterns of the kinds users copy
// from AWS's documentation, each with whether OnRecord can rewrite it.
var envelopePatterns = []struct {
	pattern  string
	onRecord bool
}{
	{`{"source": ["aws.iam"], "detail-type": ["AWS API Call via CloudTrail"]}`, true},
	{`{"source": ["aws.s3", "aws.ec2"], "detail-type": ["AWS API Call via CloudTrail"], "detail": {"eventName": [{"prefix": "Put"}, {"prefix": "Create"}]}}`, true},
	{`{"detail-type": ["AWS Console Sign In via CloudTrail"]}`, true},
	{`{"detail-type": ["AWS Service Event via CloudTrail", "AWS Console Sign In via CloudTrail"]}`, true},
	{`{"detail": {"errorCode": [{"exists": true}]}, "account": ["123837392027"]}`, true},
	{`{"region": ["us-east-1"], "detail": {"userIdentity": {"type": ["AssumedRole"]}}}`, true},
	{`{"source": ["aws.signin"]}`, true},
	{`{"source": ["aws.sts"], "detail": {"eventName": ["AssumeRole"]}, "detail-type": ["AWS API Call via CloudTrail"]}`, true},
	// Left to the envelope.
	{`{"source": [{"prefix": "aws.s"}]}`, false},
	{`{"detail-type": ["AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail"]}`, false},
	{`{"detail-type": ["EC2 Instance State-change Notification"]}`, false},
	{`{"time": [{"prefix": "2023"}]}`, false},
	{`{"account": ["123837392027"], "detail": {"recipientAccountId": ["123837392027"]}}`, false},
	{`{"source": ["iam"]}`, false},
}

// TestOnRecordMatchesTheEnvelope: for every corpus record, an envelope
// pattern rewritten onto the record matches exactly when the pattern
// matches the record's envelope.
func TestOnRecordMatchesTheEnvelope(t *testing.T) {
	records := corpus(t)
	for _, c := range envelopePatterns {
		recs, ok := OnRecord(c.pattern)
		if ok != c.onRecord {
			t.Errorf("%s: rewritten %v, want %v (%q)", c.pattern, ok, c.onRecord, recs)
			continue
		}
		if !ok {
			continue
		}
		rewritten, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if err := rewritten.Add("p", c.pattern, true); err != nil {
			t.Fatal(err)
		}
		if rewritten.hasEnvelope {
			t.Fatalf("%s: still matched on the envelope", c.pattern)
		}
		enveloped, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if err := enveloped.envelope.AddPattern("p", c.pattern); err != nil {
			t.Fatal(err)
		}
		enveloped.hasEnvelope = true
		matched := 0
		for i, rec := range records {
			a, err := rewritten.Match(rec)
			if err != nil {
				t.Fatal(err)
			}
			b, err := enveloped.Match(rec)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a, b) {
				t.Fatalf("%s on record %d: on the record %v, on the envelope %v\n%s", c.pattern, i, a, b, rec)
			}
			if len(a) > 0 {
				matched++
			}
		}
		if matched == 0 {
			t.Errorf("%s matches no corpus record: the comparison proves little", c.pattern)
		}
	}
}

// corpus is every CloudTrail record of the decoder's real-data testdata,
// plus records that lack eventType or carry an eventSource of another
// domain.
func corpus(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, dir := range []string{"invictus", "stratus"} {
		err := filepath.WalkDir(filepath.Join("..", "cloudtrail", "testdata", dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".json.gz")) {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			res := cloudtrail.Decode(data, cloudtrail.Options{})
			for _, ev := range res.Events {
				out = append(out, ev.JSON)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 3000 {
		t.Fatalf("%d corpus records", len(out))
	}
	return append(out,
		[]byte(`{"eventTime": "2024-05-01T12:00:00Z", "eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "awsRegion": "us-east-1", "recipientAccountId": "123837392027"}`),
		[]byte(`{"eventTime": "2024-05-01T12:00:00Z", "eventSource": "iam", "eventName": "CreateUser", "eventType": "AwsApiCall"}`),
		[]byte(`{"eventTime": "2024-05-01T12:00:00Z", "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "eventType": "AwsApiCall", "errorCode": "AccessDenied"}`),
	)
}
