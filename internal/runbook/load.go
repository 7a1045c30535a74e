package runbook

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"

	"github.com/trailbook/trailbook/internal/action/alert"
	"github.com/trailbook/trailbook/internal/lakesql"
)

// gateRef is a gate action's gate name, where it is written.
type gateRef struct {
	name string
	pos  Pos
}

// File is one file of a runbook folder.
type File struct {
	// Name is the file's path as errors and positions show it; the
	// event files its tests name are read relative to its directory.
	Name string
	Data []byte
}

// Options are what Load needs besides the files.
type Options struct {
	// Conn translates queries (lakesql.Translate); it reads no table, so
	// an in-memory DuckDB, sql.Open("duckdb", ""), will do. Required.
	Conn lakesql.Conn
	// ReadFile reads the event files that tests name, given the path
	// joined to the runbook file's directory. Nil means os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

// loader is the state of one Load.
type loader struct {
	ctx      context.Context
	opts     Options
	env      *cel.Env
	errs     ErrorList
	channels map[string]bool // the names an alert may send to
	names    map[string]Pos  // runbook names, where first defined
	gates    map[string]Pos  // gate names, where first defined
	gateRefs []gateRef       // the gates runbooks' gate actions name
	fatal    error           // not a problem of the files: Load fails with it
}

func (l *loader) fail(err error) {
	if l.fatal == nil {
		l.fatal = err
	}
}

func (l *loader) readFile(name string) ([]byte, error) {
	if l.opts.ReadFile != nil {
		return l.opts.ReadFile(name)
	}
	return os.ReadFile(name)
}

// Load parses and checks the files of a runbook folder, in order: each a
// runbook, or a gate's definition when its top level has the key gate,
// but for a channels file (see IsChannelsFile), which defines the alert
// channels. It compiles every expression, parses every
// template, translates every query and reads every test's events, but
// evaluates nothing.
//
// Load reports every problem of every file at once, as an ErrorList
// sorted by file and position, and then returns a nil Set. Another error
// means it could not check the files: opts.Conn failed or ctx ended. A
// runbook name given twice is reported at the second, in files order.
// Load keeps neither files nor their Data.
func Load(ctx context.Context, files []File, opts Options) (*Set, error) {
	if opts.Conn == nil {
		return nil, errors.New("load runbooks: no connection to translate queries with")
	}
	env, err := NewEnv()
	if err != nil {
		return nil, fmt.Errorf("load runbooks: %w", err)
	}
	l := &loader{
		ctx:      ctx,
		opts:     opts,
		env:      env,
		channels: map[string]bool{alert.TypeStdout: true, alert.TypeLog: true},
		names:    map[string]Pos{},
		gates:    map[string]Pos{},
	}
	set := &Set{Env: env}
	channelsFile := ""
	for _, f := range files {
		if !IsChannelsFile(f.Name) {
			continue
		}
		d := newDecoder(l, f)
		if channelsFile != "" {
			d.errorAt(1, 1, CodeDuplicate, "a second channels file; %s defines the channels already", channelsFile)
			continue
		}
		channelsFile = f.Name
		set.Channels = d.channels()
	}
	for _, f := range files {
		if IsChannelsFile(f.Name) {
			continue
		}
		d := newDecoder(l, f)
		root := d.parse("a runbook or a gate")
		if root == nil {
			continue
		}
		if isGate(root) {
			if g := d.gateDef(root); g != nil {
				set.Gates = append(set.Gates, g)
			}
		} else if r := d.runbook(root); r != nil {
			set.Runbooks = append(set.Runbooks, r)
		}
		if l.fatal != nil {
			return nil, l.fatal
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load runbooks: %w", err)
	}
	// A folder that defines gates defines those its runbooks close: a
	// name it does not define is a typo. (A folder without gates closes
	// gates defined elsewhere.)
	if len(l.gates) > 0 {
		defined := slices.Sorted(maps.Keys(l.gates))
		for _, r := range l.gateRefs {
			if _, ok := l.gates[r.name]; !ok {
				msg := fmt.Sprintf("no gate %s is defined in this folder; it defines %s", r.name, strings.Join(defined, ", "))
				if s := suggest(r.name, defined); s != "" {
					msg = fmt.Sprintf("no gate %s is defined in this folder; did you mean %s?", r.name, s)
				}
				l.errs = append(l.errs, &Error{File: r.pos.File, Line: r.pos.Line, Col: r.pos.Col, Code: CodeUnknownGate, Msg: msg})
			}
		}
	}
	if len(l.errs) > 0 {
		l.errs = sortErrors(l.errs)
		return nil, l.errs
	}
	slices.SortFunc(set.Runbooks, func(a, b *Runbook) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(set.Gates, func(a, b *Gate) int { return strings.Compare(a.Name, b.Name) })
	return set, nil
}

// LoadDir loads the *.yaml and *.yml files of dir (not its
// subdirectories), in name order, as Load does. Test event files are read
// with opts.ReadFile, or from the disk when it is nil.
func LoadDir(ctx context.Context, dir string, opts Options) (*Set, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load runbooks: %w", err)
	}
	var files []File
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || ext != ".yaml" && ext != ".yml" {
			continue
		}
		name := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("load runbooks: %w", err)
		}
		files = append(files, File{Name: name, Data: data})
	}
	return Load(ctx, files, opts)
}

// Runbook is the runbook named name, or nil.
func (s *Set) Runbook(name string) *Runbook {
	i, found := slices.BinarySearchFunc(s.Runbooks, name, func(r *Runbook, name string) int { return strings.Compare(r.Name, name) })
	if !found {
		return nil
	}
	return s.Runbooks[i]
}
