package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/store"
)

// FuzzVerify checks that Verify never panics and that its reports are
// well formed, whatever the bytes, with and without a store copy; and that
// a log freshly written by Log, from any kind and data Append accepts,
// always verifies as intact. It is seeded with the logs of
// testdata/verify.
func FuzzVerify(f *testing.F) {
	intact, err := os.ReadFile(filepath.Join("testdata", "intact.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	var intactRows []store.AuditRow
	for _, line := range bytes.Split(bytes.TrimSuffix(intact, []byte("\n")), []byte("\n")) {
		e, _, err := decodeLine(line)
		if err != nil {
			f.Fatal(err)
		}
		intactRows = append(intactRows, rowOf(&e))
	}
	f.Add(intact, "evaluation", []byte(`{"a":1}`))
	for _, c := range loadVerifyCases(f) {
		f.Add(c.log, "gate-decision", []byte(`{"b":[true,null,"\u00e9\n"],"a":{"y":1.5e3,"x":-0}}`))
	}
	f.Fuzz(func(t *testing.T, log []byte, kind string, data []byte) {
		for _, rows := range [][]store.AuditRow{nil, intactRows} {
			rep := Verify(bytes.NewReader(log), "f", rows)
			checkReport(t, rep, log)
		}

		// What Append would write after two entries, without the file:
		// the fuzzer would spend its time in fsync.
		prefix, _, err := link([]Entry{{Kind: "evaluation"}, {Kind: "action"}}, 0, Genesis, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		got, lines, err := link([]Entry{
			{Kind: kind, Runbook: kind, Data: data},
			{Kind: "evaluation", Decision: kind, Data: json.RawMessage(`{"k":1}`)},
			{Kind: "action", Gate: string(data), EventID: "\x00\x1f\"\\\u2028"},
		}, 2, prefix[1].Hash, time.Date(2024, 5, 1, 12, 0, 0, 1, time.UTC))
		if err != nil {
			return // not an entry Append takes
		}
		var written []byte
		for i := range prefix {
			written = append(appendEntry(written, &prefix[i], true), '\n')
		}
		written = append(written, lines...)
		rows := make([]store.AuditRow, 0, 5)
		for _, e := range append(prefix, got...) {
			rows = append(rows, rowOf(&e))
		}
		rep := Verify(bytes.NewReader(written), "a.jsonl", rows)
		if !rep.OK() || rep.Entries != 5 || rep.LastHash != got[2].Hash {
			t.Fatalf("a fresh log does not verify: %+v\n%s", rep, written)
		}
		for _, e := range got {
			line, err := e.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			back, canonical, err := decodeLine(line)
			if err != nil || !canonical || back.Hash != e.Hash || !bytes.Equal(back.Data, e.Data) {
				t.Fatalf("entry does not read back: %v %v\n%s", err, canonical, line)
			}
		}
	})
}
