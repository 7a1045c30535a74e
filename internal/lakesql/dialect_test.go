package lakesql

import (
	"context"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// dialectCase is one query of testdata/dialect.txtar with its hand-derived
// answer.
type dialectCase struct {
	name   string
	query  string
	params map[string]string
	want   []string
}

func loadDialectCases(t *testing.T) []dialectCase {
	t.Helper()
	ar, err := txtar.ParseFile("testdata/dialect.txtar")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dialectCase{}
	var order []string
	for _, f := range ar.Files {
		dot := strings.LastIndexByte(f.Name, '.')
		if dot < 0 {
			t.Fatalf("dialect.txtar: file %q has no extension", f.Name)
		}
		name, ext := f.Name[:dot], f.Name[dot+1:]
		c := byName[name]
		if c == nil {
			c = &dialectCase{name: name, params: map[string]string{}}
			byName[name] = c
			order = append(order, name)
		}
		text := string(f.Data)
		switch ext {
		case "sql":
			c.query = text
		case "params":
			for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
				k, v, ok := strings.Cut(line, "=")
				if !ok {
					t.Fatalf("%s.params: line %q is not name=value", name, line)
				}
				c.params[k] = v
			}
		case "want":
			for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
				if !strings.HasPrefix(line, "#") {
					c.want = append(c.want, line)
				}
			}
		default:
			t.Fatalf("dialect.txtar: unknown file kind %q", f.Name)
		}
	}
	var cases []dialectCase
	for _, name := range order {
		c := byName[name]
		if c.query == "" || c.want == nil {
			t.Fatalf("dialect.txtar: case %s needs both .sql and .want", name)
		}
		cases = append(cases, *c)
	}
	return cases
}

// TestDialect runs Lake queries against hand-written events and compares
// with answers worked out by hand (testdata/dialect.txtar).
func TestDialect(t *testing.T) {
	conn := newConn(t, true)
	ctx := context.Background()
	for _, c := range loadDialectCases(t) {
		t.Run(c.name, func(t *testing.T) {
			q, got, err := runLake(ctx, conn, c.query, c.params)
			if err != nil {
				t.Fatalf("%v", err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("rows differ\nSQL: %s\ngot:\n  %s\nwant:\n  %s", q.SQL,
					strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
		})
	}
}
