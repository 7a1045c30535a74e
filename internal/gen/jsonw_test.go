package gen

import (
	"testing"
	"time"
)

func TestAppendTime(t *testing.T) {
	for sec := int64(-86400 * 800); sec < 86400*365*80; sec += 86400*3 + 3607 {
		want := time.Unix(sec, 0).UTC().Format("2006-01-02T15:04:05Z")
		if got := string(appendTime(nil, sec)); got != want {
			t.Fatalf("%d: got %s, want %s", sec, got, want)
		}
	}
}

func TestAppendLongDate(t *testing.T) {
	at := time.Date(2024, 4, 15, 0, 2, 3, 0, time.UTC).Unix()
	for _, c := range []struct {
		sec   int64
		comma bool
		want  string
	}{
		{at, true, "Apr 15, 2024, 12:02:03 AM"},
		{at + 10*3600, false, "Apr 15, 2024 10:02:03 AM"},
		{at + 12*3600, true, "Apr 15, 2024, 12:02:03 PM"},
		{at + 23*3600, true, "Apr 15, 2024, 11:02:03 PM"},
	} {
		if got := string(appendLongDate(nil, c.sec, c.comma)); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestJSONWriterNesting(t *testing.T) {
	var w jsonw
	w.open()
	w.str("a", "x")
	w.openK("b")
	w.arrK("c")
	w.elem("1")
	w.open()
	w.num("n", 2)
	w.close()
	w.closeArr()
	w.null("d")
	w.close()
	w.boolean("e", true)
	w.raw("f", "{}")
	w.time("g", 0)
	w.close()
	want := `{"a":"x","b":{"c":["1",{"n":2}],"d":null},"e":true,"f":{},"g":"1970-01-01T00:00:00Z"}`
	if string(w.b) != want {
		t.Errorf("got  %s\nwant %s", w.b, want)
	}
}
