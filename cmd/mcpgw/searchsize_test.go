package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// listedBytes connects to `mcpgw serve --config cfg` on the record db and
// returns the size of the tools/list result as it came on the wire.
func listedBytes(t testing.TB, ctx context.Context, cfg, db string) int {
	t.Helper()
	cmd := exec.Command(testenv.Mcpgw(t), "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), "MCPGW_DB="+db, "MCPGW_PROFILE=", "MCPGW_MANAGED_POLICY=")
	tap := &tapTransport{Transport: &mcp.CommandTransport{Command: cmd}}
	// An agent that can be asked and sampled and has roots, as `mcpgw
	// tools` tells servers: the everything server lists more tools to such
	// an agent.
	client := mcp.NewClient(&mcp.Implementation{Name: "size-agent", Version: "1"}, &mcp.ClientOptions{
		Capabilities: &mcp.ClientCapabilities{
			RootsV2:     &mcp.RootCapabilities{ListChanged: true},
			Elicitation: &mcp.ElicitationCapabilities{Form: &mcp.FormElicitationCapabilities{}, URL: &mcp.URLElicitationCapabilities{}},
		},
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "decline"}, nil
		},
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Role: "assistant", Content: &mcp.TextContent{}}, nil
		},
	})
	client.AddRoots(&mcp.Root{URI: "file:///size", Name: "size"})
	cs, err := client.Connect(ctx, tap, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tap.mu.Lock()
	defer tap.mu.Unlock()
	for i := len(tap.read) - 1; i >= 0; i-- {
		if r, ok := tap.read[i].(*jsonrpc.Response); ok && r.Result != nil {
			return len(r.Result)
		}
	}
	t.Fatal("no tools/list response read")
	return 0
}

// tokensReport runs `mcpgw tools --tokens -o json` on cfg.
func tokensReport(t testing.TB, cfg, db string) (full, search int, ratio float64) {
	t.Helper()
	cmd := exec.Command(testenv.Mcpgw(t), "tools", "--tokens", "-o", "json", "--config", cfg)
	cmd.Env = append(os.Environ(), "MCPGW_DB="+db, "MCPGW_PROFILE=", "MCPGW_MANAGED_POLICY=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mcpgw tools --tokens: %v\n%s", err, out)
	}
	var r struct {
		Method       string
		Full, Search struct{ Bytes, Tokens, Tools int }
		Ratio        float64
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Method == "" || r.Full.Tokens != (r.Full.Bytes+3)/4 || r.Search.Tools != 3 {
		t.Errorf("report %s: want the method stated, tokens = bytes/4 and the three gateway tools in search mode", out)
	}
	return r.Full.Bytes, r.Search.Bytes, r.Ratio
}

// TestSearchModeListSize measures tools/list for the three npm reference
// servers with `mcpgw tools --tokens`, checks those numbers against what a
// real `mcpgw serve` sends an agent in each mode, and holds search mode to
// at least 10 times smaller.
func TestSearchModeListSize(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	dir := t.TempDir()
	db := filepath.Join(dir, "record.db")
	servers := npmConfig(t)
	full := writeConfig(t, servers)
	search := writeConfig(t, servers+"catalog: search\n")
	// The tools run starts every server and caches their catalogs, which
	// the serve runs then list from.
	fullBytes, searchBytes, ratio := tokensReport(t, full, db)
	t.Logf("tools/list: full %d bytes, search %d bytes (%.1fx)", fullBytes, searchBytes, ratio)
	if got := listedBytes(t, ctx, full, db); got != fullBytes {
		t.Errorf("full mode: serve sent %d bytes; mcpgw tools --tokens says %d", got, fullBytes)
	}
	if got := listedBytes(t, ctx, search, db); got != searchBytes {
		t.Errorf("search mode: serve sent %d bytes; mcpgw tools --tokens says %d", got, searchBytes)
	}
	if ratio < 10 {
		t.Errorf("search mode's tools/list is %.1fx smaller; want at least 10x", ratio)
	}
}

// BenchmarkToolsListSize reports what tools/list weighs for the three npm
// reference servers in full and in search mode, and their ratio (target:
// at least 10), as `mcpgw tools --tokens` measures it; the time per op is
// that command's, servers started from the catalog cache.
func BenchmarkToolsListSize(b *testing.B) {
	db := filepath.Join(b.TempDir(), "record.db")
	cfg := writeConfig(b, npmConfig(b))
	var full, search int
	var ratio float64
	for b.Loop() {
		full, search, ratio = tokensReport(b, cfg, db)
	}
	b.ReportMetric(float64(full), "full-bytes")
	b.ReportMetric(float64(search), "search-bytes")
	b.ReportMetric(ratio, "full/search")
}
