package config

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trailbook/trailbook/internal/yamlpos"
)

var update = flag.Bool("update", false, "rewrite the golden files: testdata/good/*.golden and testdata/bad/*.errors")

// fixtures are the files of dir with extension ext, failing t when dir
// holds a file that is neither a fixture nor its golden file.
func fixtures(t *testing.T, dir, ext, goldenExt string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range paths {
		switch filepath.Ext(p) {
		case ext:
			out = append(out, p)
		case goldenExt:
			if _, err := os.Stat(strings.TrimSuffix(p, goldenExt) + ext); err != nil {
				t.Errorf("%s: no fixture for it", p)
			}
		default:
			t.Errorf("%s: not a fixture", p)
		}
	}
	return out
}

// TestGood: each testdata/good/NAME.yaml loads, and the configuration it
// gives, written out (Config.YAML), is NAME.golden. That written out
// loads again to the same Config.
func TestGood(t *testing.T) {
	paths := fixtures(t, "testdata/good", ".yaml", ".golden")
	if len(paths) < 8 {
		t.Errorf("only %d fixtures", len(paths))
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Load(filepath.Base(p), data)
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.YAML()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(p, ".yaml")+".golden", string(out))
			roundTrip(t, c)
		})
	}
}

// TestBad: each testdata/bad/NAME.yaml fails to load with exactly the
// errors of NAME.errors, one a line, each coded and placed in the file.
func TestBad(t *testing.T) {
	paths := fixtures(t, "testdata/bad", ".yaml", ".errors")
	if len(paths) < 20 {
		t.Errorf("only %d fixtures", len(paths))
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Load(filepath.Base(p), data)
			if err == nil {
				t.Fatalf("loaded without an error: %+v", c)
			}
			checkErrors(t, data, err)
			golden(t, strings.TrimSuffix(p, ".yaml")+".errors", err.Error()+"\n")
		})
	}
}

// golden compares got with the file at path, or rewrites it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// roundTrip fails t unless c written out loads to c again.
func roundTrip(t *testing.T, c *Config) {
	t.Helper()
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Load("again.yaml", out)
	if err != nil {
		t.Fatalf("the written configuration does not load: %v\n%s", err, out)
	}
	if !sameConfig(c, again) {
		t.Fatalf("written and loaded again, the configuration changed\nbefore: %+v\nafter:  %+v\n%s", *c, *again, out)
	}
}

// sameConfig compares configurations but for where they came from.
func sameConfig(a, b *Config) bool {
	x, y := *a, *b
	x.src, y.src = nil, nil
	return reflect.DeepEqual(x, y)
}

// checkErrors fails t unless err is a non-empty ErrorList of coded errors,
// each inside data and in order.
func checkErrors(t *testing.T, data []byte, err error) {
	t.Helper()
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %T is not an ErrorList: %v", err, err)
	}
	if len(list) == 0 {
		t.Fatal("an empty ErrorList")
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	lines := lineLengths(data)
	for i, e := range list {
		if !knownCode(e.Code) || e.Msg == "" || e.Line < 1 || e.Line > len(lines) || e.Col < 1 || e.Col > lines[e.Line-1]+1 {
			t.Fatalf("bad error %#v (the file has %d lines: %d)", e, len(lines), lines)
		}
		if i > 0 {
			p := list[i-1]
			if p.Line > e.Line || p.Line == e.Line && p.Col > e.Col {
				t.Fatalf("errors out of order: %v before %v", p, e)
			}
		}
	}
}

// lineLengths are the lengths of data's lines in characters, lines ended
// as YAML ends them.
func lineLengths(data []byte) []int {
	var out []int
	start := 0
	for i := 0; i < len(data); {
		if n := yamlpos.LineBreak(data[i:]); n > 0 {
			out = append(out, utf8.RuneCount(data[start:i]))
			i += n
			start = i
			continue
		}
		i++
	}
	return append(out, utf8.RuneCount(data[start:]))
}

func knownCode(code string) bool {
	for _, c := range Codes() {
		if c == code {
			return true
		}
	}
	return false
}
