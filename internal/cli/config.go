package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/trailbook/trailbook/internal/config"
)

// defaultConfig is the file config commands read when given none.
const defaultConfig = "trailbook.yaml"

func newConfigCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check serve's configuration file, and hash API tokens for it",
		Long: `The configuration of trailbook serve is a YAML file (trailbook.yaml by
default) laid over the defaults. See docs/config.md.`,
	}
	cmd.AddCommand(newConfigValidateCmd(env), newConfigHashTokenCmd(env))
	return cmd
}

func newConfigValidateCmd(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a configuration file and report every problem with its position",
		Long: `Validate loads FILE (default trailbook.yaml) as serve does, without starting
anything, and prints each problem as FILE:LINE:COL: CODE: message, or one
line saying what the configuration serves.

Exit codes: 0 no problems, 1 problems found, 2 error (FILE unreadable).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := defaultConfig
			if len(args) > 0 {
				file = args[0]
			}
			return validateConfig(file, env.Stdout, env.Stderr)
		},
	}
}

// validateConfig loads file and prints its problems, or a summary of it.
func validateConfig(file string, stdout, stderr io.Writer) error {
	c, err := config.LoadFile(file)
	var list config.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(stdout, e.Error())
		}
		fmt.Fprintln(stderr, plural(len(list), "problem"))
		return &exitError{code: ExitFindings}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: no problems: %s\n", file, summary(c))
	return nil
}

// summary says in one line what c serves.
func summary(c *config.Config) string {
	scheme := "http"
	if c.Server.TLS.Enabled() {
		scheme = "https"
	}
	var sources []string
	for _, s := range []struct {
		n    int
		kind string
	}{{len(c.Sources.Folders), "folder"}, {len(c.Sources.S3), "S3"}, {len(c.Sources.SQS), "SQS"}} {
		if s.n > 0 {
			sources = append(sources, fmt.Sprintf("%d %s", s.n, s.kind))
		}
	}
	if c.Sources.HTTP.Enabled {
		sources = append(sources, "HTTP push")
	}
	if len(sources) == 0 {
		sources = []string{"no sources"}
	}
	mode := "dry run"
	if c.Runbooks.Enforce {
		mode = "enforce"
	}
	return fmt.Sprintf("API on %s://%s with %s; sources: %s; runbooks in %s (%s)",
		scheme, c.Server.Listen, plural(len(c.Auth.Tokens), "token"), strings.Join(sources, ", "), c.Runbooks.Dir, mode)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func newConfigHashTokenCmd(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "hash-token",
		Short: "Print the sha256 line of an API token for auth.tokens",
		Long: `Hash-token reads a bearer token from stdin (from a terminal without echoing
it) and prints the line to put in an entry of auth.tokens, sha256: and the
token's SHA-256 in hex. The configuration holds only the hash; the token
itself is never printed. A token is one line of at least 16 characters
from A-Z a-z 0-9 - . _ ~ + / and =, as a bearer token may hold; make one
with, for instance, openssl rand -hex 32.

Exit codes: 0 printed, 2 error (no token, or not one a bearer token can be).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			token, err := readToken(env.Stdin, env.Stderr)
			if err != nil {
				return err
			}
			return hashToken(token, env.Stdout)
		},
	}
}

// maxTokenInput bounds what hash-token reads.
const maxTokenInput = 64 << 10

// readToken reads the token from in: without echo, after a prompt on
// prompt, when in is a terminal.
func readToken(in io.Reader, prompt io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(prompt, "token: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read token: %w", err)
		}
		return string(b), nil
	}
	b, err := io.ReadAll(io.LimitReader(in, maxTokenInput+1))
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	if len(b) > maxTokenInput {
		return "", fmt.Errorf("read token: more than %d bytes on stdin; give one token", maxTokenInput)
	}
	return string(b), nil
}

// hashToken checks token (surrounding white space aside) and writes its
// sha256 line. Its errors describe the token without quoting it.
func hashToken(token string, stdout io.Writer) error {
	token = strings.TrimSpace(token)
	switch {
	case token == "":
		return errors.New("hash token: no token on stdin")
	case strings.ContainsAny(token, "\r\n"):
		return errors.New("hash token: stdin has more than one line; give one token")
	case len(token) < 16:
		return fmt.Errorf("hash token: the token has %d characters; use at least 16 (openssl rand -hex 32 makes one)", len(token))
	}
	if i := bytes.IndexFunc([]byte(token), func(r rune) bool { return !tokenChar(r) }); i >= 0 {
		return fmt.Errorf("hash token: character %d of the token cannot be in a bearer token; use A-Z a-z 0-9 - . _ ~ + / and =", i+1)
	}
	fmt.Fprintf(stdout, "sha256: %s\n", config.HashToken(token))
	return nil
}

// tokenChar reports whether r may be in a bearer token (RFC 6750's
// b64token, with '=' anywhere).
func tokenChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~+/=", r)
}
