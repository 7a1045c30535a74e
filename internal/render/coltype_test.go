package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseColType(t *testing.T) {
	good := []string{
		"VARCHAR",
		"TIMESTAMP_NS",
		"DECIMAL(38,10)",
		"INTEGER[]",
		"INTEGER[3][]",
		"MAP(VARCHAR, STRUCT(\"a\" INTEGER)[])",
		`STRUCT("the ""t""" TIMESTAMP, "" VARCHAR, "a, b" MAP(INTEGER, DOUBLE))`,
		`UNION("n" INTEGER, "s" VARCHAR)`,
		"STRUCT()",
	}
	for _, s := range good {
		typ, err := parseColType(s)
		if err != nil {
			t.Errorf("parseColType(%q): %v", s, err)
			continue
		}
		if got := typ.String(); got != s {
			t.Errorf("parseColType(%q).String() = %q", s, got)
		}
	}
	bad := []string{
		"", "varchar", "INTEGER[", "INTEGER[x]", "INTEGER[03]", "DECIMAL", "DECIMAL(1)",
		"MAP(VARCHAR)", "MAP(VARCHAR,VARCHAR)", `STRUCT(a INTEGER)`, `STRUCT("a" INTEGER`,
		`STRUCT("a INTEGER)`, "VARCHAR(1)", "VARCHAR ", "INTEGER[99999999999999999999]",
		strings.Repeat("STRUCT(\"a\" ", maxTypeDepth+2) + "INTEGER" + strings.Repeat(")", maxTypeDepth+2),
	}
	for _, s := range bad {
		if typ, err := parseColType(s); err == nil {
			t.Errorf("parseColType(%q) = %v, want an error", s, typ)
		}
	}
}

func TestColTypeHints(t *testing.T) {
	typ, err := parseColType(`STRUCT("u" UUID, "l" DATE[])`)
	if err != nil {
		t.Fatal(err)
	}
	if !typ.member("u").is("UUID") || !typ.member("l").element().is("DATE") {
		t.Errorf("hints lost in %v", typ)
	}
	var none *colType
	if none.is("UUID") || none.member("u") != nil || none.element() != nil || none.numeric() {
		t.Error("a nil colType claims a type")
	}
}

// FuzzParseColType checks that the parser never panics and that whatever
// it accepts prints back as it was written. Seeds are the driver's type
// names recorded in testdata/*.coltypes.
func FuzzParseColType(f *testing.F) {
	files, err := filepath.Glob("testdata/*.coltypes")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(src)), "\n") {
			if cols := strings.Split(line, "\t"); len(cols) >= 2 {
				f.Add(cols[1])
			}
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, err := parseColType(s)
		if err != nil {
			return
		}
		if got := typ.String(); got != s {
			t.Errorf("parseColType(%q).String() = %q", s, got)
		}
	})
}
