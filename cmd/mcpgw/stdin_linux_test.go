package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestServeReadsStdinThroughThePoller checks that `mcpgw serve` reads a
// piped stdin through the Go runtime's poller (the pipe is non-blocking
// while it serves), and puts the pipe back as it found it when it is done.
// A goroutine blocked in a read of stdin could hold a garbage collection's
// stop of the world, and with it every call, for up to 60 s (see
// cmd/internal/cli/stdio_unix.go). The test shares the pipe's read end
// with mcpgw, so it sees the flags mcpgw sets.
func TestServeReadsStdinThroughThePoller(t *testing.T) {
	cfg := writeConfig(t, "servers: {}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.CommandContext(ctx, testenv.Mcpgw(t), "serve", "--config", cfg)
	cmd.Stdin, cmd.Stderr = r, &testWriter{t: t}
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	nonblocking := func() bool {
		t.Helper()
		// Not r.Fd(), which would make the pipe blocking.
		rc, err := r.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var fl int
		rc.Control(func(fd uintptr) { fl, err = unix.FcntlInt(fd, unix.F_GETFL, 0) })
		if err != nil {
			t.Fatal(err)
		}
		return fl&unix.O_NONBLOCK != 0
	}
	if _, err := io.WriteString(w, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`+"\n"); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatalf("no answer to initialize: %v", lines.Err())
	}
	// Serving, and reading stdin: the pipe is non-blocking.
	if !nonblocking() {
		t.Error("mcpgw serve reads its piped stdin with blocking reads; want it non-blocking, read through the poller")
	}
	w.Close() // the agent goes: mcpgw ends
	io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("mcpgw serve: %v", err)
	}
	if nonblocking() {
		t.Error("mcpgw serve left its stdin pipe non-blocking; want it put back as it was")
	}
}
