package main

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestPaginationThrough checks that mcpgw follows a server's pagination: a
// fixture that lists two items per page is seen whole through the gateway.
func TestPaginationThrough(t *testing.T) {
	fixture := testenv.Fixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The fixture's own full lists, read directly.
	direct := mcp.NewClient(&mcp.Implementation{Name: "direct", Version: "1"}, nil)
	dcs, err := direct.Connect(ctx, &mcp.CommandTransport{Command: exec.Command(fixture, "-page-size", "2")}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer dcs.Close()
	var want []string
	for tl, err := range dcs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, "fx__"+tl.Name)
	}
	if len(want) < 10 {
		t.Fatalf("fixture lists only %d tools", len(want))
	}

	a := startAgent(t, fmt.Sprintf("servers:\n  fx:\n    command: %q\n    args: [-page-size, \"2\"]\n", fixture), "2025-11-25")
	var got []string
	for tl, err := range a.cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tl.Name)
	}
	for _, name := range want {
		if len(name) > 60 {
			continue // shortened; counted below
		}
		if !slices.Contains(got, name) {
			t.Errorf("%s (on a later page of the server) is missing through mcpgw", name)
		}
	}
	if len(got) != len(want) {
		t.Errorf("mcpgw lists %d tools, the server %d", len(got), len(want))
	}
	var templates int
	for _, err := range a.cs.ResourceTemplates(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		templates++
	}
	if templates == 0 {
		t.Error("no resource templates through mcpgw")
	}
}
