package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/store"
)

func newAuditCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "The audit log: what runbooks and gates decided and did",
		Long: `Every evaluation, action and gate decision is appended to a hash-chained
log file beside the database (trailbook.audit.jsonl for trailbook.duckdb), and
copied to the store's audit table. See docs/audit.md.`,
	}
	cmd.AddCommand(newAuditVerifyCmd(env))
	return cmd
}

type auditVerifyParams struct {
	db, log string
}

func newAuditVerifyCmd(env Env) *cobra.Command {
	var p auditVerifyParams
	cmd := &cobra.Command{
		Use:   "verify [--db PATH] [--log PATH]",
		Short: "Check that the audit log was not edited, cut, reordered or added to",
		Long: `Verify reads the audit log and checks every line: that it is an entry, that
its hash matches its content, that seqs run from 1 without gaps and that each
entry names the hash of the one before. When the store exists, every row of
its audit table must equal the file's entry with the same seq, and the file
must not end before the table does.

It prints "audit log intact: N entries, last hash H", or one line per problem:
FILE:LINE: seq N: KIND: message, where KIND is malformed, edited, deleted,
inserted, reordered, truncated, or edited, deleted or inserted "(store copy)".
A missing log with no store copy is intact with 0 entries.

Exit codes: 0 intact, 1 the log or its store copy was tampered with, 2 error.`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			p.db = store.ResolvePath(p.db, env.Getenv)
			if p.log == "" {
				p.log = audit.DefaultPath(p.db)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAuditVerify(cmd.Context(), p, env.Stdout, env.Stderr)
		},
	}
	dbFlag(cmd, &p.db)
	cmd.Flags().StringVar(&p.log, "log", "", "audit log file (default: the database path with .duckdb replaced by .audit.jsonl)")
	return cmd
}

func runAuditVerify(ctx context.Context, p auditVerifyParams, stdout, stderr io.Writer) error {
	rows, err := auditStoreRows(ctx, p.db)
	if err != nil {
		return err
	}
	var r io.Reader = strings.NewReader("")
	f, err := os.Open(p.log)
	switch {
	case err == nil:
		defer f.Close()
		r = f
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("open audit log: %w", err)
	}
	rep := audit.Verify(r, p.log, rows)
	if rep.Err != nil {
		return rep.Err
	}
	if !rep.OK() {
		for _, pr := range rep.Problems {
			fmt.Fprintln(stdout, pr.Error())
		}
		n := "problems"
		if len(rep.Problems) == 1 {
			n = "problem"
		}
		return &exitError{code: ExitFindings, err: fmt.Errorf("audit log %s: %d %s", p.log, len(rep.Problems), n)}
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries, last hash %s\n", rep.Entries, rep.LastHash)
	if rows != nil && rep.StoreSeq < rep.LastSeq {
		fmt.Fprintf(stderr, "note: the store copy holds entries up to seq %d of %d; trailbook copies the rest when it next opens the log\n", rep.StoreSeq, rep.LastSeq)
	}
	return nil
}

// auditStoreRows reads the store's copy of the audit log, read-only: nil
// when there is no store.
func auditStoreRows(ctx context.Context, db string) ([]store.AuditRow, error) {
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	r, err := store.OpenReader(ctx, db, store.ReaderOptions{})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.AuditRows(ctx)
}
