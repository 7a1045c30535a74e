package config

import (
	"strings"
	"testing"
)

func TestHashToken(t *testing.T) {
	// sha256("secret-token"), as `printf %s secret-token | sha256sum` prints it.
	const want = "930bbdc51b6aed5c2a5678fd6e28dee7a05e8a4b643cfc0b4427c3efb86c0d94"
	got := HashToken("secret-token")
	if got != want {
		t.Fatalf("HashToken = %q; want %q", got, want)
	}
	if !TokenMatches("secret-token", got) || !TokenMatches("secret-token", strings.ToUpper(got)) {
		t.Error("a token does not match its own hash")
	}
	for _, h := range []string{"", got[:63], got + "0", "zz" + got[2:], HashToken("other")} {
		if TokenMatches("secret-token", h) {
			t.Errorf("the token matches %q", h)
		}
	}
}

func TestAuthMatch(t *testing.T) {
	a := Auth{Tokens: []Token{
		{Name: "broken", Role: RoleAdmin, SHA256: "not-hex"},
		{Name: "ci", Role: RoleOperator, SHA256: HashToken("ci-token")},
		{Name: "ops", Role: RoleAdmin, SHA256: strings.ToUpper(HashToken("ops-token"))},
	}}
	for token, want := range map[string]string{"ci-token": "ci", "ops-token": "ops", "": "", "not-hex": "", "ci-token ": ""} {
		got, ok := a.Match(token)
		if got.Name != want || ok != (want != "") {
			t.Errorf("Match(%q) = %q, %v; want %q", token, got.Name, ok, want)
		}
	}
	if (Auth{}).Enabled() || !a.Enabled() {
		t.Error("Enabled is wrong")
	}
}

func TestRoleAllows(t *testing.T) {
	for _, tc := range []struct {
		have, need Role
		want       bool
	}{
		{RoleReader, RoleReader, true},
		{RoleReader, RoleOperator, false},
		{RoleReader, RoleAdmin, false},
		{RoleOperator, RoleReader, true},
		{RoleOperator, RoleOperator, true},
		{RoleOperator, RoleAdmin, false},
		{RoleAdmin, RoleReader, true},
		{RoleAdmin, RoleOperator, true},
		{RoleAdmin, RoleAdmin, true},
		{RoleIngest, RoleIngest, true},
		{RoleIngest, RoleReader, false},
		{RoleIngest, RoleAdmin, false},
		{RoleReader, RoleIngest, false},
		{RoleOperator, RoleIngest, true},
		{RoleAdmin, RoleIngest, true},
		{"root", RoleReader, false},
		{RoleAdmin, "root", false},
		{"", "", false},
	} {
		if got := tc.have.Allows(tc.need); got != tc.want {
			t.Errorf("%q.Allows(%q) = %v; want %v", tc.have, tc.need, got, tc.want)
		}
	}
}
