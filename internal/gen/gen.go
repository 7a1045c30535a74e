// Package gen writes synthetic AWS CloudTrail logs laid out as CloudTrail
// delivers them to S3, for demos, benchmarks and tests.
//
// The output is a pure function of Options: the same options give the
// same files, byte for byte, whatever the machine or the number of cores.
// The records follow real CloudTrail shapes (identities, request and
// response parameters, errors, service events) and tell consistent
// stories: a stable pool of resources per account whose tags are set,
// changed and removed over time by the calls each service really uses,
// and a handful of security incidents (root sign-in without MFA, an
// admin policy attached, a security group opened to the world, logging
// stopped) for detections to find.
package gen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Options says what to generate. The zero value of every field but Out
// and Events means its default.
type Options struct {
	Events  int           // total records across all files
	Seed    int64         // different seeds give different, equally plausible organisations
	Out     string        // directory; files go under Out/AWSLogs/...
	PerFile int           // records per file; zero means 1000
	Start   time.Time     // time of the first possible event; zero means 2024-04-15T00:00:00Z
	Span    time.Duration // events spread over [Start, Start+Span) at one-second resolution; zero means 30 days
}

// Stats counts what Generate wrote. Bytes is the compressed size.
type Stats struct {
	Files, Events int
	Bytes         int64
}

const (
	defaultPerFile = 1000
	defaultSpan    = 30 * 24 * time.Hour
	gzipLevel      = 3
)

func defaultStart() time.Time { return time.Date(2024, 4, 15, 0, 0, 0, 0, time.UTC) }

// withDefaults fills in defaults and reports every invalid field at once.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Events < 0 {
		errs = append(errs, fmt.Errorf("events is %d, want zero or more", o.Events))
	}
	if o.PerFile < 0 {
		errs = append(errs, fmt.Errorf("per-file is %d, want zero or more", o.PerFile))
	}
	if o.Span < 0 {
		errs = append(errs, fmt.Errorf("span is %v, want zero or more", o.Span))
	}
	if o.Out == "" {
		errs = append(errs, errors.New("out directory is empty"))
	}
	if len(errs) > 0 {
		return o, fmt.Errorf("gen options: %w", errors.Join(errs...))
	}
	if o.PerFile == 0 {
		o.PerFile = defaultPerFile
	}
	if o.Start.IsZero() {
		o.Start = defaultStart()
	}
	o.Start = o.Start.UTC()
	switch {
	case o.Span == 0:
		o.Span = defaultSpan
	case o.Span < time.Second:
		o.Span = time.Second
	}
	return o, nil
}

