package mux

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Environment of a supervisor process (mcpgw re-executed).
const (
	procEnvSupervise = "MCPGW_SUPERVISE"      // "1": run as a supervisor
	procEnvPath      = "MCPGW_SUPERVISE_PATH" // the resolved program to run
	procEnvPPID      = "MCPGW_SUPERVISE_PPID" // pid of the mcpgw that started it
	// procEnvNoSupervisor, set to "1" in mcpgw's environment, makes
	// StartProcess spawn children directly (for debugging).
	procEnvNoSupervisor = "MCPGW_NO_SUPERVISOR"
	procReportFD        = 3 // the supervisor's report pipe
	procSupervisorKill  = 2 * time.Second
)

// procSupervisorReady records that this binary calls SupervisorMain, so it
// can be re-executed as a supervisor.
var procSupervisorReady atomic.Bool

// SupervisorMain must be called first thing in main() (and in TestMain of
// tests that spawn processes): when the process was started as a
// supervisor it runs the supervisor and exits; otherwise it returns
// immediately.
//
// Calling it also records that this binary can act as a supervisor, which
// makes [StartProcess] on Linux start every child under one: the binary is
// re-executed (via /proc/self/exe) with MCPGW_SUPERVISE=1. The supervisor
// makes itself a child subreaper, asks for SIGTERM when mcpgw dies
// (PR_SET_PDEATHSIG, then checks getppid to close the race), and starts the
// real server in a new process group with the supervisor's own stdin, stdout
// and stderr (the pipes from mcpgw, passed straight through: no copying).
// When mcpgw dies, when the server exits, or on SIGTERM, it kills the
// server's process group and every descendant it has (orphans are
// re-parented to it as the subreaper), reaps them all, reports the server's
// wait status to mcpgw over a pipe, and exits. SIGUSR1 makes it send SIGTERM
// to the server's group.
//
// A binary that does not call SupervisorMain (such as a test binary whose
// TestMain does not) spawns children directly, as does any binary when
// MCPGW_NO_SUPERVISOR=1 is set: then the child gets SIGKILL when mcpgw dies
// but its descendants may survive a SIGKILL of mcpgw.
func SupervisorMain() {
	if os.Getenv(procEnvSupervise) != "1" {
		procSupervisorReady.Store(true)
		return
	}
	os.Exit(procSupervise())
}

func procSupervisorEnabled() bool {
	return procSupervisorReady.Load() && os.Getenv(procEnvNoSupervisor) != "1"
}

func procSetDeathSignal(a *syscall.SysProcAttr, sig syscall.Signal) { a.Pdeathsig = sig }

// procLockThread locks the calling goroutine to its thread: Pdeathsig is
// tied to the thread that forked, so it must live as long as the child.
func procLockThread() func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}

// procSiginfo mirrors the start of the kernel's siginfo_t for SIGCHLD: the
// union after the three ints is aligned like a pointer.
type procSiginfo struct {
	Signo, Errno, Code int32
	_                  [0]uintptr
	Pid                int32
	_                  [128]byte
}

