package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailbook/trailbook/internal/action/awsact"
	"github.com/trailbook/trailbook/internal/ingest"
)

// SQSConfig configures an SQS source. Its first fields are those of
// config.SQSSource; zero values take the defaults noted.
type SQSConfig struct {
	Name     string
	QueueURL string
	// Region and Endpoint build the SQS client when Client is nil.
	Region, Endpoint string
	// Wait is the long-poll wait of one receive, in whole seconds up to
	// 20s; default 20s, negative: no wait (short polling, with a second's
	// pause after an empty receive).
	Wait time.Duration
	// MaxMessages is the most messages one receive asks for, 1 to 10;
	// default 10. The messages of a receive are handled at once.
	MaxMessages int
	// S3Endpoint is the endpoint of the buckets that notifications name,
	// addressed path-style when set; default Endpoint. The S3 client has
	// Region, and each notification's own region when it gives one.
	S3Endpoint string
	// Client and S3, when set, are used instead of clients built from
	// the fields above.
	Client *sqs.Client
	S3     *s3.Client
	Logger *slog.Logger
}

// sqsGrace is how long the messages in hand when Run is asked to stop
// may take to be stored and deleted.
const sqsGrace = 10 * time.Second

// NewSQSSource is a source that long-polls an SQS queue. Each message is
// one of:
//
//   - an S3 event notification (Records[].s3, keys URL-decoded), sent by
//     S3 itself or through SNS (a Notification whose Message is the
//     JSON), or an S3 Object Created event from EventBridge: each
//     ObjectCreated object is fetched and delivered as s3://BUCKET/KEY,
//     the name the S3 source gives it, so an object that both bring is
//     stored once; digests and other services' files (see NewS3Source)
//     are not fetched;
//   - CloudTrail's own SNS notice of a delivered file (s3Bucket,
//     s3ObjectKey), taken the same way;
//   - anything else, above all an EventBridge event ("AWS API Call via
//     CloudTrail", directly or through SNS): the body is delivered as one
//     file, sqs://QUEUE/MESSAGE-ID, and the decoder takes what it holds:
//     records are stored, EventBridge events of other kinds counted as
//     skipped, anything else kept as a reject.
//
// S3 test events, SNS subscription notices and notifications of other S3
// events carry nothing to store. A message is deleted only once every
// delivery it brought has returned without error (after its events are
// committed); otherwise it is left to come back when its visibility
// timeout ends (give the queue a dead-letter queue for objects that never
// come). What the store has taken already (checkpoint, which may be nil)
// is not fetched or delivered again, so a message received twice stores
// nothing twice.
func NewSQSSource(cfg SQSConfig, checkpoint Checkpoint) Source {
	switch {
	case cfg.Wait == 0:
		cfg.Wait = 20 * time.Second
	case cfg.Wait < 0:
		cfg.Wait = 0
	case cfg.Wait > 20*time.Second:
		cfg.Wait = 20 * time.Second
	}
	if cfg.MaxMessages <= 0 || cfg.MaxMessages > 10 {
		cfg.MaxMessages = 10
	}
	if cfg.S3Endpoint == "" {
		cfg.S3Endpoint = cfg.Endpoint
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if checkpoint == nil {
		checkpoint = func(context.Context, string) (bool, error) { return false, nil }
	}
	queue := cfg.QueueURL
	if u, err := url.Parse(cfg.QueueURL); err == nil && u.Path != "" {
		queue = u.Path
	}
	queue = queue[strings.LastIndex(queue, "/")+1:]
	return &sqsSource{cfg: cfg, queue: queue, checkpoint: checkpoint}
}

type sqsSource struct {
	cfg        SQSConfig
	queue      string // the queue's name, in sqs:// sources
	checkpoint Checkpoint
}

func (s *sqsSource) Name() string { return s.cfg.Name }
func (s *sqsSource) Kind() string { return "sqs" }

// Run receives and handles messages until ctx ends; the messages in hand
// then are finished first, for at most sqsGrace. A failed receive is
// retried with a growing pause.
func (s *sqsSource) Run(ctx context.Context, deliver Deliver) error {
	q, objects, err := s.clients(ctx)
	if err != nil {
		return err
	}
	var backoff time.Duration
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(s.cfg.QueueURL),
			MaxNumberOfMessages:         int32(s.cfg.MaxMessages),
			WaitTimeSeconds:             int32(s.cfg.Wait / time.Second),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
		})
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			backoff = min(max(2*backoff, time.Second), 30*time.Second)
			s.cfg.Logger.Warn("sqs receive", "source", s.cfg.Name, "queue", s.cfg.QueueURL, "err", err, "retry_in", backoff)
			sleep(ctx, backoff)
			continue
		}
		backoff = 0
		if len(out.Messages) == 0 {
			if s.cfg.Wait == 0 {
				sleep(ctx, time.Second)
			}
			continue
		}
		s.handleAll(ctx, q, objects, deliver, out.Messages)
	}
}

