//go:build dragonfly || freebsd || netbsd || openbsd

package proc

// childTable would map every pid to its children's pids; here it reads
// nothing (golang.org/x/sys/unix does not decode these systems' kinfo_proc),
// so a supervisor kills the server and its process group only.
func childTable() map[int][]int { return nil }
