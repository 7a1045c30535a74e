package tags

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/gen"
)

var update = flag.Bool("update", false, "rewrite the want and versions sections of testdata/extract/*.txtar")

// Each testdata/extract/*.txtar holds CloudTrail records (events.json,
// any container shape Decode reads) and, written by hand, what Of must
// say of each (want) and, optionally, the versions Replay must build from
// all their changes (versions), whatever order the entries come in.
func TestOf(t *testing.T) {
	files, err := filepath.Glob("testdata/extract/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sections := map[string]int{}
			for i, f := range ar.Files {
				sections[f.Name] = i
			}
			i, ok := sections["events.json"]
			if !ok {
				t.Fatal("no events.json section")
			}
			res := cloudtrail.Decode(ar.Files[i].Data, cloudtrail.Options{})
			if len(res.Rejects) > 0 {
				t.Fatalf("events.json: %d rejects, first: %s", len(res.Rejects), res.Rejects[0].Reason)
			}
			var got strings.Builder
			var entries []Entry
			for j := range res.Events {
				ev := &res.Events[j]
				eff := Of(ev)
				checkEffect(t, eff)
				writeEffect(&got, ev, eff)
				entries = append(entries, entriesOf(ev, eff)...)
			}
			compare(t, ar, sections, "want", got.String())
			if _, ok := sections["versions"]; ok {
				want := renderVersions(replayed(entries))
				compare(t, ar, sections, "versions", want)
				// Replay sorts, so any order of the entries gives the same history.
				r := rand.New(rand.NewPCG(1, 2))
				for range 5 {
					shuffled := slices.Clone(entries)
					r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
					if again := renderVersions(replayed(shuffled)); again != want {
						t.Errorf("shuffled entries replay differently:\n%s\nwant\n%s", again, want)
					}
				}
			}
			if *update {
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// compare checks section name of ar against got, or with -update replaces
// it.
func compare(t *testing.T, ar *txtar.Archive, sections map[string]int, name, got string) {
	t.Helper()
	i, ok := sections[name]
	if *update {
		if !ok {
			ar.Files = append(ar.Files, txtar.File{Name: name})
			i = len(ar.Files) - 1
			sections[name] = i
		}
		ar.Files[i].Data = []byte(got)
		return
	}
	if !ok {
		t.Fatalf("no %s section; got\n%s", name, got)
	}
	if want := string(ar.Files[i].Data); got != want {
		t.Errorf("%s differs (-want +got):\n%s", name, diffLines(want, got))
	}
}

// diffLines lists the lines only one side has, in order.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	i, j := 0, 0
	for i < len(w) || j < len(g) {
		switch {
		case i < len(w) && j < len(g) && w[i] == g[j]:
			i, j = i+1, j+1
		case j < len(g) && !slices.Contains(w[i:], g[j]):
			fmt.Fprintf(&b, "+%s\n", g[j])
			j++
		case i < len(w):
			fmt.Fprintf(&b, "-%s\n", w[i])
			i++
		default:
			fmt.Fprintf(&b, "+%s\n", g[j])
			j++
		}
	}
	return b.String()
}

// writeEffect renders one event's effect:
//
//	EventName [failed]
//	  touch ARN
//	  KIND ARN
//	    + key=value
//	    - key          (removed whatever its value)
//	    - key=value    (removed only with that value)
func writeEffect(b *strings.Builder, ev *cloudtrail.Event, eff Effect) {
	b.WriteString(ev.EventName)
	if ev.ErrorCode.OK && ev.ErrorCode.V != "" {
		b.WriteString(" failed")
	}
	b.WriteByte('\n')
	for _, a := range eff.Touched {
		fmt.Fprintf(b, "  touch %s\n", a)
	}
	for _, c := range eff.Changes {
		fmt.Fprintf(b, "  %s %s\n", c.Kind, c.ARN)
		for _, tg := range c.Set {
			fmt.Fprintf(b, "    + %s=%s\n", quote(tg.Key), quote(tg.Value))
		}
		for _, r := range c.Remove {
			if r.HasValue {
				fmt.Fprintf(b, "    - %s=%s\n", quote(r.Key), quote(r.Value))
			} else {
				fmt.Fprintf(b, "    - %s\n", quote(r.Key))
			}
		}
	}
}

// quote quotes s when it is empty or holds a space, '=' or a quote.
func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " =\"\t\n") {
		return strconv.Quote(s)
	}
	return s
}

