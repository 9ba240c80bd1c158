package mux

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

	"github.com/mcpgw/mcpgw/policy/guard"
)

// lineTransport is newline-delimited JSON-RPC over a pipe, like
// mcp.IOTransport, made for a gateway's hot path: it reads in the caller's
// goroutine (no hand-off per message) from one reusable buffer, and decodes
// each message's envelope in place, where the SDK's transport builds a fresh
// json.Decoder with a 32 KiB buffer per message. Profiles of the SDK path put
// about a quarter of a forwarded call's CPU in that garbage. Lines have no
// length limit here: stdio servers' output is bounded by the process filter.
type lineTransport struct {
	r io.ReadCloser
	w io.WriteCloser
	// hook, when set, sees every message before the SDK (see fastpath.go).
	hook lineHook
	// conn is the connection Connect made.
	conn *lineConn
	// junk, when set, hears of lines that are not JSON-RPC messages; they
	// are skipped, so one bad line cannot end the connection.
	junk func(string)
	// parseErrors answers a line that does not parse with a JSON-RPC parse
	// error (id null), as a server must; used on the agent's side.
	parseErrors bool
	// redact, when set, masks known secret values in every line read,
	// before anything decodes it (used on servers' side).
	redact *guard.Known
}

// lineHook may take messages off a connection before the SDK sees them.
type lineHook interface {
	// take reports whether it handled m; it runs on the read loop and
	// must not block.
	take(m *wireMsg) bool
	// closed is called once when reading ends.
	closed(err error)
}

// Connect implements mcp.Transport.
func (t *lineTransport) Connect(context.Context) (mcp.Connection, error) {
	t.conn = &lineConn{br: bufio.NewReaderSize(t.r, lineReadBuf), r: t.r, w: t.w, hook: t.hook, junk: t.junk, parseErrors: t.parseErrors, redact: t.redact}
	if w, ok := t.hook.(interface{ written(jsonrpc.Message) }); ok {
		t.conn.written = w.written
	}
	return t.conn, nil
}

// Buffers are per connection, and a gateway has one connection per
// server: they stay small, and a long line is gathered in memory of its own
// (acc) that is released with it. Most messages are a few hundred bytes.
const (
	lineReadBuf  = 4 << 10
	lineWriteBuf = 64 << 10 // a write buffer grown past this is released
)

type lineConn struct {
	br          *bufio.Reader
	r           io.ReadCloser
	w           io.WriteCloser
	queue       []jsonrpc.Message // the rest of a batch
	acc         []byte
	hook        lineHook
	written     func(jsonrpc.Message) // when set, hears of each message Write wrote
	junk        func(string)
	parseErrors bool
	redact      *guard.Known
	ended       sync.Once

	wmu  sync.Mutex
	wbuf []byte
	once sync.Once

	// backlog holds, in order, messages writeNoWait could not write at
	// once; backlogged is set while it is not empty.
	qmu        sync.Mutex
	backlog    [][]byte
	backlogged atomic.Bool
}

// wireMsg is the JSON-RPC envelope; params and results stay raw for the
// SDK, which decodes them into their own types.
type wireMsg struct {
	JSONRPC string             `json:"jsonrpc"`
	ID      any                `json:"id,omitempty"`
	Method  *string            `json:"method,omitempty"`
	Params  segjson.RawMessage `json:"params,omitempty"`
	Result  segjson.RawMessage `json:"result,omitempty"`
	Error   *jsonrpc.Error     `json:"error,omitempty"`
}

// Read implements mcp.Connection.
func (c *lineConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(c.queue) > 0 {
		m := c.queue[0]
		c.queue = c.queue[1:]
		return m, nil
	}
	for {
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
					c.writeRaw(fmt.Appendf(nil, `{"jsonrpc":"2.0","id":null,"error":%s}`, e))
				}
				continue
			}
			if m != nil {
				return m, nil
			}
			continue // taken by the hook
		}
		if err != nil {
			if c.hook != nil {
				c.ended.Do(func() { c.hook.closed(err) })
			}
			return nil, err
		}
	}
}

// readLine returns the next line, trimmed, in memory of its own (decoded
// messages keep slices of it).
func (c *lineConn) readLine() ([]byte, error) {
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

func (c *lineConn) decode(line []byte) (jsonrpc.Message, error) {
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
func (c *lineConn) decodeOne(data []byte) (jsonrpc.Message, error) {
	var m wireMsg
	if _, err := segjson.Parse(data, &m, segjson.DontMatchCaseInsensitiveStructFields); err != nil {
		return nil, fmt.Errorf("unmarshaling a JSON-RPC message: %w", err)
	}
	if c.hook != nil && m.JSONRPC == "2.0" && c.hook.take(&m) {
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
		return &jsonrpc.Request{ID: id, Method: *m.Method, Params: []byte(m.Params)}, nil
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
func (c *lineConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return err
	}
	err = c.writeRaw(data)
	if err == nil && c.written != nil {
		c.written(msg)
	}
	return err
}

// writeRaw writes one encoded message.
func (c *lineConn) writeRaw(data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = append(append(c.wbuf[:0], data...), '\n')
	_, err := c.w.Write(c.wbuf)
	if cap(c.wbuf) > lineWriteBuf {
		c.wbuf = nil // one large message (a catalog) does not stay
	}
	return err
}

// writeNoWait writes one message without ever blocking its caller for
// long: a pipe that would not take it at once (its reader is behind) gets
// it from the backlog's goroutine instead. Messages up to PIPE_BUF are
// written whole or not at all, so a timed-out attempt leaves nothing
// half-written.
func (c *lineConn) writeNoWait(data []byte) error {
	if c.backlogged.Load() {
		// Keep order: a call's cancellation must not overtake the call.
		c.later(data)
		return nil
	}
	dw, ok := c.w.(interface{ SetWriteDeadline(time.Time) error })
	if !ok || len(data)+1 > 4096 || !c.wmu.TryLock() {
		// Not bounded here (no deadlines, too big to be atomic, or
		// another write in progress).
		c.later(data)
		return nil
	}
	if dw.SetWriteDeadline(time.Now().Add(20*time.Millisecond)) != nil {
		c.wmu.Unlock()
		c.later(data)
		return nil
	}
	c.wbuf = append(append(c.wbuf[:0], data...), '\n')
	n, err := c.w.Write(c.wbuf)
	dw.SetWriteDeadline(time.Time{})
	c.wmu.Unlock()
	if err != nil && n == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
		c.later(data)
		return nil
	}
	return err
}

// later queues a message writeNoWait could not write at once. One
// goroutine writes the backlog in order; until it is empty, every
// writeNoWait queues behind it.
func (c *lineConn) later(data []byte) {
	c.qmu.Lock()
	c.backlog = append(c.backlog, data)
	start := !c.backlogged.Load()
	c.backlogged.Store(true)
	c.qmu.Unlock()
	if start {
		go c.drainBacklog()
	}
}

func (c *lineConn) drainBacklog() {
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
			c.writeRaw(m) // an error means the connection is ending
		}
	}
}

// Close implements mcp.Connection.
func (c *lineConn) Close() error {
	var err error
	c.once.Do(func() { err = errors.Join(c.r.Close(), c.w.Close()) })
	return err
}

// SessionID implements mcp.Connection.
func (c *lineConn) SessionID() string { return "" }
