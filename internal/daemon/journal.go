package daemon

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trailbook/trailbook/internal/store"
)

// journal is the daemon's ledger of actions (runner.Ledger). A claim is
// a line appended to a journal file and synced before the action is
// carried out; the claims, the passes' outcomes, cooldowns and deferrals,
// and the evaluations done are then recorded in the store by another
// goroutine, in one transaction for whatever passes ended since the last
// (record, run), and the journal files recorded are deleted. An
// evaluation pass so waits for one small file sync instead of two store
// transactions, which at a thousand events a second contend with the
// writer's commits.
//
// A crash loses nothing a claim needs: the files left are recorded when
// the daemon opens (openJournal), before anything is evaluated, so an
// action claimed and not finished is claimed again as the ledger says
// (store.MayClaimAgain). What was recorded is read from the store; what
// was not yet is held here, and decides first.
type journal struct {
	st  *store.Store
	dir string

	mu    sync.Mutex
	f     *os.File // the file claims go to
	next  int      // the number of the file after f
	files []string // closed files whose claims wait for record
	gen   int      // the record generation under way
	held  map[string]heldState
	end   store.PassEnd // what waits for record
	cool  map[[2]string]heldCooldown
	kick  chan struct{}
	gap   time.Duration // the least time between records (Options.RecordInterval)
}

type heldState struct {
	store.LedgerState
	gen int
}

type heldCooldown struct {
	until time.Time
	gen   int
}

// journalDir is where the journal of the store at db lives.
func journalDir(db string) string {
	return strings.TrimSuffix(db, ".duckdb") + ".claims"
}

// openJournal records in st the claims of the journal files a run before
// left, deletes them, and opens a new file.
func openJournal(ctx context.Context, st *store.Store, dir string) (*journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("claim journal: %w", err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("claim journal: %w", err)
	}
	// In the order they were written: by number (a long run outgrows the
	// eight digits the names are padded to).
	num := map[string]int{}
	for _, name := range names {
		var n int
		if _, err := fmt.Sscanf(filepath.Base(name), "%d.jsonl", &n); err != nil {
			return nil, fmt.Errorf("claim journal: %s is not a journal file (NUMBER.jsonl)", name)
		}
		num[name] = n
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(num[a], num[b]) })
	var claims []store.Claimed
	next := 1
	for i, name := range names {
		next = max(next, num[name]+1)
		cs, err := readJournal(name, i == len(names)-1)
		if err != nil {
			return nil, err
		}
		claims = append(claims, cs...)
	}
	if len(claims) > 0 {
		if err := st.EndPass(ctx, store.PassEnd{Claims: claims}, time.Now().UTC()); err != nil {
			return nil, fmt.Errorf("claim journal: record %d claims left by the last run: %w", len(claims), err)
		}
	}
	for _, name := range names {
		if err := os.Remove(name); err != nil {
			return nil, fmt.Errorf("claim journal: %w", err)
		}
	}
	j := &journal{st: st, dir: dir, next: next, held: map[string]heldState{}, cool: map[[2]string]heldCooldown{}, kick: make(chan struct{}, 1)}
	if err := j.rotate(); err != nil {
		return nil, err
	}
	return j, nil
}

// readJournal reads the claims of one file. A last line cut short (the
// process killed while writing it) is the only one it may skip, in the
// last file: that claim was never synced, so its action was never carried
// out.
func readJournal(name string, last bool) ([]store.Claimed, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("claim journal: %w", err)
	}
	lines := bytes.Split(data, []byte("\n"))
	if torn := lines[len(lines)-1]; len(torn) > 0 && !last {
		return nil, fmt.Errorf("claim journal %s:%d: the last line is cut short", name, len(lines))
	}
	lines = lines[:len(lines)-1] // empty, or the torn end
	out := make([]store.Claimed, 0, len(lines))
	for i, line := range lines {
		var c store.Claimed
		if err := json.Unmarshal(line, &c); err != nil {
			return nil, fmt.Errorf("claim journal %s:%d: %w", name, i+1, err)
		}
		if c.Key == "" {
			return nil, fmt.Errorf("claim journal %s:%d: a claim without a key", name, i+1)
		}
		out = append(out, c)
	}
	return out, nil
}

// rotate closes the file claims go to, keeping its name for record, and
// opens the next. j.mu is held, or j is not shared yet.
func (j *journal) rotate() error {
	if j.f != nil {
		j.files = append(j.files, j.f.Name())
		if err := j.f.Close(); err != nil {
			return fmt.Errorf("claim journal: %w", err)
		}
		j.f = nil
	}
	f, err := os.OpenFile(filepath.Join(j.dir, fmt.Sprintf("%08d.jsonl", j.next)), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("claim journal: %w", err)
	}
	// The new name must outlive a crash as surely as the claims in it.
	if d, err := os.Open(j.dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			f.Close()
			return fmt.Errorf("claim journal: %w", err)
		}
	}
	j.f, j.next = f, j.next+1
	return nil
}

