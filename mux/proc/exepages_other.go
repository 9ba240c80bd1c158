//go:build !linux

package proc

// ReleaseExecutablePages does nothing here. macOS leaves the clean pages of
// a process's executable out of the footprint it reports, so there is
// nothing to release; Windows counts them in the working set, which mcpgw
// does not trim.
func ReleaseExecutablePages() (int, error) { return 0, nil }
