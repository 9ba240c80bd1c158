//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// stallDumpDir, from MCPGW_BENCH_STALL_DUMP, is where BenchmarkGateway
// writes what every process on a path was doing when one of its calls
// had taken benchStall: this process's goroutines; each process's
// threads as the kernel sees them, the bytes waiting in each of its pipes
// and, where gdb is installed, its threads' stacks; a gateway's record;
// then (SIGQUIT, servers first, which ends the run) the Go runtime's dump
// of each, on stderr.
// The stalls it is for were seen on paths without mcpgw too, so the fault
// may be in any of them.
var stallDumpDir = os.Getenv("MCPGW_BENCH_STALL_DUMP")

var stallOnce sync.Once

func (p *benchPath) dumpStall() {
	stallOnce.Do(func() {
		dir := stallDumpDir
		os.MkdirAll(dir, 0o755)
		var agent strings.Builder
		pprof.Lookup("goroutine").WriteTo(&agent, 2)
		os.WriteFile(filepath.Join(dir, "agent-goroutines.txt"), []byte(agent.String()), 0o644)
		pids := []int{p.cmd.Process.Pid}
		for _, d := range descendants(p.cmd.Process.Pid) {
			pids = append(pids, d.pid)
		}
		var threads strings.Builder
		fmt.Fprintf(&threads, "%s %s: a call in flight for %s at %s\n", p.sc.label(), p.name, benchStall, time.Now().Format(time.RFC3339Nano))
		for _, pid := range pids {
			fmt.Fprintf(&threads, "\n== pid %d %s\n", pid, readTrim(fmt.Sprintf("/proc/%d/cmdline", pid)))
			tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
			for _, t := range tasks {
				base := fmt.Sprintf("/proc/%d/task/%s/", pid, t.Name())
				fmt.Fprintf(&threads, "tid %s wchan=%s syscall=%s stat=%s\n", t.Name(), readTrim(base+"wchan"), readTrim(base+"syscall"), readTrim(base+"stat"))
			}
		}
		for _, pid := range pids {
			fmt.Fprintf(&threads, "\n== pipes of pid %d\n%s", pid, pipesOf(pid))
		}
		os.WriteFile(filepath.Join(dir, "threads.txt"), []byte(threads.String()), 0o644)
		if gdb, err := exec.LookPath("gdb"); err == nil {
			for _, pid := range pids {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				out, _ := exec.CommandContext(ctx, gdb, "-iex", "set auto-load safe-path /", "-p", strconv.Itoa(pid), "-batch", "-ex", "info goroutines", "-ex", "goroutine all bt", "-ex", "thread apply all bt 40").CombinedOutput()
				cancel()
				os.WriteFile(filepath.Join(dir, fmt.Sprintf("gdb-%d.txt", pid)), out, 0o644)
			}
		}
		// A gateway's record: a row for the stalled call says the
		// gateway answered it.
		args := p.cmd.Args
		for i, a := range args {
			if a == "--db" && i+1 < len(args) {
				for _, suffix := range []string{"", "-wal", "-shm"} {
					if b, err := os.ReadFile(args[i+1] + suffix); err == nil {
						os.WriteFile(filepath.Join(dir, "record.db"+suffix), b, 0o644)
					}
				}
			}
		}
		// The servers first, while the gateway is there to pass their
		// dumps on (mcpgw does; a forwarder that ends with its server
		// has had gdb's look above).
		for _, pid := range pids[1:] {
			syscall.Kill(pid, syscall.SIGQUIT)
		}
		time.Sleep(time.Second)
		syscall.Kill(pids[0], syscall.SIGQUIT)
	})
}

func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// pipesOf lists process pid's pipes and the bytes waiting in each: a
// message written and not read shows where a call stopped.
func pipesOf(pid int) string {
	var b strings.Builder
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		path := fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())
		target, err := os.Readlink(path)
		if err != nil || !strings.HasPrefix(target, "pipe:") {
			continue
		}
		n := -1
		if f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			if v, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCINQ); err == nil {
				n = v
			}
			f.Close()
		}
		fmt.Fprintf(&b, "fd %s %s unread=%d\n", fd.Name(), target, n)
	}
	return b.String()
}
