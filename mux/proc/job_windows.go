package proc

// Windows: each child is put in its own Job Object created with
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, and everything it starts lands in the
// same job. The child is created suspended (CREATE_SUSPENDED), assigned to
// the job, and only then resumed, so not even its first grandchild can be
// started outside the job. mcpgw holds the only handle to the job (it is
// not inheritable), so when mcpgw exits for any reason, killed included,
// Windows closes the handle and kills every process in the job: no helper
// process is needed. When the child exits on its own, what is left in its
// job is terminated, as its process group is on Unix.
//
// There is no SIGTERM: the child is created with CREATE_NEW_PROCESS_GROUP,
// so that terminate can send CTRL_BREAK to its console process group
// (GenerateConsoleCtrlEvent; this needs mcpgw and the child to share a
// console and does nothing otherwise), which also keeps a Ctrl+C typed in
// mcpgw's console from reaching the servers. kill terminates the job.
//
// With [Spec].Unsupervised set no job is created: kill then ends the direct
// child only, and nothing ends the tree when mcpgw is killed. The same holds
// when the job cannot be created or joined (such as inside a job that allows
// no nested job): the server runs anyway, and a line on its stderr says so.

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

const (
	// jobKillCode is the exit code of processes killed by kill: 128 +
	// SIGKILL, as a shell reports a SIGKILL on Unix.
	jobKillCode = 137
	// jobDrain bounds how long wait waits for a terminated job to empty.
	jobDrain = time.Second
	// statusControlCExit is the exit code of a process ended by
	// CTRL_BREAK (or CTRL_C): STATUS_CONTROL_C_EXIT.
	statusControlCExit = 0xC000013A
)

// SupervisorMain must be called first thing in main() (and in TestMain of
// tests that spawn processes) on the systems that re-execute mcpgw as a
// supervisor (Linux, macOS, the BSDs). On Windows it does nothing: every
// child is put in a Job Object that dies with mcpgw, which needs no helper
// process and works whether or not SupervisorMain was called.
func SupervisorMain() {}

// supervisorEnabled reports whether children get a Job Object: always,
// unless their [Spec] says Unsupervised.
func supervisorEnabled() bool { return true }

// Job object calls that take a pointer go through LazyProc.Call, whose
// //go:uintptrescapes keeps the structure on the heap for the call: the
// x/sys wrappers take a uintptr, which goes stale if the goroutine's stack
// moves inside them.
var (
	kernel32                  = windows.NewLazySystemDLL("kernel32.dll")
	setInformationJobObject   = kernel32.NewProc("SetInformationJobObject")
	queryInformationJobObject = kernel32.NewProc("QueryInformationJobObject")
)

// jobAccounting is JOBOBJECT_BASIC_ACCOUNTING_INFORMATION.
type jobAccounting struct {
	TotalUserTime             int64
	TotalKernelTime           int64
	ThisPeriodTotalUserTime   int64
	ThisPeriodTotalKernelTime int64
	TotalPageFaultCount       uint32
	TotalProcesses            uint32
	ActiveProcesses           uint32
	TotalTerminatedProcesses  uint32
}

// jobChild is a child started by launch, in its Job Object (job != 0)
// or, without one, alone.
type jobChild struct {
	cmd *exec.Cmd
	pid int
	res chan error

	mu     sync.Mutex
	job    windows.Handle // 0 once closed, or when there is none
	exited bool           // the child has been waited for
	killed bool           // kill was called
}

func launch(cmd *exec.Cmd, withJob bool) (handle, int, error) {
	h := &jobChild{cmd: cmd, res: make(chan error, 1)}
	flags := uint32(windows.CREATE_NEW_PROCESS_GROUP)
	if withJob {
		job, err := newJob()
		if err != nil {
			// Run the server anyway; say why its tree is not contained.
			fmt.Fprintf(cmd.Stderr, "mcpgw: no job object for this server (%v): its processes may outlive mcpgw\n", err)
		} else {
			h.job = job
			flags |= windows.CREATE_SUSPENDED
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: flags}
	if err := cmd.Start(); err != nil {
		if h.job != 0 {
			windows.CloseHandle(h.job)
		}
		return nil, 0, err
	}
	h.pid = cmd.Process.Pid
	if h.job != 0 {
		if err := assignJob(h.job, uint32(h.pid)); err != nil {
			// Such as a job mcpgw runs in that allows no nested job.
			windows.CloseHandle(h.job)
			h.job = 0
			fmt.Fprintf(cmd.Stderr, "mcpgw: no job object for this server (%v): its processes may outlive mcpgw\n", err)
		}
		if err := resumeThreads(uint32(h.pid)); err != nil {
			// Still suspended: it has run no code. Kill it.
			if h.job != 0 {
				windows.TerminateJobObject(h.job, jobKillCode)
				windows.CloseHandle(h.job)
			}
			cmd.Process.Kill()
			cmd.Wait()
			return nil, 0, fmt.Errorf("starting %s: %w", cmd.Path, err)
		}
	}
	go func() {
		err := cmd.Wait()
		h.mu.Lock()
		h.exited = true
		job := h.job
		h.mu.Unlock()
		if job != 0 {
			// The server is gone: end what it left in its job, and let the
			// job empty before reporting.
			windows.TerminateJobObject(job, jobKillCode)
			waitJobEmpty(job, jobDrain)
			h.mu.Lock()
			windows.CloseHandle(job)
			h.job = 0
			h.mu.Unlock()
		}
		h.mu.Lock()
		killed := h.killed
		h.mu.Unlock()
		h.res <- exitFromWindows(cmd.ProcessState, err, killed)
	}()
	return h, h.pid, nil
}

// newJob creates a job that kills its processes when its last handle
// closes. The handle is not inheritable: only mcpgw holds it.
func newJob() (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, err
	}
	var info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	r, _, err := setInformationJobObject.Call(uintptr(job), windows.JobObjectExtendedLimitInformation, uintptr(unsafe.Pointer(&info)), unsafe.Sizeof(info))
	if r == 0 {
		windows.CloseHandle(job)
		return 0, fmt.Errorf("SetInformationJobObject: %w", err)
	}
	return job, nil
}

