//go:build !unix

package cli

import "os"

// pollable returns f: only Unix pipes are read through the poller (see
// stdio_unix.go).
func pollable(f *os.File) (*os.File, func()) { return f, func() {} }