// checkEffect checks what every Effect must be: Touched sorted, unique
// and well formed; every change's ARN well formed and touched; changes
// of a known kind, with Remove only on Merge.
func checkEffect(t testing.TB, eff Effect) {
	t.Helper()
	if !slices.IsSorted(eff.Touched) {
		t.Errorf("touched not sorted: %q", eff.Touched)
	}
	for i, a := range eff.Touched {
		if _, ok := ParseARN(a); !ok {
			t.Errorf("touched %q is not an ARN", a)
		}
		if i > 0 && eff.Touched[i-1] == a {
			t.Errorf("touched %q twice", a)
		}
	}
	for _, c := range eff.Changes {
		if _, ok := ParseARN(c.ARN); !ok {
			t.Errorf("change of %q, not an ARN", c.ARN)
		}
		if _, ok := slices.BinarySearch(eff.Touched, c.ARN); !ok {
			t.Errorf("change of %s, which is not touched", c.ARN)
		}
		if c.Kind < Merge || c.Kind > Delete {
			t.Errorf("change of %s has kind %d", c.ARN, c.Kind)
		}
		if c.Kind != Merge && len(c.Remove) > 0 {
			t.Errorf("%s change of %s removes keys", c.Kind, c.ARN)
		}
		if c.Kind == Delete && len(c.Set) > 0 {
			t.Errorf("delete of %s sets tags", c.ARN)
		}
	}
}

// entriesOf turns an event's changes into replay entries, as the store
// does: Seq is the eventID and the change's index.
func entriesOf(ev *cloudtrail.Event, eff Effect) []Entry {
	out := make([]Entry, 0, len(eff.Changes))
	for i, c := range eff.Changes {
		out = append(out, Entry{
			Change: c,
			At:     ev.EventTime,
			Seq:    fmt.Sprintf("%s/%04d", ev.EventID.V, i),
			By: Provenance{
				Origin: "cloudtrail", EventID: ev.EventID.V, EventName: ev.EventName,
				EventSource: ev.EventSource.V, Actor: ev.UserIdentity.ARN.V,
			},
		})
	}
	return out
}

func replayed(entries []Entry) []Version {
	_, vs := Replay(entries)
	return vs
}

// renderVersions renders versions one a line:
// ARN FROM..TO {key=value ...}, with TO "now" while it holds.
func renderVersions(vs []Version) string {
	var b strings.Builder
	for _, v := range vs {
		to := "now"
		if !v.To.IsZero() {
			to = v.To.Format(time.RFC3339)
		}
		fmt.Fprintf(&b, "%s %s..%s {", v.ARN, v.From.Format(time.RFC3339), to)
		for i, tg := range v.Tags {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s=%s", quote(tg.Key), quote(tg.Value))
		}
		fmt.Fprintf(&b, "} by %s\n", v.By.EventName)
	}
	return b.String()
}

// genOptions are the generator options of the tests and the benchmark.
func genOptions(out string) gen.Options {
	return gen.Options{Events: 40000, Seed: 11, PerFile: 800, Out: out}
}