// ClaimActions decides each claim as store.ClaimActions does, from what
// the journal holds unrecorded or else what the store's ledger holds, and
// syncs the claims it grants to the journal before it returns.
func (j *journal) ClaimActions(ctx context.Context, claims []store.Claim, now time.Time) ([]bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	ok := make([]bool, len(claims))
	first := map[string]int{}
	var ask []string
	for i, c := range claims {
		k := c.Action.Key
		if _, seen := first[k]; seen {
			continue
		}
		first[k] = i
		if _, held := j.held[k]; !held {
			ask = append(ask, k)
		}
	}
	known, err := j.st.LedgerStates(ctx, ask)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	var granted []store.Claimed
	for i, c := range claims {
		a := c.Action
		if first[a.Key] != i {
			continue
		}
		attempts := 1
		if h, held := j.held[a.Key]; held {
			if !store.MayClaimAgain(h.Status, h.Attempts, a.Enforce) {
				continue
			}
			attempts = h.Attempts + 1
		} else if s, stored := known[a.Key]; stored {
			if !store.MayClaimAgain(s.Status, s.Attempts, a.Enforce) {
				continue
			}
			attempts = s.Attempts + 1
		}
		cl := store.Claimed{Key: a.Key, Runbook: a.Runbook, EventID: c.EventID, Index: a.Index, Kind: a.Kind, Enforce: a.Enforce, Attempts: attempts, At: now.UTC()}
		line, err := json.Marshal(cl)
		if err != nil {
			return nil, err
		}
		buf.Write(line)
		buf.WriteByte('\n')
		granted = append(granted, cl)
		ok[i] = true
	}
	if len(granted) == 0 {
		return ok, nil
	}
	if _, err := j.f.Write(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("claim journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return nil, fmt.Errorf("claim journal: %w", err)
	}
	for _, cl := range granted {
		j.held[cl.Key] = heldState{LedgerState: store.LedgerState{Status: "claimed", Attempts: cl.Attempts}, gen: j.gen}
	}
	j.end.Claims = append(j.end.Claims, granted...)
	return ok, nil
}

// EndPass keeps e for the next record, and holds its outcomes and
// cooldowns for the claims and evaluations made before then.
func (j *journal) EndPass(_ context.Context, e store.PassEnd, _ time.Time) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, o := range e.Outcomes {
		h := j.held[o.Key]
		h.Status, h.gen = o.Status, j.gen
		j.held[o.Key] = h
	}
	for _, c := range e.Cooldowns {
		k := [2]string{c.Runbook, c.Dedup}
		if c.Until.After(j.cool[k].until) {
			j.cool[k] = heldCooldown{until: c.Until, gen: j.gen}
		}
	}
	j.end.Claims = append(j.end.Claims, e.Claims...)
	j.end.Outcomes = append(j.end.Outcomes, e.Outcomes...)
	j.end.Cooldowns = append(j.end.Cooldowns, e.Cooldowns...)
	j.end.Deferred = append(j.end.Deferred, e.Deferred...)
	j.end.DoneThrough = max(j.end.DoneThrough, e.DoneThrough)
	select {
	case j.kick <- struct{}{}:
	default:
	}
	return nil
}

// cooldownUntil is the latest cooldown of runbook and dedup started and
// not yet recorded; zero when none.
func (j *journal) cooldownUntil(runbook, dedup string) time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cool[[2]string{runbook, dedup}].until
}

// record writes what waits in one store transaction and deletes the
// journal files it covers. On error it all waits for the next record.
func (j *journal) record(ctx context.Context) error {
	j.mu.Lock()
	end := j.end
	if len(end.Claims) == 0 && len(end.Outcomes) == 0 && len(end.Cooldowns) == 0 && len(end.Deferred) == 0 && end.DoneThrough <= 0 {
		j.mu.Unlock()
		return nil
	}
	gen := j.gen
	j.end, j.gen = store.PassEnd{}, j.gen+1
	if err := j.rotate(); err != nil {
		j.end = mergeEnds(end, j.end)
		j.mu.Unlock()
		return err
	}
	files := j.files
	j.files = nil
	j.mu.Unlock()

	err := j.st.EndPass(ctx, end, time.Now().UTC())

	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil {
		// Everything waits for the next record, before what came since.
		j.end = mergeEnds(end, j.end)
		j.files = append(files, j.files...)
		for k, h := range j.held {
			if h.gen == gen {
				h.gen = j.gen
				j.held[k] = h
			}
		}
		for k, c := range j.cool {
			if c.gen == gen {
				c.gen = j.gen
				j.cool[k] = c
			}
		}
		return fmt.Errorf("record actions: %w", err)
	}
	for k, h := range j.held {
		if h.gen <= gen {
			delete(j.held, k)
		}
	}
	for k, c := range j.cool {
		if c.gen <= gen {
			delete(j.cool, k)
		}
	}
	var errs []error
	for _, name := range files {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// mergeEnds is a followed by b.
func mergeEnds(a, b store.PassEnd) store.PassEnd {
	return store.PassEnd{
		Claims:      append(a.Claims, b.Claims...),
		Outcomes:    append(a.Outcomes, b.Outcomes...),
		Cooldowns:   append(a.Cooldowns, b.Cooldowns...),
		Deferred:    append(a.Deferred, b.Deferred...),
		DoneThrough: max(a.DoneThrough, b.DoneThrough),
	}
}

// run records as soon as a pass ends, whatever ended while it recorded
// in the next record (a group commit: under load a record covers many
// passes, idle it follows each at once), and again every interval after
// a failure, until stop is closed; then it records what is left.
func (j *journal) run(stop <-chan struct{}, interval time.Duration, logf func(error)) {
	ctx := context.Background()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			logf(j.record(ctx))
			return
		case <-j.kick:
		case <-t.C:
		}
		logf(j.record(ctx))
		if gap := j.gap; gap > 0 {
			select {
			case <-stop:
			case <-time.After(gap):
			}
		}
	}
}

// close closes the file claims go to.
func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}
