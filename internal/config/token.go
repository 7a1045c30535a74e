package config

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"slices"
)

// Role is what a token may do. Reader, operator and admin go up: each may
// do all that the ones before it may. Ingest stands apart: it may only
// push events, which operator and admin may do too.
type Role string

// Roles.
const (
	// RoleReader may query and read: runbooks, runs, audit, gates, tags,
	// metrics.
	RoleReader Role = "reader"
	// RoleOperator may also act: gate overrides and reopens, runbook
	// runs, pushing events.
	RoleOperator Role = "operator"
	// RoleAdmin may also manage serve: its configuration, reloads.
	RoleAdmin Role = "admin"
	// RoleIngest may only push events (POST /v1/events): the token to
	// give an EventBridge API destination.
	RoleIngest Role = "ingest"
)

// Roles are the roles: reader, operator and admin, least first, then
// ingest.
func Roles() []Role { return []Role{RoleReader, RoleOperator, RoleAdmin, RoleIngest} }

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Allows reports whether a token with role r may do what need may. An
// invalid role allows nothing and is allowed by nothing.
func (r Role) Allows(need Role) bool {
	ladder := []Role{RoleReader, RoleOperator, RoleAdmin}
	switch {
	case !r.Valid() || !need.Valid():
		return false
	case need == RoleIngest:
		return r == RoleIngest || r == RoleOperator || r == RoleAdmin
	case r == RoleIngest:
		return false
	}
	return slices.Index(ladder, r) >= slices.Index(ladder, need)
}

// Token is one bearer token the API accepts.
type Token struct {
	// Name names the token in logs and the audit log; unique. Required.
	Name string `yaml:"name"`
	// Role is what the token may do. Required.
	Role Role `yaml:"role"`
	// SHA256 is the SHA-256 of the token, 64 hex digits, lowercase once
	// loaded (HashToken). Required.
	SHA256 string `yaml:"sha256"`
	// Rate is the most requests a second the token may make, sustained
	// (0.5 is one every 2 s); default 0, no limit. Burst is how many it
	// may make at once; default Rate rounded up, at least 1; only with a
	// Rate. A request over them is refused with 429 and Retry-After.
	Rate  float64 `yaml:"rate,omitempty"`
	Burst int     `yaml:"burst,omitempty"`
}

// HashToken is the SHA-256 of token in lowercase hex, as Token.SHA256
// holds it.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TokenMatches reports whether token hashes to hash (hex, in either case),
// in time that does not depend on where they differ. A hash that is not
// 64 hex digits matches nothing.
func TokenMatches(token, hash string) bool {
	want, err := hex.DecodeString(hash)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}

// Match is the token of a whose hash is token's. It compares token with
// every one of a's tokens, so that its time says nothing about which one
// matched, or how closely another did.
func (a Auth) Match(token string) (Token, bool) {
	got := sha256.Sum256([]byte(token))
	found := -1
	for i, t := range a.Tokens {
		want, err := hex.DecodeString(t.SHA256)
		if err != nil || len(want) != sha256.Size {
			continue
		}
		if subtle.ConstantTimeCompare(got[:], want) == 1 && found < 0 {
			found = i
		}
	}
	if found < 0 {
		return Token{}, false
	}
	return a.Tokens[found], true
}
