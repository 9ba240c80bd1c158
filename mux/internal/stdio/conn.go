// Package stdio is the gateway's newline-delimited JSON-RPC transport, used
// on both of its stdio sides: the agent's pipe and each server's. It reads
// in the caller's goroutine from one reusable buffer, decodes only each
// message's envelope (params and results stay raw), lets a [Hook] take
// messages before the SDK sees them (the gateway's fast path), and writes
// without ever blocking a reader for long ([Conn.WriteNoWait]).
package stdio

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	segjson "github.com/segmentio/encoding/json"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/internal/rawio"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// Transport is newline-delimited JSON-RPC over a pipe, like
// mcp.IOTransport, made for a gateway's hot path: it reads in the caller's
// goroutine (no hand-off per message) from one reusable buffer, and decodes
// each message's envelope in place, where the SDK's transport builds a fresh
// json.Decoder with a 32 KiB buffer per message. Profiles of the SDK path put
// about a quarter of a forwarded call's CPU in that garbage. Lines have no
// length limit here: stdio servers' output is bounded by the process filter.
type Transport struct {
	r    io.ReadCloser
	w    io.WriteCloser
	opts Options
	conn *Conn
}

// Options configures a [Transport]; the zero value is a plain transport.
type Options struct {
	// Hook, when set, sees every message before the SDK.
	Hook Hook
	// Written, when set, hears of each message the SDK wrote.
	Written func(jsonrpc.Message)
	// Sending, when set, hears of each message the SDK is about to write,
	// with the context it writes it under (a request's answer may be read
	// before the write returns).
	Sending func(context.Context, jsonrpc.Message)
	// Withhold, when set, is asked about each message the SDK writes; a
	// message it reports true for is not written (the answer to a request
	// the peer cancelled, which is owed none).
	Withhold func(jsonrpc.Message) bool
	// Junk, when set, hears of lines that are not JSON-RPC messages; they
	// are skipped, so one bad line cannot end the connection.
	Junk func(string)
	// ParseErrors answers a line that does not parse with a JSON-RPC parse
	// error (id null), as a server must; used on the agent's side.
	ParseErrors bool
	// Redact, when set, masks known secret values in every line read,
	// before anything decodes it (used on servers' side).
	Redact *guard.Known
	// Extra, when set, gives each request (one with an id) the SDK reads
	// its jsonrpc.Request.Extra, which the SDK's server hands the request's
	// handler as its RequestExtra.
	Extra func(m *Msg) any
}

// NewTransport returns a transport reading r and writing w. A nil opts
// means defaults.
func NewTransport(r io.ReadCloser, w io.WriteCloser, opts *Options) *Transport {
	t := &Transport{r: r, w: w}
	// Files serve made non-blocking (the agent's pipe) are read and
	// written with raw system calls (see package rawio).
	if f, ok := r.(*os.File); ok {
		if rf, ok := rawio.Wrap(f); ok {
			t.r = rf
		}
	}
	if f, ok := w.(*os.File); ok {
		if wf, ok := rawio.Wrap(f); ok {
			t.w = wf
		}
	}
	if opts != nil {
		t.opts = *opts
	}
	return t
}

// Hook may take messages off a connection before the SDK sees them.
type Hook interface {
	// Take reports whether it handled m; it runs on the read loop and
	// must not block.
	Take(m *Msg) bool
	// Closed is called once when reading ends.
	Closed(err error)
}

// Connect implements mcp.Transport.
func (t *Transport) Connect(context.Context) (mcp.Connection, error) {
	o := t.opts
	t.conn = &Conn{br: bufio.NewReaderSize(t.r, lineReadBuf), r: t.r, w: t.w, hook: o.Hook, written: o.Written, sending: o.Sending, withhold: o.Withhold, junk: o.Junk, parseErrors: o.ParseErrors, redact: o.Redact, extra: o.Extra}
	return t.conn, nil
}

// Conn is the connection Connect made; nil before.
func (t *Transport) Conn() *Conn { return t.conn }

