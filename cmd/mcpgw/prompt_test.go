//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// ptyOutput collects what a process writes to its terminal.
type ptyOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *ptyOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *ptyOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// TestSecretPromptCtrlC types Ctrl-C at the hidden prompt of `mcpgw secret
// set`, on a pseudo-terminal: mcpgw exits at once with 130, and the
// terminal echoes again, so the next line typed is the shell's, not a
// secret.
func TestSecretPromptCtrlC(t *testing.T) {
	cmd := exec.Command(testenv.Mcpgw(t), "secret", "set", "prompt-test", "--config", filepath.Join(t.TempDir(), "none.yaml"))
	cmd.Env = os.Environ()
	ptmx, err := pty.Start(cmd) // mcpgw leads a session on the pty
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	out := &ptyOutput{}
	go io.Copy(out, ptmx)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitFor(t, ctx, "the prompt", func() bool { return strings.Contains(out.String(), "Value for prompt-test") })
	// The prompt turned echo off.
	if tio, err := unix.IoctlGetTermios(int(ptmx.Fd()), unix.TCGETS); err != nil || tio.Lflag&unix.ECHO != 0 {
		t.Fatalf("echo is on at the hidden prompt (%v)", err)
	}

	start := time.Now()
	if _, err := ptmx.Write([]byte{3}); err != nil { // ^C
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Errorf("secret set ended with %v after Ctrl-C, want exit code 130; terminal:\n%s", err, out.String())
		}
		t.Logf("exited %v after Ctrl-C", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatalf("secret set still waits 5 s after Ctrl-C at its prompt; terminal:\n%s", out.String())
	}
	tio, err := unix.IoctlGetTermios(int(ptmx.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&unix.ECHO == 0 {
		t.Error("the terminal was left without echo")
	}
}
