package config

import (
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

func TestDefault(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("the default does not validate: %v", err)
	}
	empty, err := Load("empty.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sameConfig(c, empty) {
		t.Errorf("an empty file is not the default:\n%+v\n%+v", *empty, *c)
	}
	roundTrip(t, c)
	// The quick start's folder, the push endpoint, dry run.
	if len(c.Sources.Folders) != 1 || c.Sources.Folders[0] != (FolderSource{Name: "local", Path: "./cloudtrail", Poll: 5 * time.Second}) ||
		!c.Sources.HTTP.Enabled || c.Runbooks.Enforce || c.Auth.Enabled() || c.Server.TLS.Enabled() {
		t.Errorf("unexpected default %+v", *c)
	}
	// Each call is a Config of its own.
	c.Sources.Folders[0].Name = "changed"
	if Default().Sources.Folders[0].Name != "local" {
		t.Error("Default shares its sources")
	}
}

// TestLoadOverDefaults: a file's values go over the defaults; what it does
// not say keeps them; a file with sources lists them all.
func TestLoadOverDefaults(t *testing.T) {
	c, err := Load("t.yaml", []byte("server:\n  query:\n    max_rows: 5\nlog: {level: Debug}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Server.Query.MaxRows = 5
	want.Log.Level = slog.LevelDebug
	if !sameConfig(c, want) {
		t.Errorf("got %+v\nwant %+v", *c, *want)
	}
	c, err = Load("t.yaml", []byte("sources:\n  s3: [{name: trail, bucket: trail-bucket}]\naws: {region: eu-west-3, endpoint: 'http://127.0.0.1:9000'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sources.Folders) != 0 || !c.Sources.HTTP.Enabled {
		t.Errorf("sources: %+v", c.Sources)
	}
	if s := c.Sources.S3[0]; s.Region != "eu-west-3" || s.Endpoint != "http://127.0.0.1:9000" || s.Poll != time.Minute {
		t.Errorf("the S3 source is not filled in from aws and the defaults: %+v", s)
	}
}

// TestValidateWithoutFile: the problems of a Config built in code name
// their key, at the start of "<config>".
func TestValidateWithoutFile(t *testing.T) {
	c := Default()
	c.Server.Listen = "0.0.0.0:8080"
	c.Auth.Tokens = []Token{{Name: "ci", Role: "boss", SHA256: HashToken("x")}}
	c.Pipeline.Queue = 0
	err := c.Validate()
	want := `<config>:1:1: bad-value: auth.tokens[0].role "boss" is not reader, operator, admin or ingest
<config>:1:1: bad-value: pipeline.queue is 0; it must be at least 1
<config>:1:1: insecure: server.listen 0.0.0.0:8080 is reachable beyond this machine (0.0.0.0), and auth.tokens has no admin token; add one, or listen on 127.0.0.1`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
	c.Auth.Tokens[0].Role = RoleAdmin
	c.Pipeline.Queue = 1000
	if err := c.Validate(); err != nil {
		t.Errorf("with an admin token: %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	if _, err := LoadFile("testdata/none.yaml"); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("LoadFile of a missing file: %v", err)
	}
	c, err := LoadFile("testdata/good/full.yaml")
	if err != nil || c.Store.MemoryLimit != 4*GiB {
		t.Errorf("LoadFile: %v", err)
	}
	_, err = LoadFile("testdata/bad/tls-half.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "testdata/bad/tls-half.yaml:3:5: ") {
		t.Errorf("LoadFile names errors by the path: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// TestDocs: docs/config.md names every key and every code.
func TestDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range keyPaths() {
		if !strings.Contains(string(doc), "`"+p+"`") {
			t.Errorf("docs/config.md does not document `%s`", p)
		}
	}
	for _, c := range Codes() {
		if !strings.Contains(string(doc), "`"+c+"`") {
			t.Errorf("docs/config.md does not document the code `%s`", c)
		}
	}
	// The example loads.
	_, example, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, _ = strings.Cut(example, "```")
	if !ok {
		t.Fatal("docs/config.md has no example")
	}
	if _, err := Load("docs/config.md", []byte(example)); err != nil {
		t.Errorf("the example of docs/config.md does not load: %v", err)
	}
}

func TestClosest(t *testing.T) {
	keys := []string{"listen", "tls", "max_body", "query", "shutdown_timeout"}
	for in, want := range map[string]string{
		"listn": "listen", "Listen": "listen", "maxBody": "max_body", "max-body": "max_body",
		"MAX_BODY": "max_body", "qurey": "query", "tsl": "tls", "shutdown-timeout": "shutdown_timeout",
		"certificate": "", "x": "", "": "", "timeout": "",
	} {
		if got := closest(in, keys); got != want {
			t.Errorf("closest(%q) = %q; want %q", in, got, want)
		}
	}
}
