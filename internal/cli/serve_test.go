package cli

import (
	"bytes"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/config"
)

// killRunbook acts on every StopLogging: a webhook alert to the test's
// receiver, and a gate closure. Every event is one of them, so every
// event has two actions.
const killRunbook = `name: on-stop
description: alerts and closes a gate on every stopped trail
owner: test
trigger:
  pattern: {eventName: [StopLogging]}
actions:
  - alert: {to: [receiver], title: "{{.event.eventID}}"}
  - gate: {name: release, state: halt, reason: "{{.event.eventID}}", ttl: 1h}
tests:
  - name: acts
    event: {"eventVersion": "1.09", "eventTime": "2024-05-01T12:00:00Z", "eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "awsRegion": "us-east-1", "eventID": "t", "recipientAccountId": "111122223333", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/m"}}
    expect: {decision: act, actions: [alert, gate]}
`

const killChannels = `channels:
  - name: receiver
    type: webhook
    url_env: KILL_RECEIVER_URL
    retries: 10
    backoff: 10ms
    timeout: 2s
`

// receiver is a webhook endpoint that counts deliveries by idempotency
// key.
type receiver struct {
	mu   sync.Mutex
	seen map[string]int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.seen[req.Header.Get("Idempotency-Key")]++
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// TestServeSurvivesSIGKILL runs `trailbook serve` as a process, pushes a
// live feed of events at it, and kills it with SIGKILL at random moments,
// at least 20 times, restarting it each time. The pusher retries every
// batch until it is acknowledged, as an EventBridge API destination does.
// At the end every event is stored exactly once, every one was evaluated,
// and every action is in the ledger once, applied once.
func TestServeSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a server 20 times")
	}
	dir := t.TempDir()
	rb := filepath.Join(dir, "runbooks")
	must(t, os.MkdirAll(rb, 0o755))
	must(t, os.WriteFile(filepath.Join(rb, "on-stop.yaml"), []byte(killRunbook), 0o644))
	must(t, os.WriteFile(filepath.Join(rb, "channels.yaml"), []byte(killChannels), 0o644))
	rec := &receiver{seen: map[string]int{}}
	hook := &http.Server{Handler: rec}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	go hook.Serve(hl)
	defer hook.Close()

	// The API's port, fixed across restarts; the token, fixed too.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := l.Addr().String()
	l.Close()
	const token = "kill-test-token-0123456789abcdef0123456789abcdef"
	cfg := fmt.Sprintf(`store: {path: %s}
runbooks: {dir: %s, reload: false}
server: {listen: %q, shutdown_timeout: 5s}
auth:
  tokens:
    - {name: feeder, role: operator, sha256: %s}
sources:
  folders: []
pipeline: {batch_wait: 5ms}
log: {level: warn}
`, filepath.Join(dir, "s.duckdb"), rb, addr, config.HashToken(token))
	cfgPath := filepath.Join(dir, "trailbook.yaml")
	must(t, os.WriteFile(cfgPath, []byte(cfg), 0o644))

	var logs bytes.Buffer
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "serve", "--config", cfgPath)
		cmd.Env = append(os.Environ(), "TRAILBOOK_RUN_MAIN=1", "KILL_RECEIVER_URL=http://"+hl.Addr().String()+"/hook")
		cmd.Stdout, cmd.Stderr = &logs, &logs
		must(t, cmd.Start())
		return cmd
	}

	// The feed: batches of 5 StopLogging events, each pushed until it is
	// acknowledged.
	const batches, perBatch = 120, 5
	var fed sync.WaitGroup
	done := make(chan struct{})
	client := &http.Client{Timeout: 3 * time.Second}
	fed.Go(func() {
		defer close(done)
		for b := range batches {
			body := batchBody(b, perBatch)
			for {
				req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/events", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						break
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	})

	// Each kill comes at a random moment of a run: a quarter of them
	// while the server starts (opening the store, recovering), the rest a
	// random 150 to 750 ms after /readyz first answers. Timed from the
	// start instead, a loaded machine (the whole suite on two cores) let
	// startup eat the window, and the same claimed actions were killed
	// until they ran out of attempts.
	rng := rand.New(rand.NewPCG(1, 2))
	ready := func(cmd *exec.Cmd) {
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			resp, err := client.Get("http://" + addr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait() // its output is all in logs now
		t.Fatalf("serve was not ready within 60 s\n%s", logs.String())
	}
	kill := func(cmd *exec.Cmd, minMS, spanMS int) *exec.Cmd {
		if rng.IntN(4) > 0 {
			ready(cmd)
		}
		time.Sleep(time.Duration(minMS+rng.IntN(spanMS)) * time.Millisecond)
		must(t, cmd.Process.Signal(syscall.SIGKILL))
		cmd.Wait()
		return start()
	}
	kills := 0
	cmd := start()
	for {
		select {
		case <-done:
		default:
			cmd = kill(cmd, 150, 600)
			kills++
			continue
		}
		break
	}
	// Keep killing until 20, then stop cleanly: the feed is all stored.
	for kills < 20 {
		cmd = kill(cmd, 100, 300)
		kills++
	}
	fed.Wait()
	// Let it evaluate what is queued, then stop it gracefully.
	time.Sleep(2 * time.Second)
	must(t, cmd.Process.Signal(syscall.SIGTERM))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly: %v\n%s", err, logs.String())
	}
	t.Logf("%d kills", kills)

	db, err := sql.Open("duckdb", filepath.Join(dir, "s.duckdb")+"?access_mode=read_only")
	must(t, err)
	defer db.Close()
	one := func(q string) int {
		var n int
		must(t, db.QueryRow(q).Scan(&n))
		return n
	}
	const total = batches * perBatch
	if n := one(`SELECT count(*) FROM event_store`); n != total {
		t.Errorf("%d events stored, want %d", n, total)
	}
	if n := one(`SELECT count(DISTINCT eventID) FROM event_store`); n != total {
		t.Errorf("%d distinct events, want %d", n, total)
	}
	if n := one(`SELECT count(*) FROM pending_evaluations`); n != 0 {
		t.Errorf("%d events never evaluated", n)
	}
	if n := one(`SELECT count(*) FROM action_runs`); n != 2*total {
		t.Errorf("%d actions in the ledger, want %d", n, 2*total)
	}
	if n := one(`SELECT count(*) FROM action_runs WHERE status <> 'applied'`); n != 0 {
		t.Errorf("%d actions not applied", n)
	}
	if n := one(`SELECT count(*) FROM gate_states`); n != total {
		t.Errorf("the gate was closed %d times, want %d (once per event)", n, total)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	repeated := 0
	for _, n := range rec.seen {
		if n > 1 {
			repeated++
		}
	}
	if len(rec.seen) != total {
		t.Errorf("the receiver saw %d alerts, want %d", len(rec.seen), total)
	}
	// A kill between the webhook's answer and the ledger's record sends
	// the alert again, with the same Idempotency-Key for the receiver to
	// drop: at-least-once on the wire, once in effect.
	t.Logf("alerts delivered again under the same key: %d of %d", repeated, total)
}

func batchBody(b, n int) string {
	var sb strings.Builder
	sb.WriteString(`{"Records": [`)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, `{"eventVersion": "1.09", "eventTime": "2024-05-01T12:%02d:%02dZ", "eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "awsRegion": "us-east-1", "eventID": "kill-%d-%d", "recipientAccountId": "111122223333", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/m"}}`, b%60, i, b, i)
	}
	sb.WriteString("]}")
	return sb.String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
