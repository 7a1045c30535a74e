package config_test

import (
	"fmt"

	"github.com/trailbook/trailbook/internal/config"
)

// Load reports every problem of a file at once, each at its place.
func ExampleLoad() {
	_, err := config.Load("trailbook.yaml", []byte(`server:
  listen: 0.0.0.0:8080
  max_body: 10 megs
  query:
    timout: 5s
sources:
  folders:
    - {name: local, path: ./cloudtrail, poll: 5}
`))
	fmt.Println(err)
	// Output:
	// trailbook.yaml:2:11: insecure: server.listen 0.0.0.0:8080 is reachable beyond this machine (0.0.0.0), and auth.tokens has no admin token; add one, or listen on 127.0.0.1
	// trailbook.yaml:3:13: bad-value: server.max_body "10 megs" is not a size such as 10MB: unknown unit "megs"; want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB
	// trailbook.yaml:5:5: unknown-key: unknown key "timout" in server.query; did you mean timeout?
	// trailbook.yaml:8:47: bad-value: sources.folders[0].poll 5 has no unit; write 5s or 5ms
}

// A token is configured by its hash; the API compares a bearer token with
// the hashes.
func ExampleAuth_Match() {
	auth := config.Auth{Tokens: []config.Token{
		{Name: "ci", Role: config.RoleOperator, SHA256: config.HashToken("s3cr3t-t0ken-for-ci")},
	}}
	tok, ok := auth.Match("s3cr3t-t0ken-for-ci")
	fmt.Println(tok.Name, ok, tok.Role.Allows(config.RoleReader), tok.Role.Allows(config.RoleAdmin))
	_, ok = auth.Match("guess")
	fmt.Println(ok)
	// Output:
	// ci true true false
	// false
}
