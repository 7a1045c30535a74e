package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/trailbook/trailbook/internal/gen"
)

type genParams struct {
	events  int
	seed    int64
	out     string
	perFile int
}

func newGenCmd(env Env) *cobra.Command {
	var p genParams
	cmd := &cobra.Command{
		Use:   "gen --events N [--seed S] --out DIR",
		Short: "Write deterministic synthetic CloudTrail in the S3 layout",
		Long: `Gen writes N synthetic CloudTrail events as gzipped {"Records":[...]} files in
the S3 delivery layout (DIR/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/).
The same seed gives the same bytes.

Exit codes: 0 ok, 2 error.`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if p.events <= 0 {
				return errors.New("--events must be a positive number")
			}
			if p.out == "" {
				return errors.New("--out DIR is required")
			}
			if p.perFile < 0 {
				return errors.New("--per-file must not be negative")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGen(cmd.Context(), p, env)
		},
	}
	cmd.Flags().IntVar(&p.events, "events", 0, "number of events to write")
	cmd.Flags().Int64Var(&p.seed, "seed", 1, "random seed; the same seed gives the same bytes")
	cmd.Flags().StringVar(&p.out, "out", "", "output directory")
	cmd.Flags().IntVar(&p.perFile, "per-file", 0, "records per file (default 1000)")
	return cmd
}

func runGen(ctx context.Context, p genParams, env Env) error {
	st, err := gen.Generate(ctx, gen.Options{Events: p.events, Seed: p.seed, Out: p.out, PerFile: p.perFile})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %d events in %d files (%d bytes) under %s\n", st.Events, st.Files, st.Bytes, p.out)
	return nil
}
