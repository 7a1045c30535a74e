package cloudtrail

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the .want golden files under testdata/bad and testdata/shapes")

// readInput reads a testdata file. A "#member" suffix names the member that
// wraps each record of a JSON-lines file (the AWS docs and Panther
// extractions); the records are unwrapped into plain JSON lines.
func readInput(t testing.TB, name string) []byte {
	t.Helper()
	path, member, _ := strings.Cut(name, "#")
	data, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	if member == "" {
		return data
	}
	var out []byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var line map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, line[member]...)
		out = append(out, '\n')
	}
	return out
}

// checkInvariants holds for every Result, whatever the input.
func checkInvariants(t testing.TB, res Result) {
	t.Helper()
	sum := len(res.Events) + len(res.Rejects)
	for _, n := range res.Skipped {
		sum += n
	}
	if sum != res.Records {
		t.Errorf("Records = %d, but events + rejects + skipped = %d", res.Records, sum)
	}
	for i, ev := range res.Events {
		if ev.EventName == "" || ev.EventTime.IsZero() || ev.EventTime.Location() != time.UTC {
			t.Errorf("event %d: EventName %q, EventTime %v", i, ev.EventName, ev.EventTime)
		}
		if !json.Valid(ev.JSON) {
			t.Errorf("event %d: JSON is not valid: %.200q", i, ev.JSON)
		}
	}
	last := -1
	for _, r := range res.Rejects {
		if r.Index <= last || r.Index >= res.Records || r.Reason == "" || len(r.Record) > maxRejectBytes {
			t.Errorf("bad reject %+v", r)
		}
		last = r.Index
	}
}

func formatSkipped(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+strconv.Itoa(v))
	}
	slices.Sort(parts)
	return strings.Join(parts, ";")
}

// TestCorpus decodes every corpus file and compares the counts with
// testdata/corpus.tsv, worked out independently by corpus_counts.py.
func TestCorpus(t *testing.T) {
	table, err := os.ReadFile("testdata/corpus.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var realEvents, realRejects int
	for _, line := range strings.Split(string(table), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			t.Fatalf("corpus.tsv: malformed line %q", line)
		}
		res := Decode(readInput(t, f[0]), Options{})
		checkInvariants(t, res)
		got := fmt.Sprintf("%d\t%d\t%d\t%s", res.Records, len(res.Events), len(res.Rejects), formatSkipped(res.Skipped))
		if want := strings.Join(f[1:], "\t"); got != want {
			t.Errorf("%s: got %s, want %s", f[0], got, want)
			for _, r := range res.Rejects {
				t.Logf("  reject %d (line %d): %s", r.Index, r.Line, r.Reason)
			}
		}
		if strings.HasPrefix(f[0], "invictus/") || strings.HasPrefix(f[0], "stratus/") {
			realEvents += len(res.Events)
			realRejects += len(res.Rejects)
		}
	}
	if realEvents != 3210 || realRejects != 0 {
		t.Errorf("Invictus + Stratus: %d events, %d rejects; want 3210 and 0", realEvents, realRejects)
	}
}

// summary renders a Result for the .want golden files: the counts, then one
// line per event and per reject, in record order.
func summary(res Result) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "records %d, events %d, rejects %d, skipped %s\n", res.Records, len(res.Events), len(res.Rejects), formatSkipped(res.Skipped))
	for _, ev := range res.Events {
		id := ev.EventID.V
		if !ev.EventID.OK {
			id = "-"
		}
		fmt.Fprintf(&sb, "event %s %s %s (%d bytes of JSON)\n", ev.EventName, ev.EventTime.Format(time.RFC3339Nano), id, len(ev.JSON))
	}
	for _, r := range res.Rejects {
		fmt.Fprintf(&sb, "reject #%d line %d offset %d: %s\n", r.Index, r.Line, r.Offset, r.Reason)
		rec := r.Record
		if len(rec) > 60 {
			rec = rec[:60]
		}
		fmt.Fprintf(&sb, "\trecord %d bytes: %q\n", len(r.Record), rec)
	}
	return sb.String()
}

