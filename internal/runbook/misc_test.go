package runbook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestLineEndings: a file with a byte order mark and CRLF line ends gives
// the errors, at the same places, as with LF.
func TestLineEndings(t *testing.T) {
	conn := newConn(t)
	paths, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		crlf := append([]byte("\xef\xbb\xbf"), bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))...)
		places := func(data []byte) []string {
			_, err := Load(context.Background(), []File{{Name: "f.yaml", Data: data}}, Options{Conn: conn, ReadFile: noFiles})
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("%s: %v", p, err)
			}
			var out []string
			for _, e := range list {
				out = append(out, fmt.Sprintf("%d:%d %s", e.Line, e.Col, e.Code))
			}
			return out
		}
		if got, want := places(crlf), places(data); !reflect.DeepEqual(got, want) {
			t.Errorf("%s with CRLF:\n%v\nwith LF:\n%v", p, got, want)
		}
	}
}

func TestTooLarge(t *testing.T) {
	data := []byte("name: big\ndescription: " + strings.Repeat("x", MaxFileBytes) + "\n")
	_, err := Load(context.Background(), []File{{Name: "big.yaml", Data: data}}, Options{Conn: newConn(t)})
	if err == nil || err.Error() != fmt.Sprintf("big.yaml:1:1: too-large: the file has %d bytes; the limit is %d", len(data), MaxFileBytes) {
		t.Errorf("got %v", err)
	}
}

// TestLoadFails: what is not a problem of the files is not an ErrorList.
func TestLoadFails(t *testing.T) {
	ctx := context.Background()
	if _, err := Load(ctx, nil, Options{}); err == nil || errors.As(err, new(ErrorList)) {
		t.Errorf("no connection: %v", err)
	}
	if _, err := LoadDir(ctx, "testdata/none", Options{Conn: newConn(t)}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no folder: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	data, err := os.ReadFile("testdata/good/tag-guard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Load(canceled, []File{{Name: "testdata/good/tag-guard.yaml", Data: data}}, Options{Conn: newConn(t)})
	if err == nil || errors.As(err, new(ErrorList)) || !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

// TestLoadNothing: an empty folder is an empty set.
func TestLoadNothing(t *testing.T) {
	set, err := LoadDir(context.Background(), t.TempDir(), Options{Conn: newConn(t)})
	if err != nil || len(set.Runbooks) != 0 || len(set.Channels) != 0 || set.Env == nil {
		t.Errorf("got %+v, %v", set, err)
	}
}

func TestUnstable(t *testing.T) {
	for src, want := range map[string][]string{
		"SELECT 1 ORDER BY 1 LIMIT 1":                                       nil,
		"SELECT 1 LIMIT 1":                                                  {"9 LIMIT"},
		"SELECT 1 OFFSET 2":                                                 {"9 OFFSET"},
		"SELECT * FROM (SELECT 1 LIMIT 1) ORDER BY 1 LIMIT 2":               {"24 LIMIT"},
		"SELECT row_number() OVER (ORDER BY x) FROM t LIMIT 3":              {"45 LIMIT"},
		"SELECT 'limit', \"LIMIT\" -- LIMIT\n/* LIMIT */ FROM t":            nil,
		"SELECT now(), current_date, :now, ${now}, t.now, x::now FROM t":    {"7 now", "14 current_date"},
		"SELECT random() FROM t USING SAMPLE 10%":                           {"7 random", "29 sample"},
		"SELECT 1 FROM t ORDER\n  BY 1 LIMIT 1":                             nil,
		"SELECT 1 FROM t WHERE x = 'it''s' LIMIT 1":                         {"34 LIMIT"},
		"SELECT 1 FROM (SELECT 2 ORDER BY 1) AS a, (SELECT 3 LIMIT 1) AS b": {"52 LIMIT"},
	} {
		var got []string
		for _, f := range unstable(src) {
			got = append(got, fmt.Sprintf("%d %s", f.off, strings.Fields(f.msg)[0]))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %v, want %v", src, got, want)
		}
	}
}
