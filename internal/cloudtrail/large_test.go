package cloudtrail

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// TestOversizedRecord puts a 10 MB record between good ones in each
// container shape: it must be rejected with its position, its neighbours
// kept, and neither memory nor time may grow much beyond one pass over it.
func TestOversizedRecord(t *testing.T) {
	good := func(name string) string {
		return `{"eventVersion":"1.08","eventTime":"2023-07-10T11:42:19Z","eventName":"` + name + `","requestParameters":{"a":1}}`
	}
	policy := strings.Repeat("x", 10<<20)
	huge := `{"eventID":"huge","eventVersion":"1.08","eventTime":"2023-07-10T11:42:20Z","eventName":"Huge","requestParameters":{"policy":"` + policy + `","n":{"deep":[1,2,3]}}}`
	pretty := strings.Replace(huge, `"n":{"deep":[1,2,3]}`, `"n": {`+strings.Repeat(` "k": [ 1 , 2 ],`, 1<<18)+` "deep": [1] }`, 1)
	cases := []struct {
		name, data string
		line       int
	}{
		{"json lines", good("A") + "\n" + huge + "\n" + good("B") + "\n", 2},
		{"records", `{"Records":[` + good("A") + "," + huge + "," + good("B") + `]}`, 1},
		{"pretty member", "[\n" + good("A") + ",\n" + pretty + ",\n" + good("B") + "\n]", 3},
		{"carried in a string", `{"Events":[{"CloudTrailEvent":` + strconv.Quote(good("A")) + `},{"CloudTrailEvent":` + strconv.Quote(huge) + `},{"CloudTrailEvent":` + strconv.Quote(good("B")) + `}]}`, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := []byte(c.data)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			res := Decode(data, Options{})
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			checkInvariants(t, res)
			if len(res.Events) != 2 || res.Events[0].EventName != "A" || res.Events[1].EventName != "B" {
				t.Errorf("events: %s", summary(res))
			}
			if len(res.Rejects) != 1 {
				t.Fatalf("want one reject: %s", summary(res))
			}
			r := res.Rejects[0]
			if r.Index != 1 || r.Line != c.line || !strings.Contains(r.Reason, "over the 1048576-byte limit") || len(r.Record) != maxRejectBytes {
				t.Errorf("reject: index %d line %d (want %d): %s", r.Index, r.Line, c.line, r.Reason)
			}
			if want := int64(bytes.Index([]byte(c.data), []byte(r.Record[:40]))); !strings.Contains(c.name, "string") && r.Offset != want {
				t.Errorf("reject offset %d, want %d", r.Offset, want)
			}
			// One copy of the input is Decode's own; allow another for a
			// compacted or unescaped member.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(2*len(c.data)) {
				t.Errorf("allocated %d MB for %d MB of input", alloc>>20, len(c.data)>>20)
			}
			if elapsed > 5*time.Second {
				t.Errorf("took %v", elapsed)
			}
		})
	}
}

// TestManyBadRecords feeds tens of thousands of broken records in each
// shape; recovery must stay linear (a quadratic one takes minutes here).
func TestManyBadRecords(t *testing.T) {
	const n = 30000
	good := `{"eventTime":"2023-07-10T11:42:19Z","eventName":"A","userIdentity":{"type":"IAMUser"},"resources":[{"ARN":"x"}]}`
	bad := `{"eventTime":"2023-07-10T11:42:19Z","eventName":"A","userIdentity":{"type":"IAMUser","x":[{"a":` // cut short
	lines := strings.Repeat(good+"\n"+bad+"\n", n)
	array := "[" + strings.Repeat(good+","+bad+",", n) + good + "]"
	quotes := "[" + strings.Repeat(good+`,{"eventName":"unterminated,`, n) + good + "]"
	for name, data := range map[string]string{"lines": lines, "compact array": array, "quotes": quotes} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			res := Decode([]byte(data), Options{})
			checkInvariants(t, res)
			if len(res.Events) < n {
				t.Errorf("kept %d of the %d good records", len(res.Events), n)
			}
			if len(res.Rejects) == 0 {
				t.Error("no rejects")
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			t.Logf("%d bytes: %d events, %d rejects in %v", len(data), len(res.Events), len(res.Rejects), time.Since(start))
		})
	}
}

// TestInflateLimit decodes a gzip bomb: 64 KB that inflate to 64 MB of
// records. Only MaxInflatedBytes are inflated and decoded; the rest is one
// reject.
func TestInflateLimit(t *testing.T) {
	rec := `{"eventTime":"2023-07-10T11:42:19Z","eventName":"A"}` + "\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for range (64 << 20) / len(rec) {
		zw.Write([]byte(rec))
	}
	zw.Close()
	const limit = 1 << 20
	res := Decode(gz.Bytes(), Options{MaxInflatedBytes: limit})
	checkInvariants(t, res)
	if want := limit / len(rec); len(res.Events) != want {
		t.Errorf("%d events, want %d", len(res.Events), want)
	}
	if len(res.Rejects) != 1 || !strings.Contains(res.Rejects[0].Reason, "over the 1048576-byte limit") {
		t.Errorf("rejects: %s", summary(res))
	}
}
