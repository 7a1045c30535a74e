package config

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trailbook/trailbook/internal/yamlpos"
)

// field is one key of a mapping in the file and what its value decodes
// into: a value (a scalar or a list of them), a mapping of sub fields, or
// a list of mappings, each entry's fields made by entry.
type field struct {
	key   string
	value func(d *decoder, n *yaml.Node, path string)
	sub   []field
	entry func() []field
	// present, when set, runs when the file has the key, before its
	// value is decoded.
	present func()
}

// fields are the keys of the file, bound to c: decoding a file lays its
// values over c's.
func (c *Config) fields() []field {
	return []field{
		group("store",
			text("path", &c.Store.Path),
			size("memory_limit", &c.Store.MemoryLimit),
			size("checkpoint_wal", &c.Store.CheckpointWAL),
			integer("threads", &c.Store.Threads),
		),
		group("runbooks",
			text("dir", &c.Runbooks.Dir),
			boolean("enforce", &c.Runbooks.Enforce),
			boolean("alerts", &c.Runbooks.Alerts),
			boolean("reload", &c.Runbooks.Reload),
		),
		group("server",
			text("listen", &c.Server.Listen),
			group("tls",
				text("cert", &c.Server.TLS.Cert),
				text("key", &c.Server.TLS.Key),
			),
			size("max_body", &c.Server.MaxBody),
			group("query",
				duration("timeout", &c.Server.Query.Timeout),
				integer("max_rows", &c.Server.Query.MaxRows),
			),
			duration("shutdown_timeout", &c.Server.ShutdownTimeout),
		),
		group("auth",
			entries("tokens", &c.Auth.Tokens, func() Token { return Token{} }, func(t *Token) []field {
				return []field{
					text("name", &t.Name),
					role("role", &t.Role),
					hash("sha256", &t.SHA256),
					number("rate", &t.Rate),
					integer("burst", &t.Burst),
				}
			}),
		),
		// A file that lists sources lists them all: the default folder
		// source goes.
		withPresent(group("sources",
			entries("folders", &c.Sources.Folders, defaultFolder, func(s *FolderSource) []field {
				return []field{
					text("name", &s.Name),
					text("path", &s.Path),
					duration("poll", &s.Poll),
				}
			}),
			entries("s3", &c.Sources.S3, defaultS3, func(s *S3Source) []field {
				return []field{
					text("name", &s.Name),
					text("bucket", &s.Bucket),
					text("prefix", &s.Prefix),
					text("region", &s.Region),
					text("endpoint", &s.Endpoint),
					duration("poll", &s.Poll),
				}
			}),
			entries("sqs", &c.Sources.SQS, defaultSQS, func(s *SQSSource) []field {
				return []field{
					text("name", &s.Name),
					text("queue_url", &s.QueueURL),
					text("region", &s.Region),
					text("endpoint", &s.Endpoint),
					duration("wait", &s.Wait),
					integer("max_messages", &s.MaxMessages),
				}
			}),
			group("http",
				boolean("enabled", &c.Sources.HTTP.Enabled),
				integer("max_batch_events", &c.Sources.HTTP.MaxBatchEvents),
			),
		), func() { c.Sources.Folders = nil }),
		group("engine",
			group("identity",
				text("user_agent", &c.Engine.Identity.UserAgent),
				text("session_name", &c.Engine.Identity.SessionName),
				texts("principals", &c.Engine.Identity.Principals),
			),
			integer("evidence_rows", &c.Engine.EvidenceRows),
			duration("cache_ttl", &c.Engine.CacheTTL),
		),
		group("aws",
			text("region", &c.AWS.Region),
			text("endpoint", &c.AWS.Endpoint),
		),
		group("log",
			level("level", &c.Log.Level),
			text("format", &c.Log.Format),
		),
		group("pipeline",
			integer("batch_events", &c.Pipeline.BatchEvents),
			duration("batch_wait", &c.Pipeline.BatchWait),
			integer("queue", &c.Pipeline.Queue),
			duration("record_interval", &c.Pipeline.RecordInterval),
		),
	}
}

// keyPaths are the paths of every key of the file, in the order of
// fields, an entry of a list written []: "sources.folders[].poll".
func keyPaths() []string {
	var out []string
	var walk func(prefix string, fields []field)
	walk = func(prefix string, fields []field) {
		for _, f := range fields {
			p := joinPath(prefix, f.key)
			out = append(out, p)
			switch {
			case f.sub != nil:
				walk(p, f.sub)
			case f.entry != nil:
				walk(p+"[]", f.entry())
			}
		}
	}
	walk("", Default().fields())
	return out
}

func group(key string, sub ...field) field { return field{key: key, sub: sub} }

func withPresent(f field, present func()) field {
	f.present = present
	return f
}

// entries is a list of mappings whose entries are appended to *p, each
// starting from newEntry() and decoded by the fields fieldsOf gives. A file
// that has the key replaces *p.
func entries[T any](key string, p *[]T, newEntry func() T, fieldsOf func(*T) []field) field {
	return field{
		key:     key,
		present: func() { *p = nil },
		entry: func() []field {
			*p = append(*p, newEntry())
			return fieldsOf(&(*p)[len(*p)-1])
		},
	}
}

func leaf(key string, value func(d *decoder, n *yaml.Node, path string)) field {
	return field{key: key, value: value}
}