// procWaitid waits for a child to exit without reaping it (WNOWAIT) and
// returns its pid; 0 when nohang is set and none has exited.
func procWaitid(idtype, id int, nohang bool) (int, error) {
	opts := unix.WEXITED | unix.WNOWAIT
	if nohang {
		opts |= unix.WNOHANG
	}
	for {
		var si procSiginfo
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

// procPeekExit blocks until pid has exited, leaving it unreaped.
func procPeekExit(pid int) bool {
	_, err := procWaitid(unix.P_PID, pid, false)
	return err == nil
}

func procLaunch(cmd *exec.Cmd, supervise bool) (procHandle, int, error) {
	if !supervise {
		d, err := procLaunchDirect(cmd)
		if err != nil {
			return nil, 0, err
		}
		return d, d.pid, nil
	}
	return procLaunchSupervised(cmd)
}

// procSupervised is a child running under a supervisor.
type procSupervised struct {
	sup        *exec.Cmd // the supervisor
	child      int       // the server's pid (and pgid)
	report     *bufio.Reader
	reportFile *os.File
	res        chan error
	exited     chan struct{} // closed once the supervisor has been reaped
	once       sync.Once
}

func procLaunchSupervised(cmd *exec.Cmd) (procHandle, int, error) {
	exe := "/proc/self/exe" // the running image, even if the file was replaced
	if _, err := os.Stat(exe); err != nil {
		if exe, err = os.Executable(); err != nil {
			return nil, 0, fmt.Errorf("supervisor: %w", err)
		}
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		return nil, 0, err
	}
	sup := &exec.Cmd{
		Path:   exe,
		Args:   append([]string{"mcpgw-supervisor"}, cmd.Args...),
		Dir:    cmd.Dir,
		Stdin:  cmd.Stdin,
		Stdout: cmd.Stdout,
		Stderr: cmd.Stderr,
		Env: append(cmd.Env,
			procEnvSupervise+"=1",
			procEnvPath+"="+cmd.Path,
			procEnvPPID+"="+strconv.Itoa(os.Getpid()),
		),
		ExtraFiles:  []*os.File{repW},
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM},
	}
	s := &procSupervised{sup: sup, report: bufio.NewReader(repR), reportFile: repR, res: make(chan error, 1), exited: make(chan struct{})}
	started := make(chan error, 1)
	firstRead := make(chan struct{})
	go func() {
		unlock := procLockThread()
		defer unlock()
		if err := sup.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		werr := sup.Wait()
		close(s.exited)
		<-firstRead
		s.res <- s.finish(werr)
	}()
	err = <-started
	repW.Close()
	if err != nil {
		repR.Close()
		return nil, 0, fmt.Errorf("supervisor: %w", err)
	}
	line, rerr := s.report.ReadString('\n')
	close(firstRead)
	kind, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	switch {
	case kind == "pid":
		s.child, _ = strconv.Atoi(arg)
		if s.child > 0 {
			return s, s.child, nil
		}
	case kind == "err":
		errno, path, _ := strings.Cut(arg, " ")
		n, _ := strconv.Atoi(errno)
		<-s.res
		return nil, 0, &os.PathError{Op: "fork/exec", Path: path, Err: syscall.Errno(n)}
	}
	s.kill()
	werr := <-s.res
	if rerr == nil {
		rerr = fmt.Errorf("bad report %q", line)
	}
	return nil, 0, fmt.Errorf("supervisor failed to start the server (%v; supervisor %v)", rerr, werr)
}

// finish reads the server's wait status from the report pipe once the
// supervisor has exited.
func (s *procSupervised) finish(werr error) error {
	rest, _ := io.ReadAll(s.report)
	s.reportFile.Close()
	for l := range strings.SplitSeq(string(rest), "\n") {
		if v, ok := strings.CutPrefix(l, "exit "); ok {
			if n, err := strconv.ParseUint(v, 10, 32); err == nil {
				return procExitFromStatus(syscall.WaitStatus(n))
			}
		}
	}
	// The supervisor died without reporting (it was SIGKILLed): the server
	// got SIGKILL through its Pdeathsig; take what is left of its group.
	if s.child > 0 {
		syscall.Kill(-s.child, syscall.SIGKILL)
	}
	if err := procExitFromState(s.sup.ProcessState, werr); err != nil {
		return fmt.Errorf("supervisor %w", err)
	}
	return errors.New("supervisor exited without a report")
}

func (s *procSupervised) wait() error { return <-s.res }

// terminate has the supervisor send SIGTERM to the server's group.
func (s *procSupervised) terminate() {
	// After the supervisor is reaped, Signal fails harmlessly: os.Process
	// signals through a pidfd, never a reused pid.
	s.sup.Process.Signal(syscall.SIGUSR1)
}

// kill has the supervisor kill the tree (SIGTERM to the supervisor); if it
// has not exited after procSupervisorKill, it is killed too (the server then
// gets its Pdeathsig and finish kills what is left of its group).
func (s *procSupervised) kill() {
	s.sup.Process.Signal(syscall.SIGTERM)
	s.once.Do(func() {
		go func() {
			t := time.NewTimer(procSupervisorKill)
			defer t.Stop()
			select {
			case <-s.exited:
			case <-t.C:
				s.sup.Process.Kill()
			}
		}()
	})
}

// procSupervise is the supervisor's main; it returns its exit code.
func procSupervise() int {
	// Children are forked from the main thread, which lives as long as the
	// supervisor does (their Pdeathsig is tied to the forking thread).
	runtime.LockOSThread()
	syscall.CloseOnExec(procReportFD)
	report := os.NewFile(procReportFD, "mcpgw-supervisor-report")
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "mcpgw supervisor: "+format+"\n", args...)
	}
	path := os.Getenv(procEnvPath)
	ppid, _ := strconv.Atoi(os.Getenv(procEnvPPID))
	if path == "" || len(os.Args) < 2 || report == nil {
		logf("started without a program to run")
		return 2
	}

	// Terminal keys are mcpgw's business; it tells us what to do.
	signal.Ignore(syscall.SIGINT, syscall.SIGQUIT)
	sigc := make(chan os.Signal, 64)
	signal.Notify(sigc, syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		logf("PR_SET_CHILD_SUBREAPER: %v", err)
	}
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0); err != nil {
		logf("PR_SET_PDEATHSIG: %v", err)
	}
	if os.Getppid() != ppid {
		// mcpgw died before the death signal was armed.
		return 1
	}

	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, procEnvSupervise) {
			env = append(env, kv)
		}
	}
	child, err := syscall.ForkExec(path, os.Args[1:], &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		errno, _ := err.(syscall.Errno)
		fmt.Fprintf(report, "err %d %s\n", int(errno), path)
		return 127
	}
	fmt.Fprintf(report, "pid %d\n", child)

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
			pid, err := procWaitid(unix.P_ALL, 0, true)
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
		procKillDescendants(self)
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
	fmt.Fprintf(report, "exit %d\n", uint32(status))
	switch {
	case status.Exited():
		return status.ExitStatus()
	case status.Signaled():
		return 128 + int(status.Signal())
	}
	return 1
}

// procKillDescendants sends SIGKILL to every process below root, found by
// walking parent links in /proc. It returns how many it signalled.
func procKillDescendants(root int) int {
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
		if ppid := procParent(pid); ppid > 0 {
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

// procParent returns the parent pid of pid from /proc, or 0.
func procParent(pid int) int {
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
