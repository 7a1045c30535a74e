package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the scripts run `trailbook` as a real process, built from
// this package's Main.
func TestMain(m *testing.M) {
	// Tests that run trailbook as a process of their own (serve, to be
	// killed) run this binary with TRAILBOOK_RUN_MAIN=1.
	if os.Getenv("TRAILBOOK_RUN_MAIN") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Main(ctx, os.Args[1:], Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
		stop()
		os.Exit(code)
	}
	testscript.Main(m, map[string]func(){
		"trailbook": func() {
			os.Exit(Main(context.Background(), os.Args[1:], Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
		},
	})
}

// TestScripts runs testdata/script/*.txtar: each is a sequence of
// commands with their expected exit codes and output, plus its input files.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"truncate":  cmdTruncate,
			"gzip":      cmdGzip,
			"bigrecord": cmdBigRecord,
		},
		Setup: func(env *testscript.Env) error {
			// A fixed store path per script, as a user's would be.
			env.Setenv("TRAILBOOK_DB", filepath.Join(env.WorkDir, "trailbook.duckdb"))
			// Real CloudTrail from public projects, copied into the
			// decoder's testdata with its NOTICE and licences.
			data, err := filepath.Abs(filepath.Join("..", "cloudtrail", "testdata"))
			if err != nil {
				return err
			}
			env.Setenv("CTDATA", data)
			// The shipped runbook library.
			runbooks, err := filepath.Abs(filepath.Join("..", "..", "runbooks"))
			if err != nil {
				return err
			}
			env.Setenv("RUNBOOKS", runbooks)
			return nil
		},
	})
}

// cmdTruncate: truncate FILE N keeps the first N bytes of FILE.
func cmdTruncate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: truncate FILE N")
	}
	var n int
	if _, err := fmt.Sscan(args[1], &n); err != nil {
		ts.Fatalf("truncate: %v", err)
	}
	ts.Check(os.Truncate(ts.MkAbs(args[0]), int64(n)))
}

// cmdGzip: gzip SRC DST writes SRC gzipped to DST.
func cmdGzip(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gzip SRC DST")
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(ts.ReadFile(args[0])))
	ts.Check(err)
	ts.Check(zw.Close())
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b.Bytes(), 0o644))
}

// cmdBigRecord: bigrecord FILE MB writes one CloudTrail record of about MB
// megabytes to FILE.
func cmdBigRecord(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: bigrecord FILE MB")
	}
	var mb int
	if _, err := fmt.Sscan(args[1], &mb); err != nil {
		ts.Fatalf("bigrecord: %v", err)
	}
	var b bytes.Buffer
	b.WriteString(`{"eventVersion":"1.08","eventTime":"2024-05-02T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","eventID":"big-1","requestParameters":{"blob":"`)
	b.Write(bytes.Repeat([]byte("A"), mb<<20))
	b.WriteString(`"}}` + "\n")
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b.Bytes(), 0o644))
}
