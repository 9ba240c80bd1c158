//go:build unix

package cli

import (
	"os"
	"syscall"
)

// pollable returns f as a file the Go runtime's poller waits on, when f
// is a pipe or a socket, and the function that puts f back as it was.
//
// An agent hands mcpgw its end of a pipe in blocking mode, and Go reads
// such a file with a read that blocks in the kernel until the agent
// writes. Go 1.26's runtime can miss a goroutine that enters such a call
// just as a garbage collection stops the world: the collection then waits
// for it until the call returns or the runtime's monitor next looks, up to
// 60 s later, and every call in flight waits with it; the agent, waiting
// for an answer, writes nothing. (Caught by the Gateway benchmark in a Go
// server: one thread in stopTheWorldWithSema, one in a read of stdin, the
// monitor asleep for 60 s.) Through the poller, a goroutine waiting for
// the agent is parked, not in a system call, and nothing waits for it.
//
// A terminal or a regular file is left alone: a terminal's flags are
// shared with the shell, and a regular file never blocks.
func pollable(f *os.File) (*os.File, func()) {
	fd := int(f.Fd())
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return f, func() {}
	}
	if m := st.Mode & syscall.S_IFMT; m != syscall.S_IFIFO && m != syscall.S_IFSOCK {
		return f, func() {}
	}
	// The new file reads a duplicate of fd: os.Stdin keeps fd itself
	// open (were it collected, it would close fd under the poller), and
	// the flag, which belongs to the pipe's open file and so to whoever
	// else holds it, goes back through fd when serving is done.
	dup, err := syscall.Dup(fd)
	if err != nil {
		return f, func() {}
	}
	syscall.CloseOnExec(dup)
	if err := syscall.SetNonblock(dup, true); err != nil {
		syscall.Close(dup)
		return f, func() {}
	}
	return os.NewFile(uintptr(dup), f.Name()), func() { syscall.SetNonblock(fd, false) }
}
