package daemon_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// sqsLocal is a local SQS endpoint on 127.0.0.1 for the real SQS client:
// the AWS JSON 1.0 protocol (POST /, Content-Type
// application/x-amz-json-1.0, X-Amz-Target: AmazonSQS.OPERATION, JSON
// bodies; errors as {"__type", "message"} with the query-compatible
// x-amzn-query-error header), for SendMessage, ReceiveMessage (long
// polling, visibility timeouts, a new receipt handle per receive, MD5OfBody
// as the client checks it), DeleteMessage and DeleteMessageBatch. As real
// SQS does, a delete with an old receipt handle of a message received
// again since succeeds without deleting it. Queues are named by the last
// segment of their URL. Every request is recorded. Safe for concurrent
// use.
type sqsLocal struct {
	srv *httptest.Server

	mu     sync.Mutex
	queues map[string]*localQueue
	calls  []sqsCall
	seq    int
	// onDelete, when set, is called with the IDs of the messages a
	// delete is about to delete, before it does.
	onDelete func(ids []string)
	// failDeletes makes the next deletes of that many messages fail (a
	// batch entry in Failed, or DeleteMessage with an error).
	failDeletes int
}

type localQueue struct {
	visibility time.Duration
	msgs       []*localMessage
}

type localMessage struct {
	id, body  string
	receipt   string // the latest receipt handle; "" before the first receive
	visibleAt time.Time
	receives  int
	deleted   bool
}

// sqsCall is one request as the server saw it.
type sqsCall struct {
	Op       string
	Received []string // message IDs ReceiveMessage returned
	Deleted  []string // message IDs a delete deleted
	Err      string   // the error code answered
}

func newSQSLocal() *sqsLocal {
	s := &sqsLocal{queues: map[string]*localQueue{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *sqsLocal) Close() { s.srv.Close() }

// CreateQueue makes a queue whose messages stay invisible for visibility
// once received, and returns its URL.
func (s *sqsLocal) CreateQueue(name string, visibility time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queues[name] = &localQueue{visibility: visibility}
	return s.srv.URL + "/000000000000/" + name
}

// Calls returns a copy of the requests so far.
func (s *sqsLocal) Calls() []sqsCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sqsCall(nil), s.calls...)
}

// Message reports how often the message was received and whether it is
// deleted.
func (s *sqsLocal) Message(id string) (receives int, deleted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.queues {
		for _, m := range q.msgs {
			if m.id == id {
				return m.receives, m.deleted
			}
		}
	}
	return 0, false
}

// FailDeletes makes the next n message deletes fail.
func (s *sqsLocal) FailDeletes(n int) {
	s.mu.Lock()
	s.failDeletes = n
	s.mu.Unlock()
}

// SetOnDelete sets the hook called before each delete.
func (s *sqsLocal) SetOnDelete(f func(ids []string)) {
	s.mu.Lock()
	s.onDelete = f
	s.mu.Unlock()
}

type sqsError struct {
	status     int
	code       string // the JSON __type, without the namespace
	queryCode  string // x-amzn-query-error's code
	message    string
	senderSide bool
}

func (e *sqsError) Error() string { return e.code + ": " + e.message }

func badRequest(code, queryCode, format string, args ...any) *sqsError {
	return &sqsError{status: 400, code: code, queryCode: queryCode, message: fmt.Sprintf(format, args...), senderSide: true}
}

func (s *sqsLocal) serve(w http.ResponseWriter, r *http.Request) {
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	call := sqsCall{Op: op}
	out, err := s.dispatch(r, op, &call)
	s.mu.Lock()
	if err != nil {
		call.Err = err.code
	}
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", fmt.Sprintf("req-%d", len(s.Calls())))
	if err != nil {
		fault := "Receiver"
		if err.senderSide {
			fault = "Sender"
		}
		w.Header().Set("x-amzn-query-error", err.queryCode+";"+fault)
		w.WriteHeader(err.status)
		json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + err.code, "message": err.message})
		return
	}
	json.NewEncoder(w).Encode(out)
}

