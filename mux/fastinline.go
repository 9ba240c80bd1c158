package mux

// Inline answers: when no stage looks at results, a fast-path call is sent
// and forgotten by the goroutine that sent it (the agent's reader), and the
// server's reader answers the agent when the result arrives.

import (
	"context"
	"time"

	"github.com/mcpgw/mcpgw/mux/internal/stdio"
)

// takeInline removes an inline call; nil when something else took it first.
func (fc *fastCalls) takeInline(id string) *inlineCall {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	ic := fc.inline[id]
	delete(fc.inline, id)
	return ic
}

// inlineCall is a fast-path call answered from the server's reader.
type inlineCall struct {
	g     *Gateway
	call  *call
	d     *downstream
	ic    *inflightCall
	token string
	dl    *callDeadline
}

// finish releases the call and, unless out is nil (cancelled by the agent),
// answers the agent; then it records the call.
func (c *inlineCall) finish(out *outcome) { c.finishOn(out, nil) }

// finishOn is finish on the reader of conn (the server's, whose answer
// it is), which writes the answer to the agent once it has no other line
// to handle.
func (c *inlineCall) finishOn(out *outcome, reader *stdio.Conn) {
	c.dl.stop()
	c.d.removeInflight(c.ic)
	c.g.progress.remove(c.token)
	f := c.call.fast.front
	f.forget(c.call.fast.key)
	ended := time.Now()
	if out == nil {
		c.g.recordCall(context.Background(), c.call, outcome{err: context.Canceled}, ended)
		return
	}
	f.respondOn(c.call.fast.id, *out, c.call.fast.newServer, reader)
	// Recorded after the answer, off the call's latency (strict records
	// never come here: they turn inline answers off).
	c.g.recordCall(context.Background(), c.call, *out, ended)
}

// forwardInline sends a fast-path call and returns at once: the server's
// reader answers the agent when the result arrives (fastCalls.Take), the
// call's deadline answers when it does not, and the agent's cancellation
// withdraws it.
func (g *Gateway) forwardInline(ctx context.Context, c *call, d *downstream, fc *fastCalls, ic *inflightCall, id string, req []byte, token string) outcome {
	call := &inlineCall{g: g, call: c, d: d, ic: ic, token: token}
	call.dl = startDeadline(d.spec.CallTimeoutFor(c.Name), func() {
		if fc.takeInline(id) != nil {
			fc.cancelDownstream(id, context.DeadlineExceeded)
			out := timeoutResult(d, c.Name)
			call.finish(&out)
		}
	})
	// Progress from the server pushes the deadline back; a touch after it
	// passed finds the call already taken.
	g.progress.onProgress(token, call.dl.touch)
	front := c.fast.front
	front.setCancel(c.fast.key, func(cause error) {
		if fc.takeInline(id) != nil {
			fc.cancelDownstream(id, cause)
			call.finish(nil)
		}
	})
	fc.mu.Lock()
	if fc.err != nil {
		err := fc.err
		fc.mu.Unlock()
		out := failedResult(d, c.Name, err)
		go call.finish(&out) // never write to the agent from its own reader
		return outcome{answered: true}
	}
	fc.inline[id] = call
	fc.mu.Unlock()
	if ctx.Err() != nil {
		// Cancelled before the new cancel function was in place.
		if fc.takeInline(id) != nil {
			call.finish(nil)
		}
		return outcome{answered: true}
	}
	// On the agent's reader: the request goes out with the others it has
	// read, once it has none left to handle.
	if err := front.conn.WriteDeferred(fc.conn, req, true); err != nil {
		if fc.takeInline(id) != nil {
			out := failedResult(d, c.Name, err)
			go call.finish(&out)
		}
	}
	return outcome{answered: true}
}
