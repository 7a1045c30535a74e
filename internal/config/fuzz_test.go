package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: Load never panics, and answers whole: a Config that Validate
// accepts and that, written out, loads to itself again; or an ErrorList
// of coded errors placed inside the file, sorted.
func FuzzLoad(f *testing.F) {
	paths, err := filepath.Glob("testdata/*/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	if len(paths) < 20 {
		f.Fatalf("%d seeds", len(paths))
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 4<<10 {
			continue // the alias bomb: its mutations take long to minimize and find little
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load("fuzz.yaml", data)
		if (c == nil) == (err == nil) {
			t.Fatalf("Load returned a config %v and the error %v", c != nil, err)
		}
		if err != nil {
			checkErrors(t, data, err)
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load accepted what Validate refuses: %v", err)
		}
		roundTrip(t, c)
	})
}