// Buffers are per connection, and a gateway has one connection per
// server: they stay small, and a long line is gathered in memory of its own
// (acc) that is released with it. Most messages are a few hundred bytes.
const (
	lineReadBuf  = 4 << 10
	lineWriteBuf = 64 << 10 // a write buffer grown past this is released
)

type Conn struct {
	br          *bufio.Reader
	r           io.ReadCloser
	w           io.WriteCloser
	queue       []jsonrpc.Message // the rest of a batch
	acc         []byte
	hook        Hook
	written     func(jsonrpc.Message) // when set, hears of each message Write wrote
	sending     func(context.Context, jsonrpc.Message)
	withhold    func(jsonrpc.Message) bool
	junk        func(string)
	parseErrors bool
	redact      *guard.Known
	extra       func(*Msg) any
	ended       sync.Once

	wmu  sync.Mutex
	wbuf []byte
	once sync.Once

	// pending is what other readers' hooks deferred for this connection
	// (see [Conn.WriteDeferred]), newline-terminated, under qmu: it goes
	// after the backlog and before any later write. deferred,
	// touched by this connection's reader only, is the connections its
	// hook deferred writes to.
	pending        []byte
	pendingBounded bool
	deferred       []*Conn

	// backlog holds, in order, messages WriteNoWait could not write at
	// once; backlogged is set while it is not empty.
	qmu        sync.Mutex
	backlog    [][]byte
	backlogged atomic.Bool
}

// Msg is the JSON-RPC envelope; params and results stay raw for the
// SDK, which decodes them into their own types.
type Msg struct {
	JSONRPC string             `json:"jsonrpc"`
	ID      any                `json:"id,omitempty"`
	Method  *string            `json:"method,omitempty"`
	Params  segjson.RawMessage `json:"params,omitempty"`
	Result  segjson.RawMessage `json:"result,omitempty"`
	Error   *jsonrpc.Error     `json:"error,omitempty"`
}

// Read implements mcp.Connection.
func (c *Conn) Read(ctx context.Context) (jsonrpc.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(c.queue) > 0 {
		if len(c.deferred) > 0 {
			c.flushDeferred()
		}
		m := c.queue[0]
		c.queue = c.queue[1:]
		return m, nil
	}
	for {
		if len(c.deferred) > 0 && !c.moreBuffered() {
			c.flushDeferred() // before the next read waits
		}
		line, err := c.readLine()
		if len(line) > 0 {
			m, derr := c.decode(line)
			if derr != nil {
				// Not a message: skip it rather than end the connection.
				if c.junk != nil {
					c.junk(fmt.Sprintf("skipped a line that is not a JSON-RPC message (%v): %.200s", derr, line))
				}
				if c.parseErrors {
					e, _ := json.Marshal(&jsonrpc.Error{Code: jsonrpc.CodeParseError, Message: "parse error: " + derr.Error()})
					c.WriteRaw(fmt.Appendf(nil, `{"jsonrpc":"2.0","id":null,"error":%s}`, e))
				}
				continue
			}
			if m != nil {
				if len(c.deferred) > 0 {
					c.flushDeferred()
				}
				return m, nil
			}
			continue // taken by the hook
		}
		if err != nil {
			if c.hook != nil {
				c.ended.Do(func() { c.hook.Closed(err) })
			}
			return nil, err
		}
	}
}

// readLine returns the next line, trimmed, in memory of its own (decoded
// messages keep slices of it).
func (c *Conn) readLine() ([]byte, error) {
	for {
		frag, err := c.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			c.acc = append(c.acc, frag...)
			continue
		}
		var line []byte
		if len(c.acc) > 0 {
			line = append(c.acc, frag...)
			c.acc = nil
		} else {
			line = frag
		}
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			line = bytes.Clone(line)
			if c.redact != nil && !c.redact.Empty() {
				line, _ = c.redact.Redact(line)
			}
		}
		return line, err
	}
}