// Generate writes opts.Events records into gzip files under opts.Out,
// named and nested as CloudTrail names them in S3:
//
//	AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 chars>.json.gz
//
// Each file holds one {"Records":[...]} object of at most PerFile records
// from one account and region, in time order; a region's files cover
// consecutive time slices. The timestamp in the name is the delivery
// time: the end of the five-minute window holding the file's last event.
//
// Generate creates directories as needed and overwrites files of the same
// name, but does not remove other files. It uses up to GOMAXPROCS
// goroutines, one file at a time each. It stops at the first error or
// when ctx is done, leaving the files already written.
func Generate(ctx context.Context, opts Options) (Stats, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return Stats{}, err
	}
	if err := ctx.Err(); err != nil {
		return Stats{}, fmt.Errorf("generate: %w", err)
	}
	if o.Events == 0 {
		return Stats{}, nil
	}
	w := newWorld(o)
	jobs := w.jobs(o.PerFile)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]int64, len(jobs))
	errs := make([]error, len(jobs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fw := newFileWriter(w, o.Out)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) || ctx.Err() != nil {
					return
				}
				results[i], errs[i] = fw.write(jobs[i])
				if errs[i] != nil {
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	st := Stats{}
	for i, j := range jobs {
		if errs[i] != nil {
			return st, fmt.Errorf("generate: %w", errs[i])
		}
		if results[i] == 0 {
			continue
		}
		st.Files++
		st.Events += j.end - j.start
		st.Bytes += results[i]
	}
	if err := ctx.Err(); err != nil && st.Events < o.Events {
		return st, fmt.Errorf("generate: %w", context.Cause(ctx))
	}
	return st, nil
}

// job is one file: positions [start, end) of a stream.
type job struct {
	s          *stream
	file       int
	start, end int
}

func (w *world) jobs(per int) []job {
	var jobs []job
	for _, s := range w.streams {
		for i, start := 0, 0; start < s.n; i, start = i+1, start+per {
			jobs = append(jobs, job{s: s, file: i, start: start, end: min(s.n, start+per)})
		}
	}
	return jobs
}

// fileWriter renders and writes files for one goroutine, reusing its
// buffers and compressor.
type fileWriter struct {
	g    *fileGen
	pcg  *rand.PCG
	gz   *gzip.Writer
	bw   *bufio.Writer
	out  string
	dirs map[string]bool
}

func newFileWriter(w *world, out string) *fileWriter {
	pcg := rand.NewPCG(0, 0)
	g := newFileGen(w, rand.New(pcg))
	gz, _ := gzip.NewWriterLevel(nil, gzipLevel) // the level is a valid constant
	return &fileWriter{g: g, pcg: pcg, gz: gz, bw: bufio.NewWriterSize(nil, 256<<10), out: out, dirs: map[string]bool{}}
}

// render writes the records of job j into the generator's buffer and
// returns the file's random suffix and its last event time.
func (fw *fileWriter) render(j job) ([]byte, int64) {
	g, s := fw.g, j.s
	fw.pcg.Seed(g.w.seed, mix64(uint64(s.idx)<<40|uint64(j.file)))
	r := g.r
	suffix := appendRandom(nil, r, alnumChars, 16)
	g.out.b = append(g.out.b[:0], `{"Records":[`...)
	g.out.need = false
	k := sort.Search(len(s.steps), func(i int) bool { return s.steps[i].pos >= j.start })
	n := float64(s.n)
	var t int64
	for pos := j.start; pos < j.end; pos++ {
		t = s.clock.at((float64(pos) + r.Float64()) / n)
		if k < len(s.steps) && s.steps[k].pos == pos {
			st := &s.steps[k]
			g.record(s, pos, t, st.tpl, st.res, st.act, st)
			k++
			continue
		}
		g.noise(s, pos, t)
	}
	g.out.b = append(g.out.b, "]}"...)
	return suffix, t
}

func (fw *fileWriter) write(j job) (int64, error) {
	suffix, last := fw.render(j)
	s := j.s
	deliver := last - last%300 + 300
	var stamp []byte
	stamp = appendTime(stamp, deliver) // 2024-04-15T10:05:00Z
	day := filepath.Join(string(stamp[0:4]), string(stamp[5:7]), string(stamp[8:10]))
	name := s.acct.id + "_CloudTrail_" + s.region + "_" +
		string(stamp[0:4]) + string(stamp[5:7]) + string(stamp[8:10]) + "T" + string(stamp[11:13]) + string(stamp[14:16]) + "Z_" +
		string(suffix) + ".json.gz"
	dir := filepath.Join(fw.out, "AWSLogs", s.acct.id, "CloudTrail", s.region, day)
	if !fw.dirs[dir] {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return 0, fmt.Errorf("create directory: %w", err)
		}
		fw.dirs[dir] = true
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return 0, fmt.Errorf("create file: %w", err)
	}
	cw := &countWriter{w: f}
	fw.bw.Reset(cw)
	fw.gz.Reset(fw.bw)
	_, err = fw.gz.Write(fw.g.out.b)
	if err == nil {
		err = fw.gz.Close()
	}
	if err == nil {
		err = fw.bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", name, err)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// noise writes one background record: a call drawn by weight, about a
// resource that exists at pos, by a caller that plausibly makes it.
func (g *fileGen) noise(s *stream, pos int, t int64) {
	c := g.w.cat
	for range 4 {
		tpl := c.pick(g.r, s)
		var res *resource
		if tpl.kind != noKind {
			res = pickRes(g.r, s, tpl.kind, pos)
			if res == nil && !tpl.optional {
				continue
			}
		}
		var act *actor
		if tpl.who != nil {
			if act = tpl.who(g, s, pos, res); act == nil {
				continue
			}
		}
		g.record(s, pos, t, tpl, res, act, nil)
		return
	}
	g.record(s, pos, t, c.fallback, nil, nil, nil)
}
