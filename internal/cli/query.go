package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/render"
	"github.com/trailbook/trailbook/internal/store"
)

type queryParams struct {
	db     string
	format string
	params []string
	file   string
	out    string

	sql    string
	fmt    render.Format
	values map[string]string
}

func newQueryCmd(env Env) *cobra.Command {
	var p queryParams
	cmd := &cobra.Command{
		Use:   "query [--db PATH] [--format table|csv|json|jsonl|parquet] [--param NAME=VALUE]... (SQL | -f FILE)",
		Short: "Run CloudTrail Lake SQL over the stored events",
		Long: `Query runs a CloudTrail Lake (Trino) SELECT over the stored events. FROM may
name the events table, a Lake placeholder ($EDS_ID, <EDS ID>, ...), an event
data store ID or ARN, or any other single table name. --param binds ${name}
and :name placeholders as values. The query cannot read or write files or
change settings.

Formats: table (default), csv, json, jsonl, parquet (needs --out FILE).

Exit codes: 0 ok, 2 error (the message names the position in the SQL).`,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			return p.check(args, env)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runQuery(cmd.Context(), p, env)
		},
	}
	dbFlag(cmd, &p.db)
	cmd.Flags().StringVar(&p.format, "format", "table", "output format: table, csv, json, jsonl or parquet")
	cmd.Flags().StringArrayVar(&p.params, "param", nil, "bind NAME=VALUE to ${NAME} and :NAME (repeatable)")
	cmd.Flags().StringVarP(&p.file, "file", "f", "", "read the SQL from FILE (- for stdin)")
	cmd.Flags().StringVar(&p.out, "out", "", "output file (required for parquet)")
	return cmd
}

func (p *queryParams) check(args []string, env Env) error {
	p.db = store.ResolvePath(p.db, env.Getenv)
	switch {
	case p.file != "" && len(args) > 0:
		return errors.New("give the SQL as an argument or with -f, not both")
	case p.file == "" && len(args) != 1:
		return errors.New("give one SQL query as an argument (quote it) or -f FILE")
	case p.file == "-":
		b, err := io.ReadAll(env.Stdin)
		if err != nil {
			return fmt.Errorf("read SQL from stdin: %w", err)
		}
		p.sql = string(b)
	case p.file != "":
		b, err := os.ReadFile(p.file)
		if err != nil {
			return fmt.Errorf("read SQL: %w", err)
		}
		p.sql = string(b)
	default:
		p.sql = args[0]
	}
	p.values = map[string]string{}
	for _, kv := range p.params {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return fmt.Errorf("--param %q: want NAME=VALUE", kv)
		}
		if _, dup := p.values[name]; dup {
			return fmt.Errorf("--param %s given twice", name)
		}
		p.values[name] = value
	}
	if p.format == "parquet" {
		if p.out == "" {
			return errors.New("--format parquet needs --out FILE")
		}
		abs, err := filepath.Abs(p.out)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		p.out = abs
		return nil
	}
	f, err := render.ParseFormat(p.format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	p.fmt = f
	return nil
}

func runQuery(ctx context.Context, p queryParams, env Env) error {
	writable := ""
	if p.format == "parquet" {
		writable = p.out
	}
	r, err := query.Open(ctx, p.db, writable)
	if err != nil {
		return err
	}
	defer r.Close()
	if p.format == "parquet" {
		n, err := query.Parquet(ctx, r, p.sql, p.values, p.out)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "wrote %d rows to %s\n", n, p.out)
		return nil
	}
	w := env.Stdout
	if p.out != "" {
		f, err := os.Create(p.out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	rows, err := query.Run(ctx, r, p.sql, p.values)
	if err != nil {
		return err
	}
	defer rows.Close()
	if _, err := render.Write(w, p.fmt, rows); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}
