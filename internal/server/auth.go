package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"strings"
)

// Role is what a token may do. Reader < Operator < Admin: each may do
// what the ones before it may. Ingest stands apart: it may only push
// events, which Operator and Admin may do too.
type Role int

const (
	// Reader may query and read: /v1/query, runbooks, runs, the audit
	// log, gates (asking one records the decision, as `trailbook gate
	// check` does), tags and metrics.
	Reader Role = iota + 1
	// Operator may also override and reopen gates, and push events.
	Operator
	// Admin may also reload the runbooks.
	Admin
	// Ingest may only push events (POST /v1/events): the token to give an
	// EventBridge API destination.
	Ingest
)

// roleNames names each role.
func roleNames() map[Role]string {
	return map[Role]string{Reader: "reader", Operator: "operator", Admin: "admin", Ingest: "ingest"}
}

func (r Role) String() string {
	if n, ok := roleNames()[r]; ok {
		return n
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// ParseRole returns the role named s: reader, operator, admin or ingest.
func ParseRole(s string) (Role, error) {
	for r, n := range roleNames() {
		if n == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("role %q is not reader, operator, admin or ingest", s)
}

// MarshalText writes the role's name.
func (r Role) MarshalText() ([]byte, error) {
	if _, ok := roleNames()[r]; !ok {
		return nil, fmt.Errorf("no role %d", int(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText reads a role's name (ParseRole).
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// allows reports whether a token with role r may call an endpoint that
// needs role need.
func (r Role) allows(need Role) bool {
	switch {
	case need == Ingest:
		return r == Ingest || r == Operator || r == Admin
	case r == Ingest:
		return false
	}
	return r >= need
}

// Token is a bearer token the API accepts. The token itself is never
// kept: only the hex SHA-256 of its text (config.HashToken). Name is who calls
// with it: it is logged with each request and recorded as who overrides
// or reopens a gate.
type Token struct {
	Name   string
	Role   Role
	SHA256 string
	// Rate is the most requests a second the token may make, sustained,
	// and Burst how many at once (0: Rate rounded up, at least 1). A
	// request over it gets 429 rate-limited with Retry-After. Rate 0: no
	// limit.
	Rate  float64
	Burst int

	limit *limiter // set by newTokenSet
}

// needs names the roles that may call an endpoint needing r.
func (r Role) needs() string {
	switch r {
	case Ingest:
		return "ingest, operator or admin"
	case Admin:
		return "admin"
	}
	return r.String() + " or above"
}

// tokenSet holds the tokens with their hashes decoded.
type tokenSet struct {
	tokens []Token
	hashes [][sha256.Size]byte
}

func newTokenSet(tokens []Token) (tokenSet, []error) {
	var errs []error
	ts := tokenSet{}
	names := map[string]bool{}
	hashes := map[[sha256.Size]byte]string{}
	for i, t := range tokens {
		where := fmt.Sprintf("token %d (%s)", i, t.Name)
		if t.Name == "" {
			where = fmt.Sprintf("token %d", i)
			errs = append(errs, fmt.Errorf("%s: no name", where))
		} else if names[t.Name] {
			errs = append(errs, fmt.Errorf("%s: a second token with this name", where))
		}
		names[t.Name] = true
		if t.Rate < 0 || math.IsNaN(t.Rate) || math.IsInf(t.Rate, 0) || t.Burst < 0 || t.Burst > 0 && t.Rate == 0 {
			errs = append(errs, fmt.Errorf("%s: rate %g and burst %d: want a rate of 0 (none) or more and a burst of 0 or more, a burst only with a rate", where, t.Rate, t.Burst))
		}
		t.limit = newLimiter(t.Rate, t.Burst)
		if _, ok := roleNames()[t.Role]; !ok {
			errs = append(errs, fmt.Errorf("%s: no role (want reader, operator, admin or ingest)", where))
		}
		var h [sha256.Size]byte
		if b, err := hex.DecodeString(strings.ToLower(t.SHA256)); err != nil || len(b) != sha256.Size {
			errs = append(errs, fmt.Errorf("%s: sha256 is not 64 hex digits", where))
		} else {
			copy(h[:], b)
			if other, dup := hashes[h]; dup {
				errs = append(errs, fmt.Errorf("%s: the same token as %s", where, other))
			}
			hashes[h] = t.Name
		}
		ts.tokens = append(ts.tokens, t)
		ts.hashes = append(ts.hashes, h)
	}
	return ts, errs
}

// authenticate returns the token r carries, or the 401 or 403 to send.
// The presented token is hashed and compared with every configured hash
// in constant time; it is never logged or echoed.
func (ts tokenSet) authenticate(r *http.Request, need Role) (*Token, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, errorf(http.StatusUnauthorized, CodeUnauthorized, "this endpoint needs a bearer token (Authorization: Bearer TOKEN)")
	}
	scheme, secret, _ := strings.Cut(h, " ")
	secret = strings.TrimSpace(secret)
	if !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return nil, errorf(http.StatusUnauthorized, CodeUnauthorized, "the Authorization header is not a bearer token (Authorization: Bearer TOKEN)")
	}
	sum := sha256.Sum256([]byte(secret))
	found := -1
	for i := range ts.hashes {
		if subtle.ConstantTimeCompare(sum[:], ts.hashes[i][:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return nil, errorf(http.StatusUnauthorized, CodeUnauthorized, "the bearer token is not valid")
	}
	t := &ts.tokens[found]
	if !t.Role.allows(need) {
		return t, errorf(http.StatusForbidden, CodeForbidden, "token %s has role %s; this endpoint needs %s", t.Name, t.Role, need.needs())
	}
	return t, nil
}
