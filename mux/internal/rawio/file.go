// Package rawio reads and writes non-blocking pipes and sockets with
// system calls the Go scheduler does not see, for the gateway's hot path:
// the agent's pipe, each stdio server's pipes, and the HTTP front's
// connections.
//
// Every read or write made the usual way (os.File and net.Conn, through
// syscall.Syscall) tells the runtime it may block. When the process was
// idle, as a gateway is between two messages, that wakes the runtime's
// monitor thread, which then polls every 20 µs until the process is idle
// again: several thread wake-ups per forwarded call, on a machine the agent
// and the servers share. A read or write of a descriptor in non-blocking
// mode never blocks, so it need not say so: it is made raw, and when the
// descriptor is not ready (EAGAIN) the goroutine waits in the runtime's
// poller as it would with os.File or net.Conn. Measured with the Gateway
// benchmark: 30 to 45 µs less of mcpgw's CPU per call and 20 to 50 µs off
// its added p50, over stdio and over HTTP.
//
// Raw calls are made on Linux; elsewhere [Wrap] and [WrapConn] leave files
// and connections as they are.
package rawio

import (
	"io"
	"os"
	"time"
)

// File is a file in non-blocking mode (a pipe or a socket) read and written
// with raw system calls.
type File struct {
	f   *os.File
	sys *rawFD
}

// Wrap returns f as a [File] when f is in non-blocking mode and the
// runtime's poller watches it (a pipe from os.Pipe, or a descriptor made
// non-blocking before os.NewFile), on a platform where raw calls are made;
// ok is false otherwise, and f is to be used as it is.
func Wrap(f *os.File) (_ *File, ok bool) {
	if f == nil {
		return nil, false
	}
	sys, ok := wrap(f)
	if !ok {
		return nil, false
	}
	return &File{f: f, sys: sys}, true
}

// Read implements io.Reader: it returns what the file holds, waiting in
// the poller while it holds nothing.
func (f *File) Read(p []byte) (int, error) { return f.sys.readAs(p, f.pathError) }

// Write implements io.Writer: it writes all of p, waiting in the poller
// while the file takes no more (up to a write deadline, if one is set).
func (f *File) Write(p []byte) (int, error) { return f.sys.writeAs(p, true, f.pathError) }

// TryWrite writes what of p the file takes at once, never waiting: a
// short count with a nil error means the file would block. A pipe takes a
// write of up to PIPE_BUF bytes whole or not at all.
func (f *File) TryWrite(p []byte) (int, error) { return f.sys.writeAs(p, false, f.pathError) }

// SetWriteDeadline sets the deadline of the writes that wait (Write).
func (f *File) SetWriteDeadline(t time.Time) error { return f.f.SetWriteDeadline(t) }

// Close implements io.Closer: it closes the file; a read or write
// waiting then returns an error that matches os.ErrClosed, as with
// os.File (so it does when the file is closed directly).
func (f *File) Close() error { return f.f.Close() }

// pathError is err as os.File would return it.
func (f *File) pathError(op string, err error) error {
	return &os.PathError{Op: op, Path: f.f.Name(), Err: err}
}

// readAs reads into p as an io.Reader does, with errors in the shape
// errOf gives them (os.File's or net.Conn's).
func (s *rawFD) readAs(p []byte, errOf func(op string, err error) error) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := s.read(p)
	if err == io.EOF {
		return 0, io.EOF
	}
	if err != nil {
		return 0, errOf("read", err)
	}
	return n, nil
}

// writeAs is write with errors in the shape errOf gives them.
func (s *rawFD) writeAs(p []byte, wait bool, errOf func(op string, err error) error) (int, error) {
	n, err := s.write(p, wait)
	if err != nil {
		return n, errOf("write", err)
	}
	return n, nil
}
