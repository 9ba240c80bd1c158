package rawio

import (
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// rawFD is a descriptor's raw connection, whose callbacks run with the
// descriptor's read or write lock held (so a Close waits for them). Each
// direction's callback is made once, with its arguments and results in
// fields under a mutex of its own: a closure made per call would be an
// allocation per read and per write.
type rawFD struct {
	rc syscall.RawConn

	rmu    sync.Mutex
	rp     []byte
	rn     int
	rerrno syscall.Errno
	readFn func(fd uintptr) bool

	wmu     sync.Mutex
	wp      []byte
	wn      int
	werrno  syscall.Errno
	wwait   bool
	writeFn func(fd uintptr) bool
}

func wrap(f *os.File) (*rawFD, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, false
	}
	return wrapRaw(rc)
}

func wrapRaw(rc syscall.RawConn) (*rawFD, bool) {
	nonblocking := false
	if err := rc.Control(func(fd uintptr) {
		fl, _, errno := syscall.RawSyscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		nonblocking = errno == 0 && fl&syscall.O_NONBLOCK != 0
	}); err != nil || !nonblocking {
		// A blocking descriptor would block the thread unseen.
		return nil, false
	}
	s := &rawFD{rc: rc}
	s.readFn = s.readOnce
	s.writeFn = s.writeAll
	return s, true
}

// readOnce is the read callback: false (wait in the poller) while there
// is nothing to read.
func (s *rawFD) readOnce(fd uintptr) bool {
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&s.rp[0])), uintptr(len(s.rp)))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		s.rn, s.rerrno = int(r), e
		return true
	}
}

// writeAll is the write callback: it writes what is left of wp, and
// returns false (wait in the poller) when the descriptor takes no more
// and wwait is set.
func (s *rawFD) writeAll(fd uintptr) bool {
	for s.wn < len(s.wp) {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&s.wp[s.wn])), uintptr(len(s.wp)-s.wn))
		switch e {
		case 0:
			s.wn += int(r) // a write of a non-empty p takes something or fails
		case syscall.EINTR:
		case syscall.EAGAIN:
			return !s.wwait
		default:
			s.werrno = e
			return true
		}
	}
	return true
}

// read reads into p, waiting in the poller while there is nothing to read;
// p is not empty.
func (s *rawFD) read(p []byte) (int, error) {
	s.rmu.Lock()
	s.rp, s.rn, s.rerrno = p, 0, 0
	err := s.rc.Read(s.readFn)
	n, errno := s.rn, s.rerrno
	s.rp = nil
	s.rmu.Unlock()
	switch {
	case err != nil:
		return 0, pollError(err)
	case errno != 0:
		return 0, errno
	case n == 0:
		return 0, io.EOF
	}
	acquire()
	return n, nil
}

// write writes p, waiting in the poller when wait is set, else returning
// what was written once the descriptor would block.
func (s *rawFD) write(p []byte, wait bool) (int, error) {
	release()
	s.wmu.Lock()
	s.wp, s.wn, s.werrno, s.wwait = p, 0, 0, wait
	err := s.rc.Write(s.writeFn)
	n, errno := s.wn, s.werrno
	s.wp = nil
	s.wmu.Unlock()
	switch {
	case err != nil:
		return n, pollError(err)
	case errno != 0:
		return n, errno
	}
	return n, nil
}

// pollError is an error of the poller's as os.File reports it: past a
// deadline, os.ErrDeadlineExceeded; otherwise the file was closed (a
// wrapped file is pollable), which os.File reports as os.ErrClosed and
// the poller as an error of its own.
func pollError(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	return os.ErrClosed
}
