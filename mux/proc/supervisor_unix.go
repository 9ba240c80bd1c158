//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package proc

// Supervised children, the part shared by Linux (supervisor_linux.go) and by
// macOS and the BSDs (supervisor_bsd.go): mcpgw re-executes itself as a small
// supervisor for each child; the supervisor starts the server in its own
// process group, passes mcpgw's pipes straight through, and takes the
// server's tree down when mcpgw dies, however it dies. What differs per system is how the
// supervisor learns of mcpgw's death and how it finds the server's
// descendants: see runSupervisor in each file. Other systems: job_windows.go
// (Job Objects), nosupervisor.go and plain_other.go (direct spawn).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Environment of a supervisor process (mcpgw re-executed). These variables
// are the handshake between mcpgw and its own re-execution, not
// configuration: the user never sets them, so they are read here and not
// in cmd/ (which reads every configuration variable).
const (
	envSupervise     = "MCPGW_SUPERVISE"      // "1": run as a supervisor
	envSupervisePath = "MCPGW_SUPERVISE_PATH" // the resolved program to run
	envSupervisePPID = "MCPGW_SUPERVISE_PPID" // pid of the mcpgw that started it

	reportFD       = 3 // the supervisor's report pipe
	lifelineFD     = 4 // read end of mcpgw's lifeline (see lifeline)
	supervisorKill = 2 * time.Second
)

// reportTimeout bounds the wait for a supervisor's first report (the
// server's pid, or why it did not start); a variable for tests.
var reportTimeout = 20 * time.Second

// supervisorReady records that this binary calls SupervisorMain, so it
// can be re-executed as a supervisor.
var supervisorReady atomic.Bool

// SupervisorMain must be called first thing in main() (and in TestMain of
// tests that spawn processes): when the process was started as a
// supervisor it runs the supervisor and exits; otherwise it returns
// immediately.
//
// Calling it also records that this binary can act as a supervisor, which
// makes [Start] on Linux, macOS and the BSDs start every child under
// one: the binary is re-executed (Linux: via /proc/self/exe; elsewhere: from
// os.Executable) with MCPGW_SUPERVISE=1. The supervisor starts the real
// server in a new process group with the supervisor's own stdin, stdout and
// stderr (the pipes from mcpgw, passed straight through: no copying). When
// mcpgw dies, when the server exits, or on SIGTERM, it kills the server's
// process group and every descendant it can find, reaps the server, reports
// its wait status to mcpgw over a pipe, and exits. SIGUSR1 makes it send
// SIGTERM to the server's group.
//
//   - Everywhere: the supervisor learns that mcpgw died, however it died,
//     when its lifeline (a pipe only mcpgw holds open for writing) ends.
//   - Linux: the supervisor makes itself a child subreaper. Orphans of the
//     tree are re-parented to it, so it finds and kills every descendant,
//     even those that left the group (setsid), and even after the server
//     itself exited.
//   - macOS and the BSDs: there is no subreaper. The supervisor also
//     watches mcpgw with kqueue (EVFILT_PROC, NOTE_EXIT on
//     mcpgw's pid, armed before the server starts, then a getppid check).
//     When mcpgw dies it stops and kills the server and every descendant
//     found by walking parent links in the process table (macOS: sysctl
//     kern.proc.all; the other BSDs: the group only), then the group. A
//     descendant that left the group and whose parent exited before that
//     has been re-parented to launchd (init) and is out of reach.
//   - Windows: SupervisorMain does nothing; each child is put in a Job
//     Object that kills it and all its descendants when mcpgw exits, and
//     no helper process is needed (see job_windows.go).
//
// A binary that does not call SupervisorMain (such as a test binary whose
// TestMain does not) spawns children directly, as does any binary for a
// [Spec] with Unsupervised set: then the child runs in its own process
// group (on Linux with SIGKILL as its parent-death signal), but its
// descendants may survive a SIGKILL of mcpgw.
func SupervisorMain() {
	if os.Getenv(envSupervise) != "1" {
		supervisorReady.Store(true)
		return
	}
	os.Exit(runSupervisor())
}

