package rawio

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// Conn is a network connection (TCP or Unix) read and written with raw
// system calls; everything else is the connection's own.
type Conn struct {
	net.Conn
	sys *rawFD
}

// WrapConn returns c as a [Conn] when it is a connection the runtime's
// poller watches, on a platform where raw calls are made; else c.
func WrapConn(c net.Conn) net.Conn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	sys, ok := wrapRaw(rc)
	if !ok {
		return c
	}
	return &Conn{Conn: c, sys: sys}
}

// Read implements net.Conn.
func (c *Conn) Read(p []byte) (int, error) { return c.sys.readAs(p, c.opError) }

// Write implements net.Conn.
func (c *Conn) Write(p []byte) (int, error) { return c.sys.writeAs(p, true, c.opError) }

// CloseWrite shuts the writing side down, when the connection can (TCP):
// net/http does before it closes a connection.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// opError is err as net.Conn returns it: a *net.OpError, whose Timeout
// says a deadline passed and which matches net.ErrClosed once closed.
func (c *Conn) opError(op string, err error) error {
	if errors.Is(err, os.ErrClosed) {
		err = net.ErrClosed
	}
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// Listener accepts connections as [Conn]s.
type Listener struct{ net.Listener }

// Accept implements net.Listener.
func (l Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return WrapConn(c), nil
}
