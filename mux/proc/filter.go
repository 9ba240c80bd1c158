package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/mcpgw/mcpgw/mux/internal/jsonscan"
)

const (
	filterBuf    = 4 << 10  // initial read buffer size; it doubles as lines need
	shrinkAbove  = 64 << 10 // a drained buffer larger than this is released
	junkCap      = 4 << 10  // bytes of a non-JSON line kept in its note
	prefixCap    = 4 << 10  // head of a discarded line kept to find its id
	tailCap      = 512      // end of a discarded line kept to find its id
	oversizeCode = -32603   // JSON-RPC internal error
)

// stdoutFilter is the stdout filter of a [Process]: an io.Reader over the
// child's stdout pipe that passes only JSON lines (first non-space byte '{'
// or '['), each ending in '\n'. It reads the pipe into one buffer and copies
// complete lines straight from it into the caller's slice: no goroutine, no
// per-line allocation, and the only copy besides that is compacting the
// unfinished last line to the front of the buffer before the next read.
//
// A line is handed on only once its newline has been seen, so a line over
// the limit can be dropped without the consumer ever seeing half of it; the
// buffer therefore grows with the longest line, up to the limit, and goes
// back to its resting size once drained.
type stdoutFilter struct {
	r     io.Reader
	limit int
	note  func(string)
	// server names the server in the error that replaces a discarded
	// response: the agent sees that error among many servers' answers.
	server string

	buf []byte
	// buf[r0:ready] is deliverable (complete JSON lines). buf[ready:ls] is
	// already consumed (skipped or diverted). buf[ls:scan] is the start of
	// the current line, classified by mode; buf[scan:w] is unexamined.
	r0, ready, ls, scan, w int
	mode                   int

	junk      []byte // current non-JSON line (capped)
	junkLen   int
	prefix    []byte // head of the line being discarded
	tail      []byte // last bytes of the line being discarded (ring)
	tailN     int
	discarded int
	inject    []byte // synthesized line, delivered after buf[r0:ready]
	err       error  // sticky read error, returned once buffers drain
}

const (
	modeStart   = iota // nothing but blanks seen on this line
	modeJSON           // passing a JSON line
	modeJunk           // diverting a non-JSON line
	modeDiscard        // dropping an oversized line
)

func newStdoutFilter(r io.Reader, limit int, note func(string)) *stdoutFilter {
	if limit <= 0 {
		limit = DefaultMaxLineBytes
	}
	if note == nil {
		note = func(string) {}
	}
	return &stdoutFilter{r: r, limit: limit, note: note}
}

// Read implements io.Reader.
func (f *stdoutFilter) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if f.ready > f.r0 {
			n := copy(p, f.buf[f.r0:f.ready])
			f.r0 += n
			return n, nil
		}
		if len(f.inject) > 0 {
			n := copy(p, f.inject)
			f.inject = f.inject[n:]
			return n, nil
		}
		// Nothing deliverable: skip what was consumed.
		f.r0, f.ready = f.ls, f.ls
		if f.scan < f.w {
			// Scanning stopped early to keep the deliverable run contiguous
			// or to deliver a synthesized line in order.
			f.scanLines()
			continue
		}
		if f.err != nil {
			if f.finish() {
				continue
			}
			return 0, f.err
		}
		f.fill()
		f.scanLines()
	}
}

// fill reads more of the pipe into buf, making room first.
func (f *stdoutFilter) fill() {
	if f.buf == nil {
		f.buf = make([]byte, filterBuf)
	}
	// Move the unfinished line to the front.
	if f.ls > 0 {
		n := copy(f.buf, f.buf[f.ls:f.w])
		f.scan -= f.ls
		f.w = n
		f.r0, f.ready, f.ls = 0, 0, 0
	}
	if f.w == 0 && len(f.buf) > shrinkAbove {
		f.buf = make([]byte, filterBuf)
	}
	if f.w == len(f.buf) {
		// A JSON line longer than the buffer but within the limit.
		size := min(2*len(f.buf), f.limit+1)
		size = max(size, f.w+filterBuf)
		nb := make([]byte, size)
		copy(nb, f.buf[:f.w])
		f.buf = nb
	}
	n, err := f.r.Read(f.buf[f.w:])
	f.w += n
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			err = io.EOF
		}
		f.err = err
	}
}

