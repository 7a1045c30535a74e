package daemon

import (
	"reflect"
	"strconv"
	"testing"
)

// notices are message bodies and what readNotice must make of them.
var notices = []struct {
	name string
	body string
	want notice
}{
	{"direct", `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"AWSLogs/1/a+b%3Ac.json.gz","size":1}}}]}`,
		notice{objects: []objectRef{{"b", "AWSLogs/1/a b:c.json.gz", "eu-west-1"}}}},
	{"two records, one removal", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"x"}}},{"eventSource":"aws:s3","eventName":"ObjectCreated:CompleteMultipartUpload","s3":{"bucket":{"name":"b"},"object":{"key":"y"}}}]}`,
		notice{objects: []objectRef{{"b", "y", ""}}}},
	{"removal only", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"x"}}}]}`,
		notice{ignore: "no object created"}},
	{"bad escape kept as is", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"100%"}}}]}`,
		notice{objects: []objectRef{{"b", "100%", ""}}}},
	{"sns", `{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}}]}"}`,
		notice{objects: []objectRef{{"b", "k", ""}}}},
	{"sns test event", `{"Type":"Notification","Message":"{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\",\"Bucket\":\"b\"}"}`,
		notice{ignore: "s3 test event"}},
	{"test event", `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-05-01T12:00:00.000Z","Bucket":"b"}`,
		notice{ignore: "s3 test event"}},
	{"subscription", `{"Type":"SubscriptionConfirmation","TopicArn":"arn:aws:sns:us-east-1:1:t","SubscribeURL":"https://sns"}`,
		notice{ignore: "sns SubscriptionConfirmation"}},
	{"cloudtrail notice", `{"s3Bucket":"b","s3ObjectKey":["AWSLogs/1/CloudTrail/us-east-1/2024/05/01/f.json.gz",""]}`,
		notice{objects: []objectRef{{"b", "AWSLogs/1/CloudTrail/us-east-1/2024/05/01/f.json.gz", ""}}}},
	{"eventbridge object created", `{"version":"0","detail-type":"Object Created","source":"aws.s3","region":"ca-central-1","detail":{"bucket":{"name":"b"},"object":{"key":"a b:c"}}}`,
		notice{objects: []objectRef{{"b", "a b:c", "ca-central-1"}}}},
	{"eventbridge api call", `{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":{"eventVersion":"1.09","eventName":"PutBucketPolicy","requestParameters":{"bucketName":"b"}}}`,
		notice{}},
	{"sns eventbridge", `{"Type":"Notification","Message":"{\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{}}"}`,
		notice{}},
	{"cloudtrail records", `{"Records":[{"eventVersion":"1.09","eventSource":"s3.amazonaws.com","eventName":"GetObject"}]}`,
		notice{}},
	{"array", `[{"eventName":"X"}]`, notice{}},
	{"not json", `hello`, notice{}},
}

func TestReadNotice(t *testing.T) {
	for _, c := range notices {
		if got := readNotice([]byte(c.body), 0); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// FuzzReadNotice: any body is read without a panic, and every object it
// names has a bucket and a key.
func FuzzReadNotice(f *testing.F) {
	for _, c := range notices {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n := readNotice(body, 0)
		for i, o := range n.objects {
			if o.bucket == "" || o.key == "" {
				t.Fatalf("object %s: %+v", strconv.Itoa(i), o)
			}
		}
		if n.objects != nil && n.ignore != "" {
			t.Fatalf("both objects and ignore: %+v", n)
		}
	})
}
