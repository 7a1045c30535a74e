package runbook

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// seeds are the YAML files of testdata, those inside its archives
// included.
func seeds(f *testing.F) [][]byte {
	f.Helper()
	var out [][]byte
	err := filepath.WalkDir("testdata", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(path) {
		case ".txtar":
			ar, err := txtar.ParseFile(path)
			if err != nil {
				return err
			}
			for _, file := range ar.Files {
				if strings.HasSuffix(file.Name, ".yaml") || strings.HasSuffix(file.Name, ".yml") {
					out = append(out, file.Data)
				}
			}
		case ".yaml":
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out = append(out, data)
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	if len(out) < 20 {
		f.Fatalf("%d seeds", len(out))
	}
	return out
}

// FuzzLoad: Load never panics on a runbook or channels file, and always
// answers whole: a Set, or an ErrorList of coded errors placed inside the
// file, sorted.
func FuzzLoad(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s, false)
	}
	f.Add([]byte("channels:\n  - {name: a, type: webhook, url: 'https://x.example'}\n"), true)
	conn := newConn(f)
	record := []byte(`{"eventVersion": "1.09", "eventTime": "2024-05-01T12:00:00Z", "eventSource": "ec2.amazonaws.com", "eventName": "CreateTags", "eventID": "e1"}`)
	readFile := func(name string) ([]byte, error) {
		if strings.Contains(name, "none") {
			return nil, os.ErrNotExist
		}
		return record, nil
	}
	f.Fuzz(func(t *testing.T, data []byte, channels bool) {
		name := "fuzz.yaml"
		if channels {
			name = "channels.yaml"
		}
		files := []File{{Name: name, Data: data}}
		set, err := Load(context.Background(), files, Options{Conn: conn, ReadFile: readFile})
		if (set == nil) == (err == nil) {
			t.Fatalf("Load returned a set %v and the error %v", set != nil, err)
		}
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T %v is not an ErrorList", err, err)
			}
			checkErrors(t, withReadFiles(files, list, readFile), list)
			return
		}
		for _, r := range set.Runbooks {
			if r.Name == "" || r.Description == "" || len(r.Actions) == 0 || len(r.Tests) == 0 ||
				(r.Trigger.Pattern == "") == (r.Trigger.Schedule == 0) || (r.Query == "") != (r.QuerySQL == "") {
				t.Fatalf("incomplete runbook %+v", r)
			}
			for _, a := range r.Actions {
				if a.Alert == nil && a.RevertTags == nil && a.Tag == nil && a.Quarantine == nil && a.Gate == nil {
					t.Fatalf("action %+v has no spec", a)
				}
			}
		}
	})
}
