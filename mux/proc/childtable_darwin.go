package proc

import "golang.org/x/sys/unix"

// childTable maps the pid of every process to the pids of its children,
// from the kernel's process table (sysctl kern.proc.all); nil when the table
// cannot be read.
func childTable() map[int][]int {
	procs, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		return nil
	}
	kids := make(map[int][]int, len(procs))
	for i := range procs {
		pid, ppid := int(procs[i].Proc.P_pid), int(procs[i].Eproc.Ppid)
		if pid > 0 && ppid > 0 && pid != ppid {
			kids[ppid] = append(kids[ppid], pid)
		}
	}
	return kids
}
