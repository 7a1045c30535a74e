package cloudtrail

import "strconv"

// recover rejects the stretch from start to where decoding can resume after
// err, and returns that point.
func (d *decoder) recover(start int, err error) int {
	se, ok := err.(*syntaxError)
	if !ok {
		se = &syntaxError{off: start, msg: err.Error()}
	}
	// Resume no earlier than just past the start of the broken value: a
	// record cut short swallows the opening of the next one into a string,
	// so the next record may begin before the error. When the error is at
	// start (a missing comma), the value there may be fine.
	from := start + 1
	if se.off == start {
		from = start
	}
	next := d.resync(from)
	var reason string
	if d.base < 0 {
		line, col := d.st.lineAt(se.off)
		reason = "invalid JSON at line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col) + ": " + se.msg
		if se.off >= len(d.b) {
			d.st.eofReject = len(d.st.res.Rejects)
		}
	} else {
		reason = "invalid JSON at offset " + strconv.Itoa(se.off) + " of the JSON string: " + se.msg
	}
	d.reject(start, next, reason)
	return min(next, len(d.b))
}

// resync finds where decoding can resume after a syntax error at from: the
// next object that starts an array element or a line, is valid JSON and
// looks like a record or a container of records (or an array whose first
// element does). It returns len(b) when there is none.
//
// It does not track strings: after an error it cannot know whether it stands
// inside one (a record cut short swaps every quote after it). It looks for
// '{' followed by '"', which valid JSON never holds inside a string. Each
// candidate costs a validation, so the work is capped per Decode call; past
// the cap the rest of the buffer is given up.
func (d *decoder) resync(from int) int {
	b := d.b
	for i := from; i < len(b); i++ {
		c := b[i]
		if c != '{' && c != '[' {
			continue
		}
		// The candidate must begin an array element or a line.
		p := i - 1
		lineStart := p < 0
		for p >= 0 && isSpace(b[p]) {
			lineStart = lineStart || b[p] == '\n'
			p--
		}
		if !(lineStart || p < 0 || b[p] == ',' || b[p] == '[') {
			continue
		}
		j := d.ws(i + 1)
		if j >= len(b) || (c == '{' && b[j] != '"') || (c == '[' && b[j] != '{') {
			continue
		}
		if d.st.resyncBudget <= 0 {
			return len(b)
		}
		bad := d.bad
		end, _, err := d.skip(i)
		d.bad = bad
		d.st.resyncBudget -= end - i
		if err != nil {
			continue
		}
		if d.looksLikeRecord(i) {
			return i
		}
		i = end - 1
	}
	return len(b)
}

// looksLikeRecord reports whether the valid value at b[i] is an object with
// a member typical of a record or container, or an array whose first
// element is such an object.
func (d *decoder) looksLikeRecord(i int) bool {
	if d.b[i] == '[' {
		i = d.ws(i + 1)
		if d.b[i] != '{' {
			return false
		}
	}
	i, more, _ := d.open(i)
	for more {
		var k []byte
		k, i, _ = d.name(i)
		if strongField(topField(k)) {
			return true
		}
		i, _, _ = d.skip(i)
		i, more, _ = d.next(i)
	}
	return false
}
