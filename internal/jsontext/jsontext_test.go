package jsontext

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`q"uote back\slash`, `"q\"uote back\\slash"`},
		{"nl\nt\tr\r ctl\x01\x1f", `"nl\nt\tr\r ctl\u0001\u001f"`},
		{"utf8 é ☃ <&>", `"utf8 é ☃ <&>"`},
		{"ls\u2028ps\u2029", `"ls\u2028ps\u2029"`},
		{"bad\xff\xfeend", `"bad\ufffd\ufffdend"`},
		{"cut\xe2\x98", `"cut\ufffd\ufffd"`},
	} {
		if got := string(AppendString(nil, c.in)); got != c.want {
			t.Errorf("%q: got %s, want %s", c.in, got, c.want)
		}
		if got := string(AppendString(nil, []byte(c.in))); got != c.want {
			t.Errorf("%q as bytes: got %s, want %s", c.in, got, c.want)
		}
	}
}

// FuzzAppendString: the output is always valid JSON, and reads back as
// the input wherever the input was valid UTF-8.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c\n", "é☃\u2028", "\xff", `{"k":[1,2]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString([]byte("x"), s)
		if !strings.HasPrefix(string(out), "x") {
			t.Fatal("prefix lost")
		}
		var back string
		if err := json.Unmarshal(out[1:], &back); err != nil {
			t.Fatalf("%q: invalid JSON %s: %v", s, out[1:], err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("%q read back as %q", s, back)
		}
	})
}