// finish ends the last line at the end of the stream (a last line without
// a newline still counts). It is called with everything scanned and nothing
// deliverable, and reports whether something became deliverable.
func (f *stdoutFilter) finish() bool {
	more := false
	switch f.mode {
	case modeJSON:
		if f.ls < f.w {
			if f.w == len(f.buf) {
				f.buf = append(f.buf, '\n')
			} else {
				f.buf[f.w] = '\n'
			}
			f.w++
			f.emit(f.ls, f.w)
			more = true
		}
	case modeJunk:
		f.endJunk()
	case modeDiscard:
		more = f.endDiscard()
	}
	f.mode = modeStart
	f.ls, f.scan = f.w, f.w
	return more
}

// restOfLine returns where the line being scanned ends in buf[scan:w], and
// whether its newline has arrived.
func (f *stdoutFilter) restOfLine() (end int, complete bool) {
	i := bytes.IndexByte(f.buf[f.scan:f.w], '\n')
	if i < 0 {
		return f.w, false
	}
	return f.scan + i, true
}

// passLine moves past a line that is not delivered: past its newline when
// complete (and reports true), else past what has arrived of it.
func (f *stdoutFilter) passLine(end int, complete bool) bool {
	if !complete {
		f.scan, f.ls = f.w, f.w
		return false
	}
	f.scan = end + 1
	f.ls = f.scan
	return true
}

// scanLines advances scan over buf[scan:w]. It stops early when a complete
// JSON line cannot join the deliverable run (something was skipped between)
// or when a synthesized line must be delivered first.
func (f *stdoutFilter) scanLines() {
	b := f.buf
	for f.scan < f.w {
		switch f.mode {
		case modeStart:
			c := b[f.scan]
			switch c {
			case ' ', '\t', '\r', '\n':
				f.scan++
				f.ls = f.scan // leading blanks and blank lines are dropped
			case '{', '[':
				f.mode = modeJSON
			default:
				f.mode = modeJunk
				f.junk, f.junkLen = f.junk[:0], 0
			}
		case modeJSON:
			i := bytes.IndexByte(b[f.scan:f.w], '\n')
			if i < 0 {
				f.scan = f.w
				if f.w-f.ls > f.limit {
					f.startDiscard(f.w)
				}
				continue
			}
			end := f.scan + i + 1
			if trimmed := end - 1 - f.ls; trimmed > f.limit {
				f.scan = end - 1
				f.startDiscard(end - 1)
				continue
			}
			if f.ready != f.ls && f.ready != f.r0 {
				// Deliver the run first; rescan this line afterwards.
				f.scan = f.ls
				f.mode = modeStart
				return
			}
			f.scan = end
			f.emit(f.ls, end)
			f.ls = end
			f.mode = modeStart
		case modeJunk:
			end, complete := f.restOfLine()
			chunk := b[f.scan:end]
			f.junkLen += len(chunk)
			if room := junkCap - len(f.junk); room > 0 {
				f.junk = append(f.junk, chunk[:min(room, len(chunk))]...)
			}
			if !f.passLine(end, complete) {
				continue
			}
			f.endJunk()
			f.mode = modeStart
		case modeDiscard:
			end, complete := f.restOfLine()
			f.keepTail(b[f.scan:end])
			f.discarded += end - f.scan
			if !f.passLine(end, complete) {
				continue
			}
			f.mode = modeStart
			if f.endDiscard() {
				if f.r0 == f.ready {
					f.r0, f.ready = f.ls, f.ls
				}
				return // deliver the run, then the injected line
			}
		}
		if f.r0 == f.ready {
			f.r0, f.ready = f.ls, f.ls
		}
	}
}

// emit appends buf[start:end] (a complete JSON line) to the deliverable run.
func (f *stdoutFilter) emit(start, end int) {
	if f.ready != start {
		// Only called with an empty run or a run ending at start.
		f.r0 = start
	}
	f.ready = end
}

func (f *stdoutFilter) endJunk() {
	line := trimEOL(f.junk)
	s := "stdout (not JSON, diverted): " + string(line)
	if f.junkLen > len(f.junk) {
		s += fmt.Sprintf(" …[%d more bytes]", f.junkLen-len(f.junk))
	}
	f.note(s)
	f.junk, f.junkLen = f.junk[:0], 0
}

// startDiscard turns the current JSON line buf[ls:upto] into a line being
// discarded, keeping only its head and tail.
func (f *stdoutFilter) startDiscard(upto int) {
	line := f.buf[f.ls:upto]
	f.prefix = append(f.prefix[:0], line[:min(len(line), prefixCap)]...)
	f.tailN = 0
	if f.tail == nil {
		f.tail = make([]byte, tailCap)
	}
	f.keepTail(line)
	f.discarded = len(line)
	f.mode = modeDiscard
	f.ls = upto
	f.scan = upto
	if f.r0 == f.ready {
		f.r0, f.ready = f.ls, f.ls
	}
}

