package cloudtrail

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode checks that Decode never panics and that its Result is always
// consistent, whatever the bytes. It is seeded with every small testdata
// input, gzipped ones both as they are and inflated.
func FuzzDecode(f *testing.F) {
	var files []string
	err := filepath.WalkDir("testdata", func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && filepath.Dir(path) != "testdata" &&
			!strings.HasSuffix(path, ".want") && !strings.Contains(path, "licenses") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 64<<10 {
			continue
		}
		f.Add(data)
		if strings.HasSuffix(path, ".gz") {
			if plain, err := gunzip(data, 1<<20); len(plain) > 0 && len(plain) <= 64<<10 {
				f.Add(plain)
			} else if err == nil {
				f.Add(plain[:64<<10])
			}
		}
	}
	f.Add([]byte(`{"Records":[{"eventTime":"2023-07-10T11:42:19Z","eventName":"A"},{"eventTime":"x"`))
	f.Add([]byte("{\"eventName\":\"A\",\"@timestamp\":1688989339}\n\"{\\\"eventName\\\":\\\"B\\\",\\\"eventTime\\\":0}\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res := Decode(data, Options{MaxRecordBytes: 4096, MaxInflatedBytes: 1 << 20})
		checkInvariants(t, res)
		// What encoding/json accepts, the scanner must accept too (bar
		// nesting deeper than maxNesting).
		if json.Valid(data) && utf8.Valid(data) && bytes.Count(data, []byte("[")) < maxNesting/2 && bytes.Count(data, []byte("{")) < maxNesting/2 {
			for _, r := range res.Rejects {
				if strings.HasPrefix(r.Reason, "invalid JSON at line") {
					t.Errorf("valid JSON rejected: %s", r.Reason)
				}
			}
		}
	})
}
