//go:build !linux

package rawio

import (
	"errors"
	"os"
	"syscall"
)

type sysFile struct{}

func wrap(*os.File) (sysFile, bool) { return sysFile{}, false }

func wrapRaw(syscall.RawConn) (sysFile, bool) { return sysFile{}, false }

var errUnsupported = errors.New("rawio: not supported on this platform")

func (sysFile) read([]byte) (int, error)        { return 0, errUnsupported }
func (sysFile) write([]byte, bool) (int, error) { return 0, errUnsupported }
