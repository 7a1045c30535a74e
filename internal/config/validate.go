package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Validate checks c as Load does once the file is decoded: required
// values, ranges, enums, addresses, URLs and token hashes, and the rules
// between values (TLS needs both files; names are unique; the API listens
// beyond loopback only with an admin token). It returns an ErrorList, or
// nil. The problems of a Config from Load are placed where the file wrote
// the values, or what holds them; those of another Config at line 1 of
// "<config>". Messages name the key in any case.
func (c *Config) Validate() error {
	return sortErrors(c.check()).Err()
}

// check is Validate's problems, unsorted.
func (c *Config) check() ErrorList {
	src := c.src
	if src == nil {
		src = &source{file: "<config>", lines: 1}
	}
	k := &checker{src: src}
	c.checkStore(k)
	c.checkServer(k)
	c.checkAuth(k)
	c.checkSources(k)
	c.checkEngine(k)
	c.checkAWS(k)
	c.checkLog(k)
	c.checkPipeline(k)
	return k.errs
}

// checker collects Validate's problems.
type checker struct {
	src  *source
	errs ErrorList
}

// errorf reports a problem of the value at path, unless decoding it failed
// already.
func (k *checker) errorf(path, code, format string, args ...any) {
	if k.src.bad[path] {
		return
	}
	p := k.src.place(path)
	if p.line > k.src.lines { // yaml.v3 places an empty value's node on the line after
		p = spot{k.src.lines, 1}
	}
	k.errs = append(k.errs, &Error{File: k.src.file, Line: p.line, Col: p.col, Code: code, Msg: fmt.Sprintf(format, args...)})
}

func (k *checker) required(path, v string) bool {
	if strings.TrimSpace(v) == "" {
		k.errorf(path, CodeMissingField, "%s is required", path)
		return false
	}
	return true
}

func (k *checker) positive(path string, v int) {
	if v < 1 {
		k.errorf(path, CodeBadValue, "%s is %d; it must be at least 1", path, v)
	}
}

// atLeast checks a duration; least 0 allows 0, and more than 0 is the
// least otherwise.
func (k *checker) atLeast(path string, v, least time.Duration) {
	switch {
	case v < 0:
		k.errorf(path, CodeBadValue, "%s is %s; it cannot be negative", path, v)
	case least == 0:
	case v == 0 && least == time.Nanosecond:
		k.errorf(path, CodeBadValue, "%s is 0; it must be more than 0", path)
	case v < least:
		k.errorf(path, CodeBadValue, "%s is %s; it must be at least %s", path, v, least)
	}
}

// url checks an endpoint or queue URL: http or https, with a host.
func (k *checker) url(path, v string) {
	u, err := url.Parse(v)
	switch {
	case err != nil:
		k.errorf(path, CodeBadValue, "%s %q is not a URL", path, v)
	case u.Scheme != "http" && u.Scheme != "https":
		k.errorf(path, CodeBadValue, "%s %q is not an http:// or https:// URL", path, v)
	case u.Host == "":
		k.errorf(path, CodeBadValue, "%s %q has no host", path, v)
	}
}

