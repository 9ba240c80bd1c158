package rawio

import (
	"errors"
	"io"
	"os"
	"syscall"
	"unsafe"
)

// sysFile is the file's raw connection: its callbacks run with the file's
// read or write lock held, so a Close waits for them.
type sysFile struct{ rc syscall.RawConn }

func wrap(f *os.File) (sysFile, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return sysFile{}, false
	}
	return wrapRaw(rc)
}

func wrapRaw(rc syscall.RawConn) (sysFile, bool) {
	nonblocking := false
	if err := rc.Control(func(fd uintptr) {
		fl, _, errno := syscall.RawSyscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		nonblocking = errno == 0 && fl&syscall.O_NONBLOCK != 0
	}); err != nil || !nonblocking {
		// A blocking descriptor would block the thread unseen.
		return sysFile{}, false
	}
	return sysFile{rc: rc}, true
}

// read reads into p, waiting in the poller while there is nothing to read;
// p is not empty.
func (s sysFile) read(p []byte) (int, error) {
	var (
		n     int
		errno syscall.Errno
	)
	err := s.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait in the poller
			}
			n, errno = int(r), e
			return true
		}
	})
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
// what was written once the file would block.
func (s sysFile) write(p []byte, wait bool) (int, error) {
	release()
	var (
		n     int
		errno syscall.Errno
	)
	err := s.rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n))
			switch e {
			case 0:
				n += int(r) // a write of a non-empty p takes something or fails
			case syscall.EINTR:
			case syscall.EAGAIN:
				return !wait
			default:
				errno = e
				return true
			}
		}
		return true
	})
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
