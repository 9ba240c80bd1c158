package stdio

import "bytes"

// Deferred writes. A hook runs on a connection's reader; what it writes to
// another connection (a request on to a server, a response back to the
// agent) can wait until that reader has no whole line left to handle, and
// go out then in one write with whatever else it wrote meanwhile. With
// several calls in flight, lines arrive together, and one write instead of
// one per message saves the system calls and, more, the reader on the
// other end waking once per message. With one call in flight nothing
// waits: the reader has nothing else buffered, and flushes at once.

// WriteDeferred writes data to w once c's reader has no whole line left
// to handle: c is the connection whose hook is running, and WriteDeferred
// must be called on c's reader (from its [Hook]), never elsewhere, or the
// write could wait for a line that never comes. bounded says the write
// must not block c's reader for long, as [Conn.WriteNoWait]; otherwise it
// may, as [Conn.WriteRaw]. Writes to w from other goroutines keep the
// order: they go out after what is deferred.
func (c *Conn) WriteDeferred(w *Conn, data []byte, bounded bool) error {
	if len(data)+1 > pipeAtomic {
		// Too big to wait: written now, after what waits (both writers
		// take it first).
		if bounded {
			return w.WriteNoWait(data)
		}
		return w.WriteRaw(data)
	}
	w.qmu.Lock()
	if len(w.pending)+len(data)+1 > pipeAtomic {
		w.qmu.Unlock()
		w.flushPending()
		w.qmu.Lock()
	}
	w.pending = append(append(w.pending, data...), '\n')
	w.pendingBounded = w.pendingBounded || bounded
	w.qmu.Unlock()
	for _, d := range c.deferred {
		if d == w {
			return nil
		}
	}
	c.deferred = append(c.deferred, w)
	return nil
}

// moreBuffered reports whether c's reader holds another whole line, so it
// goes on without reading.
func (c *Conn) moreBuffered() bool {
	n := c.br.Buffered()
	if n == 0 {
		return false
	}
	b, _ := c.br.Peek(n)
	return bytes.IndexByte(b, '\n') >= 0
}

// flushDeferred writes what c's hook deferred. It runs on c's reader.
func (c *Conn) flushDeferred() {
	for i, w := range c.deferred {
		w.flushPending()
		c.deferred[i] = nil
	}
	c.deferred = c.deferred[:0]
}

// flushPending writes what waits for c, as WriteNoWait when any of it was
// bounded.
func (c *Conn) flushPending() {
	p, bounded := c.takePending()
	if len(p) == 0 {
		return
	}
	p = p[:len(p)-1] // the writers add the newline back
	if bounded {
		c.WriteNoWait(p)
	} else {
		c.WriteRaw(p)
	}
}
