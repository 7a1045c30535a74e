package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// post delivers body to ch's URL: up to 1+ch.retries attempts, retrying
// network errors, timeouts, 429 and 5xx answers after a wait (see
// ch.wait), and stopping at once on any other answer or when ctx ends.
// Every attempt carries the same Idempotency-Key, key. It returns the
// number of attempts made. Its errors hold ch.origin, never ch.url.
func (s *Sender) post(ctx context.Context, ch *channel, key string, body []byte) (int, error) {
	for attempt := 1; ; attempt++ {
		retryAfter, retry, err := s.attempt(ctx, ch, key, body)
		if err == nil {
			return attempt, nil
		}
		if cerr := ctx.Err(); cerr != nil {
			if errors.Is(err, cerr) {
				return attempt, err
			}
			return attempt, fmt.Errorf("%w; stopped: %w", err, cerr)
		}
		if !retry || ch.retries == 0 {
			return attempt, err
		}
		if attempt > ch.retries {
			return attempt, fmt.Errorf("%w; gave up after %d attempts", err, attempt)
		}
		wait := ch.wait(attempt, retryAfter)
		s.logger.LogAttrs(ctx, slog.LevelWarn, "alert delivery failed, will retry",
			slog.String("channel", ch.Name),
			slog.String("key", key),
			slog.Int("attempt", attempt),
			slog.Duration("wait", wait),
			slog.String("error", ch.redact.clean(err.Error())))
		if serr := s.sleep(ctx, wait); serr != nil {
			return attempt, fmt.Errorf("%w; stopped waiting to retry: %w", err, serr)
		}
	}
}

// wait is how long to wait after the attempt-th attempt (from 1) failed:
// the Retry-After the receiver asked for if any (retryAfter >= 0),
// otherwise ch.backoff doubled attempt-1 times; MaxBackoff at most.
func (ch *channel) wait(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter >= 0 {
		return min(retryAfter, MaxBackoff)
	}
	d := ch.backoff
	for i := 1; i < attempt && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// maxErrorBody is how much of a failed answer's body goes into the error.
const maxErrorBody = 200

// attempt posts body once, within ch.timeout. It returns whether the
// failure is worth a retry and the receiver's Retry-After, or -1 when it
// gave none.
func (s *Sender) attempt(ctx context.Context, ch *channel, key string, body []byte) (retryAfter time.Duration, retry bool, err error) {
	actx, cancel := context.WithTimeout(ctx, ch.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, ch.url, bytes.NewReader(body))
	if err != nil {
		// The error quotes the URL: do not wrap it.
		return -1, false, fmt.Errorf("cannot build a request to %s", ch.origin)
	}
	req.Header = ch.header.Clone()
	req.Header.Set("Idempotency-Key", key)
	resp, err := s.http.Do(req)
	if err != nil {
		// *url.Error quotes the URL: keep only what it wraps.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			return -1, true, fmt.Errorf("post to %s: no answer within %s", ch.origin, ch.timeout)
		}
		return -1, true, fmt.Errorf("post to %s: %w", ch.origin, err)
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 4*maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection can be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return -1, false, nil
	}
	msg := fmt.Sprintf("%s answered %s", ch.origin, resp.Status)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		msg += " (redirects are not followed)"
	}
	if b := snippet(head, maxErrorBody); b != "" {
		msg += ": " + strconv.Quote(b)
	}
	retry = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	retryAfter = -1
	if retry {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			retryAfter = d
		}
	}
	return retryAfter, retry, errors.New(msg)
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date, which now turns into a delay (0 if past). Delays beyond
// MaxBackoff come back as MaxBackoff.
func parseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(MaxBackoff/time.Second) {
			return MaxBackoff, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), MaxBackoff), true
}
