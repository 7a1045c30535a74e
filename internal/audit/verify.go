package audit

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/trailbook/trailbook/internal/store"
)

// Kind says what is wrong with an entry. The values are stable: scripts
// may match them.
type Kind string

const (
	// Malformed: a line that is not an audit entry.
	Malformed Kind = "malformed"
	// Edited: an entry whose content does not match its hash, or whose
	// hash was recomputed so the next entry no longer chains to it.
	Edited Kind = "edited"
	// Deleted: seqs missing from the file.
	Deleted Kind = "deleted"
	// Inserted: an entry the chain does not account for, such as a second
	// entry claiming a seq.
	Inserted Kind = "inserted"
	// Reordered: an entry that is not where its seq puts it.
	Reordered Kind = "reordered"
	// Truncated: a cut-off last line, or a file that ends before the last
	// entry the store copy holds.
	Truncated Kind = "truncated"
	// StoreEdited: a store row that differs from the file's entry with the
	// same seq.
	StoreEdited Kind = "edited (store copy)"
	// StoreDeleted: a seq the file holds, missing from the store copy
	// though the copy goes on past it.
	StoreDeleted Kind = "deleted (store copy)"
	// StoreInserted: a store row that is not a copy of any entry.
	StoreInserted Kind = "inserted (store copy)"
)

// Problem is one thing wrong with an audit log, placed at a line of its
// file. It is an error, so Open can return it.
type Problem struct {
	File string
	// Line is 1-based. What is missing at the end of the file is placed
	// at the line after the last; a store row with no place in the file
	// at line 0.
	Line int
	// Seq is the seq of the entry concerned; 0 when it cannot be told.
	Seq     int64
	Kind    Kind
	Message string
}

// Error formats p as FILE:LINE: seq N: KIND: message, with "?" for an
// unknown seq and no line when Line is 0.
func (p Problem) Error() string {
	seq := "?"
	if p.Seq > 0 {
		seq = fmt.Sprint(p.Seq)
	}
	if p.Line == 0 {
		return fmt.Sprintf("%s: seq %s: %s: %s", p.File, seq, p.Kind, p.Message)
	}
	return fmt.Sprintf("%s:%d: seq %s: %s: %s", p.File, p.Line, seq, p.Kind, p.Message)
}

// Report is what Verify found.
type Report struct {
	File string
	// Entries counts the lines that are audit entries.
	Entries int
	// LastSeq and LastHash are those of the chain's last entry: 0 and
	// Genesis for an empty log.
	LastSeq  int64
	LastHash string
	// StoreSeq is the highest seq in the store copy, 0 without one. It may
	// be below LastSeq after a crash between writing the file and copying
	// to the store; that is not a problem (the next Open copies them).
	StoreSeq int64
	// Problems are ordered by line.
	Problems []Problem
	// Err is set when reading the log failed; Problems hold what was
	// found before.
	Err error
}

// OK reports whether the log is intact: no problems and no read error.
func (r *Report) OK() bool { return len(r.Problems) == 0 && r.Err == nil }

// Verify reads the audit log from r, named name in the report, and checks
// every line: that it is an entry, that its hash matches its content, that
// seqs run from 1 without gaps and each Prev is the hash before. Each
// problem is classified (see Kind) and Verify resynchronises after it, so
// one deletion is one problem, not one per later line.
//
// rows is the store's copy, ordered by seq, or nil when there is none.
// Every row must equal the file's entry with its seq; the copy's last seq
// anchors the file's end, which the file alone cannot: without rows, a log
// whose last lines were cut off at a line boundary reads as intact. Neither
// can a log whose every entry from some point on was rewritten with
// recomputed hashes, which the store copy shows as edited. Verify does not
// stop at the first problem and never panics on any input.
func Verify(r io.Reader, name string, rows []store.AuditRow) Report {
	rep, _ := verify(r, name, rows)
	return rep
}

// item is one line that is an entry.
type item struct {
	line      int
	raw       []byte
	e         Entry
	hashOK    bool  // the hash matches the content
	canonical bool  // the line is the canonical encoding
	pos       int64 // the seq the chain puts it at
	chosen    bool  // the entry at pos, of those claiming it
	flagged   bool  // reported as edited
}

// badLine is a line that is not an entry.
type badLine struct {
	line int
	err  error
	seq  int64 // the seq it stands in for, when a gap shows it
}

