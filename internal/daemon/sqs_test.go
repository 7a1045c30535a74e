package daemon_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailbook/trailbook/internal/action/awsact"
	"github.com/trailbook/trailbook/internal/daemon"
)

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// s3Notification is S3's event notification of keys created in bucket,
// keys URL-encoded as S3 writes them.
func s3Notification(t *testing.T, bucket string, keys ...string) string {
	var recs []any
	for _, k := range keys {
		enc := strings.ReplaceAll(url.QueryEscape(k), "%2F", "/")
		recs = append(recs, map[string]any{
			"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2024-05-01T12:05:00.000Z",
			"eventName": "ObjectCreated:Put", "userIdentity": map[string]any{"principalId": "AWS:AROAEXAMPLE:cloudtrail"},
			"requestParameters": map[string]any{"sourceIPAddress": "10.0.0.1"},
			"responseElements":  map[string]any{"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
			"s3": map[string]any{"s3SchemaVersion": "1.0", "configurationId": "new-log-files",
				"bucket": map[string]any{"name": bucket, "ownerIdentity": map[string]any{"principalId": "A3NL1KOZZKExample"}, "arn": "arn:aws:s3:::" + bucket},
				"object": map[string]any{"key": enc, "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0055AED6DCD90281E5"}},
		})
	}
	return mustJSON(t, map[string]any{"Records": recs})
}

// snsWrap is msg as SNS delivers it to a queue without raw delivery.
func snsWrap(t *testing.T, msg string) string {
	return mustJSON(t, map[string]any{"Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
		"TopicArn": "arn:aws:sns:us-east-1:111122223333:trail-files", "Subject": "Amazon S3 Notification", "Message": msg,
		"Timestamp": "2024-05-01T12:05:01.000Z", "SignatureVersion": "1", "Signature": "EXAMPLEpH+...",
		"SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
		"UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:111122223333:trail-files:1"})
}

// eventBridge is an EventBridge event of detailType from source.
func eventBridge(t *testing.T, detailType, source string, detail any) string {
	return mustJSON(t, map[string]any{"version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": detailType,
		"source": source, "account": "111122223333", "time": "2024-05-01T12:00:00Z", "region": "us-east-1", "resources": []string{}, "detail": detail})
}

// TestSQSSource: S3 notifications (direct, through SNS, from EventBridge,
// CloudTrail's own notice) have their objects fetched and stored, and
// EventBridge events their record, each message deleted only once all it
// brought is committed; test events are deleted without a delivery,
// digests without a fetch; a message whose object is missing stays and
// comes back until the object is there; a message whose delete failed
// comes back and stores nothing twice.
func TestSQSSource(t *testing.T) {
	isolateAWS(t)
	e := newEnv(t)
	const bucket = "trail"
	s3f := newFakeS3(t, bucket)
	sq := newSQSLocal()
	t.Cleanup(sq.Close)
	queueURL := sq.CreateQueue("trail-events", 300*time.Millisecond)

	ctx := context.Background()
	awsCfg, err := awsact.LoadConfig(ctx, "us-east-1", sq.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	client := sqs.NewFromConfig(awsCfg)
	send := func(body string) string {
		t.Helper()
		out, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.MessageId)
	}

	key := func(account, region, unique string) string {
		return "AWSLogs/" + account + "/CloudTrail/" + region + "/2024/05/01/" + account[strings.LastIndex(account, "/")+1:] +
			"_CloudTrail_" + region + "_20240501T1205Z_" + unique + ".json.gz"
	}
	var (
		keyA   = key("111122223333", "us-east-1", "AAAAAAAAAAAAAAAA")
		keyB   = key("o-a1b2c3d4e5/222233334444", "eu-west-1", "BBBBBBBBBBBBBBBB")
		keyC   = "manual uploads/c+1 (copy).json"
		keyE   = key("111122223333", "us-west-2", "EEEEEEEEEEEEEEEE")
		keyF   = key("111122223333", "us-east-2", "FFFFFFFFFFFFFFFF")
		keyM   = key("111122223333", "us-east-1", "MMMMMMMMMMMMMMMM")
		digest = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/111122223333_CloudTrail-Digest_us-east-1_org_us-east-1_20240501T120000Z.json.gz"
	)
	s3f.put(bucket, keyA, gz(t, records("a-1", "a-2")))
	s3f.put(bucket, keyB, gz(t, records("b-1")))
	s3f.put(bucket, keyC, []byte(records("c-1")))
	s3f.put(bucket, keyE, gz(t, records("e-1")))
	s3f.put(bucket, keyF, gz(t, records("f-1")))
	s3f.put(bucket, digest, gz(t, `{"awsAccountId": "111122223333", "logFiles": []}`))

	var rec json.RawMessage = []byte(record("eb-1", "DescribeTrails"))
	var rec2 json.RawMessage = []byte(record("eb-2", "DescribeTrails"))
	obj := func(s string) string { return "s3://" + bucket + "/" + s }
	msg := func(id string) string { return "sqs://trail-events/" + id }
	brings := map[string][]string{} // message ID: the sources it stores
	var (
		direct   = send(s3Notification(t, bucket, keyA, keyC))
		viaSNS   = send(snsWrap(t, s3Notification(t, bucket, keyB)))
		bridge   = send(eventBridge(t, "AWS API Call via CloudTrail", "aws.cloudtrail", rec))
		test     = send(`{"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2024-05-01T12:00:00.000Z", "Bucket": "trail", "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}`)
		digestN  = send(s3Notification(t, bucket, digest))
		notice   = send(snsWrap(t, mustJSON(t, map[string]any{"s3Bucket": bucket, "s3ObjectKey": []string{keyE}})))
		created  = send(eventBridge(t, "Object Created", "aws.s3", map[string]any{"version": "0", "bucket": map[string]any{"name": bucket}, "object": map[string]any{"key": keyF, "size": 300, "etag": "x", "sequencer": "1"}, "request-id": "R", "requester": "111122223333", "reason": "PutObject"}))
		missing  = send(s3Notification(t, bucket, keyM))
		bridgeSN = send(snsWrap(t, eventBridge(t, "AWS API Call via CloudTrail", "aws.cloudtrail", rec2)))
	)
	brings[direct] = []string{obj(keyA), obj(keyC)}
	brings[viaSNS] = []string{obj(keyB)}
	brings[bridge] = []string{msg(bridge)}
	brings[test] = nil
	brings[digestN] = nil
	brings[notice] = []string{obj(keyE)}
	brings[created] = []string{obj(keyF)}
	brings[missing] = []string{obj(keyM)}
	brings[bridgeSN] = []string{msg(bridgeSN)}

	var (
		mu       sync.Mutex // guards the four below
		opened   *daemon.Daemon
		checked  = map[string]int{} // message ID: deletes seen by the hook
		problems []string
	)
	sq.SetOnDelete(func(ids []string) {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			checked[id]++
			for _, src := range brings[id] {
				var n int
				if err := opened.Store().DB().QueryRow(`SELECT count(*) FROM ingested_files WHERE source = ?`, src).Scan(&n); err != nil || n == 0 {
					problems = append(problems, "message "+id+" deleted before "+src+" was stored")
				}
			}
		}
	})
	cfg := daemon.SQSConfig{Name: "queue", QueueURL: queueURL, Region: "us-east-1", Endpoint: sq.srv.URL, S3Endpoint: s3f.srv.URL, Wait: time.Second,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	d, stop := e.startSources(func(l *ledger) []daemon.Source { return []daemon.Source{daemon.NewSQSSource(cfg, l.Ingested)} },
		func(d *daemon.Daemon) { mu.Lock(); opened = d; mu.Unlock() })
	deleted := func(id string) bool { _, del := sq.Message(id); return del }
	until(t, "the messages", func() bool {
		for id := range brings {
			if id != missing && !deleted(id) {
				return false
			}
		}
		return true
	})
	until(t, "the message of the missing object to come back", func() bool { n, _ := sq.Message(missing); return n >= 2 })
	if deleted(missing) {
		t.Fatal("the message of a missing object was deleted")
	}
	events := `SELECT count(*) FROM events`
	if n := live(t, d, events); n != 8 {
		t.Fatalf("%d events before the missing object came, want 8", n)
	}
	s3f.put(bucket, keyM, gz(t, records("m-1")))
	until(t, "the message of the object now there", func() bool { return deleted(missing) })

	// A message whose delete failed comes back and is deleted then,
	// storing nothing twice.
	sq.FailDeletes(1)
	var rec3 json.RawMessage = []byte(record("eb-3", "DescribeTrails"))
	mu.Lock() // the hook may see again before send returns
	again := send(eventBridge(t, "AWS API Call via CloudTrail", "aws.cloudtrail", rec3))
	brings[again] = []string{msg(again)}
	mu.Unlock()
	until(t, "the message whose delete failed", func() bool { return deleted(again) })
	if n, _ := sq.Message(again); n != 2 {
		t.Errorf("the message whose delete failed was received %d times, want 2", n)
	}
	// An object stored already is not fetched again.
	mu.Lock()
	repeat := send(s3Notification(t, bucket, keyA))
	brings[repeat] = []string{obj(keyA)}
	mu.Unlock()
	until(t, "the repeated notification", func() bool { return deleted(repeat) })
	stop()

	mu.Lock()
	for _, p := range problems {
		t.Error(p)
	}
	for id := range brings {
		if checked[id] != 1 {
			t.Errorf("message %s: %d deletes, want 1", id, checked[id])
		}
	}
	mu.Unlock()
	for _, k := range []string{keyA, keyB, keyC, keyE, keyF} {
		if n := s3f.gets(bucket, k); n != 1 {
			t.Errorf("%s fetched %d times, want 1", k, n)
		}
	}
	if n := s3f.gets(bucket, digest); n != 0 {
		t.Errorf("the digest was fetched %d times", n)
	}
	if n := e.count(`SELECT count(*) FROM events`); n != 10 {
		t.Errorf("%d events, want 10", n)
	}
	if n := e.count(`SELECT count(DISTINCT eventID) FROM events`); n != 10 {
		t.Errorf("%d distinct events, want 10", n)
	}
	// One row per object and per EventBridge message: the message that
	// came back and the repeated notification added none.
	if n := e.count(`SELECT count(*) FROM ingested_files`); n != 9 {
		t.Errorf("%d files taken, want 9", n)
	}
	if n := e.count(`SELECT count(*) FROM ingested_files WHERE source LIKE 'sqs://%'`); n != 3 {
		t.Errorf("%d messages stored as files, want 3", n)
	}
	receives, deletes := 0, 0
	for _, c := range sq.Calls() {
		switch c.Op {
		case "ReceiveMessage":
			receives++
		case "DeleteMessageBatch":
			deletes += len(c.Deleted)
		case "SendMessage":
		default:
			t.Errorf("unexpected %s", c.Op)
		}
	}
	if receives == 0 || deletes != len(brings) {
		t.Errorf("%d receives, %d messages deleted, want %d", receives, deletes, len(brings))
	}
}