// quoted is n for a message: its kind, and its value when a scalar ("the
// string \"yes\"", "the number 2.5", "a list").
func quoted(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return yamlpos.KindOf(n)
	}
	v := n.Value
	if r := []rune(v); len(r) > 40 {
		v = string(r[:40]) + "..."
	}
	switch n.ShortTag() {
	case "!!bool":
		return "the boolean " + v
	case "!!int", "!!float":
		return "the number " + v
	}
	return fmt.Sprintf("the string %q", v)
}

// allDigits reports whether s is a whole number too large for YAML to
// read as one.
func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// str is n's text, for any scalar but null and booleans (a number is
// taken as written).
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) || n.ShortTag() == "!!bool" {
		d.fail(n, path, CodeWrongType, "%s must be a string, not %s", path, quoted(n))
		return "", false
	}
	return n.Value, true
}

func text(key string, p *string) field {
	return leaf(key, func(d *decoder, n *yaml.Node, path string) {
		if s, ok := d.str(n, path); ok {
			*p = s
		}
	})
}

// texts is a list of strings; empty or null is none.
func texts(key string, p *[]string) field {
	return leaf(key, func(d *decoder, n *yaml.Node, path string) {
		if isNull(n) {
			*p = nil
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, CodeWrongType, "%s must be a list of strings, not %s", path, quoted(n))
			return
		}
		var out []string
		for i, e := range n.Content {
			if e = d.node(e); e == nil {
				continue
			}
			at := fmt.Sprintf("%s[%d]", path, i)
			d.src.at[at] = spot{e.Line, e.Column}
			if s, ok := d.str(e, at); ok {
				out = append(out, s)
			}
		}
		*p = out
	})
}

func role(key string, p *Role) field {
	return leaf(key, func(d *decoder, n *yaml.Node, path string) {
		if s, ok := d.str(n, path); ok {
			*p = Role(s)
		}
	})
}

// hash is a token hash, kept in lowercase.
func hash(key string, p *string) field {
	return leaf(key, func(d *decoder, n *yaml.Node, path string) {
		if s, ok := d.str(n, path); ok {
			*p = strings.ToLower(s)
		}
	})
}

func boolean(key string, p *bool) field {
	return leaf(key, func(d *decoder, n *yaml.Node, path string) {
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.fail(n, path, CodeWrongType, "%s must be true or false, not %s", path, quoted(n))
			return
		}
		*p = b
	})
}

func integer(key string, p *int) field {
	return leaf(key, func(d *decoder, n *yaml.Node, path string) {
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && allDigits(n.Value) {
			d.fail(n, path, CodeBadValue, "%s %s is too large", path, n.Value)
			return
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.fail(n, path, CodeWrongType, "%s must be a whole number, not %s", path, quoted(n))
			return
		}
		var v int
		if err := n.Decode(&v); err != nil {
			d.fail(n, path, CodeBadValue, "%s %s is too large", path, n.Value)
			return
		}
		*p = v
	})
}

// number is a whole or decimal number (2, 0.5).
func number(key string, p *float64) field {
	return leaf(key, func(d *decoder, n *yaml.Node, path string) {
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" && n.ShortTag() != "!!float" {
			d.fail(n, path, CodeWrongType, "%s must be a number, not %s", path, quoted(n))
			return
		}
		var v float64
		if err := n.Decode(&v); err != nil {
			d.fail(n, path, CodeBadValue, "%s %s is not a number", path, n.Value)
			return
		}
		*p = v
	})
}

func duration(key string, p *time.Duration) field {
	return leaf(key, func(d *decoder, n *yaml.Node, path string) {
		switch {
		case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
			v, err := time.ParseDuration(n.Value)
			if err != nil {
				d.fail(n, path, CodeBadValue, "%s %q is not a duration such as 10s, 1m30s or 200ms", path, n.Value)
				return
			}
			*p = v
		case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" && n.Value == "0":
			*p = 0
		case n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float"):
			d.fail(n, path, CodeBadValue, "%s %s has no unit; write %ss or %sms", path, n.Value, n.Value, n.Value)
		default:
			d.fail(n, path, CodeWrongType, "%s must be a duration such as 10s, 1m30s or 200ms, not %s", path, quoted(n))
		}
	})
}

func size(key string, p *Size) field {
	return leaf(key, func(d *decoder, n *yaml.Node, path string) {
		switch {
		case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int":
			var v int64
			if err := n.Decode(&v); err != nil {
				d.fail(n, path, CodeBadValue, "%s %s is too large", path, n.Value)
				return
			}
			if v < 0 {
				d.fail(n, path, CodeBadValue, "%s %s is negative", path, n.Value)
				return
			}
			*p = Size(v)
		case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
			v, err := ParseSize(n.Value)
			if err != nil {
				d.fail(n, path, CodeBadValue, "%s %q is not a size such as 10MB: %v", path, n.Value, err)
				return
			}
			*p = v
		case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && allDigits(n.Value):
			d.fail(n, path, CodeBadValue, "%s %s is too large", path, n.Value)
		default:
			d.fail(n, path, CodeWrongType, "%s must be a size such as 10MB or 512KiB, not %s", path, quoted(n))
		}
	})
}

// levels are the log levels a file may name.
func levels() map[string]slog.Level {
	return map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
}

func level(key string, p *slog.Level) field {
	return leaf(key, func(d *decoder, n *yaml.Node, path string) {
		s, ok := d.str(n, path)
		if !ok {
			return
		}
		l, ok := levels()[strings.ToLower(s)]
		if !ok {
			d.fail(n, path, CodeBadValue, "%s %q is not debug, info, warn or error", path, s)
			return
		}
		*p = l
	})
}