// verify is Verify, also returning the chain's entries in seq order.
func verify(r io.Reader, name string, rows []store.AuditRow) (Report, []*item) {
	rep := Report{File: name, LastHash: Genesis}
	add := func(line int, seq int64, kind Kind, format string, args ...any) {
		rep.Problems = append(rep.Problems, Problem{File: name, Line: line, Seq: seq, Kind: kind, Message: fmt.Sprintf(format, args...)})
	}

	// Read every line.
	var items []*item
	var bad []*badLine
	br := bufio.NewReaderSize(r, 64<<10)
	lines, cut := 0, 0 // cut: an incomplete last line that is not an entry
	var cutItem *item  // an incomplete last line that is an entry
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			lines++
			complete := line[len(line)-1] == '\n'
			if complete {
				line = line[:len(line)-1]
			}
			e, canonical, derr := decodeLine(line)
			switch {
			case derr == nil:
				it := &item{line: lines, raw: line, e: e, canonical: canonical, hashOK: hashEntry(&e) == e.Hash}
				items = append(items, it)
				if !complete {
					cutItem = it
				}
			case complete:
				bad = append(bad, &badLine{line: lines, err: derr})
			default:
				cut = lines
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			rep.Err = fmt.Errorf("read audit log: %w", err)
			break
		}
	}
	rep.Entries = len(items)

	// Place each entry in the chain: by its seq when its hash holds, else
	// by its links, as its seq may be what was edited. The entry naming
	// its hash as prev is the better witness: its prev may be what was.
	byHash := map[string]*item{}
	byPrev := map[string]*item{}
	for _, it := range items {
		if it.hashOK {
			if byHash[it.e.Hash] == nil {
				byHash[it.e.Hash] = it
			}
			if byPrev[it.e.Prev] == nil {
				byPrev[it.e.Prev] = it
			}
		}
	}
	cands := map[int64][]*item{}
	for _, it := range items {
		it.pos = it.e.Seq
		if !it.hashOK {
			after, before := int64(0), int64(0) // the seq its links give, 0 for none
			if p := byHash[it.e.Prev]; p != nil && p.e.Seq < 1<<62 {
				after = p.e.Seq + 1
			} else if it.e.Prev == Genesis {
				after = 1
			}
			if n := byPrev[it.e.Hash]; n != nil && n.e.Seq > 1 {
				before = n.e.Seq - 1
			}
			switch {
			case it.e.Seq == after || it.e.Seq == before:
			case before != 0:
				it.pos = before
			case after != 0:
				it.pos = after
			}
		}
		cands[it.pos] = append(cands[it.pos], it)
	}
	rowsBySeq := map[int64][]*store.AuditRow{}
	for i := range rows {
		rowsBySeq[rows[i].Seq] = append(rowsBySeq[rows[i].Seq], &rows[i])
	}

	// Of the entries claiming a seq, the chain's is the one the store copy
	// holds, then one whose hash holds, then one linked both ways, then
	// the first.
	type link struct {
		pos  int64
		hash string
	}
	hashes, prevs := map[link]bool{}, map[link]bool{} // of the entries at each place
	for _, it := range items {
		hashes[link{it.pos, it.e.Hash}] = true
		prevs[link{it.pos, it.e.Prev}] = true
	}
	links := func(it *item) (pred, succ bool) {
		pred = it.pos == 1 && it.e.Prev == Genesis || hashes[link{it.pos - 1, it.e.Prev}]
		return pred, prevs[link{it.pos + 1, it.e.Hash}]
	}
	score := func(it *item) int {
		s := 0
		if rs := rowsBySeq[it.pos]; len(rs) > 0 && rs[0].Hash == it.e.Hash {
			s += 8
		}
		if it.hashOK {
			s += 4
		}
		pred, succ := links(it)
		if pred {
			s++
		}
		if succ {
			s++
		}
		return s
	}
	positions := make([]int64, 0, len(cands))
	for p := range cands {
		positions = append(positions, p)
	}
	sort.Slice(positions, func(i, j int) bool { return positions[i] < positions[j] })
	chosen := map[int64]*item{}
	chain := make([]*item, 0, len(positions)) // in seq order
	for _, p := range positions {
		cs := cands[p]
		best, bestScore := cs[0], score(cs[0])
		for _, c := range cs[1:] {
			if s := score(c); s > bestScore {
				best, bestScore = c, s
			}
		}
		best.chosen = true
		chosen[p] = best
		chain = append(chain, best)
	}
	if n := len(chain); n > 0 {
		rep.LastSeq, rep.LastHash = chain[n-1].pos, chain[n-1].e.Hash
	}

	// Entries whose content does not match their hash.
	for _, it := range chain {
		switch {
		case !it.hashOK && it.e.Seq != it.pos:
			add(it.line, it.pos, Edited, "the entry does not match its hash (its seq reads %d)", it.e.Seq)
		case !it.hashOK:
			add(it.line, it.pos, Edited, "the entry does not match its hash")
		case !it.canonical:
			add(it.line, it.pos, Edited, "the line is not in canonical form, though its content matches its hash")
		default:
			continue
		}
		it.flagged = true
	}
	// Broken links between entries that each match their hash: one of
	// them was rewritten and its hash recomputed. The store copy says
	// which; without it, the earlier one (its successor still names the
	// hash it had).
	for _, it := range chain {
		if it.pos == 1 {
			if it.e.Prev != Genesis && !it.flagged {
				add(it.line, it.pos, Edited, "the first entry's prev is not 64 zeros: it was rewritten and its hash recomputed")
				it.flagged = true
			}
			continue
		}
		y := chosen[it.pos-1]
		if y == nil || it.e.Prev == y.e.Hash || it.flagged || y.flagged {
			continue
		}
		if rs := rowsBySeq[y.pos]; len(rs) > 0 && rs[0].Hash == y.e.Hash {
			add(it.line, it.pos, Edited, "its prev is not the hash of seq %d (line %d): it was rewritten and its hash recomputed", y.pos, y.line)
			it.flagged = true
		} else {
			add(y.line, y.pos, Edited, "seq %d (line %d) chains to another hash: this entry was rewritten and its hash recomputed", it.pos, it.line)
			y.flagged = true
		}
	}

	// Gaps in the seqs. Lines that are not entries, lying between the
	// entries around a gap and as many as its seqs, stand for them.
	prev := (*item)(nil)
	for _, it := range chain {
		from := int64(1)
		if prev != nil {
			from = prev.pos + 1
		}
		if it.pos > from {
			missing := it.pos - from
			lo, hi := 0, it.line
			if prev != nil {
				lo, hi = min(prev.line, it.line), max(prev.line, it.line)
			}
			var between []*badLine
			for _, b := range bad {
				if lo < b.line && b.line < hi {
					between = append(between, b)
				}
			}
			if int64(len(between)) == missing {
				for i, b := range between {
					b.seq = from + int64(i)
				}
			} else {
				held := rows != nil && missing <= int64(len(rows))
				for s := from; held && s < it.pos; s++ {
					held = len(rowsBySeq[s]) > 0
				}
				msg := fmt.Sprintf("seq %d is missing", from)
				if missing > 1 {
					msg = fmt.Sprintf("seqs %d to %d are missing", from, it.pos-1)
				}
				if prev == nil {
					msg += fmt.Sprintf(": the file's first entry is seq %d", it.pos)
				} else {
					msg += fmt.Sprintf(" between seq %d (line %d) and seq %d", prev.pos, prev.line, it.pos)
				}
				switch {
				case held && missing == 1:
					msg += "; the store copy holds it"
				case held:
					msg += "; the store copy holds them"
				}
				add(it.line, from, Deleted, "%s", msg)
			}
		}
		prev = it
	}
	for _, b := range bad {
		add(b.line, b.seq, Malformed, "not an audit entry: %v", b.err)
	}

	// Entries the chain does not account for.
	for _, it := range items {
		if it.chosen {
			continue
		}
		c := chosen[it.pos]
		switch {
		case bytes.Equal(it.raw, c.raw):
			add(it.line, it.pos, Inserted, "a copy of line %d", c.line)
		case !it.hashOK:
			add(it.line, it.pos, Inserted, "a second entry for seq %d (the chain's is line %d), and it does not match its hash", it.pos, c.line)
		default:
			add(it.line, it.pos, Inserted, "a second entry for seq %d: the chain's is line %d", it.pos, c.line)
		}
	}

	// Entries out of place: those outside a longest run of the chain's
	// entries whose seqs increase down the file.
	byLine := append([]*item(nil), chain...)
	sort.Slice(byLine, func(i, j int) bool { return byLine[i].line < byLine[j].line })
	for _, it := range outOfOrder(byLine) {
		i := sort.Search(len(chain), func(i int) bool { return chain[i].pos >= it.pos })
		switch {
		case i > 0:
			add(it.line, it.pos, Reordered, "out of place: it belongs after seq %d (line %d)", chain[i-1].pos, chain[i-1].line)
		case i+1 < len(chain):
			add(it.line, it.pos, Reordered, "out of place: it belongs before seq %d (line %d)", chain[i+1].pos, chain[i+1].line)
		}
	}

	// The end of the file, and the store copy.
	for s := range rowsBySeq {
		rep.StoreSeq = max(rep.StoreSeq, s)
	}
	tail := ""
	if rep.StoreSeq > rep.LastSeq {
		tail = fmt.Sprintf("the store copy holds entries up to seq %d", rep.StoreSeq)
	}
	switch {
	case cutItem != nil:
		add(cutItem.line, cutItem.pos, Truncated, "the last line has no newline: the file was cut off%s", prefixed("; ", tail))
	case cut > 0:
		add(cut, rep.LastSeq+1, Truncated, "the last line is cut off%s", prefixed("; ", tail))
	case tail != "":
		add(lines+1, rep.LastSeq+1, Truncated, "the file ends at seq %d, but %s", rep.LastSeq, tail)
	}
	if rows != nil {
		compareStore(chain, chosen, rowsBySeq, rep.StoreSeq, add)
	}

	sort.SliceStable(rep.Problems, func(i, j int) bool {
		a, b := rep.Problems[i], rep.Problems[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Seq < b.Seq
	})
	return rep, chain
}