// assignJob assigns the (suspended) process pid to job.
func assignJob(job windows.Handle, pid uint32) error {
	// os.Process holds a handle to the process until it is waited for, so
	// pid cannot have been reused.
	ph, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, pid)
	if err != nil {
		return fmt.Errorf("OpenProcess: %w", err)
	}
	err = windows.AssignProcessToJobObject(job, ph)
	windows.CloseHandle(ph)
	if err != nil {
		return fmt.Errorf("AssignProcessToJobObject: %w", err)
	}
	return nil
}

// resumeThreads resumes the threads of a process created with CREATE_SUSPENDED
// (its main thread: os/exec does not keep the thread handle CreateProcess
// returned, so it is found in a thread snapshot).
func resumeThreads(pid uint32) error {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPTHREAD, 0)
	if err != nil {
		return fmt.Errorf("CreateToolhelp32Snapshot: %w", err)
	}
	defer windows.CloseHandle(snap)
	var te windows.ThreadEntry32
	te.Size = uint32(unsafe.Sizeof(te))
	resumed := 0
	for err = windows.Thread32First(snap, &te); err == nil; err = windows.Thread32Next(snap, &te) {
		if te.OwnerProcessID != pid {
			continue
		}
		th, err := windows.OpenThread(windows.THREAD_SUSPEND_RESUME, false, te.ThreadID)
		if err != nil {
			return fmt.Errorf("OpenThread: %w", err)
		}
		_, err = windows.ResumeThread(th)
		windows.CloseHandle(th)
		if err != nil {
			return fmt.Errorf("ResumeThread: %w", err)
		}
		resumed++
	}
	if resumed == 0 {
		return fmt.Errorf("no thread of process %d to resume", pid)
	}
	return nil
}

// waitJobEmpty waits up to d for the job to have no active process.
func waitJobEmpty(job windows.Handle, d time.Duration) {
	deadline := time.Now().Add(d)
	for {
		var acct jobAccounting
		r, _, _ := queryInformationJobObject.Call(uintptr(job), windows.JobObjectBasicAccountingInformation, uintptr(unsafe.Pointer(&acct)), unsafe.Sizeof(acct), 0)
		if r == 0 || acct.ActiveProcesses == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *jobChild) wait() error { return <-h.res }

// terminate sends CTRL_BREAK to the child's console process group (it was
// created with CREATE_NEW_PROCESS_GROUP, so its pid names the group), only
// while the child runs: the console sends an event for a group id that names
// no process to every process on the console, mcpgw included.
func (h *jobChild) terminate() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.exited {
		return
	}
	// Until the child is waited for, os.Process holds a handle to it: its
	// pid names it and no other process.
	ph, err := windows.OpenProcess(windows.SYNCHRONIZE, false, uint32(h.pid))
	if err != nil {
		return
	}
	defer windows.CloseHandle(ph)
	if ev, err := windows.WaitForSingleObject(ph, 0); err != nil || ev != uint32(windows.WAIT_TIMEOUT) {
		return // it has exited
	}
	windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, uint32(h.pid))
}

// kill terminates the child's job (without a job, the child alone).
func (h *jobChild) kill() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.killed = true
	switch {
	case h.job != 0:
		windows.TerminateJobObject(h.job, jobKillCode)
	case !h.exited:
		h.cmd.Process.Kill()
	}
}

// exitFromWindows describes how a child exited: nil for status 0; a
// kill by mcpgw reads "killed by signal SIGKILL", as on Unix.
func exitFromWindows(ps *os.ProcessState, waitErr error, killed bool) error {
	if ps == nil {
		return waitErr
	}
	code := ps.ExitCode()
	switch {
	case code == 0:
		return nil
	case killed && (code == jobKillCode || code == 1): // 1: os.Process.Kill
		return &exitError{code: -1, signal: "SIGKILL"}
	case uint32(code) == statusControlCExit:
		return &exitError{code: -1, signal: "CTRL_BREAK"}
	}
	return &exitError{code: code}
}
