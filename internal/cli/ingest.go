package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailbook/trailbook/internal/ingest"
	"github.com/trailbook/trailbook/internal/store"
)

// maxRejectLines is how many rejects ingest prints one by one; the rest are
// counted, and all of them are in the store's rejects table.
const maxRejectLines = 20

type ingestParams struct {
	db     string
	paths  []string
	noTags bool
}

func newIngestCmd(env Env) *cobra.Command {
	var p ingestParams
	cmd := &cobra.Command{
		Use:   "ingest [--db PATH] PATH...",
		Short: "Store CloudTrail events from files, directories or stdin (-)",
		Long: `Ingest reads CloudTrail data in any shape it is delivered in (S3 log files
{"Records":[...]}, plain or .gz, AWSLogs/ trees; JSON arrays; JSON lines;
EventBridge envelopes; LookupEvents and Lake output), detected from content.
Each event is stored once, however often it is ingested.

Bad records are reported with their file and position and kept in the
rejects table; every valid record is still stored. Each file is committed
atomically.

Exit codes: 0 all stored, 1 some records rejected, 2 error.`,
		Args: cobra.MinimumNArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			p.paths = args
			p.db = store.ResolvePath(p.db, env.Getenv)
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIngest(cmd.Context(), p, env)
		},
	}
	dbFlag(cmd, &p.db)
	cmd.Flags().BoolVar(&p.noTags, "no-tag-inventory", false, "store events without maintaining the tag inventory (to measure its cost)")
	cmd.Flags().MarkHidden("no-tag-inventory")
	return cmd
}

func runIngest(ctx context.Context, p ingestParams, env Env) error {
	// The Writer's batches (a commit's columns, about 700 MB at the
	// default batch) live outside DuckDB's memory limit; DuckDB gets less
	// than its default so that the two stay under 2 GiB together: at 600MB
	// a benchmark run peaked at 2,097 MiB, at 400MB single runs at 1.6 GB.
	st, err := store.Open(ctx, p.db, store.Options{MemoryLimit: "400MB"})
	if err != nil {
		return err
	}
	defer st.Close()
	opts := ingest.Options{NoTags: p.noTags}
	var bar *progressBar
	if env.StderrIsTerminal {
		bar = &progressBar{w: env.Stderr}
		opts.Progress = bar.update
	}
	sum, err := ingestInto(ctx, st, p.paths, env.Stdin, opts)
	if bar != nil {
		bar.clear()
	}
	if err != nil {
		printSummary(env.Stdout, sum)
		return err
	}
	printRejects(env.Stderr, sum.Rejects)
	printSummary(env.Stdout, sum)
	if sum.Rejected > 0 {
		return &exitError{code: ExitFindings}
	}
	return nil
}

func printRejects(w io.Writer, rejects []ingest.Reject) {
	for i, r := range rejects {
		if i == maxRejectLines {
			fmt.Fprintf(w, "rejected: ... and %d more (see the rejects table)\n", len(rejects)-i)
			return
		}
		fmt.Fprintf(w, "rejected: %s\n", describeReject(r))
	}
}

// describeReject names the input and the position of a reject.
func describeReject(r ingest.Reject) string {
	var b strings.Builder
	b.WriteString(r.Source)
	if r.Line > 0 {
		fmt.Fprintf(&b, ":%d", r.Line)
	}
	fmt.Fprintf(&b, ": record %d", r.Index)
	if r.Offset > 0 {
		fmt.Fprintf(&b, " (byte %d)", r.Offset)
	}
	b.WriteString(": ")
	b.WriteString(r.Reason)
	return b.String()
}

func printSummary(w io.Writer, s ingest.Summary) {
	rate := ""
	if s.Elapsed > 0 && s.Stored+s.Duplicates > 0 {
		rate = fmt.Sprintf(" (%.0f events/s)", float64(s.Stored+s.Duplicates)/s.Elapsed.Seconds())
	}
	fmt.Fprintf(w, "files %d, records %d, stored %d, duplicates %d, skipped %d, rejected %d in %s%s\n",
		s.Files, s.Records, s.Stored, s.Duplicates, s.Skipped, s.Rejected, s.Elapsed.Round(time.Millisecond), rate)
	if len(s.SkippedKinds) > 0 {
		kinds := make([]string, 0, len(s.SkippedKinds))
		for k := range s.SkippedKinds {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		parts := make([]string, len(kinds))
		for i, k := range kinds {
			parts[i] = fmt.Sprintf("%s %d", k, s.SkippedKinds[k])
		}
		fmt.Fprintf(w, "skipped: %s\n", strings.Join(parts, ", "))
	}
}

// progressBar redraws one line on a terminal.
type progressBar struct {
	w     io.Writer
	drawn bool
}

func (b *progressBar) update(p ingest.Progress) {
	if p.Done {
		return
	}
	const width = 30
	frac := 0.0
	if p.BytesTotal > 0 {
		frac = float64(p.BytesDone) / float64(p.BytesTotal)
	}
	n := int(frac * width)
	rate := 0.0
	if p.Elapsed > 0 {
		rate = float64(p.Counts.Stored+p.Counts.Duplicates) / p.Elapsed.Seconds()
	}
	fmt.Fprintf(b.w, "\r[%s%s] %3.0f%% files %d/%d, events %d, %.0f/s ",
		strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100, p.FilesDone, p.FilesTotal, p.Counts.Stored, rate)
	b.drawn = true
}

func (b *progressBar) clear() {
	if b.drawn {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", 100))
	}
}

// ingestInto runs an ingest into st through one writer.
func ingestInto(ctx context.Context, st *store.Store, paths []string, stdin io.Reader, opts ingest.Options) (ingest.Summary, error) {
	w, err := st.NewWriter(ctx)
	if err != nil {
		return ingest.Summary{}, err
	}
	if opts.NoTags {
		w.SkipTags()
	}
	sum, err := ingest.Run(ctx, w, paths, stdin, opts)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return sum, err
}
