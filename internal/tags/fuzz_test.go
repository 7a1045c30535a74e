package tags

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/trailbook/trailbook/internal/cloudtrail"
)

// FuzzOf decodes arbitrary bytes as CloudTrail records and checks that Of
// never panics and always returns a well-formed Effect: Touched sorted,
// unique and made of ARNs, every change on a touched, well-formed ARN.
// It is seeded with the records of testdata/extract, whole and one by
// one.
func FuzzOf(f *testing.F) {
	files, err := filepath.Glob("testdata/extract/*.txtar")
	if err != nil || len(files) == 0 {
		f.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range ar.Files {
			if af.Name != "events.json" {
				continue
			}
			f.Add(af.Data)
			for _, line := range bytes.Split(af.Data, []byte("\n")) {
				if len(bytes.TrimSpace(line)) > 0 {
					f.Add(line)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res := cloudtrail.Decode(data, cloudtrail.Options{})
		for i := range res.Events {
			eff := Of(&res.Events[i])
			checkEffect(t, eff)
			for _, c := range eff.Changes {
				if !wellFormed(c.ARN) {
					t.Errorf("change of %q, not well formed", c.ARN)
				}
			}
			if res.Events[i].ErrorCode.V != "" && len(eff.Changes) > 0 {
				t.Errorf("failed call %s has changes", res.Events[i].EventName)
			}
		}
	})
}

// FuzzOfMembers builds events from an event source, a name and one
// request and one response member, so that the fuzzer works on the
// values Of parses rather than on the record syntax around them. It is
// seeded with the members of the testdata records.
func FuzzOfMembers(f *testing.F) {
	files, err := filepath.Glob("testdata/extract/*.txtar")
	if err != nil || len(files) == 0 {
		f.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range ar.Files {
			if af.Name != "events.json" {
				continue
			}
			res := cloudtrail.Decode(af.Data, cloudtrail.Options{})
			for _, ev := range res.Events {
				resp := cloudtrail.Pair{}
				if len(ev.ResponseElements) > 0 {
					resp = ev.ResponseElements[0]
				}
				for _, p := range ev.RequestParameters {
					f.Add(ev.EventSource.V, ev.EventName, ev.AWSRegion.V, p.Key, p.Value.V, resp.Key, resp.Value.V)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, src, name, region, key, val, rkey, rval string) {
		ev := cloudtrail.Event{
			EventSource:        cloudtrail.Text{V: src, OK: true},
			EventName:          name,
			AWSRegion:          cloudtrail.Text{V: region, OK: true},
			RecipientAccountID: cloudtrail.Text{V: "111122223333", OK: true},
			RequestParameters:  cloudtrail.Map{{Key: key, Value: cloudtrail.Text{V: val, OK: true}}},
			ResponseElements:   cloudtrail.Map{{Key: rkey, Value: cloudtrail.Text{V: rval, OK: true}}},
			Resources:          []cloudtrail.Resource{{ARN: cloudtrail.Text{V: val, OK: true}}},
		}
		checkEffect(t, Of(&ev))
		ev.ErrorCode = cloudtrail.Text{V: "AccessDenied", OK: true}
		if eff := Of(&ev); len(eff.Changes) > 0 {
			t.Errorf("failed call %s has changes", name)
		}
	})
}
