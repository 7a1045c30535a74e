package lakesql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// TestRefuse checks that statements other than one SELECT, file and
// settings access, and malformed queries are refused with a stable code and
// a position in the user's text (testdata/refuse.txtar).
func TestRefuse(t *testing.T) {
	ar, err := txtar.ParseFile("testdata/refuse.txtar")
	if err != nil {
		t.Fatal(err)
	}
	queries := map[string]string{}
	var names []string
	expect := map[string]string{}
	for _, f := range ar.Files {
		name, ext, _ := strings.Cut(f.Name, ".")
		switch ext {
		case "sql":
			queries[name] = string(f.Data)
			names = append(names, name)
		case "err":
			expect[name] = strings.TrimSpace(string(f.Data))
		default:
			t.Fatalf("refuse.txtar: unknown file %s", f.Name)
		}
	}
	conn := newConn(t, false)
	ctx := context.Background()
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, ok := expect[name]
			if !ok {
				t.Fatalf("no %s.err", name)
			}
			fields := strings.SplitN(want, " ", 3)
			if len(fields) != 3 {
				t.Fatalf("%s.err: want CODE LINE:COL TEXT", name)
			}
			q, err := Translate(ctx, conn, queries[name], Options{})
			if err == nil {
				t.Fatalf("translated to %s, want %s", q.SQL, want)
			}
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("got %T %v, want *Error", err, err)
			}
			pos := fmt.Sprintf("%d:%d", le.Line, le.Col)
			if le.Code != fields[0] || pos != fields[1] || !strings.Contains(le.Msg, fields[2]) {
				t.Errorf("got %s %s %q, want %s", le.Code, pos, le.Msg, want)
			}
			if !strings.HasPrefix(le.Error(), "line "+pos+": ") {
				t.Errorf("Error() = %q, want it to start with the position", le.Error())
			}
		})
	}
}

// TestArgs checks binding of placeholder values.
func TestArgs(t *testing.T) {
	conn := newConn(t, false)
	ctx := context.Background()
	src := "SELECT 1 FROM events\nWHERE eventName = :name AND eventTime > ${since} AND awsRegion = :name"
	q, err := Translate(ctx, conn, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(q.Params, ","); got != "name,since" {
		t.Fatalf("Params = %s, want name,since", got)
	}
	tests := []struct {
		values  map[string]string
		want    string // fmt of the args, or the error codes and message
		errCode string
	}{
		{values: map[string]string{"name": "X", "since": "2024-01-01"}, want: "[X 2024-01-01]"},
		{values: map[string]string{"name": "X"}, errCode: CodeMissingParam, want: "line 2:41: no value for parameter since"},
		{values: map[string]string{}, errCode: CodeMissingParam, want: "line 2:19: no value for parameter name, since"},
		{values: map[string]string{"name": "X", "since": "s", "extra": "1", "b": "2"}, errCode: CodeUnknownParam,
			want: "the query has no parameter b, extra"},
	}
	for _, tt := range tests {
		args, err := q.Args(tt.values)
		if tt.errCode == "" {
			if err != nil || fmt.Sprint(args) != tt.want {
				t.Errorf("Args(%v) = %v, %v; want %s", tt.values, args, err, tt.want)
			}
			continue
		}
		var le *Error
		if !errors.As(err, &le) || le.Code != tt.errCode || err.Error() != tt.want {
			t.Errorf("Args(%v) error = %v, want %s %q", tt.values, err, tt.errCode, tt.want)
		}
	}
}
