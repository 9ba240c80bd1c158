package mux

// Inline answers: when no stage looks at outcomes, a fast-path call is sent
// and forgotten by the goroutine that sent it (the agent's reader), and the
// server's reader answers the agent when the result arrives.

import (
	"context"
	"time"
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
	call  *Call
	d     *downstream
	front *fastFront
	agent any // the agent's request id
	key   string
	tool  string
	ic    *inflightCall
	token string
	timer *time.Timer
}

// finish releases the call and, unless out is nil (cancelled by the agent),
// answers the agent.
func (c *inlineCall) finish(out *Outcome) {
	if c.timer != nil {
		c.timer.Stop()
	}
	c.d.removeInflight(c.ic)
	if c.token != "" {
		c.g.progress.remove(c.token)
	}
	c.front.forget(c.key)
	ended := time.Now()
	if out == nil {
		c.g.recordCall(context.Background(), c.call, Outcome{Err: context.Canceled}, ended)
		return
	}
	c.front.respond(c.agent, *out)
	// Recorded after the answer, off the call's latency (strict records
	// never come here: they turn inline answers off).
	c.g.recordCall(context.Background(), c.call, *out, ended)
}

// forwardInline sends a fast-path call and returns at once: the server's
// reader answers the agent when the result arrives (fastCalls.take), a timer
// answers when it does not, and the agent's cancellation withdraws it.
func (g *Gateway) forwardInline(ctx context.Context, c *Call, d *downstream, fc *fastCalls, ic *inflightCall, id string, req []byte, token string) Outcome {
	call := &inlineCall{g: g, call: c, d: d, front: c.fast.front, agent: c.fast.id, key: c.fast.key, tool: c.Tool, ic: ic, token: token}
	timeout := d.spec.CallTimeoutFor(c.Tool)
	call.timer = time.AfterFunc(timeout, func() {
		if fc.takeInline(id) != nil {
			fc.cancelDownstream(id, context.DeadlineExceeded)
			out := timeoutResult(d, c.Tool)
			call.finish(&out)
		}
	})
	// Progress from the server pushes the deadline back (see callDeadline);
	// a reset after the timer fired finds the call already taken.
	g.progress.onProgress(token, func() { call.timer.Reset(timeout) })
	c.fast.front.setCancel(c.fast.key, func() {
		if fc.takeInline(id) != nil {
			fc.cancelDownstream(id, context.Canceled)
			call.finish(nil)
		}
	})
	fc.mu.Lock()
	if fc.err != nil {
		err := fc.err
		fc.mu.Unlock()
		out := failedResult(d, c.Tool, err)
		go call.finish(&out) // never write to the agent from its own reader
		return Outcome{answered: true}
	}
	fc.inline[id] = call
	fc.mu.Unlock()
	if ctx.Err() != nil {
		// Cancelled before the new cancel function was in place.
		if fc.takeInline(id) != nil {
			call.finish(nil)
		}
		return Outcome{answered: true}
	}
	if err := fc.conn.writeNoWait(req); err != nil {
		if fc.takeInline(id) != nil {
			out := failedResult(d, c.Tool, err)
			go call.finish(&out)
		}
	}
	return Outcome{answered: true}
}