func (c *Conn) decode(line []byte) (jsonrpc.Message, error) {
	if line[0] != '[' {
		return c.decodeOne(line)
	}
	// A JSON-RPC batch (protocol 2025-03-26): hand out one message at a time.
	var raws []segjson.RawMessage
	if _, err := segjson.Parse(line, &raws, segjson.DontMatchCaseInsensitiveStructFields); err != nil {
		return nil, fmt.Errorf("unmarshaling a JSON-RPC batch: %w", err)
	}
	if len(raws) == 0 {
		return nil, errors.New("empty JSON-RPC batch")
	}
	msgs := make([]jsonrpc.Message, 0, len(raws))
	for _, raw := range raws {
		m, err := c.decodeOne(raw)
		if err != nil {
			return nil, err
		}
		if m != nil {
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	c.queue = msgs[1:]
	return msgs[0], nil
}

// decodeOne decodes one message; it returns nil, nil when the hook took it.
func (c *Conn) decodeOne(data []byte) (jsonrpc.Message, error) {
	var m Msg
	if _, err := segjson.Parse(data, &m, segjson.DontMatchCaseInsensitiveStructFields); err != nil {
		return nil, fmt.Errorf("unmarshaling a JSON-RPC message: %w", err)
	}
	if c.hook != nil && m.JSONRPC == "2.0" && c.hook.Take(&m) {
		return nil, nil
	}
	if m.JSONRPC != "2.0" {
		return nil, fmt.Errorf("invalid JSON-RPC version %q", m.JSONRPC)
	}
	id, err := jsonrpc.MakeID(m.ID)
	if err != nil {
		return nil, err
	}
	if m.Method != nil {
		r := &jsonrpc.Request{ID: id, Method: *m.Method, Params: []byte(m.Params)}
		if c.extra != nil && id.IsValid() {
			r.Extra = c.extra(&m)
		}
		return r, nil
	}
	if !id.IsValid() {
		return nil, errors.New("invalid JSON-RPC message: neither a request nor a response")
	}
	return &jsonrpc.Response{ID: id, Result: []byte(m.Result), Error: wireError(m.Error)}, nil
}

// wireError keeps a nil *jsonrpc.Error a nil error.
func wireError(e *jsonrpc.Error) error {
	if e == nil {
		return nil
	}
	return e
}

// Write implements mcp.Connection: one write per message, newline included.
func (c *Conn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.withhold != nil && c.withhold(msg) {
		return nil
	}
	data, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return err
	}
	if c.sending != nil {
		c.sending(ctx, msg)
	}
	err = c.WriteRaw(data)
	if err == nil && c.written != nil {
		c.written(msg)
	}
	return err
}

// WriteRaw writes one encoded message, after what was deferred for this
// connection (see [Conn.WriteDeferred]).
func (c *Conn) WriteRaw(data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	pending, _ := c.takePending()
	_, err := c.writeLocked(pending, data)
	return err
}

// writeLocked writes pending (newline-terminated messages) and data as
// one write, under wmu.
func (c *Conn) writeLocked(pending, data []byte) (int, error) {
	c.wbuf = append(append(append(c.wbuf[:0], pending...), data...), '\n')
	n, err := c.w.Write(c.wbuf)
	if cap(c.wbuf) > lineWriteBuf {
		c.wbuf = nil // one large message (a catalog) does not stay
	}
	return n, err
}

// pipeAtomic is PIPE_BUF on Linux: a pipe write up to it is whole or
// not at all, which a bounded write ([Conn.WriteNoWait]) relies on. It
// also bounds what is deferred for one connection.
const pipeAtomic = 4096

// WriteNoWait writes one message without ever blocking its caller for
// long: a pipe that would not take it at once (its reader is behind) gets
// it from the backlog's goroutine instead. Messages up to PIPE_BUF are
// written whole or not at all, so an attempt that fails leaves nothing
// half-written. What was deferred for this connection goes first.
func (c *Conn) WriteNoWait(data []byte) error {
	if c.backlogged.Load() {
		// Keep order: a call's cancellation must not overtake the call.
		c.later(data)
		return nil
	}
	tw, try := c.w.(tryWriter)
	dw, timed := c.w.(interface{ SetWriteDeadline(time.Time) error })
	if !try && !timed || len(data)+1 > pipeAtomic || !c.wmu.TryLock() {
		// Not bounded here (neither one attempt nor deadlines, too big to
		// be atomic, or another write in progress).
		c.later(data)
		return nil
	}
	pending, _ := c.takePending()
	if len(pending)+len(data)+1 > pipeAtomic {
		c.wmu.Unlock()
		c.laterAfter(pending, data)
		return nil
	}
	if try {
		// One attempt: no deadline, whose timer costs more than the write.
		c.wbuf = append(append(append(c.wbuf[:0], pending...), data...), '\n')
		n, err := tw.TryWrite(c.wbuf)
		if err == nil && n > 0 && n < len(c.wbuf) {
			// A socket took part of it: the rest goes now, before any
			// other write (its reader is taking it).
			var m int
			m, err = c.w.Write(c.wbuf[n:])
			n += m
		}
		c.wmu.Unlock()
		if err == nil && n == 0 {
			c.laterAfter(pending, data)
		}
		return err
	}
	if dw.SetWriteDeadline(time.Now().Add(20*time.Millisecond)) != nil {
		c.wmu.Unlock()
		c.laterAfter(pending, data)
		return nil
	}
	n, err := c.writeLocked(pending, data)
	dw.SetWriteDeadline(time.Time{})
	c.wmu.Unlock()
	if err != nil && n == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
		c.laterAfter(pending, data)
		return nil
	}
	return err
}

