// Package cli is the trailbook command tree. Commands are built by
// functions, check their flags up front and do their work in functions
// over readers and writers, so tests drive them exactly as a user does.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes, the same for every command.
const (
	// ExitOK: the command did what was asked and found nothing wrong.
	ExitOK = 0
	// ExitFindings: the command ran to the end but found problems in its
	// input (for ingest: some records were rejected).
	ExitFindings = 1
	// ExitError: bad usage, bad input that stopped the command (such as
	// SQL that does not translate), or a failure of the store.
	ExitError = 2
)

// Env is what a command may touch of the outside world. Main passes the
// process's own; tests pass their own.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// StderrIsTerminal enables progress display.
	StderrIsTerminal bool
}

// exitError carries an exit code other than ExitError up to Main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Main runs the command line args (without the program name) and returns
// the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	root := newRoot(env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(env.Stderr, "trailbook:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(env.Stderr, "trailbook:", err)
	return ExitError
}

func newRoot(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "trailbook",
		Short: "Query and act on AWS CloudTrail events, on one machine",
		Long: `Trailbook ingests CloudTrail events from every shape they come in and answers
CloudTrail Lake SQL over them from an embedded DuckDB store.

Exit codes: 0 ok, 1 the input had problems (e.g. rejected records), 2 error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(
		newIngestCmd(env),
		newQueryCmd(env),
		newGenCmd(env),
		newDemoCmd(env),
		newTagsCmd(env),
		newAuditCmd(env),
		newRunbookCmd(env),
		newGateCmd(env),
		newServeCmd(env),
		newConfigCmd(env),
	)
	return root
}

// dbFlag registers --db on cmd, defaulting to $TRAILBOOK_DB, then
// ./trailbook.duckdb.
func dbFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "db", "", "database file (default $TRAILBOOK_DB, else ./trailbook.duckdb)")
}