func (s *sqsSource) clients(ctx context.Context) (*sqs.Client, *s3.Client, error) {
	q, objects := s.cfg.Client, s.cfg.S3
	if q == nil {
		cfg, err := awsact.LoadConfig(ctx, s.cfg.Region, s.cfg.Endpoint)
		if err != nil {
			return nil, nil, err
		}
		q = sqs.NewFromConfig(cfg)
	}
	if objects == nil {
		var err error
		if objects, err = newS3Client(ctx, s.cfg.Region, s.cfg.S3Endpoint); err != nil {
			return nil, nil, err
		}
	}
	return q, objects, nil
}

// handleAll handles msgs at once and deletes those handled.
func (s *sqsSource) handleAll(ctx context.Context, q *sqs.Client, objects *s3.Client, deliver Deliver, msgs []types.Message) {
	work, cancel := graceful(ctx, sqsGrace)
	defer cancel()
	handled := make([]bool, len(msgs))
	var wg sync.WaitGroup
	for i := range msgs {
		wg.Go(func() {
			m := &msgs[i]
			err := s.handle(work, objects, deliver, m)
			if err != nil {
				s.cfg.Logger.Warn("sqs message", "source", s.cfg.Name, "message", aws.ToString(m.MessageId),
					"receives", m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)], "err", err)
				return
			}
			handled[i] = true
		})
	}
	wg.Wait()
	var entries []types.DeleteMessageBatchRequestEntry
	for i, ok := range handled {
		if ok {
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msgs[i].ReceiptHandle})
		}
	}
	if len(entries) == 0 {
		return
	}
	// Not deleted, a message comes back and is handled again, storing
	// nothing twice.
	out, err := q.DeleteMessageBatch(work, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.cfg.QueueURL), Entries: entries})
	if err != nil {
		s.cfg.Logger.Warn("sqs delete", "source", s.cfg.Name, "messages", len(entries), "err", err)
		return
	}
	for _, f := range out.Failed {
		i, _ := strconv.Atoi(aws.ToString(f.Id))
		s.cfg.Logger.Warn("sqs delete", "source", s.cfg.Name, "message", aws.ToString(msgs[i].MessageId),
			"code", aws.ToString(f.Code), "err", aws.ToString(f.Message))
	}
}

// handle stores what m brings and returns nil once all of it is
// committed.
func (s *sqsSource) handle(ctx context.Context, objects *s3.Client, deliver Deliver, m *types.Message) error {
	body := aws.ToString(m.Body)
	n := readNotice([]byte(body), 0)
	switch {
	case n.ignore != "":
		s.cfg.Logger.Debug("sqs message ignored", "source", s.cfg.Name, "message", aws.ToString(m.MessageId), "why", n.ignore)
		return nil
	case n.objects != nil:
		for _, o := range n.objects {
			if !takeKey(o.key) {
				continue
			}
			source := objectSource(o.bucket, o.key)
			if done, err := s.checkpoint(ctx, source); err != nil {
				return fmt.Errorf("checkpoint %s: %w", source, err)
			} else if done {
				continue
			}
			f, err := fetchObject(ctx, objects, o.bucket, o.key, o.region)
			if err != nil {
				return err
			}
			if _, err := deliver(ctx, &f); err != nil {
				return fmt.Errorf("deliver %s: %w", source, err)
			}
		}
		return nil
	}
	source := "sqs://" + s.queue + "/" + aws.ToString(m.MessageId)
	if done, err := s.checkpoint(ctx, source); err != nil {
		return fmt.Errorf("checkpoint %s: %w", source, err)
	} else if done {
		return nil
	}
	f, _ := ingest.File(source, []byte(body), false, ingest.Options{})
	if _, err := deliver(ctx, &f); err != nil {
		return fmt.Errorf("deliver %s: %w", source, err)
	}
	return nil
}

