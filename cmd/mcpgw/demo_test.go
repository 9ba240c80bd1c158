package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/mux"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// procInfo is what /proc says about one process.
type procInfo struct {
	pid, ppid int
	state     byte   // R, S, Z, ...
	start     string // start time in clock ticks since boot: tells a reused pid apart
	argv      []string
}

func (p procInfo) String() string {
	return fmt.Sprintf("pid %d (ppid %d, state %c): %s", p.pid, p.ppid, p.state, strings.Join(p.argv, " "))
}

// readProc reads /proc/PID; ok is false when the process does not exist.
func readProc(pid int) (procInfo, bool) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return procInfo{}, false
	}
	// "pid (comm) S ppid ..."; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 20 {
		return procInfo{}, false
	}
	p := procInfo{pid: pid, state: f[0][0], start: f[19]}
	p.ppid, _ = strconv.Atoi(f[1])
	if cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
		p.argv = strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	}
	return p, true
}

// listProcs returns every process /proc shows.
func listProcs() []procInfo {
	ents, _ := os.ReadDir("/proc")
	var out []procInfo
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			out = append(out, p)
		}
	}
	return out
}

// descendants returns the live processes below pid, found by walking each
// process's parent chain.
func descendants(pid int) []procInfo {
	procs := listProcs()
	parent := make(map[int]int, len(procs))
	for _, p := range procs {
		parent[p.pid] = p.ppid
	}
	var out []procInfo
	for _, p := range procs {
		if p.state == 'Z' {
			continue
		}
		for q, hops := p.ppid, 0; q > 1 && hops < 64; q, hops = parent[q], hops+1 {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// procEnvHas reports whether process pid's environment holds kv.
func procEnvHas(pid int, kv string) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
	if err != nil {
		return false
	}
	for _, e := range strings.Split(string(b), "\x00") {
		if e == kv {
			return true
		}
	}
	return false
}

// alive reports whether p is still running: the same process (not a reused
// pid) exists and is not a zombie (a zombie has exited; only its exit status
// waits to be collected).
func (p procInfo) alive() bool {
	q, ok := readProc(p.pid)
	return ok && q.start == p.start && q.state != 'Z'
}

// waitAllGone waits until none of procs is alive, failing with the
// survivors after the deadline.
func waitAllGone(t *testing.T, what string, procs []procInfo, deadline time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for {
		var left []string
		for _, p := range procs {
			if p.alive() {
				left = append(left, p.String())
			}
		}
		if len(left) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s still running after %v:\n  %s", what, deadline, strings.Join(left, "\n  "))
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// markedProcs lists live processes whose environment holds kv.
func markedProcs(kv string) []procInfo {
	var out []procInfo
	for _, p := range listProcs() {
		if p.state != 'Z' && procEnvHas(p.pid, kv) {
			out = append(out, p)
		}
	}
	return out
}

var demoToolLine = regexp.MustCompile(`(?m)^\s+((?:alpha|beta)__\w+)\s`)

// TestDemoCleanEnvironment runs `mcpgw demo` as a new user would: no
// config, an empty HOME, no XDG variables, and a PATH without node or go.
// It runs several times: the result of a call and its progress
// notifications travel separately, and the demo must handle either order.
func TestDemoCleanEnvironment(t *testing.T) {
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Skip("needs /proc to find the processes the demo starts")
	}
	bin := testenv.Mcpgw(t)

	// The marker is inherited by every process the demo starts (the
	// gateway, its supervisors, the demo servers); check that it can be
	// found at all, so a broken scan cannot pass the leftover check.
	marker := fmt.Sprintf("MCPGW_DEMO_TEST_MARKER=%d-%d", os.Getpid(), time.Now().UnixNano())
	sleep := exec.Command("/bin/sleep", "60")
	sleep.Env = []string{marker}
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	found := len(markedProcs(marker)) == 1
	sleep.Process.Kill()
	sleep.Wait()
	if !found {
		t.Fatal("the /proc scan does not find a process by its environment")
	}

	for i := range 4 {
		t.Run(fmt.Sprintf("run%d", i), func(t *testing.T) {
			t.Parallel()
			marker := fmt.Sprintf("%s-run%d", marker, i)
			home, tmp := t.TempDir(), t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "demo")
			cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "TMPDIR=" + tmp, marker}
			cmd.Dir = home
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			out := stdout.String()
			if err != nil {
				t.Fatalf("mcpgw demo: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
			}

			// The merged catalog: both servers' tools, each prefixed.
			var tools []string
			for _, m := range demoToolLine.FindAllStringSubmatch(out, -1) {
				tools = append(tools, m[1])
			}
			for _, want := range []string{"alpha__echo", "alpha__add", "alpha__count", "beta__echo", "beta__add", "beta__count"} {
				if !strings.Contains(strings.Join(tools, " "), want) {
					t.Errorf("demo output does not list %s; listed %v\n%s", want, tools, out)
				}
			}
			for _, want := range []string{"tools merged from two servers", "alpha says: hello", "beta says: hello", `structuredContent {"sum":42}`, "This is the beta demo server", "Say hello to you from alpha", "Done."} {
				if !strings.Contains(out, want) {
					t.Errorf("demo output lacks %q:\n%s", want, out)
				}
			}
			// The record lists every call the demo made.
			for _, tool := range []string{"alpha__echo", "beta__echo", "alpha__add", "beta__count", "demo://beta/readme", "alpha__greet"} {
				if !regexp.MustCompile(`(?m)^\s+\S+ \S+\s+\S+\s+` + regexp.QuoteMeta(tool) + `\s+ok\s`).MatchString(out) {
					t.Errorf("the demo's record lacks an ok row for %s:\n%s", tool, out)
				}
			}
			// Guardrails on defaults: the token pasted into arguments is
			// blocked (a blocked row in the record), the one a server leaks
			// is redacted, and the leaked value reaches no output.
			for _, want := range []string{`blocked: it holds what looks like a secret`, `github-pat at $.arguments.text`, "GITHUB_TOKEN=[REDACTED:github-pat]"} {
				if !strings.Contains(out, want) {
					t.Errorf("demo output lacks %q:\n%s", want, out)
				}
			}
			if !regexp.MustCompile(`(?m)^\s+\S+ \S+\s+alpha\s+alpha__echo\s+blocked\s`).MatchString(out) {
				t.Errorf("the demo's record lacks the blocked alpha__echo row:\n%s", out)
			}
			if n := strings.Count(out, mux.DemoToken()); n != 1 {
				t.Errorf("the demo token appears %d times in the output; want once, in the arguments the demo shows it sends:\n%s", n, out)
			}
			// Relayed progress: all three steps of beta__count.
			for step := 1; step <= 3; step++ {
				if want := fmt.Sprintf("progress relayed: %d/3 step %d", step, step); !strings.Contains(out, want) {
					t.Errorf("demo output lacks %q:\n%s", want, out)
				}
			}

			// Nothing the demo started outlives it.
			waitAllGone(t, "processes started by mcpgw demo", markedProcs(marker), 10*time.Second)
			// Its temporary directory is gone, and it wrote nothing to HOME.
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("mcpgw demo left %v in TMPDIR", ents)
			}
			if ents, _ := os.ReadDir(home); len(ents) != 0 {
				t.Errorf("mcpgw demo wrote %v to HOME", ents)
			}
		})
	}
}