// validName reports whether s can name a source or a token, which go in
// metrics, logs and checkpoints: up to 64 ASCII letters, digits, '.', '_'
// and '-', starting with a letter or digit.
func validName(s string) bool {
	if s == "" || len(s) > 64 || !isAlnum(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isLowerAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

func (k *checker) name(path, v string) bool {
	if !k.required(path, v) {
		return false
	}
	if !validName(v) {
		k.errorf(path, CodeBadValue, "%s %q must be up to 64 letters, digits, '.', '_' and '-', starting with a letter or digit", path, v)
		return false
	}
	return true
}

// validRegion reports whether s looks like a region name: lowercase
// letters and digits in groups joined by '-' (us-east-1, or a local
// server's own, such as local).
func validRegion(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

func (k *checker) region(path, v string) {
	if !validRegion(v) {
		k.errorf(path, CodeBadValue, "%s %q is not a region name such as us-east-1", path, v)
	}
}

func (c *Config) checkStore(k *checker) {
	k.required("store.path", c.Store.Path)
	if c.Store.MemoryLimit < 1 {
		k.errorf("store.memory_limit", CodeBadValue, "store.memory_limit is %s; it must be more than 0", c.Store.MemoryLimit)
	}
	k.positive("store.threads", c.Store.Threads)
	if c.Store.CheckpointWAL < 1*MB {
		k.errorf("store.checkpoint_wal", CodeBadValue, "store.checkpoint_wal is %s; it must be at least 1MB", c.Store.CheckpointWAL)
	}
	k.required("runbooks.dir", c.Runbooks.Dir)
}

func (c *Config) checkServer(k *checker) {
	s := c.Server
	host, ok := k.listen("server.listen", s.Listen)
	if ok && !loopback(host) && !c.hasAdmin() {
		where := "every interface"
		if host != "" {
			where = host
		}
		k.errorf("server.listen", CodeInsecure, "server.listen %s is reachable beyond this machine (%s), and auth.tokens has no admin token; add one, or listen on 127.0.0.1", s.Listen, where)
	}
	switch {
	case s.TLS.Cert != "" && s.TLS.Key == "":
		k.errorf("server.tls", CodeMissingField, "server.tls has a cert and no key; give both or neither")
	case s.TLS.Cert == "" && s.TLS.Key != "":
		k.errorf("server.tls", CodeMissingField, "server.tls has a key and no cert; give both or neither")
	}
	if s.MaxBody < 1 {
		k.errorf("server.max_body", CodeBadValue, "server.max_body is %s; it must be more than 0", s.MaxBody)
	}
	k.atLeast("server.query.timeout", s.Query.Timeout, time.Nanosecond)
	k.positive("server.query.max_rows", s.Query.MaxRows)
	k.atLeast("server.shutdown_timeout", s.ShutdownTimeout, time.Nanosecond)
}

// listen checks a host:port to listen on and returns its host.
func (k *checker) listen(path, v string) (string, bool) {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "address "+v+": ")
		if allDigits(v) {
			msg = fmt.Sprintf("write 127.0.0.1:%s for this machine, or :%s for every interface", v, v)
		}
		k.errorf(path, CodeBadValue, "%s %q is not host:port: %s", path, v, msg)
		return "", false
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		k.errorf(path, CodeBadValue, "%s %q has port %q; want a number from 0 to 65535", path, v, port)
		return "", false
	}
	if strings.ContainsAny(host, " /") {
		k.errorf(path, CodeBadValue, "%s %q has host %q, which is not a host name or IP address", path, v, host)
		return "", false
	}
	return host, true
}

// loopback reports whether host is only reachable from this machine.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func (c *Config) hasAdmin() bool {
	for _, t := range c.Auth.Tokens {
		if t.Role == RoleAdmin {
			return true
		}
	}
	return false
}

// emptyTokenHash is the SHA-256 of nothing: the hash of a token that was
// never typed.
func emptyTokenHash() string { return HashToken("") }

func (c *Config) checkAuth(k *checker) {
	names := map[string]string{}
	hashes := map[string]string{}
	for i, t := range c.Auth.Tokens {
		at := fmt.Sprintf("auth.tokens[%d]", i)
		if k.name(at+".name", t.Name) {
			if prev, dup := names[t.Name]; dup {
				k.errorf(at+".name", CodeDuplicate, "token name %s is already that of %s", t.Name, prev)
			} else {
				names[t.Name] = at
			}
		}
		switch {
		case t.Rate < 0 || math.IsNaN(t.Rate) || math.IsInf(t.Rate, 0):
			k.errorf(at+".rate", CodeBadValue, "%s.rate is %g; it must be 0 (no limit) or more requests a second", at, t.Rate)
		case t.Burst < 0:
			k.errorf(at+".burst", CodeBadValue, "%s.burst is %d; it must be at least 1", at, t.Burst)
		case t.Burst > 0 && t.Rate == 0:
			k.errorf(at+".burst", CodeBadValue, "%s.burst is set but %s.rate is not: a burst limits nothing without a rate", at, at)
		}
		switch {
		case t.Role == "":
			k.errorf(at+".role", CodeMissingField, "%s.role is required: reader, operator, admin or ingest", at)
		case !t.Role.Valid():
			k.errorf(at+".role", CodeBadValue, "%s.role %q is not reader, operator, admin or ingest", at, t.Role)
		}
		h := strings.ToLower(t.SHA256)
		raw, err := hex.DecodeString(h)
		switch {
		case t.SHA256 == "":
			k.errorf(at+".sha256", CodeMissingField, "%s.sha256 is required: the SHA-256 of the token (trailbook config hash-token)", at)
		case len(t.SHA256) != 2*sha256.Size:
			k.errorf(at+".sha256", CodeBadValue, "%s.sha256 must be 64 hex digits, the SHA-256 of the token (trailbook config hash-token); it has %d characters", at, utf8.RuneCountInString(t.SHA256))
		case err != nil || len(raw) != sha256.Size:
			k.errorf(at+".sha256", CodeBadValue, "%s.sha256 must be 64 hex digits, the SHA-256 of the token (trailbook config hash-token); it has other characters", at)
		case h == emptyTokenHash():
			k.errorf(at+".sha256", CodeBadValue, "%s.sha256 is the SHA-256 of an empty token", at)
		default:
			if prev, dup := hashes[h]; dup {
				k.errorf(at+".sha256", CodeDuplicate, "%s.sha256 is the hash of the token of %s too; one token has one role", at, prev)
			} else {
				hashes[h] = at
			}
		}
	}
}