// lifeline is a pipe whose write end only mcpgw holds, for as long as
// it lives (it is close-on-exec, so no child inherits it). Every supervisor
// gets the read end: the kernel closes the write end however mcpgw dies,
// SIGKILL included, and the supervisor reads end of file. Unlike a
// parent-death signal it is not tied to the thread that forked the
// supervisor, so no thread has to be held for each child.
var lifeline struct {
	once sync.Once
	r, w *os.File // package-level: never collected, so never closed
	err  error
}

func lifelineRead() (*os.File, error) {
	lifeline.once.Do(func() {
		lifeline.r, lifeline.w, lifeline.err = os.Pipe()
	})
	return lifeline.r, lifeline.err
}

// supervisorEnabled reports whether children can run under a supervisor:
// whether SupervisorMain has run.
func supervisorEnabled() bool {
	return supervisorReady.Load()
}

func launch(cmd *exec.Cmd, supervise bool) (handle, int, error) {
	if !supervise {
		d, err := launchDirect(cmd)
		if err != nil {
			return nil, 0, err
		}
		return d, d.pid, nil
	}
	return launchSupervised(cmd)
}

// supervisedChild is a child running under a supervisor.
type supervisedChild struct {
	sup        *exec.Cmd // the supervisor
	child      int       // the server's pid (and pgid)
	report     *bufio.Reader
	reportFile *os.File
	exited     chan struct{} // closed once the supervisor has been reaped
	once       sync.Once
}

func launchSupervised(cmd *exec.Cmd) (handle, int, error) {
	exe, err := supervisorExe()
	if err != nil {
		return nil, 0, fmt.Errorf("supervisor: %w", err)
	}
	life, err := lifelineRead()
	if err != nil {
		return nil, 0, fmt.Errorf("supervisor: %w", err)
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
			envSupervise+"=1",
			envSupervisePath+"="+cmd.Path,
			envSupervisePPID+"="+strconv.Itoa(os.Getpid()),
		),
		ExtraFiles: []*os.File{repW, life},
	}
	// The report lines are short: a small buffer per child.
	s := &supervisedChild{sup: sup, report: bufio.NewReaderSize(repR, 64), reportFile: repR, exited: make(chan struct{})}
	err = sup.Start()
	repW.Close()
	if err != nil {
		repR.Close()
		return nil, 0, fmt.Errorf("supervisor: %w", err)
	}
	// A supervisor reports within milliseconds. One that does not (an exec
	// stuck on a dead file system) must not hold the server's start, and
	// a spawn slot, forever.
	repR.SetReadDeadline(time.Now().Add(reportTimeout))
	line, rerr := s.report.ReadString('\n')
	repR.SetReadDeadline(time.Time{})
	if errors.Is(rerr, os.ErrDeadlineExceeded) {
		rerr = fmt.Errorf("no word from it in %v", reportTimeout)
	}
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
		s.wait()
		return nil, 0, &os.PathError{Op: "fork/exec", Path: path, Err: syscall.Errno(n)}
	}
	s.kill()
	werr := s.wait()
	if rerr == nil {
		rerr = fmt.Errorf("bad report %q", line)
	}
	return nil, 0, fmt.Errorf("supervisor failed to start the server (%v; supervisor %v)", rerr, werr)
}

// finish finds the server's wait status in the rest of the report, read
// once the supervisor has exited.
func (s *supervisedChild) finish(rest []byte, werr error) error {
	for l := range strings.SplitSeq(string(rest), "\n") {
		if v, ok := strings.CutPrefix(l, "exit "); ok {
			if n, err := strconv.ParseUint(v, 10, 32); err == nil {
				return exitFromStatus(syscall.WaitStatus(n))
			}
		}
	}
	// The supervisor died without reporting (it was SIGKILLed): take what
	// is left of the server's tree.
	if s.child > 0 {
		supervisorLost(s.child)
	}
	if err := exitFromState(s.sup.ProcessState, werr); err != nil {
		return fmt.Errorf("supervisor %w", err)
	}
	return errors.New("supervisor exited without a report")
}

// wait reads the report to its end, which comes when the supervisor exits
// (the pipe is close-on-exec there, so the server never holds it), then
// reaps the supervisor. The read goes through the poller, so waiting holds
// no thread. It is called once.
func (s *supervisedChild) wait() error {
	rest, _ := io.ReadAll(s.report)
	s.reportFile.Close()
	werr := s.sup.Wait()
	close(s.exited)
	return s.finish(rest, werr)
}