// generated decodes the events the generator writes for genOptions, once
// per test binary.
var generated = sync.OnceValues(func() ([]cloudtrail.Event, error) {
	dir, err := os.MkdirTemp("", "tags-gen")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if _, err := gen.Generate(context.Background(), genOptions(dir)); err != nil {
		return nil, err
	}
	var evs []cloudtrail.Event
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		res := cloudtrail.Decode(data, cloudtrail.Options{})
		if len(res.Rejects) > 0 {
			return fmt.Errorf("%s: %d rejects: %s", path, len(res.Rejects), res.Rejects[0].Reason)
		}
		evs = append(evs, res.Events...)
		return nil
	})
	return evs, err
})

// TestOfGenerated rebuilds the tag inventory from the generator's records
// alone and checks it against the generator's own model: the last
// version of every resource the model created holds its final tags.
func TestOfGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 40,000 events")
	}
	evs, err := generated()
	if err != nil {
		t.Fatal(err)
	}
	want, err := gen.Inventory(genOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	var entries []Entry
	changed := 0
	for i := range evs {
		eff := Of(&evs[i])
		checkEffect(t, eff)
		if len(eff.Changes) > 0 {
			changed++
		}
		entries = append(entries, entriesOf(&evs[i], eff)...)
	}
	_, versions := Replay(entries)
	last := map[string]Version{}
	for _, v := range versions {
		last[v.ARN] = v
	}
	var tagged, untagged, missing int
	for arn, tags := range want {
		v, ok := last[arn]
		if !ok {
			missing++
			if len(tags) > 0 {
				t.Errorf("%s: not in the replay, want %v", arn, tags)
			}
			continue
		}
		if !v.To.IsZero() {
			t.Errorf("%s: ended at %v by %s, but the generator keeps it", arn, v.To, v.By.EventName)
		}
		got := map[string]string{}
		for _, tg := range v.Tags {
			got[tg.Key] = tg.Value
		}
		if !maps.Equal(got, tags) {
			t.Errorf("%s:\n got %v\nwant %v", arn, got, tags)
		}
		if len(tags) > 0 {
			tagged++
		} else {
			untagged++
		}
	}
	// The records also create resources outside the generator's pool
	// (snapshots, users an attacker makes), which the inventory leaves out.
	extra := map[string]int{}
	for arn := range last {
		if _, ok := want[arn]; !ok {
			extra[TypeOf(arn)]++
		}
	}
	t.Logf("%d events, %d with changes, %d entries; inventory: %d resources (%d tagged, %d untagged, %d never in the replay); replayed resources the inventory lacks, by type: %v",
		len(evs), changed, len(entries), len(want), tagged, untagged, missing, extra)
	if tagged == 0 || untagged == 0 {
		t.Errorf("inventory lacks variety: %d tagged, %d untagged", tagged, untagged)
	}
}

// BenchmarkOf runs Of over the generated events, one event per operation.
func BenchmarkOf(b *testing.B) {
	evs, err := generated()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Of(&evs[i%len(evs)])
	}
}

func ExampleOf() {
	record := `{"eventVersion":"1.09","eventTime":"2024-05-01T10:00:00Z","eventSource":"ec2.amazonaws.com",
		"eventName":"DeleteTags","awsRegion":"eu-west-1","recipientAccountId":"111122223333",
		"requestParameters":{"resourcesSet":{"items":[{"resourceId":"i-0123456789abcdef0"}]},
		"tagSet":{"items":[{"key":"Env","value":"staging"},{"key":"Owner"}]}},
		"responseElements":{"_return":true},"eventID":"6f2b1c3a-0000-4000-8000-000000000001"}`
	res := cloudtrail.Decode([]byte(record), cloudtrail.Options{})
	eff := Of(&res.Events[0])
	fmt.Println(eff.Touched)
	for _, c := range eff.Changes {
		fmt.Println(c.Kind, c.ARN, c.Remove)
	}
	// Output:
	// [arn:aws:ec2:eu-west-1:111122223333:instance/i-0123456789abcdef0]
	// merge arn:aws:ec2:eu-west-1:111122223333:instance/i-0123456789abcdef0 [{Env staging true} {Owner  false}]
}