func (c *Config) checkSources(k *checker) {
	names := map[string]string{}
	name := func(at, v string) {
		if !k.name(at+".name", v) {
			return
		}
		if prev, dup := names[v]; dup {
			k.errorf(at+".name", CodeDuplicate, "source name %s is already that of %s", v, prev)
			return
		}
		names[v] = at
	}
	for i, s := range c.Sources.Folders {
		at := fmt.Sprintf("sources.folders[%d]", i)
		name(at, s.Name)
		k.required(at+".path", s.Path)
		k.atLeast(at+".poll", s.Poll, 100*time.Millisecond)
	}
	for i, s := range c.Sources.S3 {
		at := fmt.Sprintf("sources.s3[%d]", i)
		name(at, s.Name)
		if k.required(at+".bucket", s.Bucket) {
			k.bucket(at+".bucket", s.Bucket)
		}
		if s.Region != "" {
			k.region(at+".region", s.Region)
		}
		if s.Endpoint != "" {
			k.url(at+".endpoint", s.Endpoint)
		}
		k.atLeast(at+".poll", s.Poll, time.Second)
	}
	for i, s := range c.Sources.SQS {
		at := fmt.Sprintf("sources.sqs[%d]", i)
		name(at, s.Name)
		if k.required(at+".queue_url", s.QueueURL) {
			k.url(at+".queue_url", s.QueueURL)
		}
		if s.Region != "" {
			k.region(at+".region", s.Region)
		}
		if s.Endpoint != "" {
			k.url(at+".endpoint", s.Endpoint)
		}
		if s.Wait < 0 || s.Wait > 20*time.Second || s.Wait%time.Second != 0 {
			k.errorf(at+".wait", CodeBadValue, "%s.wait is %s; it must be whole seconds from 0s to 20s, as SQS long polling allows", at, s.Wait)
		}
		if s.MaxMessages < 1 || s.MaxMessages > 10 {
			k.errorf(at+".max_messages", CodeBadValue, "%s.max_messages is %d; it must be from 1 to 10, as SQS allows", at, s.MaxMessages)
		}
	}
	k.positive("sources.http.max_batch_events", c.Sources.HTTP.MaxBatchEvents)
}

// validBucket reports whether s is an S3 bucket name: 3 to 63 lowercase
// letters, digits, '.' and '-', starting and ending with a letter or
// digit.
func validBucket(s string) bool {
	if len(s) < 3 || len(s) > 63 || !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerAlnum(s[i]) && s[i] != '.' && s[i] != '-' {
			return false
		}
	}
	return true
}

func (k *checker) bucket(path, v string) {
	switch {
	case strings.Contains(v, "://") || strings.Contains(v, "/"):
		k.errorf(path, CodeBadValue, "%s %q must be a bucket's name alone; put a key prefix in prefix", path, v)
	case !validBucket(v):
		k.errorf(path, CodeBadValue, "%s %q is not a bucket name: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit", path, v)
	}
}

func (c *Config) checkEngine(k *checker) {
	id := c.Engine.Identity
	k.required("engine.identity.user_agent", id.UserAgent)
	k.required("engine.identity.session_name", id.SessionName)
	seen := map[string]int{}
	for i, p := range id.Principals {
		at := fmt.Sprintf("engine.identity.principals[%d]", i)
		if !strings.HasPrefix(p, "arn:") {
			k.errorf(at, CodeBadValue, "%s %q is not an ARN (arn:...)", at, p)
			continue
		}
		if prev, dup := seen[p]; dup {
			k.errorf(at, CodeDuplicate, "%s repeats engine.identity.principals[%d]", at, prev)
			continue
		}
		seen[p] = i
	}
	k.positive("engine.evidence_rows", c.Engine.EvidenceRows)
	k.atLeast("engine.cache_ttl", c.Engine.CacheTTL, 0)
}

func (c *Config) checkAWS(k *checker) {
	if k.required("aws.region", c.AWS.Region) {
		k.region("aws.region", c.AWS.Region)
	}
	if c.AWS.Endpoint != "" {
		k.url("aws.endpoint", c.AWS.Endpoint)
	}
}

func (c *Config) checkLog(k *checker) {
	if f := c.Log.Format; f != FormatJSON && f != FormatText {
		k.errorf("log.format", CodeBadValue, "log.format %q is not json or text", f)
	}
}

func (c *Config) checkPipeline(k *checker) {
	p := c.Pipeline
	k.positive("pipeline.batch_events", p.BatchEvents)
	k.atLeast("pipeline.batch_wait", p.BatchWait, time.Nanosecond)
	k.positive("pipeline.queue", p.Queue)
	k.atLeast("pipeline.record_interval", p.RecordInterval, time.Nanosecond)
}
