package runbook

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trailbook/trailbook/internal/yamlpos"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the expected errors of testdata/bad: the .errors files and the errors sections of the .txtar archives")

// TestBad: each testdata/bad/NAME.yaml, loaded alone, fails with exactly
// the errors of NAME.errors; each testdata/bad/*.txtar, its files loaded
// as one folder, with exactly its errors section.
func TestBad(t *testing.T) {
	conn := newConn(t)
	paths, err := filepath.Glob("testdata/bad/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range paths {
		switch filepath.Ext(p) {
		case ".yaml":
			n++
			t.Run(filepath.Base(p), func(t *testing.T) {
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				files := []File{{Name: filepath.Base(p), Data: data}}
				got := loadErrors(t, files, Options{Conn: conn, ReadFile: noFiles})
				golden(t, strings.TrimSuffix(p, ".yaml")+".errors", got)
			})
		case ".txtar":
			n++
			t.Run(filepath.Base(p), func(t *testing.T) {
				ar, err := txtar.ParseFile(p)
				if err != nil {
					t.Fatal(err)
				}
				files, readFile := archiveFiles(ar)
				got := loadErrors(t, files, Options{Conn: conn, ReadFile: readFile})
				goldenSection(t, p, ar, got)
			})
		case ".errors":
			if _, err := os.Stat(strings.TrimSuffix(p, ".errors") + ".yaml"); err != nil {
				t.Errorf("%s: no fixture for it", p)
			}
		default:
			t.Errorf("%s: not a fixture", p)
		}
	}
	if n < 20 {
		t.Errorf("only %d fixtures", n)
	}
}

// loadErrors loads files, which must fail, and returns the errors, one a
// line, after checking what every ErrorList must be.
func loadErrors(t *testing.T, files []File, opts Options) string {
	t.Helper()
	set, err := Load(context.Background(), files, opts)
	if err == nil {
		t.Fatalf("loaded %d runbooks without an error", len(set.Runbooks))
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %T is not an ErrorList: %v", err, err)
	}
	checkErrors(t, withReadFiles(files, list, opts.ReadFile), list)
	return err.Error() + "\n"
}

// withReadFiles adds to files those that readFile gives for the errors of
// list in other files: a schema file's problems are reported in it.
func withReadFiles(files []File, list ErrorList, readFile func(string) ([]byte, error)) []File {
	out := slices.Clone(files)
	for _, e := range list {
		if readFile == nil || slices.ContainsFunc(out, func(f File) bool { return f.Name == e.File }) {
			continue
		}
		if data, err := readFile(e.File); err == nil {
			out = append(out, File{Name: e.File, Data: data})
		}
	}
	return out
}

// archiveFiles are the YAML files of ar, to load, and a ReadFile over its
// other files; its errors section is neither.
func archiveFiles(ar *txtar.Archive) ([]File, func(string) ([]byte, error)) {
	var files []File
	other := map[string][]byte{}
	for _, f := range ar.Files {
		switch {
		case f.Name == "errors":
		case (strings.HasSuffix(f.Name, ".yaml") || strings.HasSuffix(f.Name, ".yml")) && strings.Count(f.Name, "/") <= 1:
			// A folder's runbooks, as LoadDir reads them: not those of
			// its subfolders (schemas, events).
			files = append(files, File{Name: f.Name, Data: f.Data})
		default:
			other[f.Name] = f.Data
		}
	}
	return files, func(name string) ([]byte, error) {
		if data, ok := other[path.Clean(filepath.ToSlash(name))]; ok {
			return data, nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
}

func noFiles(name string) ([]byte, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
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
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("errors differ from %s\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// goldenSection compares got with the errors section of the archive at
// path, or rewrites the section under -update.
func goldenSection(t *testing.T, path string, ar *txtar.Archive, got string) {
	t.Helper()
	for i, f := range ar.Files {
		if f.Name != "errors" {
			continue
		}
		if *update {
			ar.Files[i].Data = []byte(got)
			if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
				t.Fatal(err)
			}
		} else if got != string(f.Data) {
			t.Errorf("errors differ from the errors section of %s\ngot:\n%s\nwant:\n%s", path, got, f.Data)
		}
		return
	}
	t.Fatalf("%s has no errors section", path)
}

// checkErrors fails t unless every error of list is coded, positioned
// inside its file, and in order.
func checkErrors(t *testing.T, files []File, list ErrorList) {
	t.Helper()
	lines := map[string]int{}
	for _, f := range files {
		lines[f.Name] = yamlpos.LineCount(bytes.TrimPrefix(f.Data, []byte("\xef\xbb\xbf")))
	}
	if len(list) == 0 {
		t.Fatal("an empty ErrorList")
	}
	for i, e := range list {
		n, ok := lines[e.File]
		if !ok || !knownCode(e.Code) || e.Msg == "" || e.Line < 1 || e.Col < 1 || e.Line > n {
			t.Fatalf("bad error %#v (the file has %d lines)", e, n)
		}
		if i > 0 {
			p := list[i-1]
			if p.File > e.File || p.File == e.File && (p.Line > e.Line || p.Line == e.Line && p.Col > e.Col) {
				t.Fatalf("errors out of order: %v before %v", p, e)
			}
		}
	}
}

func knownCode(code string) bool {
	switch code {
	case CodeSyntax, CodeUnknownKey, CodeWrongType, CodeMissingField, CodeBadValue, CodeDuplicate,
		CodeUnsupported, CodeBadPattern, CodeBadSQL, CodeBadCEL, CodeBadTemplate, CodeBadChannel,
		CodeUnknownChannel, CodeUnknownGate, CodeNondeterministic, CodeBadTest, CodeMissingTests, CodeTooLarge:
		return true
	}
	return false
}
