package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/config"
)

// TestAuth calls one endpoint of each role with each token, no token and
// a wrong one: 401 without a valid token (with WWW-Authenticate: Bearer),
// 403 when the role is too low, 200 otherwise. No token's text appears
// in a response or the log.
func TestAuth(t *testing.T) {
	f := newFixture(t)
	endpoints := []struct {
		name         string
		method, path string
		body         any
		// allowed are the tokens that get 200; the others get 403.
		allowed []string
	}{
		{"read", "GET", "/v1/runbooks", nil, []string{"reader", "ops", "intern", "admin"}},
		{"query", "POST", "/v1/query", map[string]any{"sql": "SELECT count(*) AS n FROM events"}, []string{"reader", "ops", "intern", "admin"}},
		{"metrics", "GET", "/metrics", nil, []string{"reader", "ops", "intern", "admin"}},
		// Gate release names no owners: any operator may reopen it.
		{"operate", "POST", "/v1/gates/release/reopen", map[string]any{"reason": "auth test"}, []string{"ops", "intern", "admin"}},
		{"admin", "POST", "/v1/reload", nil, []string{"admin"}},
		{"ingest", "POST", "/v1/events", `{"Records":[]}`, []string{"eventbridge", "ops", "intern", "admin"}},
	}
	for _, e := range endpoints {
		t.Run(e.name, func(t *testing.T) {
			r := f.do(e.method, e.path, "", e.body)
			r.apiError(t, http.StatusUnauthorized, CodeUnauthorized)
			if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="trailbook"` {
				t.Errorf("no token: WWW-Authenticate %q", got)
			}
			r = f.do(e.method, e.path, "tb_not-a-token-anyone-has", e.body)
			r.apiError(t, http.StatusUnauthorized, CodeUnauthorized)
			if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") || !strings.Contains(got, `error="invalid_token"`) {
				t.Errorf("wrong token: WWW-Authenticate %q", got)
			}
			for name := range fixtureRoles {
				r := f.do(e.method, e.path, name, e.body)
				allowed := false
				for _, a := range e.allowed {
					allowed = allowed || a == name
				}
				if allowed {
					r.ok(t, nil)
				} else {
					r.apiError(t, http.StatusForbidden, CodeForbidden)
				}
				if strings.Contains(string(r.body), f.secrets[name]) {
					t.Errorf("%s: the response holds the token: %s", name, r.body)
				}
			}
		})
	}
	// Other schemes, and a bearer with nothing after it, are not tokens.
	for _, h := range []string{"Basic " + f.secrets["admin"], "Bearer", "Bearer ", f.secrets["admin"]} {
		req, _ := http.NewRequest("GET", f.srv.URL+"/v1/runbooks", nil)
		req.Header.Set("Authorization", h)
		res, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %.12q...: status %d, want 401", h, res.StatusCode)
		}
	}
	// /healthz and /readyz need no token.
	f.do("GET", "/healthz", "", nil).ok(t, nil)
	f.do("GET", "/readyz", "", nil).ok(t, nil)

	logs := f.logs.String()
	for name, secret := range f.secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %s's token", name)
		}
	}
	if strings.Contains(logs, "Bearer") || strings.Contains(logs, "Authorization") {
		t.Errorf("the log mentions the Authorization header:\n%s", logs)
	}
	// Requests are logged with the token's name.
	if !strings.Contains(logs, "token=ops") || !strings.Contains(logs, "path=/v1/gates/release/reopen") || !strings.Contains(logs, "status=403") {
		t.Errorf("the log lacks request lines:\n%s", logs)
	}
}

// TestNoTokens: with no tokens configured, everything but the probes
// answers 401.
func TestNoTokens(t *testing.T) {
	f := newFixture(t, func(d *Deps) { d.Tokens = nil })
	f.do("GET", "/v1/runbooks", "", nil).apiError(t, http.StatusUnauthorized, CodeUnauthorized)
	f.do("GET", "/v1/runbooks", "anything", nil).apiError(t, http.StatusUnauthorized, CodeUnauthorized)
	f.do("GET", "/healthz", "", nil).ok(t, nil)
}

// TestNewRefuses: New reports every problem with Deps at once.
func TestNewRefuses(t *testing.T) {
	_, err := New(Deps{Tokens: []Token{
		{Name: "a", Role: Reader, SHA256: config.HashToken("x")},
		{Name: "a", Role: Admin, SHA256: config.HashToken("y")},
		{Name: "b", Role: Reader, SHA256: "abc"},
		{Name: "c", SHA256: config.HashToken("z")},
		{Name: "d", Role: Operator, SHA256: config.HashToken("x")},
		{Role: Reader, SHA256: config.HashToken("w")},
	}})
	if err == nil {
		t.Fatal("New accepted bad Deps")
	}
	for _, want := range []string{"no store", "no gate checker", "no audit log path", "token 1 (a): a second token with this name",
		"token 2 (b): sha256 is not 64 hex digits", "token 3 (c): no role", "token 4 (d): the same token as a", "token 5: no name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestRoles(t *testing.T) {
	for _, r := range []Role{Reader, Operator, Admin, Ingest} {
		b, err := r.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Role
		if err := back.UnmarshalText(b); err != nil || back != r {
			t.Errorf("%s: round trip gave %v, %v", r, back, err)
		}
	}
	if _, err := ParseRole("root"); err == nil {
		t.Error("ParseRole accepted root")
	}
	cases := []struct {
		r, need Role
		ok      bool
	}{
		{Reader, Reader, true}, {Reader, Operator, false}, {Operator, Reader, true}, {Admin, Operator, true},
		{Ingest, Reader, false}, {Ingest, Ingest, true}, {Reader, Ingest, false}, {Operator, Ingest, true}, {Admin, Admin, true},
	}
	for _, c := range cases {
		if got := c.r.allows(c.need); got != c.ok {
			t.Errorf("%s allows %s: %v, want %v", c.r, c.need, got, c.ok)
		}
	}
}

// A token's configuration keeps its name, its role and the hash of its
// text, never the text.
func ExampleToken() {
	secret := "tb_3f9c2e7a5b1d4c8e" // make yours: tb_$(openssl rand -hex 32)
	tok := Token{Name: "ci-deploy", Role: Reader, SHA256: config.HashToken(secret)}
	fmt.Println(tok.Name, tok.Role, tok.SHA256)
	// Output: ci-deploy reader e361a39dff9a2a15184ee66396f05757b22eccd178361f6aaefd40087cbb59bd
}

// TestRateLimit: a token with a rate is refused with 429 rate-limited and
// a Retry-After once its burst is spent; other tokens are not.
func TestRateLimit(t *testing.T) {
	f := newFixture(t, func(d *Deps) {
		for i := range d.Tokens {
			if d.Tokens[i].Name == "reader" {
				d.Tokens[i].Rate, d.Tokens[i].Burst = 0.01, 2 // one every 100 s
			}
		}
	})
	f.do("GET", "/v1/runbooks", "reader", nil).ok(t, nil)
	f.do("GET", "/v1/runbooks", "reader", nil).ok(t, nil)
	r := f.do("GET", "/v1/runbooks", "reader", nil)
	r.apiError(t, http.StatusTooManyRequests, CodeRateLimited)
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 100 {
		t.Errorf("Retry-After %q, want 1 to 100 seconds", r.header.Get("Retry-After"))
	}
	f.do("GET", "/v1/runbooks", "ops", nil).ok(t, nil)
	if !strings.Contains(f.logs.String(), "status=429") {
		t.Errorf("the refusal is not in the request log:\n%s", f.logs.String())
	}
}

// TestLimiter: the bucket refills at its rate up to its burst.
func TestLimiter(t *testing.T) {
	l := newLimiter(2, 3) // two a second, three at once
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for i, c := range []struct {
		ms   int
		ok   bool
		wait time.Duration
	}{
		{0, true, 0}, {0, true, 0}, {0, true, 0}, // the burst
		{0, false, 500 * time.Millisecond},
		{499, false, time.Millisecond},
		{500, true, 0},
		{500, false, 500 * time.Millisecond},
		{10000, true, 0}, {10000, true, 0}, {10000, true, 0}, // refilled to the burst, not beyond
		{10000, false, 500 * time.Millisecond},
		{9000, false, 500 * time.Millisecond}, // a clock going back refills nothing
	} {
		ok, wait := l.take(at(c.ms))
		if ok != c.ok || wait.Round(time.Millisecond) != c.wait {
			t.Errorf("take %d at %d ms: %v, %v; want %v, %v", i, c.ms, ok, wait, c.ok, c.wait)
		}
	}
	if newLimiter(0, 5) != nil {
		t.Error("rate 0 limits")
	}
	if l := newLimiter(0.5, 0); l.burst != 1 {
		t.Errorf("burst %g for rate 0.5, want 1", l.burst)
	}
}