// terminate has the supervisor send SIGTERM to the server's group.
func (s *supervisedChild) terminate() {
	// After the supervisor is reaped, Signal fails harmlessly: os.Process
	// signals through a pidfd on Linux, never a reused pid, and refuses
	// to signal a process it has reaped elsewhere.
	s.sup.Process.Signal(syscall.SIGUSR1)
}

// kill has the supervisor kill the tree (SIGTERM to the supervisor); if it
// has not exited after supervisorKill, it is killed too (then finish
// kills what is left of the server's tree, see supervisorLost).
func (s *supervisedChild) kill() {
	s.sup.Process.Signal(syscall.SIGTERM)
	s.once.Do(func() {
		go func() {
			t := time.NewTimer(supervisorKill)
			defer t.Stop()
			select {
			case <-s.exited:
			case <-t.C:
				s.sup.Process.Kill()
			}
		}()
	})
}

// The supervisor's side: the steps every system's runSupervisor shares.

func supervisorLogf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mcpgw supervisor: "+format+"\n", args...)
}

// supervisorArgs returns what mcpgw passed to the supervisor: the report
// pipe, the program to run (its arguments are os.Args[1:]) and mcpgw's pid.
// ok is false, after a message on stderr, when something is missing.
func supervisorArgs() (report *os.File, path string, ppid int, ok bool) {
	syscall.CloseOnExec(reportFD)
	report = os.NewFile(reportFD, "mcpgw-supervisor-report")
	path = os.Getenv(envSupervisePath)
	ppid, _ = strconv.Atoi(os.Getenv(envSupervisePPID))
	if path == "" || len(os.Args) < 2 || report == nil {
		supervisorLogf("started without a program to run")
		return nil, "", 0, false
	}
	return report, path, ppid, true
}

// supervisorSignals ignores the terminal keys (they are mcpgw's
// business; it tells the supervisor what to do) and returns the signals the
// supervisor acts on: SIGCHLD, SIGTERM, SIGHUP, SIGUSR1, and a SIGTERM of
// its own when mcpgw's lifeline ends (mcpgw died, however it died).
func supervisorSignals() chan os.Signal {
	signal.Ignore(syscall.SIGINT, syscall.SIGQUIT)
	sigc := make(chan os.Signal, 64)
	signal.Notify(sigc, syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1)
	syscall.CloseOnExec(lifelineFD) // the server has no business with it
	life := os.NewFile(lifelineFD, "mcpgw-lifeline")
	go func() {
		// Nothing is ever written: the read returns when the write end,
		// held by mcpgw alone, is closed. An error (no such descriptor)
		// means the same: nothing proves mcpgw is still there.
		var b [1]byte
		for {
			if _, err := life.Read(b[:]); err != nil {
				break
			}
		}
		sigc <- syscall.SIGTERM
	}()
	return sigc
}

// startServer starts the server (path, with os.Args[1:]) on the
// supervisor's stdin, stdout and stderr, without the supervisor's own
// variables in its environment, and reports its pid to mcpgw, or the error
// that kept it from starting (then ok is false).
func startServer(report io.Writer, path string, sys *syscall.SysProcAttr) (child int, ok bool) {
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envSupervise) {
			env = append(env, kv)
		}
	}
	child, err := syscall.ForkExec(path, os.Args[1:], &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, 1, 2},
		Sys:   sys,
	})
	if err != nil {
		errno, _ := err.(syscall.Errno)
		fmt.Fprintf(report, "err %d %s\n", int(errno), path)
		return 0, false
	}
	fmt.Fprintf(report, "pid %d\n", child)
	return child, true
}

// supervisorExit reports the server's wait status to mcpgw and returns
// the supervisor's exit code, which mirrors it.
func supervisorExit(report io.Writer, status syscall.WaitStatus) int {
	fmt.Fprintf(report, "exit %d\n", uint32(status))
	switch {
	case status.Exited():
		return status.ExitStatus()
	case status.Signaled():
		return 128 + int(status.Signal())
	}
	return 1
}
