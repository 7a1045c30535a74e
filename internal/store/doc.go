package store

import (
	"time"

	"github.com/zeebo/xxh3"

	"github.com/trailbook/trailbook/internal/cloudtrail"
)

// eventKey is the dedupe key: a 128-bit hash of eventID, eventTime,
// eventSource, eventName and recipientAccountId. CloudTrail may deliver an
// event twice; public fixtures reuse eventIDs for different events, hence
// the other fields. A record with no eventID is keyed by its bytes.
func eventKey(ev *cloudtrail.Event) (hi, lo uint64) {
	if !ev.EventID.OK {
		h := xxh3.Hash128(ev.JSON)
		return h.Hi, h.Lo
	}
	var b [512]byte
	k := b[:0]
	k = append(k, ev.EventID.V...)
	k = append(k, 0)
	k = ev.EventTime.AppendFormat(k, time.RFC3339Nano)
	k = append(k, 0)
	k = append(k, ev.EventSource.V...)
	k = append(k, 0)
	k = append(k, ev.EventName...)
	k = append(k, 0)
	k = append(k, ev.RecipientAccountID.V...)
	h := xxh3.Hash128(k)
	return h.Hi, h.Lo
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}