// compareStore reports the store rows that are not copies of the file's
// entries.
func compareStore(chain []*item, chosen map[int64]*item, rowsBySeq map[int64][]*store.AuditRow, storeSeq int64,
	add func(line int, seq int64, kind Kind, format string, args ...any)) {
	seqs := make([]int64, 0, len(rowsBySeq))
	for s := range rowsBySeq {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, s := range seqs {
		rs := rowsBySeq[s]
		c := chosen[s]
		line := 0
		if c != nil {
			line = c.line
		}
		if s < 1 {
			add(0, 0, StoreInserted, "a store row with seq %d", s)
			continue
		}
		if len(rs) > 1 {
			add(line, s, StoreInserted, "the store copy holds %d rows for seq %d", len(rs), s)
		}
		if c == nil {
			continue // the file's gap, or its end, is reported
		}
		want := rowOf(&c.e)
		diff := rowDiff(&want, rs[0])
		if len(diff) == 0 {
			continue
		}
		// A row that matches its own hash, where the file's entry was
		// edited, is the original: the file's problem says it all.
		_, rowOK := entryOf(rs[0])
		if c.flagged && rowOK {
			continue
		}
		// Both match their hashes and their chains: either side may be
		// the one rewritten.
		if rowOK && rowLinked(rowsBySeq, rs[0]) {
			add(line, s, StoreEdited, "the store row and the file's entry differ, each matching its hash and chain, so one was rewritten with every later hash: %s", strings.Join(diff, "; "))
			continue
		}
		add(line, s, StoreEdited, "the store row differs from the file: %s", strings.Join(diff, "; "))
	}
	for _, c := range chain {
		if 0 < c.pos && c.pos < storeSeq && len(rowsBySeq[c.pos]) == 0 {
			add(c.line, c.pos, StoreDeleted, "the store copy has no row for seq %d, though it goes on to seq %d", c.pos, storeSeq)
		}
	}
}

// outOfOrder returns the entries, given in line order, that are outside
// one longest run whose seqs increase.
func outOfOrder(byLine []*item) []*item {
	n := len(byLine)
	tails := []int{} // tails[k]: index of the smallest last pos of a run of k+1
	parent := make([]int, n)
	for i, it := range byLine {
		k := sort.Search(len(tails), func(k int) bool { return byLine[tails[k]].pos >= it.pos })
		parent[i] = -1
		if k > 0 {
			parent[i] = tails[k-1]
		}
		if k == len(tails) {
			tails = append(tails, i)
		} else {
			tails[k] = i
		}
	}
	keep := make([]bool, n)
	if len(tails) > 0 {
		for i := tails[len(tails)-1]; i >= 0; i = parent[i] {
			keep[i] = true
		}
	}
	var out []*item
	for i, it := range byLine {
		if !keep[i] {
			out = append(out, it)
		}
	}
	return out
}

// prefixed returns s after sep, or "" when s is empty.
func prefixed(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

// rowLinked reports whether r chains to the store rows around it: its prev
// is the hash of the row before (Genesis for seq 1) and the row after, if
// any, names its hash.
func rowLinked(rowsBySeq map[int64][]*store.AuditRow, r *store.AuditRow) bool {
	if r.Seq == 1 {
		if r.Prev != Genesis {
			return false
		}
	} else if p := rowsBySeq[r.Seq-1]; len(p) == 0 || p[0].Hash != r.Prev {
		return false
	}
	n := rowsBySeq[r.Seq+1]
	return len(n) == 0 || n[0].Prev == r.Hash
}
