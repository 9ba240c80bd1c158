package proc

// Linux: each child runs under a supervisor (mcpgw re-executed, see
// SupervisorMain and supervisor_unix.go) that is a child subreaper and
// learns that mcpgw died from its lifeline. When mcpgw dies, when the
// server exits, or on SIGTERM, it kills the server's process group and every
// descendant it has (orphans of the tree are re-parented to it), reaps them
// all, and reports the server's wait status to mcpgw. Children spawned
// directly (no supervisor) get SIGKILL as their parent-death signal.

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func setDeathSignal(a *syscall.SysProcAttr, sig syscall.Signal) { a.Pdeathsig = sig }

// lockThread locks the calling goroutine to its thread: Pdeathsig is
// tied to the thread that forked, so it must live as long as the child.
func lockThread() func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}

// siginfo mirrors the start of the kernel's siginfo_t for SIGCHLD: the
// union after the three ints is aligned like a pointer.
type siginfo struct {
	Signo, Errno, Code int32
	_                  [0]uintptr
	Pid                int32
	_                  [128]byte
}

// waitid waits for a child to exit without reaping it (WNOWAIT) and
// returns its pid; 0 when nohang is set and none has exited.
func waitid(idtype, id int, nohang bool) (int, error) {
	opts := unix.WEXITED | unix.WNOWAIT
	if nohang {
		opts |= unix.WNOHANG
	}
	for {
		var si siginfo
		_, _, e := unix.Syscall6(unix.SYS_WAITID, uintptr(idtype), uintptr(id), uintptr(unsafe.Pointer(&si)), uintptr(opts), 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(si.Pid), nil
	}
}

// peekExit blocks until pid has exited, leaving it unreaped.
func peekExit(pid int) bool {
	_, err := waitid(unix.P_PID, pid, false)
	return err == nil
}

// supervisorExe returns the program to re-execute as a supervisor: the
// running image, even if its file was replaced.
func supervisorExe() (string, error) {
	exe := "/proc/self/exe"
	if _, err := os.Stat(exe); err != nil {
		return os.Executable()
	}
	return exe, nil
}

// supervisorLost is called when a supervisor died without a report (it
// was SIGKILLed): the server got SIGKILL through its Pdeathsig (tied to the
// supervisor's main thread); take what is left of its group.
func supervisorLost(child int) {
	syscall.Kill(-child, syscall.SIGKILL)
}

// releaseAfter is how long after starting its server a supervisor
// releases its executable pages: after a gateway's start, which takes
// about 200 ms with 20 servers.
const releaseAfter = time.Second

// runSupervisor is the supervisor's main; it returns its exit code.
func runSupervisor() int {
	// Children are forked from the main thread, which lives as long as the
	// supervisor does (their Pdeathsig is tied to the forking thread).
	runtime.LockOSThread()
	report, path, ppid, ok := supervisorArgs()
	if !ok {
		return 2
	}

	sigc := supervisorSignals()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		supervisorLogf("PR_SET_CHILD_SUBREAPER: %v", err)
	}
	if os.Getppid() != ppid {
		return 1 // mcpgw is gone already: start nothing
	}
	child, ok := startServer(report, path, &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL})
	if !ok {
		return 127
	}
	// From here on the supervisor only waits: of the 9 MB of the binary its
	// start touched, it needs a few pages. They are released a little later
	// (it takes 0.5 ms), off the CPU that servers starting beside it need.
	time.AfterFunc(releaseAfter, func() { ReleaseExecutablePages() })

	var (
		status    syscall.WaitStatus
		childDone bool
	)
	reaped := func(pid int, ws syscall.WaitStatus) {
		if pid == child && !childDone {
			status, childDone = ws, true
		}
	}
	// reapExited reaps every exited child; the server's group is killed
	// before the server is reaped, while its pgid cannot be reused.
	reapExited := func() {
		for {
			pid, err := waitid(unix.P_ALL, 0, true)
			if err != nil || pid <= 0 {
				return
			}
			if pid == child && !childDone {
				syscall.Kill(-child, syscall.SIGKILL)
			}
			var ws syscall.WaitStatus
			for {
				_, err = syscall.Wait4(pid, &ws, 0, nil)
				if err != syscall.EINTR {
					break
				}
			}
			reaped(pid, ws)
		}
	}

loop:
	for !childDone {
		switch <-sigc {
		case syscall.SIGCHLD:
			reapExited()
		case syscall.SIGUSR1:
			syscall.Kill(-child, syscall.SIGTERM)
		case syscall.SIGTERM, syscall.SIGHUP:
			break loop
		}
	}

	// Kill the server's group and every descendant, and reap them all.
	if !childDone {
		syscall.Kill(-child, syscall.SIGKILL)
	}
	self := os.Getpid()
	for {
		killDescendants(self)
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			break // ECHILD: nothing left
		}
		reaped(pid, ws)
	}
	return supervisorExit(report, status)
}

// killDescendants sends SIGKILL to every process below root, found by
// walking parent links in /proc. It returns how many it signalled.
func killDescendants(root int) int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	children := make(map[int][]int)
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid := parentPID(pid); ppid > 0 {
			children[ppid] = append(children[ppid], pid)
		}
	}
	n := 0
	queue := append([]int(nil), children[root]...)
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
		queue = append(queue, children[pid]...)
	}
	return n
}

// parentPID returns the parent pid of pid from /proc, or 0.
func parentPID(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...; comm may contain spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