// TestFixtures decodes each file under testdata/shapes (every container
// shape) and testdata/bad (broken input) and compares the outcome with the
// file's .want twin. Run with -update to rewrite them, then review the diff.
func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/[bs][ah]*/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range files {
		if strings.HasSuffix(path, ".want") {
			continue
		}
		n++
		t.Run(strings.TrimPrefix(path, "testdata/"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res := Decode(data, Options{})
			checkInvariants(t, res)
			got := summary(res)
			wantPath := path + ".want"
			if *update {
				if err := os.WriteFile(wantPath, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("decoding %s:\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
	if n < 20 {
		t.Errorf("found only %d fixtures", n)
	}
}

// TestSpot checks field values of chosen events against testdata/spot.tsv,
// whose values spot_values.py read from the raw JSON.
func TestSpot(t *testing.T) {
	table, err := os.ReadFile("testdata/spot.tsv")
	if err != nil {
		t.Fatal(err)
	}
	decoded := map[string]Result{}
	n := 0
	for _, line := range strings.Split(string(table), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			t.Fatalf("spot.tsv: malformed line %q", line)
		}
		var want string
		if err := json.Unmarshal([]byte(f[3]), &want); err != nil {
			t.Fatalf("spot.tsv: %q: %v", line, err)
		}
		res, ok := decoded[f[0]]
		if !ok {
			res = Decode(readInput(t, f[0]), Options{})
			decoded[f[0]] = res
		}
		var match []Event
		for _, ev := range res.Events {
			if f[1] == "-" || ev.EventID.V == f[1] {
				match = append(match, ev)
			}
		}
		if len(match) != 1 {
			t.Errorf("%s: %d events match %s", f[0], len(match), f[1])
			continue
		}
		got, err := fieldValue(match[0], f[2])
		if err != nil {
			t.Errorf("%s %s: %v", f[0], f[2], err)
		} else if got != want {
			t.Errorf("%s %s %s:\n got %q\nwant %q", f[0], f[1], f[2], got, want)
		}
		n++
	}
	if n < 50 {
		t.Errorf("only %d checks ran", n)
	}
}

// fieldValue renders the Event field at path ("UserIdentity.ARN",
// "RequestParameters[key]", "Resources[2].ARN", "len(Resources)") with the
// conventions of spot_values.py.
func fieldValue(ev Event, path string) (string, error) {
	count := strings.HasPrefix(path, "len(")
	if count {
		path = strings.TrimSuffix(strings.TrimPrefix(path, "len("), ")")
	}
	v := reflect.ValueOf(ev)
	for _, seg := range strings.Split(path, ".") {
		name, sel, _ := strings.Cut(strings.TrimSuffix(seg, "]"), "[")
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return "<nil>", nil
			}
			v = v.Elem()
		}
		v = v.FieldByName(name)
		if !v.IsValid() {
			return "", fmt.Errorf("no field %s", name)
		}
		if sel == "" {
			continue
		}
		if m, ok := v.Interface().(Map); ok {
			var found *Text
			for i := range m {
				if m[i].Key == sel {
					found = &m[i].Value
				}
			}
			if found == nil {
				return "<absent>", nil
			}
			v = reflect.ValueOf(*found)
			continue
		}
		i, err := strconv.Atoi(sel)
		if err != nil || i >= v.Len() {
			return "", fmt.Errorf("bad index %s of %s (len %d)", sel, name, v.Len())
		}
		v = v.Index(i)
	}
	if count {
		return strconv.Itoa(v.Len()), nil
	}
	switch x := v.Interface().(type) {
	case Text:
		if !x.OK {
			return "<null>", nil
		}
		return x.V, nil
	case Bool:
		if !x.OK {
			return "<null>", nil
		}
		return strconv.FormatBool(x.V), nil
	case Time:
		if !x.OK {
			return "<null>", nil
		}
		return x.V.Format(time.RFC3339Nano), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case string:
		return x, nil
	}
	if v.Kind() == reflect.Pointer || v.Kind() == reflect.Slice {
		if v.IsNil() {
			return "<nil>", nil
		}
		return "<set>", nil
	}
	return "", fmt.Errorf("cannot render %s", v.Type())
}

// TestLineAt compares the incremental line counter with a plain count, for
// offsets that move both ways.
func TestLineAt(t *testing.T) {
	data := []byte("{\n\"a\": 1,\n\n  \"b\": [\n1]}\nx\n\ny")
	st := &state{root: data, line: 1}
	for _, off := range []int{0, 5, 3, 20, 20, 9, 10, 0, len(data), 11, 2, len(data) - 1, 1} {
		line, col := st.lineAt(off)
		wantLine := 1 + bytes.Count(data[:off], []byte{'\n'})
		wantCol := off - (bytes.LastIndexByte(data[:off], '\n') + 1) + 1
		if line != wantLine || col != wantCol {
			t.Errorf("lineAt(%d) = %d:%d, want %d:%d", off, line, col, wantLine, wantCol)
		}
	}
}
