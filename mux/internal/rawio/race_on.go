//go:build race

package rawio

import "sync/atomic"

// ioSync stands in for the happens-before edge the race detector draws
// between a write to a file and a read of it (the syscall package's own
// ioSync), which raw calls do not draw: without it, a goroutine reading
// what another wrote through a pipe in the same process would be reported
// as racing with it.
var ioSync atomic.Int64

func release() { ioSync.Add(1) }
func acquire() { ioSync.Load() }
