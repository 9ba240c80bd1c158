//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package proc

// macOS and the BSDs: each child runs under a supervisor too (mcpgw
// re-executed, see SupervisorMain and supervisor_unix.go), but these
// systems have neither a child subreaper nor a parent-death signal. The
// supervisor watches mcpgw with kqueue besides its lifeline (EVFILT_PROC, NOTE_EXIT on
// mcpgw's pid, armed before the server starts and followed by a getppid
// check, which closes the race with a death before it was armed), and
// watches the server the same way, which tells it that the server exited
// without reaping it. When mcpgw dies, or asks it to (SIGTERM), it first
// stops and kills the server and every descendant it finds by walking parent
// links in the process table, while those links still lead to the server
// (macOS: sysctl kern.proc.all; the other BSDs have no table here), then
// kills the server's process group, all while the server is unreaped so
// that its pgid cannot be reused; then it reaps the server and reports its
// wait status. When the server exits on its own, its group is killed the
// same way. What no supervisor here can reach: a descendant that left the
// group (setsid) after its parent exited, re-parented to launchd (init).
//
// Children spawned directly (no supervisor) run in their own process group,
// which is killed when they exit or are closed (direct_unix.go); peekExit
// (kqueue) lets that kill happen before the leader is reaped.

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// supervisorPoll is how often a supervisor checks getppid when kqueue
// could not watch mcpgw (which should not happen).
const supervisorPoll = time.Second

func setDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}

func lockThread() func() { return func() {} }

// supervisorExe returns the program to re-execute as a supervisor.
func supervisorExe() (string, error) { return os.Executable() }

// supervisorLost is called when a supervisor died without a report (it
// was SIGKILLed): nothing told the server; kill its tree if its pid still
// leads its own group (so it was not reused), then what is left of the group.
func supervisorLost(child int) {
	if pgid, err := unix.Getpgid(child); err == nil && pgid == child {
		killTree(child)
	}
	syscall.Kill(-child, syscall.SIGKILL)
}

// kqueue is a kqueue watching processes for their exit.
type kqueue int

func newKqueue() (kqueue, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(kq)
	return kqueue(kq), nil
}

func (kq kqueue) close() { unix.Close(int(kq)) }

// watch arms a NOTE_EXIT event for pid. It fails with ESRCH when pid has
// exited or is exiting (macOS refuses zombies; FreeBSD instead delivers the
// event at once): for a child not yet reaped, the exit is then certain and
// its pid still taken.
func (kq kqueue) watch(pid int) error {
	var ch [1]unix.Kevent_t
	unix.SetKevent(&ch[0], pid, unix.EVFILT_PROC, unix.EV_ADD|unix.EV_ONESHOT)
	ch[0].Fflags = unix.NOTE_EXIT
	for {
		_, err := unix.Kevent(int(kq), ch[:], nil, nil)
		if err != unix.EINTR {
			return err
		}
	}
}

// next waits up to d (forever when d < 0) for a watched process to exit and
// returns its pid, or 0 when d passed first.
func (kq kqueue) next(d time.Duration) (int, error) {
	var ts *unix.Timespec
	if d >= 0 {
		t := unix.NsecToTimespec(int64(d))
		ts = &t
	}
	var ev [1]unix.Kevent_t
	for {
		n, err := unix.Kevent(int(kq), nil, ev[:], ts)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0:
			return 0, nil
		case ev[0].Flags&unix.EV_ERROR != 0:
			return 0, syscall.Errno(ev[0].Data)
		}
		return int(ev[0].Ident), nil
	}
}

// peekExit blocks until pid, a child of this process, has exited,
// leaving it unreaped.
func peekExit(pid int) bool {
	kq, err := newKqueue()
	if err != nil {
		return false
	}
	defer kq.close()
	switch err := kq.watch(pid); {
	case err == unix.ESRCH:
		return true // exited already, and only we reap it
	case err != nil:
		return false
	}
	for {
		p, err := kq.next(-1)
		if err != nil {
			return false
		}
		if p == pid {
			return true
		}
	}
}

// killTree kills root and every descendant found by walking parent links
// in the process table (childTable; without one, root alone). Each is
// stopped (SIGSTOP) as it is found, so that none forks or exits (which would
// re-parent its children to launchd) while the table is read again, until a
// reading finds nothing new; then all are killed. It returns how many
// processes it signalled.
func killTree(root int) int {
	found := []int{root}
	seen := map[int]bool{root: true}
	syscall.Kill(root, syscall.SIGSTOP)
	for range 8 {
		kids := childTable()
		added := false
		for i := 0; i < len(found); i++ { // found grows while it is walked
			for _, c := range kids[found[i]] {
				if !seen[c] {
					seen[c] = true
					syscall.Kill(c, syscall.SIGSTOP)
					found = append(found, c)
					added = true
				}
			}
		}
		if !added {
			break
		}
	}
	n := 0
	for _, pid := range found {
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n
}

// runSupervisor is the supervisor's main; it returns its exit code.
func runSupervisor() int {
	report, path, ppid, ok := supervisorArgs()
	if !ok {
		return 2
	}
	sigc := supervisorSignals()
	kq, err := newKqueue()
	if err != nil {
		supervisorLogf("kqueue: %v", err)
		return 1
	}
	// Watch mcpgw before the server starts; the getppid check closes the
	// race with a death before the watch was armed.
	poll := time.Duration(-1)
	switch err := kq.watch(ppid); {
	case err == unix.ESRCH:
		return 1 // mcpgw is gone already
	case err != nil:
		supervisorLogf("watching mcpgw (pid %d): %v; polling instead", ppid, err)
		poll = supervisorPoll
	}
	if os.Getppid() != ppid {
		return 1
	}

	child, ok := startServer(report, path, &syscall.SysProcAttr{Setpgid: true})
	if !ok {
		return 127
	}
	// childExited: the server has exited (it is a zombie until reaped below).
	childExited := false
	if err := kq.watch(child); err != nil {
		// ESRCH: it exited already. Anything else: it cannot be watched,
		// so it cannot be supervised; it is killed below.
		if err != unix.ESRCH {
			supervisorLogf("watching the server: %v", err)
		}
		childExited = true
	}

	exits := make(chan int, 2)
	go func(poll time.Duration) {
		for {
			pid, err := kq.next(poll)
			if err != nil {
				if poll < 0 {
					supervisorLogf("kevent: %v; polling instead", err)
				}
				poll = supervisorPoll
				time.Sleep(poll)
			}
			if pid == 0 && poll > 0 && os.Getppid() != ppid {
				pid = ppid
			}
			if pid != 0 {
				exits <- pid
			}
		}
	}(poll)

loop:
	for !childExited {
		select {
		case sig := <-sigc:
			switch sig {
			case syscall.SIGCHLD:
				// Backs up the kqueue event: re-arming the watch fails
				// once the server has exited.
				if kq.watch(child) == unix.ESRCH {
					childExited = true
				}
			case syscall.SIGUSR1:
				syscall.Kill(-child, syscall.SIGTERM)
			case syscall.SIGTERM, syscall.SIGHUP:
				break loop
			}
		case pid := <-exits:
			if pid != child {
				break loop // mcpgw died
			}
			childExited = true
		}
	}

	if !childExited {
		// Descendants first, while their parent links still lead to the
		// server; the server dies with them.
		killTree(child)
	}
	// The server is not reaped yet, so its pgid cannot have been reused.
	syscall.Kill(-child, syscall.SIGKILL)
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(child, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	return supervisorExit(report, ws)
}