// tryWriter writes what a file takes at once (a [rawio.File]): a short
// count with a nil error means it would block.
type tryWriter interface {
	TryWrite([]byte) (int, error)
}

// takePending takes what was deferred for this connection, and whether
// any of it was a bounded write.
func (c *Conn) takePending() (pending []byte, bounded bool) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	pending, bounded = c.pending, c.pendingBounded
	c.pending, c.pendingBounded = nil, false
	return pending, bounded
}

// later queues a message WriteNoWait could not write at once, after what
// was deferred (which was meant to go first). One goroutine writes the
// backlog in order; until it is empty, every WriteNoWait queues behind it.
func (c *Conn) later(data []byte) { c.laterAfter(nil, data) }

// laterAfter queues pending (newline-terminated messages, taken from
// c.pending) and then data.
func (c *Conn) laterAfter(pending, data []byte) {
	c.qmu.Lock()
	if len(c.pending) > 0 {
		// Deferred since pending was taken, and before data: it goes
		// between (its own reader deferred it before data was written).
		pending = append(pending, c.pending...)
		c.pending, c.pendingBounded = nil, false
	}
	if len(pending) > 0 {
		c.backlog = append(c.backlog, bytes.TrimSuffix(pending, []byte{'\n'}))
	}
	c.backlog = append(c.backlog, data)
	start := !c.backlogged.Load()
	c.backlogged.Store(true)
	c.qmu.Unlock()
	if start {
		go c.drainBacklog()
	}
}

func (c *Conn) drainBacklog() {
	for {
		c.qmu.Lock()
		q := c.backlog
		c.backlog = nil
		if len(q) == 0 {
			c.backlogged.Store(false)
			c.qmu.Unlock()
			return
		}
		c.qmu.Unlock()
		for _, m := range q {
			// Not WriteRaw: what is deferred now came after the backlog.
			c.wmu.Lock()
			c.writeLocked(nil, m) // an error means the connection is ending
			c.wmu.Unlock()
		}
	}
}

// Close implements mcp.Connection.
func (c *Conn) Close() error {
	var err error
	c.once.Do(func() { err = errors.Join(c.r.Close(), c.w.Close()) })
	return err
}

// SessionID implements mcp.Connection.
func (c *Conn) SessionID() string { return "" }