// keepTail remembers the last tailCap bytes of the discarded line.
func (f *stdoutFilter) keepTail(b []byte) {
	if len(b) >= tailCap {
		copy(f.tail, b[len(b)-tailCap:])
		f.tailN = tailCap
		return
	}
	if f.tailN+len(b) > tailCap {
		drop := f.tailN + len(b) - tailCap
		copy(f.tail, f.tail[drop:f.tailN])
		f.tailN -= drop
	}
	f.tailN += copy(f.tail[f.tailN:], b)
}

// endDiscard notes the discarded line and, when it was a response whose id
// is known, queues an error response in its place. It reports whether it
// queued one.
func (f *stdoutFilter) endDiscard() bool {
	tail := trimEOL(f.tail[:f.tailN])
	id, ok := responseID(f.prefix, tail)
	msg := fmt.Sprintf("stdout line of %d bytes discarded: longer than the %d-byte limit", f.discarded, f.limit)
	if ok {
		msg += "; answered request " + string(id) + " with an error"
		whose := "the server's response"
		if f.server != "" {
			whose = fmt.Sprintf("server %q: its response", f.server)
		}
		f.inject = errorResponse(id, fmt.Sprintf("mcpgw: %s (%d bytes) exceeds the %d-byte message limit and was discarded", whose, f.discarded, f.limit))
	}
	f.note(msg)
	f.prefix, f.tailN, f.discarded = f.prefix[:0], 0, 0
	return ok
}

func errorResponse(id []byte, message string) []byte {
	b := []byte(`{"jsonrpc":"2.0","id":`)
	b = append(b, id...)
	b = append(b, `,"error":{"code":`...)
	b = strconv.AppendInt(b, oversizeCode, 10)
	b = append(b, `,"message":`...)
	b = strconv.AppendQuote(b, message) // message is printable (%q quotes the server's name): a valid JSON string
	b = append(b, "}}\n"...)
	return b
}

// responseID finds the id of a JSON-RPC response given only the head and
// the tail of its line. It reports ok only when the head shows a top-level
// "result" or "error" member and no "method", and the id is found either as
// a top-level member in the head or, in the tail, as a member followed only
// by scalar members and the closing brace (as in {"result":…,"id":7}).
func responseID(head, tail []byte) (id []byte, ok bool) {
	var isResponse, isRequest bool
	s := jsonscan.Scanner{B: head}
	s.WS()
	if !s.Eat('{') {
		return nil, false
	}
	for {
		s.WS()
		key, kok := s.Str()
		if !kok {
			break
		}
		s.WS()
		if !s.Eat(':') {
			break
		}
		s.WS()
		switch string(key) {
		case `"result"`, `"error"`:
			isResponse = true
		case `"method"`:
			isRequest = true
		}
		start := s.I
		if !s.Value() {
			break
		}
		if string(key) == `"id"` {
			id = head[start:s.I]
		}
		s.WS()
		if !s.Eat(',') {
			break
		}
	}
	if !isResponse || isRequest {
		return nil, false
	}
	if id != nil {
		return scalarID(id)
	}
	// Look for the id among the last members of the line.
	for at := bytes.LastIndex(tail, []byte(`"id"`)); at >= 0; at = bytes.LastIndex(tail[:at], []byte(`"id"`)) {
		before := bytes.TrimRight(tail[:at], " \t\r\n")
		if len(before) == 0 || (before[len(before)-1] != ',' && before[len(before)-1] != '{') {
			continue
		}
		s := jsonscan.Scanner{B: tail, I: at + 4}
		s.WS()
		if !s.Eat(':') {
			continue
		}
		s.WS()
		start := s.I
		if !s.Scalar() {
			continue
		}
		cand := tail[start:s.I]
		// Only scalar members and the final brace may follow.
		for {
			s.WS()
			if s.Eat('}') {
				s.WS()
				if s.I == len(tail) {
					return scalarID(cand)
				}
				break
			}
			if !s.Eat(',') {
				break
			}
			s.WS()
			if _, ok := s.Str(); !ok {
				break
			}
			s.WS()
			if !s.Eat(':') {
				break
			}
			s.WS()
			if !s.Scalar() {
				break
			}
		}
	}
	return nil, false
}

// scalarID accepts a JSON-RPC id: a string or a number.
func scalarID(id []byte) ([]byte, bool) {
	if len(id) == 0 || id[0] == 'n' || id[0] == 't' || id[0] == 'f' {
		return nil, false
	}
	return append([]byte(nil), id...), true
}