func (s *sqsLocal) dispatch(r *http.Request, op string, call *sqsCall) (any, *sqsError) {
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		return nil, badRequest("InvalidAction", "InvalidAction", "not an AWS JSON 1.0 request: %s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, badRequest("InvalidAction", "InvalidAction", "read: %v", err)
	}
	var in struct {
		QueueURL            string `json:"QueueUrl"`
		MessageBody         *string
		MaxNumberOfMessages int
		WaitTimeSeconds     int
		VisibilityTimeout   int
		ReceiptHandle       string
		Entries             []struct{ Id, ReceiptHandle string }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, badRequest("SerializationException", "SerializationException", "%v", err)
	}
	name := in.QueueURL[strings.LastIndex(in.QueueURL, "/")+1:]
	s.mu.Lock()
	q := s.queues[name]
	s.mu.Unlock()
	if q == nil {
		return nil, badRequest("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
	}
	switch op {
	case "SendMessage":
		if in.MessageBody == nil || *in.MessageBody == "" {
			return nil, badRequest("MissingParameter", "MissingParameter", "The request must contain the parameter MessageBody.")
		}
		s.mu.Lock()
		s.seq++
		m := &localMessage{id: fmt.Sprintf("msg-%04d", s.seq), body: *in.MessageBody}
		q.msgs = append(q.msgs, m)
		s.mu.Unlock()
		return map[string]string{"MessageId": m.id, "MD5OfMessageBody": md5hex(m.body)}, nil
	case "ReceiveMessage":
		return s.receive(r, q, in.MaxNumberOfMessages, in.WaitTimeSeconds, in.VisibilityTimeout, call)
	case "DeleteMessage":
		failed := s.delete(q, []string{in.ReceiptHandle}, call)
		if failed[0] != nil {
			return nil, failed[0]
		}
		return struct{}{}, nil
	case "DeleteMessageBatch":
		if len(in.Entries) == 0 {
			return nil, badRequest("EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", "There should be at least one DeleteMessageBatchRequestEntry in the request.")
		}
		if len(in.Entries) > 10 {
			return nil, badRequest("TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10.")
		}
		handles := make([]string, len(in.Entries))
		for i, e := range in.Entries {
			handles[i] = e.ReceiptHandle
		}
		failed := s.delete(q, handles, call)
		type entry struct {
			Id          string
			Code        string `json:",omitempty"`
			Message     string `json:",omitempty"`
			SenderFault bool   `json:",omitempty"`
		}
		out := struct{ Successful, Failed []entry }{Successful: []entry{}, Failed: []entry{}}
		for i, e := range in.Entries {
			if f := failed[i]; f != nil {
				out.Failed = append(out.Failed, entry{Id: e.Id, Code: f.code, Message: f.message, SenderFault: f.senderSide})
			} else {
				out.Successful = append(out.Successful, entry{Id: e.Id})
			}
		}
		return out, nil
	}
	return nil, badRequest("UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "%s is not served", op)
}

// receive takes up to max visible messages, waiting up to wait seconds
// for one.
func (s *sqsLocal) receive(r *http.Request, q *localQueue, max, wait, visibility int, call *sqsCall) (any, *sqsError) {
	if max == 0 {
		max = 1
	}
	if max < 1 || max > 10 || wait < 0 || wait > 20 {
		return nil, badRequest("InvalidParameterValue", "InvalidParameterValue", "MaxNumberOfMessages %d or WaitTimeSeconds %d out of range", max, wait)
	}
	type message struct {
		MessageId, ReceiptHandle, MD5OfBody, Body string
		Attributes                                map[string]string
	}
	deadline := time.Now().Add(time.Duration(wait) * time.Second)
	for {
		var out []message
		s.mu.Lock()
		now := time.Now()
		hide := q.visibility
		if visibility > 0 {
			hide = time.Duration(visibility) * time.Second
		}
		for _, m := range q.msgs {
			if len(out) == max {
				break
			}
			if m.deleted || now.Before(m.visibleAt) {
				continue
			}
			m.receives++
			m.visibleAt = now.Add(hide)
			m.receipt = fmt.Sprintf("rh-%s-%d", m.id, m.receives)
			out = append(out, message{MessageId: m.id, ReceiptHandle: m.receipt, MD5OfBody: md5hex(m.body), Body: m.body,
				Attributes: map[string]string{"ApproximateReceiveCount": fmt.Sprint(m.receives)}})
			call.Received = append(call.Received, m.id)
		}
		s.mu.Unlock()
		if len(out) > 0 {
			return map[string]any{"Messages": out}, nil
		}
		if !time.Now().Before(deadline) {
			return struct{}{}, nil
		}
		select {
		case <-r.Context().Done():
			return struct{}{}, nil
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// delete deletes the messages of handles, and returns each one's error.
func (s *sqsLocal) delete(q *localQueue, handles []string, call *sqsCall) []*sqsError {
	failed := make([]*sqsError, len(handles))
	found := make([]*localMessage, len(handles))
	var ids []string
	s.mu.Lock()
	hook := s.onDelete
	for i, h := range handles {
		for _, m := range q.msgs {
			if h != "" && strings.HasPrefix(h, "rh-"+m.id+"-") {
				found[i] = m
			}
		}
		switch {
		case found[i] == nil:
			failed[i] = badRequest("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "The input receipt handle %q is invalid.", h)
		case s.failDeletes > 0:
			s.failDeletes--
			failed[i] = &sqsError{status: 500, code: "InternalError", queryCode: "InternalError", message: "We encountered an internal error. Please try again."}
			found[i] = nil
		case found[i].receipt == h:
			ids = append(ids, found[i].id)
		default:
			found[i] = nil // an old handle: succeeds, deletes nothing
		}
	}
	s.mu.Unlock()
	if hook != nil && len(ids) > 0 {
		hook(ids)
	}
	s.mu.Lock()
	for _, m := range found {
		if m != nil {
			m.deleted = true
		}
	}
	call.Deleted = ids
	s.mu.Unlock()
	return failed
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
