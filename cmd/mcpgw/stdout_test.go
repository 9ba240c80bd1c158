package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestServeStdoutIsProtocolOnly speaks raw JSON-RPC to `mcpgw serve` in
// front of a server that prints junk on its stdout, and checks that every
// line mcpgw writes to its stdout is a JSON-RPC message: in serve mode
// stdout belongs to the protocol.
func TestServeStdoutIsProtocolOnly(t *testing.T) {
	fixture := testenv.Fixture(t)
	cfg := writeConfig(t, fmt.Sprintf("servers:\n  fx:\n    command: sh\n    args: [\"-c\", \"echo this is not JSON; echo '{not json either'; exec %s\"]\n  broken:\n    command: /nonexistent/server\n", fixture))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Mcpgw(t), "serve", "--config", cfg, "-v")
	cmd.Stderr = &testWriter{t: t}
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer in.Close()

	send := func(s string) {
		if _, err := io.WriteString(in, s+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	lines := bufio.NewScanner(out)
	lines.Buffer(nil, 16<<20)
	// next reads lines until the response with the given id, checking each.
	next := func(id int) map[string]any {
		t.Helper()
		for lines.Scan() {
			var m map[string]any
			if err := json.Unmarshal(lines.Bytes(), &m); err != nil || m["jsonrpc"] != "2.0" {
				t.Fatalf("mcpgw wrote a non-protocol line to stdout: %q", lines.Text())
			}
			if got, ok := m["id"].(float64); ok && int(got) == id {
				return m
			}
		}
		t.Fatalf("stdout ended before response %d: %v", id, lines.Err())
		return nil
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	next(1)
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if res := next(2); !strings.Contains(fmt.Sprint(res["result"]), "fx__echo") {
		t.Fatalf("tools/list: %v", res)
	}
	send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"fx__echo","arguments":{"text":"clean"}}}`)
	if res := next(3); !strings.Contains(fmt.Sprint(res["result"]), "clean") {
		t.Fatalf("tools/call: %v", res)
	}
	send(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"nope__x"}}`)
	if res := next(4); !strings.Contains(fmt.Sprint(res["result"]), "isError:true") {
		t.Fatalf("unknown tool: %v", res)
	}
	// A line that does not parse gets a parse error and ends nothing.
	// (Notifications, such as a list_changed as servers start, may come
	// first.)
	send(`{"jsonrpc":"2.0","id":5,"method":`)
	for lines.Scan() && strings.Contains(lines.Text(), `"method":"notifications/`) && !strings.Contains(lines.Text(), `"id"`) {
	}
	if !strings.Contains(lines.Text(), `"code":-32700`) {
		t.Fatalf("after a broken line: %q", lines.Text())
	}
	send(`{"jsonrpc":"2.0","id":6,"method":"ping"}`)
	next(6)
}
