//go:build !linux

package rawio

import (
	"errors"
	"os"
	"syscall"
)

// rawFD makes no raw calls here: wrap declines every file.
type rawFD struct{}

func wrap(*os.File) (*rawFD, bool) { return nil, false }

func wrapRaw(syscall.RawConn) (*rawFD, bool) { return nil, false }

var errUnsupported = errors.New("rawio: not supported on this platform")

func (*rawFD) read([]byte) (int, error)        { return 0, errUnsupported }
func (*rawFD) write([]byte, bool) (int, error) { return 0, errUnsupported }