// notice is what a message says to do: fetch objects (not nil, maybe
// empty), nothing (ignore says why), or, when neither, store the body.
type notice struct {
	objects []objectRef
	ignore  string
}

type objectRef struct{ bucket, key, region string }

// envelope holds the members of every message shape readNotice tells
// apart.
type envelope struct {
	// SNS
	Type    string  `json:"Type"`
	Message *string `json:"Message"`
	// S3 event notifications and test events
	Records []struct {
		EventSource string        `json:"eventSource"`
		EventName   string        `json:"eventName"`
		AWSRegion   string        `json:"awsRegion"`
		S3          *bucketObject `json:"s3"`
	} `json:"Records"`
	Event string `json:"Event"`
	// CloudTrail's SNS notice of a delivered file
	S3Bucket    string   `json:"s3Bucket"`
	S3ObjectKey []string `json:"s3ObjectKey"`
	// EventBridge
	DetailType string        `json:"detail-type"`
	Source     string        `json:"source"`
	Region     string        `json:"region"`
	Detail     *bucketObject `json:"detail"`
}

// bucketObject names an S3 object as S3 event notifications (their s3
// member) and EventBridge's S3 events (their detail) both do.
type bucketObject struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key string `json:"key"`
	} `json:"object"`
}

// readNotice tells what body, a message or an SNS notification's
// Message at depth 1, asks for. Anything it does not recognise is a
// body to store.
func readNotice(body []byte, depth int) notice {
	var e envelope
	if json.Unmarshal(body, &e) != nil {
		return notice{}
	}
	switch {
	case e.Type == "Notification" && e.Message != nil:
		if depth == 0 {
			if n := readNotice([]byte(*e.Message), depth+1); n.objects != nil || n.ignore != "" {
				return n
			}
		}
		return notice{} // the decoder unwraps SNS itself
	case e.Type == "SubscriptionConfirmation" || e.Type == "UnsubscribeConfirmation":
		return notice{ignore: "sns " + e.Type}
	case e.Event == "s3:TestEvent":
		return notice{ignore: "s3 test event"}
	case len(e.Records) > 0 && e.Records[0].EventSource == "aws:s3" && e.Records[0].S3 != nil:
		n := notice{objects: []objectRef{}}
		for _, r := range e.Records {
			if r.S3 == nil || !strings.HasPrefix(r.EventName, "ObjectCreated:") || r.S3.Bucket.Name == "" || r.S3.Object.Key == "" {
				continue
			}
			key, err := url.QueryUnescape(r.S3.Object.Key)
			if err != nil {
				key = r.S3.Object.Key
			}
			n.objects = append(n.objects, objectRef{bucket: r.S3.Bucket.Name, key: key, region: r.AWSRegion})
		}
		if len(n.objects) == 0 {
			return notice{ignore: "no object created"}
		}
		return n
	case e.S3Bucket != "" && len(e.S3ObjectKey) > 0:
		n := notice{objects: []objectRef{}}
		for _, k := range e.S3ObjectKey {
			if k != "" {
				n.objects = append(n.objects, objectRef{bucket: e.S3Bucket, key: k})
			}
		}
		return n
	case e.Source == "aws.s3" && e.DetailType == "Object Created" && e.Detail != nil && e.Detail.Bucket.Name != "" && e.Detail.Object.Key != "":
		// EventBridge gives keys as they are, not URL-encoded.
		return notice{objects: []objectRef{{bucket: e.Detail.Bucket.Name, key: e.Detail.Object.Key, region: e.Region}}}
	}
	return notice{}
}

// graceful is a context that ends grace after ctx does (or when its
// cancel is called): work in hand when a source is stopped finishes.
func graceful(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(work, func() { t.Stop() })
	})
	return work, func() { stop(); cancel() }
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
