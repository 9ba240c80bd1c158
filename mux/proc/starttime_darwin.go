package proc

import "golang.org/x/sys/unix"

// StartTime returns when pid started, in microseconds since the epoch
// (kern.proc.pid's p_starttime), or 0 when the process does not exist.
// Together with the pid it names one process: pids are reused, start times
// are not.
func StartTime(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	k, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || k.Proc.P_pid != int32(pid) {
		return 0
	}
	tv := k.Proc.P_starttime
	return int64(tv.Sec)*1e6 + int64(tv.Usec)
}
